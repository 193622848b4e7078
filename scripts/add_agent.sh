#!/usr/bin/env bash
# Adds an agent (or sets a new password) in the htpasswd file nginx checks in front of the
# widget and REST (README "Running on a VM"). Usage:
#   scripts/add_agent.sh NAME [HTPASSWD_FILE]      default file: var/cluster/htpasswd
#   scripts/add_agent.sh --remove NAME [HTPASSWD_FILE]
#   scripts/add_agent.sh --tl [--remove] NAME [FILE]  a team lead: the ops page /ops/ (file
#                                                  default var/cluster/htpasswd-tl)
# The password is asked twice on a terminal; AGENT_PASSWORD gives it (scripts); without a
# terminal and without AGENT_PASSWORD a random one is made and printed once.
# Hashes are SHA-512 crypt (openssl passwd -6), which nginx checks through crypt().
# NAME becomes the agent id stored with every message: letters, digits, . _ @ + -.
set -euo pipefail
cd "$(dirname "$0")/.."

remove=no tl=no
while [ "${1:-}" = --remove ] || [ "${1:-}" = --tl ]; do
  [ "$1" = --remove ] && remove=yes
  [ "$1" = --tl ] && tl=yes
  shift
done
name=${1:-}
if [ "$tl" = yes ]; then
  file=${2:-${TL_HTPASSWD:-var/cluster/htpasswd-tl}}
else
  file=${2:-${AGENT_HTPASSWD:-var/cluster/htpasswd}}
fi
if [ -z "$name" ]; then
  sed -n '2,11s/^# \{0,1\}//p' "$0" >&2
  exit 2
fi
if ! [[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$ ]]; then
  echo "add_agent: '$name' is not a valid agent name (letters, digits, . _ @ + -)" >&2
  exit 2
fi
mkdir -p "$(dirname "$file")"
touch "$file"
chmod 640 "$file"
others=$(grep -v "^${name//./\\.}:" "$file" || true)
if [ "$remove" = yes ]; then
  printf '%s\n' "$others" | sed '/^$/d' >"$file.tmp" && mv "$file.tmp" "$file"
  echo "add_agent: removed $name from $file"
  exit 0
fi

password=${AGENT_PASSWORD:-}
if [ -z "$password" ] && [ -t 0 ]; then
  read -rsp "password for $name: " password; echo
  read -rsp "again: " again; echo
  [ "$password" = "$again" ] || { echo "add_agent: the passwords differ" >&2; exit 1; }
fi
generated=no
if [ -z "$password" ]; then
  password=$(openssl rand -base64 18 | tr -d '/+=' | cut -c1-16)
  generated=yes
fi
hash=$(printf '%s' "$password" | openssl passwd -6 -stdin)
{ printf '%s\n' "$others" | sed '/^$/d'; printf '%s:%s\n' "$name" "$hash"; } >"$file.tmp"
chmod 640 "$file.tmp"
mv "$file.tmp" "$file"
echo "add_agent: $name in $file"
if [ "$generated" = yes ]; then
  echo "add_agent: password of $name (shown once): $password"
fi
