"""Channel state in the stores' backend, so every instance sees the same buttons.

What the connectors remember between two webhook calls (Telegram button tokens, the
question each conversation must answer next, WhatsApp numbered options, the update and
message ids already handled) lives here, not in one process:

* Redis when the lock store is Redis (production): the same server and db as the lock
  store, keys prefixed ``chan:``, every key with a TTL; ``redis.asyncio`` with short
  timeouts, so a slow Redis never holds the event loop;
* SQLite next to the tracker database (``var/channels.db`` beside ``var/tracker.db``) when
  the tracker store is SQLite (``make run``): a restart loses nothing;
* memory otherwise (one process, e.g. the connector unit tests).

``CHANNEL_STATE_URL`` overrides the choice: ``memory``, ``sqlite:///path/channels.db`` or
``redis://[:password@]host:port/db``.

Values are strings (callers store JSON). Every operation that decides something (first
time an id is seen, a token still pending) is atomic in the backend, so two instances
receiving the same press never both accept it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple
from urllib.parse import unquote, urlparse

logger = logging.getLogger(__name__)

KEY_PREFIX = "chan:"
DAY = 24 * 3600
REDIS_TIMEOUT = 2.0  # seconds; a webhook call must not wait long on Redis

# compare-and-delete: the pending token is consumed by exactly one press
_DELETE_IF_LUA = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end"
)
_POP_LUA = "local v = redis.call('GET', KEYS[1]); redis.call('DEL', KEYS[1]); return v"


class ChannelState:
    """Interface of the backends (all methods are coroutines)."""

    kind = "base"

    async def get(self, key: str) -> Optional[str]:
        raise NotImplementedError

    async def set(self, key: str, value: str, ttl: float = DAY) -> None:
        raise NotImplementedError

    async def add(self, key: str, value: str = "1", ttl: float = DAY) -> bool:
        """Sets ``key`` only if absent; True when this call set it (first time seen)."""
        raise NotImplementedError

    async def pop(self, key: str) -> Optional[str]:
        """Returns and deletes ``key`` in one step."""
        raise NotImplementedError

    async def delete_if(self, key: str, value: str) -> bool:
        """Deletes ``key`` only while it holds ``value``; True when this call deleted it."""
        raise NotImplementedError

    async def delete(self, key: str) -> None:
        raise NotImplementedError

    async def get_json(self, key: str) -> Optional[Any]:
        raw = await self.get(key)
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    async def set_json(self, key: str, value: Any, ttl: float = DAY) -> None:
        await self.set(key, json.dumps(value, ensure_ascii=False), ttl)

    async def close(self) -> None:
        return None


class MemoryState(ChannelState):
    kind = "memory"

    def __init__(self) -> None:
        self._data: Dict[str, Tuple[str, float]] = {}

    def _live(self, key: str) -> Optional[str]:
        item = self._data.get(key)
        if item is None:
            return None
        if item[1] < time.time():
            self._data.pop(key, None)
            return None
        return item[0]

    def _sweep(self) -> None:
        if len(self._data) > 50000:
            now = time.time()
            for key in [k for k, (_, exp) in self._data.items() if exp < now]:
                self._data.pop(key, None)

    async def get(self, key: str) -> Optional[str]:
        return self._live(key)

    async def set(self, key: str, value: str, ttl: float = DAY) -> None:
        self._sweep()
        self._data[key] = (value, time.time() + ttl)

    async def add(self, key: str, value: str = "1", ttl: float = DAY) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def pop(self, key: str) -> Optional[str]:
        value = self._live(key)
        self._data.pop(key, None)
        return value

    async def delete_if(self, key: str, value: str) -> bool:
        if self._live(key) == value:
            self._data.pop(key, None)
            return True
        return False

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class SqliteState(ChannelState):
    """One small table; every statement is a short local transaction (no network)."""

    kind = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS channel_state "
                "(key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL)"
            )
            self._conn.execute("DELETE FROM channel_state WHERE expires < ?", (time.time(),))

    def _run(self, sql: str, params: Tuple[Any, ...]) -> Tuple[int, Optional[Tuple[Any, ...]]]:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            return cursor.rowcount, cursor.fetchone()

    async def get(self, key: str) -> Optional[str]:
        _, row = self._run(
            "SELECT value FROM channel_state WHERE key = ? AND expires >= ?", (key, time.time())
        )
        return str(row[0]) if row else None

    async def set(self, key: str, value: str, ttl: float = DAY) -> None:
        self._run(
            "INSERT OR REPLACE INTO channel_state (key, value, expires) VALUES (?, ?, ?)",
            (key, value, time.time() + ttl),
        )

    async def add(self, key: str, value: str = "1", ttl: float = DAY) -> bool:
        now = time.time()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(
                    "DELETE FROM channel_state WHERE key = ? AND expires < ?", (key, now)
                )
                cursor = self._conn.execute(
                    "INSERT OR IGNORE INTO channel_state (key, value, expires) VALUES (?, ?, ?)",
                    (key, value, now + ttl),
                )
                added = cursor.rowcount == 1
            finally:
                self._conn.execute("COMMIT")
        return added

    async def pop(self, key: str) -> Optional[str]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT value, expires FROM channel_state WHERE key = ?", (key,)
                ).fetchone()
                self._conn.execute("DELETE FROM channel_state WHERE key = ?", (key,))
            finally:
                self._conn.execute("COMMIT")
        if row is None or row[1] < time.time():
            return None
        return str(row[0])

    async def delete_if(self, key: str, value: str) -> bool:
        count, _ = self._run(
            "DELETE FROM channel_state WHERE key = ? AND value = ? AND expires >= ?",
            (key, value, time.time()),
        )
        return count == 1

    async def delete(self, key: str) -> None:
        self._run("DELETE FROM channel_state WHERE key = ?", (key,))

    async def close(self) -> None:
        with self._lock:
            self._conn.close()


class RedisState(ChannelState):
    kind = "redis"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        password: Optional[str] = None,
        prefix: str = KEY_PREFIX,
    ) -> None:
        import redis.asyncio as aioredis

        self.prefix = prefix
        self.where = f"{host}:{port}/{db}"
        self.client = aioredis.Redis(
            host=host,
            port=port,
            db=db,
            password=password or None,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
        )

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _ms(ttl: float) -> int:
        return max(1, int(ttl * 1000))

    async def get(self, key: str) -> Optional[str]:
        value = await self.client.get(self._key(key))
        return value.decode("utf-8") if value is not None else None

    async def set(self, key: str, value: str, ttl: float = DAY) -> None:
        await self.client.set(self._key(key), value, px=self._ms(ttl))

    async def add(self, key: str, value: str = "1", ttl: float = DAY) -> bool:
        return bool(await self.client.set(self._key(key), value, px=self._ms(ttl), nx=True))

    async def pop(self, key: str) -> Optional[str]:
        value = await self.client.eval(_POP_LUA, 1, self._key(key))
        return value.decode("utf-8") if value is not None else None

    async def delete_if(self, key: str, value: str) -> bool:
        return bool(await self.client.eval(_DELETE_IF_LUA, 1, self._key(key), value))

    async def delete(self, key: str) -> None:
        await self.client.delete(self._key(key))

    async def close(self) -> None:
        await self.client.close()


def from_url(url: str) -> ChannelState:
    """``memory`` | ``sqlite:///path`` | ``redis://[:password@]host:port/db``."""
    if url in ("", "memory"):
        return MemoryState()
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return SqliteState(unquote(parsed.path))
    if parsed.scheme == "redis":
        db = int(parsed.path.strip("/") or 0)
        return RedisState(
            parsed.hostname or "127.0.0.1",
            parsed.port or 6379,
            db,
            unquote(parsed.password) if parsed.password else None,
        )
    raise ValueError(f"CHANNEL_STATE_URL: unknown backend {url!r} (memory, sqlite://, redis://)")


