#!/usr/bin/env python3
"""Writes a synthetic order file for benchmarks and tests: gen-orders.py FORMAT ROWS PATH [--keys] [--no-customers] [--reseller] [--converted].

Every row has an order id, a customer, two typed fields, a date, tags and a metadata column;
with --keys each row also carries its own license key (a migration); --no-customers leaves out
the email and firstName columns. --reseller (csv) writes a reseller's headers and plan names instead
of licprov's (read with --config on the profile scripts/bench-ingest.sh writes); --converted (csv) the same
orders in licprov's own layout, as a conversion script would have written them (a licenseTemplateId
column, ISO dates), for what the profile costs. FORMAT xlsx writes a
workbook with openpyxl, its strings then shared as Excel shares them, and expiresAt as a date cell.
FORMAT shopify writes ROWS lines of Shopify's "Export orders" CSV (all 79 of its columns; orders of
1–3 line items, the order's own columns on its first line only, mugs beside licenses, some orders
pending or refunded), read with --from shopify and the profile scripts/bench-ingest.sh writes."""
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


SHOPIFY_COLUMNS = ("Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,"
                   "Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,"
                   "Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,"
                   "Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,"
                   "Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,"
                   "Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,"
                   "Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
                   "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,"
                   "Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,"
                   "Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,"
                   "Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,"
                   "Next Payment Due At,Payment References").split(",")


def shopify():
    items = [("DESK-PRO-1Y", "Desk Pro - 1 year", "99.00", "false"), ("SERVER-1Y", "Server Edition - 1 year", "149.00", "false"),
             ("MUG-01", "Coffee mug", "12.00", "true"), ("DESK-PRO-1Y", "Desk Pro - 1 year", "99.00", "false")]
    statuses = ["paid"] * 8 + ["pending", "refunded"]
    width = len(SHOPIFY_COLUMNS)
    at = {name: index for index, name in enumerate(SHOPIFY_COLUMNS)}
    with open(path, "w", newline="") as out:
        out.write(",".join(SHOPIFY_COLUMNS) + "\n")
        written, order = 0, 0
        while written < rows:
            order += 1
            for line in range(min(1 + order % 3, rows - written)):
                sku, name, price, shipping = items[(order + line) % len(items)]
                cells = [""] * width
                cells[at["Name"]] = f"#{1000 + order}"
                cells[at["Lineitem quantity"]] = str(1 + (order + line) % 3)
                cells[at["Lineitem name"]] = name
                cells[at["Lineitem price"]] = price
                cells[at["Lineitem sku"]] = sku
                cells[at["Lineitem requires shipping"]] = shipping
                cells[at["Lineitem taxable"]] = "true"
                cells[at["Lineitem fulfillment status"]] = "fulfilled"
                cells[at["Vendor"]] = "Desk Soft"
                if line == 0:
                    status = statuses[order % len(statuses)]
                    for column, value in [
                            ("Email", f"customer{order % 50000}@example.com"), ("Financial Status", status),
                            ("Paid at", "" if status == "pending" else "2026-11-05 10:23:11 +0100"),
                            ("Fulfillment Status", "fulfilled"), ("Accepts Marketing", "no"), ("Currency", "EUR"),
                            ("Subtotal", "248.00"), ("Shipping", "0.00"), ("Taxes", "0.00"), ("Total", "248.00"),
                            ("Discount Amount", "0.00"), ("Created at", "2026-11-05 10:23:09 +0100"),
                            ("Billing Name", f"Name{order % 97} Surname{order % 89}"),
                            ("Billing Street", f"{order % 200} Main St"), ("Billing Address1", f"{order % 200} Main St"),
                            ("Billing City", "Berlin"), ("Billing Zip", "10115"), ("Billing Country", "DE"),
                            ("Shipping Name", f"Name{order % 97} Surname{order % 89}"), ("Shipping City", "Berlin"),
                            ("Shipping Country", "DE"), ("Payment Method", "Shopify Payments"),
                            ("Refunded Amount", "248.00" if status == "refunded" else "0.00"),
                            ("Outstanding Balance", "0.00"), ("Id", str(5623011000000 + order)), ("Risk Level", "Low"),
                            ("Source", "web"), ("Tax 1 Name", "VAT 19%"), ("Tax 1 Value", "39.60"),
                            ("Billing Province Name", "Berlin"), ("Payment ID", f"c{order}.1")]:
                        cells[at[column]] = value
                out.write(",".join(cells) + "\n")
                written += 1


if fmt == "xlsx":
    xlsx()
    sys.exit(0)
if fmt == "shopify":
    shopify()
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
