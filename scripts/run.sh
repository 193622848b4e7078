#!/usr/bin/env bash
# Starts the action server (5055) and the Rasa server (5005, REST + socketio) on localhost,
# prints one "ready" line, starts a server that dies again, and stops both on Ctrl-C.
# ASSISTANT_STORES=production: PostgreSQL + Redis (README "Production stores and operations").
# RASA_HOST / ACTION_HOST (default 127.0.0.1): the interface each server listens on; behind a
# proxy on another machine, the proxy-facing address (README "Running on a VM").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# The server parses one message at a time on one event loop: a second TensorFlow intra-op
# thread (scripts/env.sh gives training two) only competes with the action server and the
# other conversations (DIET parse 16.5 -> 13.1 ms CPU per message, docs/benchmarks.md).
export TF_INTRA_OP_PARALLELISM_THREADS=${SERVER_TF_INTRA_OP_THREADS:-1}

log_dir=${ASSISTANT_LOG_DIR:-var/log}
mkdir -p var "$log_dir"
# A second instance on other ports (README "Production stores and operations") logs apart.
rasa_log=$log_dir/rasa.log actions_log=$log_dir/actions.log
[ "${RASA_PORT:-5005}" = 5005 ] || rasa_log=$log_dir/rasa-${RASA_PORT}.log
[ "${ACTION_PORT:-5055}" = 5055 ] || actions_log=$log_dir/actions-${ACTION_PORT}.log
rasa_host=${RASA_HOST:-127.0.0.1} action_host=${ACTION_HOST:-127.0.0.1}
say() { echo "run${RUN_NAME:+ $RUN_NAME}: $*"; }
endpoints=endpoints.yml
if [ "${ASSISTANT_STORES:-embedded}" = "production" ]; then
  endpoints=endpoints.production.yml
  # Rasa refuses a ${VAR} that is unset; name every missing one at once (README
  # "Production stores and operations"). Passwords may be empty but must be set.
  missing=()
  for var in ACTION_ENDPOINT_URL TRACKER_DB_HOST TRACKER_DB_PORT TRACKER_DB_NAME \
             TRACKER_DB_USER TRACKER_DB_PASSWORD LOCK_REDIS_HOST LOCK_REDIS_PORT \
             LOCK_REDIS_DB LOCK_REDIS_PASSWORD \
             RABBITMQ_HOST RABBITMQ_PORT RABBITMQ_USER RABBITMQ_PASSWORD RABBITMQ_EXCHANGE \
             RABBITMQ_QUEUE; do
    [ -n "${!var+set}" ] || missing+=("$var")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ASSISTANT_STORES=production needs these environment variables: ${missing[*]}" >&2
    exit 1
  fi
  # the Rasa server waits for them (TRACKER_DB_CONNECT_TIMEOUT, LOCK_REDIS_CONNECT_TIMEOUT)
  say "stores: PostgreSQL $TRACKER_DB_HOST:$TRACKER_DB_PORT database $TRACKER_DB_NAME," \
    "Redis $LOCK_REDIS_HOST:$LOCK_REDIS_PORT db $LOCK_REDIS_DB"
fi
if [ "$endpoints" = endpoints.yml ] && [ "${ACTION_PORT:-5055}" != 5055 ]; then
  # endpoints.yml names the default action port; another ACTION_PORT gets its own copy
  sed "s#http://127.0.0.1:5055/webhook#http://127.0.0.1:${ACTION_PORT}/webhook#" endpoints.yml \
    >"var/endpoints-${ACTION_PORT}.yml"
  endpoints=var/endpoints-${ACTION_PORT}.yml
fi
# HTTP API (/conversations, /model, ...): only with a secret from the environment. The
# secret is handed over inside the process by assistant_runtime (never on a command line).
api_args=()
if [ -n "${RASA_AUTH_TOKEN:-}" ] || [ -n "${RASA_JWT_SECRET:-}" ]; then
  api_args=(--enable-api)
