#!/usr/bin/env bash
# PostgreSQL, Redis and RabbitMQ on localhost for the reliability and analytics tests (`make test-services`, run by
# `make e2e`). The tests use the real servers, never mocks.
#
# * Already answering on TEST_PG_HOST:TEST_PG_PORT / TEST_REDIS_HOST:TEST_REDIS_PORT: nothing
#   to do.
# * Not installed and running as root (CI on a fresh Debian machine): apt-get installs
#   Debian's `postgresql`, `redis-server` and `rabbitmq-server`, then starts them on
#   localhost (RabbitMQ's default user guest/guest may log in from localhost only).
# * Installed but stopped: started (pg_ctlcluster / service / redis-server --daemonize).
# * A PostgreSQL installed by this script gets `trust` for 127.0.0.1 and ::1 (test machine
#   only); an existing one is left alone: give its user and password in TEST_PG_USER /
#   TEST_PG_PASSWORD (the user must be allowed to CREATE DATABASE).
# When a service cannot be provided, it says which one and how to start it, and exits 1.
set -euo pipefail

PG_HOST=${TEST_PG_HOST:-127.0.0.1}
PG_PORT=${TEST_PG_PORT:-5432}
PG_USER=${TEST_PG_USER:-postgres}
REDIS_HOST=${TEST_REDIS_HOST:-127.0.0.1}
REDIS_PORT=${TEST_REDIS_PORT:-6379}
RABBIT_HOST=${TEST_RABBITMQ_HOST:-127.0.0.1}
RABBIT_PORT=${TEST_RABBITMQ_PORT:-5672}

say() { echo "test-services: $*"; }
fail() { echo "test-services: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

tcp_open() {  # host port
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

pg_up() { tcp_open "$PG_HOST" "$PG_PORT"; }

pg_login() {
  PGPASSWORD=${TEST_PG_PASSWORD:-} PGCONNECT_TIMEOUT=5 psql -h "$PG_HOST" -p "$PG_PORT" \
    -U "$PG_USER" -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}

redis_up() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(timeout 3 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
  else
    tcp_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

apt_updated=no
apt_install() {  # packages...
  is_root || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = no ]; then
    say "apt-get update"
    apt-get update -qq || true
    apt_updated=yes
  fi
  say "apt-get install $*"
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_version() {
  ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1
}

installed_pg=no
ensure_postgres() {
  if pg_up; then
    say "PostgreSQL answers on $PG_HOST:$PG_PORT"
  else
    if [ -z "$(pg_version)" ]; then
      apt_install postgresql postgresql-client || fail "PostgreSQL is missing and could not \
be installed (not root or no apt-get). Install and start it: \
'sudo apt-get install -y postgresql && sudo service postgresql start', or point \
TEST_PG_HOST/TEST_PG_PORT at a running server."
      installed_pg=yes
    fi
    local version
    version=$(pg_version)
    if is_root && command -v pg_lsclusters >/dev/null 2>&1; then
      if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$version main"; then
        say "creating PostgreSQL cluster $version/main"
        pg_createcluster "$version" main >/dev/null
      fi
      say "starting PostgreSQL $version/main"
      pg_ctlcluster "$version" main start 2>/dev/null || service postgresql start >/dev/null 2>&1 || true
    elif is_root; then
      service postgresql start >/dev/null 2>&1 || true
    fi
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    pg_up || fail "PostgreSQL is not running on $PG_HOST:$PG_PORT and could not be started. \
Start it with 'sudo service postgresql start' (or 'sudo pg_ctlcluster ${version:-15} main start')."
    say "PostgreSQL started on $PG_HOST:$PG_PORT"
  fi
  if ! command -v psql >/dev/null 2>&1; then
    apt_install postgresql-client || { say "psql missing: login of '$PG_USER' not checked"; return 0; }
  fi
  if ! pg_login; then
    local hba=""
    [ -n "$(pg_version)" ] && hba=/etc/postgresql/$(pg_version)/main/pg_hba.conf
    if [ "$installed_pg" = yes ] && is_root && [ -f "$hba" ]; then
      say "allowing trust login from 127.0.0.1 and ::1 in $hba (test machine)"
      sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
      pg_ctlcluster "$(pg_version)" main reload 2>/dev/null || service postgresql reload >/dev/null 2>&1 || true
      sleep 1
    fi
    pg_login || fail "PostgreSQL runs on $PG_HOST:$PG_PORT but user '$PG_USER' cannot log in. \
Set TEST_PG_USER and TEST_PG_PASSWORD (a user allowed to CREATE DATABASE), or allow trust \
for 127.0.0.1 in pg_hba.conf on this test machine."
  fi
}

ensure_redis() {
  if redis_up; then
    say "Redis answers on $REDIS_HOST:$REDIS_PORT"
    return
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server || fail "Redis is missing and could not be installed (not root \
or no apt-get). Install and start it: 'sudo apt-get install -y redis-server && sudo service \
redis-server start', or point TEST_REDIS_HOST/TEST_REDIS_PORT at a running server."
  fi
  if is_root; then
    service redis-server start >/dev/null 2>&1 || true
    for _ in $(seq 1 10); do redis_up && break; sleep 0.5; done
  fi
  if ! redis_up; then
    say "starting redis-server on $REDIS_HOST:$REDIS_PORT"
    redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --daemonize yes \
      --save '' --appendonly no >/dev/null 2>&1 || true
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  redis_up || fail "Redis is not running on $REDIS_HOST:$REDIS_PORT and could not be started. \
Start it with 'sudo service redis-server start' or 'redis-server --daemonize yes'."
  say "Redis started on $REDIS_HOST:$REDIS_PORT"
}

rabbit_up() { tcp_open "$RABBIT_HOST" "$RABBIT_PORT"; }

ensure_rabbitmq() {
  if rabbit_up; then
    say "RabbitMQ answers on $RABBIT_HOST:$RABBIT_PORT"
    return
  fi
  if ! command -v rabbitmq-server >/dev/null 2>&1 && [ ! -x /usr/sbin/rabbitmq-server ]; then
    apt_install rabbitmq-server || fail "RabbitMQ is missing and could not be installed (not \
root or no apt-get). Install and start it: 'sudo apt-get install -y rabbitmq-server && sudo \
rabbitmq-server -detached', or point TEST_RABBITMQ_HOST/TEST_RABBITMQ_PORT at a running server."
  fi
  if is_root; then
    say "starting rabbitmq-server on port $RABBIT_PORT"
    service rabbitmq-server start >/dev/null 2>&1 \
      || PATH=$PATH:/usr/sbin rabbitmq-server -detached >/dev/null 2>&1 || true
    # the Erlang node takes a few seconds to open its port
    for _ in $(seq 1 60); do rabbit_up && break; sleep 1; done
  fi
  rabbit_up || fail "RabbitMQ is not running on $RABBIT_HOST:$RABBIT_PORT and could not be \
started. Start it with 'sudo rabbitmq-server -detached' (or 'sudo service rabbitmq-server start')."
  say "RabbitMQ started on $RABBIT_HOST:$RABBIT_PORT"
}

status=0
(ensure_postgres) || status=1
(ensure_redis) || status=1
(ensure_rabbitmq) || status=1
exit $status
