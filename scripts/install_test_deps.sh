#!/usr/bin/env bash
# Installs what the browser and cluster tests need and pip cannot provide: Debian's chromium
# and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) and nginx (/usr/sbin/nginx,
# for the cluster test and `make cluster`). Nothing is done when all are present. CI runs as
# root on a fresh Debian machine; elsewhere sudo is used when available.
# A test tool's own browser download does not work here (no internet except package
# registries), so the tests use these two binaries only.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -eq 0 ]; then
  echo "test deps: chromium, chromedriver and nginx present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "test deps: missing ${need[*]}; run as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test deps: missing ${need[*]} and no apt-get on this machine;" \
    "install Chromium and its chromedriver at /usr/bin/chromium and /usr/bin/chromedriver," \
    "and nginx at /usr/sbin/nginx" >&2
  exit 1
fi

echo "test deps: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
# a fresh machine has no package lists; an install from stale lists may 404, so retry once
# after an update
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"; then
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"
fi
/usr/bin/chromium --version
/usr/bin/chromedriver --version
/usr/sbin/nginx -v