fi
# Both servers log through logging.yml (MSISDN, e-mail, SN and secrets masked at every
# level); LOG_LEVEL=DEBUG make run for debug logs.
logging_args=(--logging-config-file logging.yml)
# >>> channels: Telegram / WhatsApp (README "Channels"; owned by channels/) >>>
# credentials.channels.yml adds Telegram and WhatsApp to the channels of credentials.yml.
# Rasa refuses a ${VAR} that is unset, so the unset ones become "" (that channel then
# refuses its webhook with 403).
credentials=credentials.yml
if [ -n "${TELEGRAM_TOKEN:-}" ] || [ -n "${WHATSAPP_TOKEN:-}" ]; then
  credentials=credentials.channels.yml
  for var in TELEGRAM_TOKEN TELEGRAM_BOT_NAME TELEGRAM_WEBHOOK_URL TELEGRAM_SECRET \
             TELEGRAM_API_BASE WHATSAPP_TOKEN WHATSAPP_PHONE_NUMBER_ID WHATSAPP_APP_SECRET \
             WHATSAPP_VERIFY_TOKEN WHATSAPP_API_BASE WHATSAPP_API_VERSION; do
    export "$var=${!var:-}"
  done
  tg=off wa=off
  [ -z "$TELEGRAM_TOKEN" ] || tg=on
  [ -z "$WHATSAPP_TOKEN" ] || wa=on
  echo "channels: $credentials (Telegram $tg, WhatsApp $wa)"
  # a chat channel anyone could use is refused (channels/access.py says the same at start)
  case "${ALLOW_ANY_CHAT:-}" in 1|true|yes) ;; *)
    if [ "$tg" = on ] && [ -z "${TELEGRAM_ALLOWED_CHATS:-}${TELEGRAM_ALLOWED_USERS:-}" ]; then
      echo "Telegram: set TELEGRAM_ALLOWED_CHATS / TELEGRAM_ALLOWED_USERS (or ALLOW_ANY_CHAT=1)" >&2
      exit 1
    fi
    if [ "$wa" = on ] && [ -z "${WHATSAPP_ALLOWED_NUMBERS:-}" ]; then
      echo "WhatsApp: set WHATSAPP_ALLOWED_NUMBERS (or ALLOW_ANY_CHAT=1)" >&2
      exit 1
    fi
  esac
fi
# <<< channels <<<
# A port another process holds (an earlier `make run`, another instance) would answer the
# health checks below for it: "ready" would be printed for servers that never started.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "${RASA_PORT:-5005}" "${ACTION_PORT:-5055}"; do
  if port_taken "$port"; then
    echo "port $port is already in use on 127.0.0.1 (another 'make run' or instance?):" \
      "stop it, or start this one with RASA_PORT / ACTION_PORT" >&2
    exit 1
  fi
