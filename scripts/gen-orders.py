#!/usr/bin/env python3
"""Writes a synthetic order file for benchmarks and tests: gen-orders.py FORMAT ROWS PATH [--keys] [--no-customers].

Every row has an order id, a customer, two typed fields, a date, tags and a metadata column;
with --keys each row also carries its own license key (a migration); --no-customers leaves out
the email and firstName columns."""
import json
import sys

fmt, rows, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
keys = "--keys" in sys.argv[4:]
customers = "--no-customers" not in sys.argv[4:]
with open(path, "w", newline="") as out:
    if fmt == "csv":
        out.write("order_id,productId," + ("key," if keys else "") +
                  ("email,firstName," if customers else "") + "allowedActivations,subscriptionInterval,expiresAt,tags,metadata.plan\r\n")
    elif fmt == "json":
        out.write("[\n")
    for i in range(1, rows + 1):
        key = f"KEY-{i:08d}-{(i * 7919) % 100000:05d}-MIG"
        if fmt == "csv":
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
