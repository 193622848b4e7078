"""The machine's test services (``make test-services``: PostgreSQL, Redis, RabbitMQ on
localhost, or where ``TEST_PG_*`` / ``TEST_REDIS_*`` / ``TEST_RABBITMQ_*`` point), shared with
other runs: each run makes its own database, claims an empty Redis db number and declares
its own queue and exchange, and removes them afterwards (never anyone else's).

:class:`RunStores` is that set for one run, with the environment endpoints.production.yml
and scripts/cluster.sh read to use it."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_SECRET = os.environ.get("TEST_PG_PASSWORD", "")
REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
RABBIT_HOST = os.environ.get("TEST_RABBITMQ_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("TEST_RABBITMQ_PORT", "5672"))
# the broker's stock login (guest, whose secret is its name; localhost only) unless set
RABBIT_USER = os.environ.get("TEST_RABBITMQ_USER", "guest")
RABBIT_SECRET = os.environ.get("TEST_RABBITMQ_PASSWORD") or RABBIT_USER


def run_name(prefix: str) -> str:
    """A name of this run's own: ``prefix`` and 10 random hex digits."""
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# -- PostgreSQL ----------------------------------------------------------------------------


def pg_connect(dbname: str = "postgres") -> Any:
    import psycopg2

    connection = psycopg2.connect(
        host=PG_HOST,
        port=PG_PORT,
        user=PG_USER,
        password=PG_SECRET or None,
        dbname=dbname,
        connect_timeout=5,
    )
    connection.autocommit = True  # CREATE / DROP DATABASE refuse to run in a transaction
    return connection


def pg_admin(sql: str, params: Tuple[Any, ...] = ()) -> None:
    connection = pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        connection.close()


def pg_url(dbname: str) -> str:
    secret = f":{PG_SECRET}" if PG_SECRET else ""
    return f"postgresql://{PG_USER}{secret}@{PG_HOST}:{PG_PORT}/{dbname}"


def pg_create_database(name: str) -> None:
    pg_admin(f'CREATE DATABASE "{name}"')


def pg_exists(name: str) -> bool:
    connection = pg_connect()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return cursor.fetchone() is not None
    finally:
        connection.close()


def pg_drop_database(name: str) -> None:
    """Drops the database, its clients cut off first; a missing one is fine."""
    if not pg_exists(name):
        return
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


def pg_events(dbname: str, sender: str) -> List[Dict[str, Any]]:
    """Every event of ``sender`` in the tracker store's (or the analytics consumer's)
    ``events`` table of ``dbname``, in order."""
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT data FROM events WHERE sender_id = %s ORDER BY id", (sender,))
            return [json.loads(row[0]) for row in cursor.fetchall()]
    finally:
        connection.close()


def user_texts(events: Sequence[Dict[str, Any]]) -> List[str]:
    return [str(e.get("text")) for e in events if e.get("event") == "user"]


def pg_block_database(name: str) -> None:
    """The database "goes down" for its clients: no new connections, current ones cut."""
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    pg_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))


def pg_unblock_database(name: str) -> None:
    pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


# -- Redis ---------------------------------------------------------------------------------


def _redis(number: int) -> Any:
    import redis

    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)


CLAIM_KEY = "testkit:claim"  # the marker of a claimed Redis db number


def claim_redis_db() -> int:
    """A Redis db number (1-15) that is empty now; a marker key claims it for this run."""
    for number in range(15, 0, -1):
        client = _redis(number)
        if client.dbsize() == 0 and client.set(CLAIM_KEY, "1", nx=True, ex=3600):
            return number
    raise RuntimeError(f"no empty Redis db among 1-15 at {REDIS_HOST}:{REDIS_PORT}")


def release_redis_db(number: int) -> None:
    _redis(number).flushdb()


def redis_keys(number: int) -> Iterator[str]:
    for key in _redis(number).scan_iter():
        yield key.decode()


# -- RabbitMQ ------------------------------------------------------------------------------


def rabbit_available() -> bool:
    try:
        with socket.create_connection((RABBIT_HOST, RABBIT_PORT), timeout=2):
            return True
    except OSError:
        return False


def broker_env(queue: str, exchange: str = "") -> Dict[str, str]:
    """The RABBITMQ_* variables endpoints.production.yml reads (this run's names; the
    exchange is ``<queue>_x`` unless given)."""
    return {
        "RABBITMQ_EXCHANGE": exchange or f"{queue}_x",
        "RABBITMQ_HOST": RABBIT_HOST,
        "RABBITMQ_PORT": str(RABBIT_PORT),
        "RABBITMQ_USER": RABBIT_USER,
        "RABBITMQ_PASSWORD": RABBIT_SECRET,
        "RABBITMQ_QUEUE": queue,
    }


