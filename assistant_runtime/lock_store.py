"""Redis lock store for several Rasa instances: atomic tickets and a clear start error.

Rasa's ``RedisLockStore`` changes a conversation's ticket lock with a GET followed by a SET.
Inside one process that is safe (no await in between); between two instances sharing Redis
two messages of one conversation can both read the same lock and one ticket is lost, so both
turns run at once on the same tracker, or a waiting turn finds its lock deleted and fails.
:class:`StrictRedisLockStore` does every read-modify-write in a Redis transaction
(``WATCH``/``MULTI``, retried on conflict), and pings Redis at start: when it is not reachable
within ``connect_timeout`` seconds (endpoint key, default 30, or env
``LOCK_REDIS_CONNECT_TIMEOUT``) the server stops with an error naming it.

endpoints.production.yml: ``lock_store: type: assistant_runtime.lock_store.StrictRedisLockStore``
with the usual ``url``, ``port``, ``db``, ``password``, ``key_prefix``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Callable, Optional

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from assistant_runtime.health import STATUS

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_SECONDS = 30.0
_UNCHANGED = object()  # a change that leaves the stored lock as it is (no write)


class LockStoreUnavailable(LockError):
    """Redis cannot be reached for a conversation lock."""


class StrictRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        from assistant_runtime import hooks

        hooks.install()
        settings = dict(endpoint_config.kwargs) if endpoint_config else {}
        settings.update(kwargs)
        host = (endpoint_config.url if endpoint_config else None) or settings.pop(
            "host", "localhost"
        )
        settings.pop("host", None)
        timeout = float(
            settings.pop("connect_timeout", None)
            or os.environ.get("LOCK_REDIS_CONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT_SECONDS)
        )
        if settings.get("password") == "":
            settings["password"] = None  # an empty ${LOCK_REDIS_PASSWORD}: no AUTH
        self.description = (
            f"Redis lock store at {host}:{settings.get('port', 6379)} db {settings.get('db', 1)}"
        )
        super().__init__(host=host, **settings)
        self._wait_for_redis(timeout)
        STATUS.report("lock_store", True)
        logger.info("lock store: %s (atomic tickets)", self.description)

    def _wait_for_redis(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.red.ping()
                return
            except redis.exceptions.RedisError as error:
                if time.monotonic() >= deadline:
                    message = (
                        f"lock store: cannot connect to {self.description} "
                        f"(waited {timeout:g} s): {error}"
                    )
                    logger.critical(message)
                    STATUS.report("lock_store", False, message)
                    raise LockStoreUnavailable(message) from None
                logger.warning("lock store: %s not reachable yet: %s", self.description, error)
                time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))

    # -- atomic read-modify-write ----------------------------------------------------------

    def _transaction(
        self, conversation_id: str, change: Callable[[Optional[TicketLock]], Any]
    ) -> Any:
        """Runs ``change(lock)`` on the stored lock and writes its result atomically.

        ``change`` returns ``(new_lock_or_None, result)``; ``None`` deletes the lock,
        ``_UNCHANGED`` writes nothing (waiting turns poll often: no needless conflicts).
        """
        key = self.key_prefix + conversation_id
        try:
            with self.red.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)
                        raw = pipe.get(key)
                        lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                        new_lock, result = change(lock)
                        if new_lock is _UNCHANGED:
                            pipe.unwatch()
                            self._redis_ok()
                            return result
                        pipe.multi()
                        if new_lock is None:
                            pipe.delete(key)
                        else:
                            pipe.set(key, new_lock.dumps())
                        pipe.execute()
                        self._redis_ok()
                        return result
                    except redis.exceptions.WatchError:
                        continue  # another instance changed the lock: read it again
        except redis.exceptions.RedisError as error:
            message = f"lock store: {self.description} failed: {error}"
            if STATUS.report("lock_store", False, message):
                logger.error(message)
            raise LockStoreUnavailable("lock store unavailable (details in the log)") from error

    def _redis_ok(self) -> None:
        if STATUS.report("lock_store", True):
            logger.warning("lock store: %s is reachable again", self.description)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def change(lock: Optional[TicketLock]) -> Any:
            lock = lock or self.create_lock(conversation_id)
            ticket = lock.issue_ticket(lock_lifetime)
            return lock, ticket

        ticket: int = self._transaction(conversation_id, change)
        return ticket

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return _UNCHANGED, None
            before = len(lock.tickets)
            lock.remove_expired_tickets()
            return (lock if len(lock.tickets) != before else _UNCHANGED), None

        self._transaction(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            return lock, None

        self._transaction(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Removes the ticket and deletes the lock when no one waits, in one transaction
        (stock Rasa does it in three steps, racing with a ticket issued in between)."""

        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return _UNCHANGED, None
            lock.remove_ticket_for(ticket_number)
            if not lock.is_someone_waiting():
                return None, None
            return lock, None

        self._transaction(conversation_id, change)

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        try:
            lock = super().get_lock(conversation_id)
        except redis.exceptions.RedisError as error:
            message = f"lock store: {self.description} failed: {error}"
            if STATUS.report("lock_store", False, message):
                logger.error(message)
            raise LockStoreUnavailable("lock store unavailable (details in the log)") from error
        self._redis_ok()
        return lock
