#!/usr/bin/env python3
"""Reads a workbook `licprov pull` wrote with openpyxl (pip install openpyxl), as a spreadsheet user
would: check-xlsx.py FILE.xlsx. Prints the rows, the frozen pane, whether the header is bold and the
types openpyxl sees in the typed columns; exits 1 when a typed column holds another type."""
import collections
import sys

import openpyxl

book = openpyxl.load_workbook(sys.argv[1], read_only=False)
sheet = book.active
rows = sheet.iter_rows(values_only=True)
header = next(rows)
types = collections.defaultdict(collections.Counter)
count = 0
for row in rows:
    count += 1
    for name, value in zip(header, row):
        if value is not None:
            types[name][type(value).__name__] += 1
print(f"{count} licenses; frozen at {sheet.freeze_panes}; header bold: {sheet['A1'].font.b}")
expected = {"allowedActivations": "int", "revoked": "bool", "suspended": "bool", "expiresAt": "datetime",
            "createdAt": "datetime", "licenseId": "str", "key": "str"}
wrong = False
for name, kind in expected.items():
    if name in types:
        seen = dict(types[name])
        print(f"  {name}: {seen}")
        wrong |= set(seen) != {kind}
sys.exit(1 if wrong or sheet.freeze_panes != "A2" else 0)
