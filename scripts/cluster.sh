#!/usr/bin/env bash
# `make cluster`: the team topology on one machine (README "The team deployment"): nginx
# (Debian package) with TLS on https://127.0.0.1:8443 and agent logins, load-balancing two
# Rasa instances and their action servers (scripts/run.sh each), on the machine's
# PostgreSQL and Redis. The nginx site is deploy/nginx/telco-assistant.conf, rendered under
# CLUSTER_DIR by deploy/nginx_conf.py. Ctrl-C stops all of it.
#
# Settings (environment): CLUSTER_DIR (var/cluster), CLUSTER_HOST (127.0.0.1),
# CLUSTER_HTTPS_PORT (8443), CLUSTER_RASA_PORTS ("5005 5006"), CLUSTER_ACTION_PORTS
# ("5055 5056"), the store variables of README "Production stores and operations" (defaults:
# PostgreSQL 127.0.0.1:5432 database assistant_cluster as postgres, Redis 127.0.0.1:6379 db 1),
# RABBITMQ_* (127.0.0.1:5672 guest/guest, exchange assistant_cluster and queue
# assistant_cluster_events: the cluster's own), ANALYTICS_DB_URL (default: database
# <TRACKER_DB_NAME>_analytics, made on first start; one `python -m analytics.consumer` for both instances fills it),
# AGENT_PROXY_SECRET (default: made once, kept in CLUSTER_DIR/proxy-secret).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

say() { echo "cluster: $*"; }
fail() { echo "cluster: $*" >&2; exit 1; }

dir=${CLUSTER_DIR:-var/cluster}
mkdir -p "$dir/log"
dir=$(cd "$dir" && pwd)
listen_host=${CLUSTER_HOST:-127.0.0.1}
https_port=${CLUSTER_HTTPS_PORT:-8443}
read -ra rasa_ports <<<"${CLUSTER_RASA_PORTS:-5005 5006}"
read -ra action_ports <<<"${CLUSTER_ACTION_PORTS:-5055 5056}"
[ "${#rasa_ports[@]}" -eq "${#action_ports[@]}" ] \
  || fail "CLUSTER_RASA_PORTS and CLUSTER_ACTION_PORTS must name as many ports each"
url="https://${listen_host}:${https_port}"

