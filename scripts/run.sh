#!/usr/bin/env bash
# Starts the action server (5055) and the Rasa server (5005, REST + socketio) on localhost,
# prints one "ready" line, and stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

mkdir -p var/log
endpoints=endpoints.yml
if [ "${ASSISTANT_STORES:-embedded}" = "production" ]; then
  endpoints=endpoints.production.yml
fi
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
fi
# <<< channels <<<
model=$(ls -t models/*.tar.gz 2>/dev/null | head -1)
[ -n "$model" ] || { echo "no trained model in models/: run 'make train'" >&2; exit 1; }

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped"
}
trap cleanup INT TERM EXIT

.venv/bin/rasa run actions --actions actions --port "${ACTION_PORT:-5055}" \
  >var/log/actions.log 2>&1 &
pids+=($!)
.venv/bin/rasa run --model "$model" --endpoints "$endpoints" --credentials "${credentials:-credentials.yml}" \
  --interface 127.0.0.1 --port "${RASA_PORT:-5005}" --cors "http://127.0.0.1:${RASA_PORT:-5005}" \
  ${RASA_EXTRA_ARGS:-} >var/log/rasa.log 2>&1 &
pids+=($!)

start=$(date +%s)
until curl -fs "http://127.0.0.1:${ACTION_PORT:-5055}/health" >/dev/null 2>&1 \
   && curl -fs "http://127.0.0.1:${RASA_PORT:-5005}/" >/dev/null 2>&1; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "a server exited during start; last log lines:" >&2
      tail -n 20 var/log/actions.log var/log/rasa.log >&2
      exit 1
    fi
  done
  sleep 1
done
echo "ready in $(( $(date +%s) - start ))s: REST http://127.0.0.1:${RASA_PORT:-5005}/webhooks/rest/webhook | socketio http://127.0.0.1:${RASA_PORT:-5005}/socket.io | actions http://127.0.0.1:${ACTION_PORT:-5055}/webhook (logs in var/log, Ctrl-C stops)"
wait -n "${pids[@]}"