done
# ASSISTANT_MODEL: another model file (make bench); default the newest in models/
model=${ASSISTANT_MODEL:-$(ls -t models/*.tar.gz 2>/dev/null | head -1 || true)}
[ -n "$model" ] || { echo "no trained model in models/: run 'make train'" >&2; exit 1; }

# Ctrl-C reaches every process of the terminal's group at once: the servers stop by
# themselves and this script must not take their exit for a crash and start them again.
# So a signal only sets `stopping`; the loops below check it, and cleanup stops what is
# left (SIGTERM, then SIGKILL after 15 s: a server stuck in its shutdown never blocks).
stopping=""
stop_code=0
cleanup() {
  trap - INT TERM EXIT
  stopping=yes
  local pids=() pid
  for pid in ${actions_pid:-} ${rasa_pid:-}; do
    kill -0 "$pid" 2>/dev/null && pids+=("$pid") && kill -TERM "$pid" 2>/dev/null
  done
  for _ in $(seq 1 30); do
    local alive=()
    for pid in ${pids[@]+"${pids[@]}"}; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.5
  done
  for pid in ${pids[@]+"${pids[@]}"}; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "var/actions-${ACTION_PORT:-5055}.pid"
  say "stopped"
}
on_signal() { stopping=yes; stop_code=$1; exit "$1"; }
trap cleanup EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# rasa_sdk's server, not `rasa run actions` (which imports all of Rasa and TensorFlow only to
# start rasa_sdk): 51 instead of 486 MB, ready in 1-4 instead of 8-15 s; LOG_LEVEL honoured.
# rasa_sdk takes its interface from SANIC_HOST (it has no --interface flag).
start_actions() {
  SANIC_HOST="$action_host" .venv/bin/python -m assistant_runtime.action_server \
    --actions actions --port "${ACTION_PORT:-5055}" "${logging_args[@]}" \
    >>"$actions_log" 2>&1 &
  actions_pid=$! actions_started=$(date +%s)
  echo "$actions_pid" >"var/actions-${ACTION_PORT:-5055}.pid"  # make sop-reload sends SIGHUP
}
# `python -m assistant_runtime` is `rasa` plus the runtime patches (busy answer when the
# action server or a store fails, strict stores, speed): docs/reliability.md. GET /health
# comes from the credentials file (assistant_runtime.routes.RuntimeRoutes).
start_rasa() {
  .venv/bin/python -m assistant_runtime run --model "$model" --endpoints "$endpoints" \
    --credentials "${credentials:-credentials.yml}" "${logging_args[@]}" ${api_args[@]+"${api_args[@]}"} \
    --interface "$rasa_host" --port "${RASA_PORT:-5005}" --cors "http://127.0.0.1:${RASA_PORT:-5005}" \
    ${RASA_EXTRA_ARGS:-} >>"$rasa_log" 2>&1 &
  rasa_pid=$! rasa_started=$(date +%s)
}

: >"$actions_log"
: >"$rasa_log"
say "starting the action server (:${ACTION_PORT:-5055}) and the Rasa server (:${RASA_PORT:-5005}, model $model)"
start_actions
start_rasa

# Loading the model takes 30-60 s; say what is awaited every 10 s instead of staying silent.
start=$(date +%s)
actions_up="" rasa_up="" next_note=$((start + 10))
while [ -z "$stopping" ]; do
  [ -n "$actions_up" ] || ! curl -fs "http://127.0.0.1:${ACTION_PORT:-5055}/health" >/dev/null 2>&1 \
    || { actions_up=yes; say "action server up after $(( $(date +%s) - start ))s"; }
  [ -n "$rasa_up" ] || ! curl -fs "http://127.0.0.1:${RASA_PORT:-5005}/" >/dev/null 2>&1 \
    || rasa_up=yes
  [ -n "$actions_up" ] && [ -n "$rasa_up" ] && break
  for pid in "$actions_pid" "$rasa_pid"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      [ -n "$stopping" ] && exit "$stop_code"
      echo "a server exited during start; last log lines:" >&2
      tail -n 20 "$actions_log" "$rasa_log" >&2
      exit 1
    fi
  done
  if [ "$(date +%s)" -ge "$next_note" ]; then
    say "waiting for the Rasa server to load the model ($(( $(date +%s) - start ))s; log: $rasa_log)"
    next_note=$((next_note + 10))
  fi
  sleep 1
done
echo "${RUN_NAME:+run $RUN_NAME: }ready in $(( $(date +%s) - start ))s: REST http://127.0.0.1:${RASA_PORT:-5005}/webhooks/rest/webhook | socketio http://127.0.0.1:${RASA_PORT:-5005}/socket.io | actions http://127.0.0.1:${ACTION_PORT:-5055}/webhook (logs in $log_dir, Ctrl-C stops)"

# A server that dies (crash, kill -9, out of memory) is started again; conversations are in
# the tracker store, so a form goes on where it was. One that keeps dying within 60 s of its
# start three times in a row stops everything, with its last log lines. A server that
# stopped because it was told to (exit 0, SIGINT 130, SIGTERM 143) is not started again:
# that is Ctrl-C or a shutdown reaching it before this script.
quick_deaths=0
while [ -z "$stopping" ]; do
  wait -n "$actions_pid" "$rasa_pid" || true
  sleep 0.3  # after Ctrl-C a server may exit before the INT trap has run: let it come first
  for server in actions rasa; do
    [ -z "$stopping" ] || break
    pid_var=${server}_pid started_var=${server}_started log_var=${server}_log
    kill -0 "${!pid_var}" 2>/dev/null && continue
    status=0
    wait "${!pid_var}" 2>/dev/null || status=$?
    case "$status" in
      0 | 130 | 143)
        say "the $server server was stopped (exit $status); stopping"
        exit 0
        ;;
    esac
    if [ $(( $(date +%s) - ${!started_var} )) -lt 60 ]; then
      quick_deaths=$((quick_deaths + 1))
    else
      quick_deaths=0
    fi
    if [ "$quick_deaths" -ge 3 ]; then
      echo "the $server server keeps exiting; last log lines:" >&2
      tail -n 20 "${!log_var}" >&2
      exit 1
    fi
    echo "$(date +%T) the $server server exited (status $status); starting it again (log: ${!log_var})"
    "start_$server"
  done
done
exit "$stop_code"
