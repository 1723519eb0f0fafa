#!/usr/bin/env bash
# Holds ARCHITECTURE.md's module table to the package: for each of licprov's own modules, the
# modules the table says it uses must be exactly those its sources import and those Package.swift
# declares (so a new arrow is a compile error first, then a review of this table, never a
# convention). Also: no module over 4,000 lines. Exit 0 when all three agree.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import glob, json, re, subprocess, sys
ours = {"BuildInfo", "CryptlexModels", "FileFormats", "Ingestion", "Scheduling", "Journal", "CryptlexAPI", "APIRequests", "Results", "Provisioning",
        "Audit", "Sync", "Doctor", "Pull", "CryptlexEmulator", "licprov", "cryptlex-emulator"}
manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], capture_output=True, text=True, check=True).stdout)
declared = {}
for target in manifest["targets"]:
    if target["name"] not in ours:
        continue
    names = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in dependency:
                names.add(dependency[kind][0])
    declared[target["name"]] = names & ours
imported = {}
for name in ours:
    files = glob.glob(f"Sources/{name}/**/*.swift", recursive=True)
    modules = set()
    for path in files:
        modules |= set(re.findall(r"^import (\w[\w-]*)$", open(path).read(), flags=re.M))
    imported[name] = modules & ours
table = {}
text = open("ARCHITECTURE.md").read()
section = text.split("<!-- modules: checked by scripts/check-architecture.sh -->")[1].split("<!-- end modules -->")[0]
for line in section.splitlines():
    cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
    if len(cells) >= 2 and cells[0] in ours:
        table[cells[0]] = {cell.strip().strip("`") for cell in cells[1].split(",") if cell.strip() and cell.strip() != "—"}
failed = False
for name in sorted(ours):
    sets = {"ARCHITECTURE.md": table.get(name), "the imports": imported[name], "Package.swift": declared.get(name)}
    if sets["ARCHITECTURE.md"] is None:
        print(f"check-architecture: ARCHITECTURE.md's module table has no row for {name}", file=sys.stderr); failed = True; continue
    if not (sets["ARCHITECTURE.md"] == sets["the imports"] == sets["Package.swift"]):
        print(f"check-architecture: {name}: " + "; ".join(f"{k} says {sorted(v or [])}" for k, v in sets.items()), file=sys.stderr); failed = True
    lines = sum(1 for path in glob.glob(f"Sources/{name}/**/*.swift", recursive=True) for _ in open(path))
    if lines > 4000:
        print(f"check-architecture: {name} has {lines} lines (at most 4,000: split it)", file=sys.stderr); failed = True
# A test target may import only what it declares (a clean build fails otherwise, while an
# incremental one may find the module built for another target and pass).
tests = [t for t in manifest["targets"] if t["type"] == "test" or (t.get("path") or "").startswith("Tests/")]
for target in tests:
    name = target["name"]
    declared_test = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in dependency:
                declared_test.add(dependency[kind][0])
    folder = target.get("path") or f"Tests/{name}"
    modules = set()
    for path in glob.glob(f"{folder}/**/*.swift", recursive=True):
        modules |= set(re.findall(r"^(?:@testable )?import (\w[\w-]*)$", open(path).read(), flags=re.M))
    missing = (modules & ours) - declared_test - {name}
    if missing:
        print(f"check-architecture: the test target {name} imports {sorted(missing)} without declaring them in Package.swift", file=sys.stderr)
        failed = True
if failed:
    sys.exit(1)
print(f"check-architecture: {len(ours)} modules; ARCHITECTURE.md, the imports and Package.swift agree", file=sys.stderr)
PY
