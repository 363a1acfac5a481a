#!/bin/bash
# The API description as other tools read it: docs/openapi.yaml must be
# valid YAML to a standard parser (PyYAML; tests/unit/test_openapi reads it
# with the project's own small parser, which is more lenient), its
# operationIds unique, and every local $ref must resolve.
#
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

DOC=$ESTUARY_SRCDIR/docs/openapi.yaml

out=$(python3 - "$DOC" 2>&1 <<'PY'
import sys
import yaml

doc = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
ops, dup, refs = set(), [], []

def walk(node, path):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                refs.append((path, v))
            walk(v, path + "/" + str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, path + "/" + str(i))

for p, item in doc.get("paths", {}).items():
    for m, op in item.items():
        if isinstance(op, dict) and "operationId" in op:
            if op["operationId"] in ops:
                dup.append(op["operationId"])
            ops.add(op["operationId"])
walk(doc, "")
bad = []
for where, ref in refs:
    if not ref.startswith("#/"):
        bad.append(ref)
        continue
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            bad.append(where + " -> " + ref)
            break
        node = node[part]
print("version", doc.get("openapi"))
print("paths", len(doc.get("paths", {})))
print("operations", len(ops))
print("duplicates", " ".join(dup) or "none")
print("unresolved", " ".join(bad[:5]) or "none")
PY
)
rc=$?
check_eq "openapi.yaml parses as YAML" 0 "$rc"
[ "$rc" -eq 0 ] || printf '%s\n' "$out" | tail -n 5 >&2
check_match "an OpenAPI 3 document" '^version 3\.' "$(grep '^version' <<<"$out")"
check_match "it describes paths" '^paths [1-9][0-9]+$' "$(grep '^paths' <<<"$out")"
check_eq "operationIds are unique" "duplicates none" \
    "$(grep '^duplicates' <<<"$out")"
check_eq "every \$ref resolves" "unresolved none" \
    "$(grep '^unresolved' <<<"$out")"

finish
