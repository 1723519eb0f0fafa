#!/usr/bin/env python3
"""Writes the .xlsx fixtures and samples with openpyxl (a real writer), then edits two cells in the
XML as Excel itself writes them and openpyxl does not: an inline string, and a formula with its
cached value (openpyxl writes formulas without one). Run from the project root:

    pip install openpyxl && python3 scripts/make-xlsx-fixtures.py

Writes samples/reseller-acme.xlsx, Tests/IngestionTests/Resources/cells.xlsx and cells-1904.xlsx.
"""
import datetime
import re
import shutil
import tempfile
import zipfile

import openpyxl
from openpyxl.utils.datetime import CALENDAR_MAC_1904


SHARED = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SHARED_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def patch(path, edits, shared=True):
    """Makes the package read as Excel writes it: every inline string of every sheet becomes a
    shared string (openpyxl 3.1 writes them inline; Excel shares them), one of them rich text with
    a phonetic run, and then `edits` (sheet part → {cell reference: <c> element}) are applied."""
    out = tempfile.mktemp(suffix=".xlsx")
    strings = []

    def share(match):
        text = match.group(2)
        if text not in strings:
            strings.append(text)
        return '<c r="%s"%s t="s"><v>%d</v></c>' % (match.group(1), match.group(3) or "", strings.index(text))

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                if shared:
                    text = re.sub(r'<c r="([A-Z]+[0-9]+)"( s="[0-9]+")? t="inlineStr"><is><t>(.*?)</t></is></c>',
                                  lambda m: share(type("M", (), {"group": lambda self, i: [None, m.group(1), m.group(3), m.group(2)][i]})()), text)
                for ref, element in edits.get(item.filename, {}).items():
                    text, count = re.subn(r'<c r="%s"[^>]*?(/>|>.*?</c>)' % ref, element, text, count=1)
                    assert count == 1, ref
                data = text.encode()
            elif shared and item.filename == "[Content_Types].xml":
                data = data.decode().replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" ContentType="%s"/></Types>' % SHARED).encode()
            elif shared and item.filename == "xl/_rels/workbook.xml.rels":
                data = data.decode().replace("</Relationships>", '<Relationship Id="rIdStrings" Type="%s" Target="sharedStrings.xml"/></Relationships>' % SHARED_REL).encode()
            target.writestr(item, data)
        if shared:
            items = []
            for text in strings:
                if text == "a shared string":  # rich text, with a phonetic reading Excel adds for Japanese
                    items.append('<si><r><rPr><b/></rPr><t>a shared </t></r><r><t xml:space="preserve">string</t></r><rPh sb="0" eb="1"><t>ア</t></rPh></si>')
                else:
                    items.append("<si><t>%s</t></si>" % text)
            target.writestr("xl/sharedStrings.xml", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
                            % (len(strings), len(strings), "".join(items)))
    shutil.move(out, path)


def cells(path, epoch=None):
    book = openpyxl.Workbook()
    if epoch:
        book.epoch = epoch
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["order_id", "productId", "allowedActivations", "notes", "company", "revoked", "expiresAt", "createdAt",
                  "metadata.ref", "email"])
    # Row 2: every kind of cell.
    sheet.append(["X-1", "prod-1", 5.0, "a shared string", "INLINE", True, datetime.date(2027, 3, 31),
                  datetime.datetime(2024, 2, 29, 10, 30, 0), "=A2", "x1@example.com"])
    # Row 3: blanks in the middle, a whole number as an integer, false.
    sheet.append(["X-2", "prod-1", 2, None, None, False, datetime.date(1999, 12, 31), None, None, None])
    # Row 4: a number that is not whole where a whole one is wanted (a problem at C4).
    sheet.append(["X-3", "prod-1", 1.5, "third", None, None, None, None, None, None])
    for row in (2, 3):
        sheet.cell(row=row, column=7).number_format = "dd/mm/yyyy"
    sheet.cell(row=2, column=8).number_format = "yyyy-mm-dd hh:mm"
    # Empty trailing rows that still carry a style.
    sheet.cell(row=7, column=1).number_format = "0.00"
    second = book.create_sheet("Archive")
    second.append(["order_id", "productId"])
    second.append(["A-1", "prod-2"])
    book.save(path)
    # As Excel writes them: shared strings, a whole number stored as 5.0, and the formula at I2
    # with its cached value; and one inline string at E2, as other writers leave them.
    patch(path, {"xl/worksheets/sheet1.xml": {
        "C2": '<c r="C2" t="n"><v>5.0</v></c>',
        "E2": '<c r="E2" t="inlineStr"><is><t>Acme &amp; Sons</t></is></c>',
        "I2": '<c r="I2" t="str"><f>A2</f><v>X-1</v></c>',
    }})


def reseller(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Orders"
    sheet.append(["Order No", "Customer Email", "First Name", "Last Name", "Company", "Seats", "Plan", "Purchase Date", "Renewal Date"])
    rows = [
        ("ACME-1001", "ana.silva@example.com", "Ana", "Silva", "Silva Design", 2, "Pro", "03/11/2026", "03/11/2027"),
        ("ACME-1002", "ben.okafor@example.com", "Ben", "Okafor", "Okafor Ltd", 1, "Basic", "04/11/2026", "04/11/2027"),
        ("ACME-1003", "chen.li@example.com", "Chen", "Li", None, 5, " pro ", "05/11/2026", "31/12/2027"),
        ("ACME-1004", "dora.meier@example.com", "Dora", "Meier", "Meier GmbH", 3, "Team", "06/11/2026", "06/11/2027"),
    ]
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    patch(path, {})


if __name__ == "__main__":
    cells("Tests/IngestionTests/Resources/cells.xlsx")
    cells("Tests/IngestionTests/Resources/cells-1904.xlsx", epoch=CALENDAR_MAC_1904)
    reseller("samples/reseller-acme.xlsx")
    print("wrote the fixtures")
