#!/bin/sh
# Create .venv with pip even where Debian's python3 lacks ensurepip
# (python3-venv not installed): fall back to a venv without pip and install
# pip from its wheel, fetched from the package index.
set -eu
VENV=${1:-.venv}
PY=${PYTHON:-python3}
if [ -x "$VENV/bin/pip" ]; then exit 0; fi
if "$PY" -m venv "$VENV" 2>/dev/null && [ -x "$VENV/bin/pip" ]; then exit 0; fi
rm -rf "$VENV"
"$PY" -m venv --without-pip "$VENV"
"$VENV/bin/python" - <<'PYEOF'
import json, os, sys, tempfile, urllib.request, subprocess
index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
base = index[: -len("/simple")] if index.endswith("/simple") else "https://pypi.org"
with urllib.request.urlopen(f"{base}/pypi/pip/json", timeout=60) as r:
    meta = json.load(r)
wheel = next(u for u in meta["urls"] if u["filename"].endswith(".whl"))
path = os.path.join(tempfile.mkdtemp(), wheel["filename"])
urllib.request.urlretrieve(wheel["url"], path)
subprocess.check_call([sys.executable, f"{path}/pip", "install", "-q", path])
PYEOF