def rabbit_delete(queue: str, exchange: str = "") -> None:
    """Deletes this run's queue and exchange (default ``<queue>_x``); missing ones are
    fine."""
    exchange = exchange or f"{queue}_x"
    import aio_pika

    async def run() -> None:
        url = f"amqp://{RABBIT_USER}:{RABBIT_SECRET}@{RABBIT_HOST}:{RABBIT_PORT}/"
        connection = await aio_pika.connect(url)
        try:
            for name, kind in ((queue, "queue"), (exchange, "exchange")):
                channel = await connection.channel()
                try:
                    if kind == "queue":
                        await channel.queue_delete(name)
                    else:
                        await channel.exchange_delete(name)
                except Exception:  # noqa: BLE001 - already gone
                    pass
        finally:
            await connection.close()

    asyncio.run(run())


def production_env(
    dbname: str,
    redis_db: int,
    action_url: str = "",
    pg: Tuple[str, int, str, str] = (PG_HOST, PG_PORT, PG_USER, PG_SECRET),
    redis: Tuple[str, int] = (REDIS_HOST, REDIS_PORT),
) -> Dict[str, str]:
    """The tracker store and lock store variables endpoints.production.yml reads, for
    PostgreSQL at ``pg`` (host, port, user, secret) and Redis at ``redis`` (host, port; the
    test Redis has no login); ``action_url``: ACTION_ENDPOINT_URL too."""
    pg_host, pg_port, pg_user, pg_secret = pg
    env = {
        "TRACKER_DB_HOST": pg_host,
        "TRACKER_DB_PORT": str(pg_port),
        "TRACKER_DB_NAME": dbname,
        "TRACKER_DB_USER": pg_user,
        "TRACKER_DB_PASSWORD": pg_secret,
        "LOCK_REDIS_HOST": redis[0],
        "LOCK_REDIS_PORT": str(redis[1]),
        "LOCK_REDIS_DB": str(redis_db),
        "LOCK_REDIS_PASSWORD": "",
    }
    if action_url:
        env["ACTION_ENDPOINT_URL"] = action_url
    return env


# -- one run's own set ---------------------------------------------------------------------


@dataclass
class RunStores:
    """A PostgreSQL database (``dbname``, and ``<dbname>_analytics`` when asked for), an
    empty Redis db number and a RabbitMQ queue + exchange, all of this run, made by
    :meth:`create` and removed by :meth:`remove` (whatever was made)."""

    prefix: str
    dbname: str = ""
    redis_db: Optional[int] = None
    analytics: bool = False
    created: bool = False

    def __post_init__(self) -> None:
        self.dbname = self.dbname or run_name(self.prefix)

    @property
    def analytics_db(self) -> str:
        return f"{self.dbname}_analytics"  # scripts/cluster.sh's default ANALYTICS_DB_URL

    @property
    def queue(self) -> str:
        return self.dbname

    def create(self) -> RunStores:
        """Raises with a pointer to ``make test-services`` when a service does not answer."""
        try:
            pg_create_database(self.dbname)
            self.created = True
            if self.analytics:
                pg_create_database(self.analytics_db)
        except Exception as error:
            raise RuntimeError(
                f"PostgreSQL at {PG_HOST}:{PG_PORT} (user {PG_USER}) is not usable: {error}. "
                "Run `make test-services` (scripts/test_services.sh) or set TEST_PG_*."
            ) from error
        try:
            self.redis_db = claim_redis_db()
        except Exception as error:
            raise RuntimeError(
                f"Redis at {REDIS_HOST}:{REDIS_PORT} is not usable: {error}. "
                "Run `make test-services` (scripts/test_services.sh) or set TEST_REDIS_*."
            ) from error
        if not rabbit_available():
            raise RuntimeError(
                f"RabbitMQ does not answer at {RABBIT_HOST}:{RABBIT_PORT}: run "
                "`make test-services` (scripts/test_services.sh) or set TEST_RABBITMQ_*."
            )
        return self

    def env(self, action_url: str = "") -> Dict[str, str]:
        """The store variables of endpoints.production.yml (and scripts/cluster.sh) for this
        run's stores; ``action_url``: ACTION_ENDPOINT_URL too."""
        assert self.redis_db is not None, "create() first"
        return {
            **production_env(self.dbname, self.redis_db, action_url=action_url),
            # the Pika event broker publishes to this run's queue
            **broker_env(self.queue),
        }

    def remove(self) -> None:
        """Removes what :meth:`create` made, and the analytics database scripts/cluster.sh
        makes for it."""
        if self.redis_db is not None:
            release_redis_db(self.redis_db)
            self.redis_db = None
        if self.created:
            if rabbit_available():
                rabbit_delete(self.queue)
            pg_drop_database(self.dbname)
            pg_drop_database(self.analytics_db)
            self.created = False