def from_agent(agent: Any) -> ChannelState:
    """The backend that follows the agent's stores (see the module docstring)."""
    lock_store = getattr(agent, "lock_store", None)
    red = getattr(lock_store, "red", None)
    pool = getattr(red, "connection_pool", None)
    if pool is not None:
        kwargs = dict(getattr(pool, "connection_kwargs", {}) or {})
        return RedisState(
            str(kwargs.get("host") or "127.0.0.1"),
            int(kwargs.get("port") or 6379),
            int(kwargs.get("db") or 0),
            kwargs.get("password"),
        )
    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)  # Rasa's AwaitableTrackerStore wrapper
    engine = getattr(store, "engine", None)
    url = getattr(engine, "url", None)
    if url is not None and str(getattr(url, "drivername", "")).startswith("sqlite"):
        database = getattr(url, "database", None)
        if database:
            return SqliteState(str(Path(database).resolve().parent / "channels.db"))
    return MemoryState()


class StateHolder:
    """The backend of one connector, chosen on first use (the agent and its stores exist
    only once the server runs)."""

    def __init__(self, state: Optional[ChannelState] = None) -> None:
        self._state = state

    def get_nowait(self) -> Optional[ChannelState]:
        return self._state

    async def get(self, app: Any = None) -> ChannelState:
        if self._state is not None:
            return self._state
        url = os.environ.get("CHANNEL_STATE_URL", "").strip()
        agent = getattr(getattr(app, "ctx", None), "agent", None)
        if url:
            state = from_url(url)
        elif agent is not None:
            state = from_agent(agent)
        else:
            state = MemoryState()
        self._state = state
        logger.info("channel state: %s", state.kind)
        return state

    async def close(self) -> None:
        if self._state is not None:
            await self._state.close()
