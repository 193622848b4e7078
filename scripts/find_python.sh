#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter: Rasa 3.6 stops at 3.10 and the code needs
# 3.10 (zip(strict=), zoneinfo), as pyproject.toml's requires-python says.
# Order: PATH first, then pyenv. Exits 1 with a hint when none is found.
set -u
for candidate in python3.10 python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
    command -v "$candidate"; exit 0
  fi
done
if command -v pyenv >/dev/null 2>&1; then
  for version in 3.10; do
    prefix=$(pyenv prefix "$version" 2>/dev/null | head -1) || continue
    for bin in "$prefix/bin/python$version" "$prefix/bin/python3"; do
      if [ -x "$bin" ] && "$bin" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
        echo "$bin"; exit 0
      fi
    done
  done
fi
echo "error: this project needs Python 3.10 and none was found on PATH or in pyenv." >&2
echo "       Install one, e.g. 'pyenv install 3.10.13' (https://github.com/pyenv/pyenv) or your distribution's python3.10 package, then run make again." >&2
exit 1
