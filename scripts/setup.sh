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

say() { echo "setup: $*"; }
start=$(date +%s)
python_bin=$(scripts/find_python.sh)
say "using $python_bin"
if [ ! -x .venv/bin/python ]; then
  say "[1/4] creating .venv"
  "$python_bin" -m venv .venv
fi
say "[2/4] updating pip, setuptools, wheel"
.venv/bin/python -m pip install --quiet --upgrade "pip<24" "setuptools<71" wheel
# constraints.txt is the lock: the exact versions of a working install (pip freeze).
# A fresh install is about 2.7 GB (TensorFlow alone 1.5 GB) and a few minutes: pip's lines
# for each package (collecting, downloading with its size, installing) are shown as they
# come; the full output is kept in var/log/setup-pip.log.
say "[3/4] installing the pinned dependencies (fresh: about 2.7 GB, a few minutes)"
mkdir -p var/log
if ! .venv/bin/python -m pip install --progress-bar off -c constraints.txt ".[dev]" 2>&1 \
    | tee var/log/setup-pip.log \
    | { grep --line-buffered -E '^ *(Collecting|Downloading|Installing collected|Successfully installed)' || true; } \
    | sed -u -e 's/^ */setup:   /' -e 's/^\(.\{160\}\).*/\1 .../'; then
  tail -n 30 var/log/setup-pip.log >&2
  say "pip install failed (full output: var/log/setup-pip.log)" >&2
  exit 1
fi
say "[4/4] pip check"
.venv/bin/python -m pip check
echo "$want" > "$stamp"
say ".venv ready in $(( $(date +%s) - start ))s"
