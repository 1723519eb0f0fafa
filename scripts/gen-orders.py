#!/usr/bin/env python3
"""Writes a synthetic order file for benchmarks and tests: gen-orders.py FORMAT ROWS PATH [--keys] [--no-customers] [--reseller] [--converted].

Every row has an order id, a customer, two typed fields, a date, tags and a metadata column;
with --keys each row also carries its own license key (a migration); --no-customers leaves out
the email and firstName columns. --reseller (csv) writes a reseller's headers and plan names instead
of licprov's (read with --config on the profile scripts/bench-ingest.sh writes); --converted (csv) the same
orders in licprov's own layout, as a conversion script would have written them (a licenseTemplateId
column, ISO dates), for what the profile costs. FORMAT xlsx writes a
workbook with openpyxl, its strings then shared as Excel shares them, and expiresAt as a date cell."""
import json
import re
import sys
import zipfile

fmt, rows, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keys = "--keys" in sys.argv[4:]
customers = "--no-customers" not in sys.argv[4:]
reseller = "--reseller" in sys.argv[4:]
converted = "--converted" in sys.argv[4:]


def xlsx():
    import datetime
    import shutil
    import tempfile
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Orders")
    sheet.append(["order_id", "productId"] + (["key"] if keys else []) + (["email", "firstName"] if customers else [])
                 + ["allowedActivations", "subscriptionInterval", "expiresAt", "tags", "metadata.plan"])
    for i in range(1, rows + 1):
        expiry = WriteOnlyCell(sheet, value=datetime.date(2027, i % 9 + 1, 15))
        expiry.number_format = "dd/mm/yyyy"
        sheet.append([f"ORD-{i:08d}", "prod-bench"] + ([f"KEY-{i:08d}-{(i * 7919) % 100000:05d}-MIG"] if keys else [])
                     + ([f"customer{i % 5000}@example.com", f"Name{i % 97}"] if customers else [])
                     + [i % 5 + 1, "P1Y", expiry, "bench|row", "pro" if i % 2 else "standard"])
    book.save(path)
    # Excel shares strings; openpyxl writes them inline.
    strings, index = [], {}
    def share(match):
        text = match.group(3)
        if text not in index:
            index[text] = len(strings)
            strings.append(text)
        return '<c r="%s"%s t="s"><v>%d</v></c>' % (match.group(1), match.group(2) or "", index[text])
    out = tempfile.mktemp(suffix=".xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t>(.*?)</t></is></c>', share, data.decode()).encode()
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
            target.writestr(item, data)
        target.writestr("xl/sharedStrings.xml", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                        + "".join("<si><t>%s</t></si>" % text for text in strings) + "</sst>")
    shutil.move(out, path)


if fmt == "xlsx":
    xlsx()
    sys.exit(0)
with open(path, "w", newline="") as out:
    if fmt == "csv" and reseller:
        out.write("Order No,Product,Customer Email,First Name,Seats,Term,Renewal Date,Labels,Plan\r\n")
    elif fmt == "csv" and converted:
        out.write("order_id,productId,email,firstName,allowedActivations,subscriptionInterval,expiresAt,tags,licenseTemplateId,metadata.plan\r\n")
    elif fmt == "csv":
        out.write("order_id,productId," + ("key," if keys else "") +
                  ("email,firstName," if customers else "") + "allowedActivations,subscriptionInterval,expiresAt,tags,metadata.plan\r\n")
    elif fmt == "json":
        out.write("[\n")
    for i in range(1, rows + 1):
        key = f"KEY-{i:08d}-{(i * 7919) % 100000:05d}-MIG"
        if fmt == "csv" and reseller:
            out.write(f"ORD-{i:08d},prod-bench,customer{i % 5000}@example.com,Name{i % 97},{i % 5 + 1},P1Y,15/0{i % 9 + 1}/2027,bench|row,"
                      f"{'Pro' if i % 2 else 'Standard'}\r\n")
        elif fmt == "csv" and converted:
            plan = "pro" if i % 2 else "standard"
            out.write(f"ORD-{i:08d},prod-bench,customer{i % 5000}@example.com,Name{i % 97},{i % 5 + 1},P1Y,2027-0{i % 9 + 1}-15,bench|row,"
                      f"tmpl-{plan},{plan}\r\n")
        elif fmt == "csv":
            out.write(f"ORD-{i:08d},prod-bench," + (key + "," if keys else "") +
                      (f"customer{i % 5000}@example.com,Name{i % 97}," if customers else "") + f"{i % 5 + 1},P1Y,2027-0{i % 9 + 1}-15,bench|row,"
                      f"{'pro' if i % 2 else 'standard'}\r\n")
        else:
            obj = {"order_id": f"ORD-{i:08d}", "productId": "prod-bench", "email": f"customer{i % 5000}@example.com",
                   "firstName": f"Name{i % 97}", "allowedActivations": i % 5 + 1, "subscriptionInterval": "P1Y",
                   "expiresAt": f"2027-0{i % 9 + 1}-15", "tags": ["bench", "row"],
                   "metadata": {"plan": "pro" if i % 2 else "standard"}}
            if keys:
                obj["key"] = key
            if not customers:
                del obj["email"], obj["firstName"]
            text = json.dumps(obj, separators=(",", ":"))
            if fmt == "json":
                out.write(text + (",\n" if i < rows else "\n"))
            else:
                out.write(text + "\n")
    if fmt == "json":
        out.write("]\n")