# -- nginx (Debian's package; installed when missing and allowed) ---------------------------
nginx_bin=$(command -v nginx 2>/dev/null || true)
[ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "nginx is missing: apt-get install nginx (Debian package, about 1 MB)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends nginx \
      || { apt-get update -q && apt-get install -y -q --no-install-recommends nginx; }
    nginx_bin=/usr/sbin/nginx
  else
    fail "nginx is missing: sudo apt-get install -y nginx, then make cluster again"
  fi
fi

# -- the stores: the machine's PostgreSQL and Redis ------------------------------------------
export ASSISTANT_STORES=production
export TRACKER_DB_HOST=${TRACKER_DB_HOST:-127.0.0.1} TRACKER_DB_PORT=${TRACKER_DB_PORT:-5432}
export TRACKER_DB_NAME=${TRACKER_DB_NAME:-assistant_cluster}
export TRACKER_DB_USER=${TRACKER_DB_USER:-postgres} TRACKER_DB_PASSWORD=${TRACKER_DB_PASSWORD:-}
export LOCK_REDIS_HOST=${LOCK_REDIS_HOST:-127.0.0.1} LOCK_REDIS_PORT=${LOCK_REDIS_PORT:-6379}
export LOCK_REDIS_DB=${LOCK_REDIS_DB:-1} LOCK_REDIS_PASSWORD=${LOCK_REDIS_PASSWORD:-}
export RABBITMQ_HOST=${RABBITMQ_HOST:-127.0.0.1} RABBITMQ_PORT=${RABBITMQ_PORT:-5672}
export RABBITMQ_USER=${RABBITMQ_USER:-guest} RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-guest}
export RABBITMQ_EXCHANGE=${RABBITMQ_EXCHANGE:-assistant_cluster}
export RABBITMQ_QUEUE=${RABBITMQ_QUEUE:-assistant_cluster_events}
# the analytics events get a database of their own (the tracker store's table is also
# called "events")
if [ -z "${ANALYTICS_DB_URL:-}" ]; then
  export CLUSTER_ANALYTICS_DB=${TRACKER_DB_NAME}_analytics
  ANALYTICS_DB_URL=$(.venv/bin/python -c 'import os
from sqlalchemy.engine import URL
e = os.environ
print(URL.create("postgresql", e["TRACKER_DB_USER"], e["TRACKER_DB_PASSWORD"] or None,
                 e["TRACKER_DB_HOST"], int(e["TRACKER_DB_PORT"]), e["CLUSTER_ANALYTICS_DB"])
      .render_as_string(hide_password=False))')
fi
export ANALYTICS_DB_URL
say "waiting for PostgreSQL ($TRACKER_DB_HOST:$TRACKER_DB_PORT, database $TRACKER_DB_NAME), Redis ($LOCK_REDIS_HOST:$LOCK_REDIS_PORT db $LOCK_REDIS_DB) and RabbitMQ ($RABBITMQ_HOST:$RABBITMQ_PORT)"
.venv/bin/python - <<'EOF' || fail "the stores are not usable (README \"Production stores and operations\"; make test-services starts local ones)"
import os, sys, time
import psycopg2, redis
from psycopg2 import sql

env = os.environ
deadline = time.monotonic() + 30
def retry(what, check):
    while True:
        try:
            return check()
        except Exception as error:  # noqa: BLE001 - any failure: wait, then name it
            if time.monotonic() > deadline:
                print(f"cluster: {what}: {error}", file=sys.stderr)
                sys.exit(1)
            print(f"cluster: still waiting for {what} ({str(error).strip()[:80]})")
            time.sleep(3)

def database():
    conn = psycopg2.connect(host=env["TRACKER_DB_HOST"], port=env["TRACKER_DB_PORT"],
                            user=env["TRACKER_DB_USER"], password=env["TRACKER_DB_PASSWORD"] or None,
                            dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    names = [env["TRACKER_DB_NAME"]] + [env[n] for n in ("CLUSTER_ANALYTICS_DB",) if env.get(n)]
    with conn.cursor() as cur:
        for name in names:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"cluster: created database {name}")
    conn.close()

def lock_store():
    redis.Redis(host=env["LOCK_REDIS_HOST"], port=int(env["LOCK_REDIS_PORT"]),
                db=int(env["LOCK_REDIS_DB"]), password=env["LOCK_REDIS_PASSWORD"] or None,
                socket_timeout=5).ping()

def broker():
    import socket
    socket.create_connection((env["RABBITMQ_HOST"], int(env["RABBITMQ_PORT"])), timeout=5).close()

retry("PostgreSQL", database)
retry("Redis", lock_store)
retry("RabbitMQ", broker)
EOF

# -- secret shared by nginx and the assistant, the agents, the nginx configuration ----------
if [ -z "${AGENT_PROXY_SECRET:-}" ]; then
  if [ ! -s "$dir/proxy-secret" ]; then
    (umask 077 && openssl rand -hex 32 >"$dir/proxy-secret")
  fi
  AGENT_PROXY_SECRET=$(cat "$dir/proxy-secret")
fi
export AGENT_PROXY_SECRET
if [ ! -s "$dir/htpasswd" ]; then
  say "no agents yet: adding agent1 (more: scripts/add_agent.sh NAME $dir/htpasswd)"
  scripts/add_agent.sh agent1 "$dir/htpasswd" </dev/null
fi
# team leads for the ops page /ops/ (none until scripts/add_agent.sh --tl NAME adds one)
[ -e "$dir/htpasswd-tl" ] || (umask 027 && touch "$dir/htpasswd-tl")
ports_csv=$(IFS=,; echo "${rasa_ports[*]}")
.venv/bin/python -m deploy.nginx_conf --dir "$dir" --listen "$listen_host:$https_port" \
  --instances "$ports_csv"
nginx_args=(-p "$dir/" -c "$dir/nginx.conf" -e "$dir/log/nginx-error.log")
"$nginx_bin" -t -q "${nginx_args[@]}" || fail "nginx refused the configuration in $dir"

model=${ASSISTANT_MODEL:-$(ls -t models/*.tar.gz 2>/dev/null | head -1)}
[ -n "$model" ] || fail "no trained model in models/: run 'make train'"
export ASSISTANT_MODEL=$model

# -- start and supervise ---------------------------------------------------------------------
# Ctrl-C reaches every process of the group at once: nginx and the servers stop by
# themselves. Each run.sh is a background job here, so bash ignores SIGINT in it: it sees its
# servers stop as told and stops too, and gets SIGTERM from the cleanup anyway. The cleanup
# stops what is left: SIGTERM, then SIGKILL after 25 s for anything still running below this
# script (a stuck shutdown never keeps a port busy).
stopping="" stop_code=0 pids=()
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
cleanup() {
  trap - INT TERM EXIT
  stopping=yes
  local tree pid
  tree=$(descendants $$)
  for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=no
    for pid in $tree; do kill -0 "$pid" 2>/dev/null && alive=yes && break; done
    [ "$alive" = no ] && break
    sleep 0.5
  done
  for pid in $tree; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  say "stopped"
}
on_signal() { stopping=yes; stop_code=$1; exit "$1"; }
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

start=$(date +%s)
say "starting ${#rasa_ports[@]} Rasa instances (${rasa_ports[*]}) with their action servers (${action_ports[*]}); model $model"
for i in "${!rasa_ports[@]}"; do
  RASA_PORT=${rasa_ports[$i]} ACTION_PORT=${action_ports[$i]} RUN_NAME=$((i + 1)) \
    ACTION_ENDPOINT_URL="http://127.0.0.1:${action_ports[$i]}/webhook" \
    ASSISTANT_LOG_DIR="$dir/log" scripts/run.sh &
  pids+=("$!")
done
"$nginx_bin" "${nginx_args[@]}" &
nginx_pid=$!
pids+=("$nginx_pid")
# one analytics consumer for both instances: RabbitMQ -> ANALYTICS_DB_URL (the ops page)
.venv/bin/python -m analytics.consumer >>"$dir/log/analytics-consumer.log" 2>&1 &
consumer_pid=$!
pids+=("$consumer_pid")

next_note=$((start + 30))
while [ -z "$stopping" ]; do
  up=0
  for port in "${rasa_ports[@]}"; do
    curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && up=$((up + 1))
  done
  if [ "$up" -eq "${#rasa_ports[@]}" ] \
     && curl -ks -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null | grep -q '^200$'; then
    break
  fi
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    [ -n "$stopping" ] && exit "$stop_code"
    [ "$pid" = "$nginx_pid" ] && tail -n 5 "$dir/log/nginx-error.log" >&2
    [ "$pid" = "$consumer_pid" ] && tail -n 5 "$dir/log/analytics-consumer.log" >&2
    fail "a part of the cluster exited during start (logs in $dir/log)"
  done
  if [ "$(date +%s)" -ge "$next_note" ]; then
    say "waiting: $up of ${#rasa_ports[@]} Rasa instances up after $(( $(date +%s) - start ))s"
    next_note=$((next_note + 30))
  fi
  sleep 1
done
say "ready in $(( $(date +%s) - start ))s: widget $url/webhooks/widget/ | REST $url/webhooks/rest/webhook | agents in $dir/htpasswd (scripts/add_agent.sh NAME $dir/htpasswd) | ops page $url/ops/ for TLs (scripts/add_agent.sh --tl NAME $dir/htpasswd-tl) | logs in $dir/log | Ctrl-C stops"

# A part that stops ends the cluster. After Ctrl-C the parts often exit before this shell
# has run its INT trap: the short pause lets the trap come first, and a part that exited as
# told (0, SIGINT 130, SIGTERM 143) is a stop, not a failure.
while [ -z "$stopping" ]; do
  wait -n "${pids[@]}" || true
  sleep 0.3
  [ -z "$stopping" ] || break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null && continue
    status=0
    wait "$pid" 2>/dev/null || status=$?
    part=nginx  # pids: one run.sh per instance, then nginx, then the consumer
    [ "$pid" != "$consumer_pid" ] || part="analytics consumer"
    for i in "${!rasa_ports[@]}"; do [ "$pid" != "${pids[$i]}" ] || part="instance $((i + 1))"; done
    case "$status" in
      0 | 130 | 143) say "$part stopped (exit $status); stopping the cluster"; exit 0 ;;
    esac
    [ "$pid" != "$nginx_pid" ] || tail -n 5 "$dir/log/nginx-error.log" >&2
    fail "$part exited with status $status (logs in $dir/log); stopping the cluster"
  done
done
exit "$stop_code"
