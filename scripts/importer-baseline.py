#!/usr/bin/env python3
"""The sequential behaviour of Cryptlex's own sample importer (cryptlex/csv-importer), for
comparison in scripts/bench.sh: for each row, one user lookup by email, one user create when it is
missing, then the license — one request at a time. (Kinder than the original, which does not
retry: a 429 here is waited out for its Retry-After and sent again.)

Usage: importer-baseline.py URL TOKEN FILE.csv  → prints "requests N seconds S licenses L"."""
import csv
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

url, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
requests = 0


def call(method, route, body=None):
    global requests
    while True:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url + route, data=data, method=method,
                                         headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        requests += 1
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code == 429:
                time.sleep(float(error.headers.get("Retry-After", "1")))
                continue
            raise


start = time.monotonic()
licenses = 0
with open(path, newline="") as file:
    for row in csv.DictReader(file):
        users = call("GET", "/v3/users?" + urllib.parse.urlencode({"email[eq]": row["email"]}))
        user = users[0] if users else call("POST", "/v3/users", {"email": row["email"], "firstName": row["firstName"],
                                                                  "password": "a-password-nobody-sees", "role": "user"})
        call("POST", "/v3/licenses", {"productId": row["productId"], "userId": user["id"],
                                      "metadata": [{"key": "order_id", "value": row["order_id"]}]})
        licenses += 1
print(f"requests {requests} seconds {time.monotonic() - start:.2f} licenses {licenses}")
