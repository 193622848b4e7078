#!/usr/bin/env bash
# Builds .venv with a Python 3.8-3.10 and installs the pinned dependencies.
# Re-runs the install only when pyproject.toml or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=.venv/.installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

python_bin=$(scripts/find_python.sh)
echo "setup: using $python_bin"
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade "pip<24" "setuptools<71" wheel
# constraints.txt is the lock: the exact versions of a working install (pip freeze).
.venv/bin/python -m pip install --quiet -c constraints.txt ".[dev]"
.venv/bin/python -m pip check
echo "$want" > "$stamp"
echo "setup: .venv ready"
