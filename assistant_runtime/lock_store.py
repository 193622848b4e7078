"""Redis lock store for several Rasa instances: atomic tickets, short leases, bounded waits.

Rasa's ``RedisLockStore`` changes a conversation's ticket lock with a GET followed by a SET.
Inside one process that is safe (no await in between); between two instances sharing Redis
two messages of one conversation can both read the same lock and one ticket is lost, so both
turns run at once on the same tracker, or a waiting turn finds its lock deleted and fails.
:class:`StrictRedisLockStore` does every read-modify-write in a Redis transaction
(``WATCH``/``MULTI``, retried on conflict), and pings Redis at start: when it is not reachable
within ``connect_timeout`` seconds (endpoint key, default 30, or env
``LOCK_REDIS_CONNECT_TIMEOUT``) the server stops with an error naming it.

A conversation's lock must never outlive a crashed holder or leave a request waiting
without end (stock Rasa: a 60 s ticket, unbounded polling, every Redis call blocking the
event loop for up to 10 s). Here:

* a ticket is a short *lease* (``lease_seconds``, default 10 s, env ``LOCK_LEASE_SECONDS``)
  renewed every quarter lease by a heartbeat task while its turn waits or runs, so the
  ticket of a killed process expires within one lease and the next turn is served;
* a waiting turn whose own ticket vanished (expired while Redis was unreachable, or an
  empty lock left behind) takes a new ticket instead of waiting forever;
* a turn waits at most ``max_wait_seconds`` (default 15 s, env ``LOCK_MAX_WAIT_SECONDS``)
  for the lock, then fails with :class:`LockWaitExceeded` (the agent gets the busy answer);
* every Redis call runs in the store's own threads with short socket timeouts
  (``socket_timeout``, default 2 s, env ``LOCK_REDIS_SOCKET_TIMEOUT``): a dead or frozen
  Redis never blocks the server's event loop;
* releasing the lock after the turn never fails the turn: when Redis is unreachable the
  lease expires by itself;
* the running turn's :class:`assistant_runtime.turns.Lease` is published for the tracker
  store, which refuses to save once the lease may have passed to another instance.

endpoints.production.yml: ``lock_store: type: assistant_runtime.lock_store.StrictRedisLockStore``
with the usual ``url``, ``port``, ``db``, ``password``, ``key_prefix``, and optionally
``lease_seconds``, ``max_wait_seconds``, ``socket_timeout``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Dict, Optional

import redis
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from assistant_runtime.health import STATUS
from assistant_runtime.patches import warn_unless_installed
from assistant_runtime.turns import CURRENT_LEASE, Lease

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT_SECONDS = 30.0
DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_MAX_WAIT_SECONDS = 15.0
DEFAULT_SOCKET_TIMEOUT_SECONDS = 2.0
POLL_SECONDS = 0.2  # a waiting turn looks at the lock this often
PENDING_MARK_SECONDS = 3600  # how long a pending-reply mark is kept at most
_UNCHANGED = object()  # a change that leaves the stored lock as it is (no write)


class LockStoreUnavailable(LockError):
    """Redis cannot be reached for a conversation lock."""


class LockWaitExceeded(LockError):
    """A turn waited longer than ``max_wait_seconds`` for its conversation's lock."""


def _setting(settings: Dict[str, Any], key: str, env: str, default: float) -> float:
    value = settings.pop(key, None)
    if value in (None, ""):
        value = os.environ.get(env) or default
    return float(value)


class StrictRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        warn_unless_installed("lock store")
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
        self.lease_seconds = _setting(
            settings, "lease_seconds", "LOCK_LEASE_SECONDS", DEFAULT_LEASE_SECONDS
        )
        self.max_wait_seconds = _setting(
            settings, "max_wait_seconds", "LOCK_MAX_WAIT_SECONDS", DEFAULT_MAX_WAIT_SECONDS
        )
        socket_timeout = _setting(
            settings, "socket_timeout", "LOCK_REDIS_SOCKET_TIMEOUT", DEFAULT_SOCKET_TIMEOUT_SECONDS
        )
        self.description = (
            f"Redis lock store at {host}:{settings.get('port', 6379)} db {settings.get('db', 1)}"
        )
        super().__init__(host=host, socket_timeout=socket_timeout, **settings)
        # A frozen Redis accepts connections and never answers: bound the connect too.
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = socket_timeout
        # Redis calls run here, never on the event loop (each bounded by the socket timeout).
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lock-store")
        self._call_budget = 3 * socket_timeout
        self._wait_for_redis(timeout)
        STATUS.report("lock_store", True)
        logger.info(
            "lock store: %s (atomic tickets, lease %g s, lock wait at most %g s)",
            self.description,
            self.lease_seconds,
            self.max_wait_seconds,
        )

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
            lock.remove_expired_tickets()
            # Numbers never restart at 0 on an emptied lock: a holder whose ticket expired
            # must not mistake a newcomer's ticket for its own.
            number = max(lock.last_issued + 1, int(time.time() * 1000))
            lock.tickets.append(Ticket(number, time.time() + lock_lifetime))
            return lock, number

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

    # -- leases: bounded, renewed, off the event loop ----------------------------------------

    async def _off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        """Runs a Redis call in the store's threads. Bounded also when the threads are all
        busy with a hung Redis: the caller gives up after a few socket timeouts."""
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._executor, functools.partial(function, *args))
        try:
            return await asyncio.wait_for(call, self._call_budget)
        except asyncio.TimeoutError:
            message = (
                f"lock store: {self.description} gave no answer within {self._call_budget:g} s"
            )
            if STATUS.report("lock_store", False, message):
                logger.error(message)
            raise LockStoreUnavailable("lock store unavailable (details in the log)") from None

    def renew_ticket(self, conversation_id: str, ticket_number: int, lease_seconds: float) -> bool:
        """Extends the ticket's expiry; False when the ticket is gone (the lease was lost)."""

        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return _UNCHANGED, False
            for ticket in lock.tickets:
                if ticket.number == ticket_number:
                    if ticket.has_expired():
                        return _UNCHANGED, False
                    ticket.expires = time.time() + lease_seconds
                    return lock, True
            return _UNCHANGED, False

        renewed: bool = self._transaction(conversation_id, change)
        return renewed

    def turn_state(self, conversation_id: str, ticket_number: int) -> str:
        """``serving`` (first in line), ``waiting`` or ``lost`` (the ticket is gone);
        expired tickets of others are removed on the way."""

        def change(lock: Optional[TicketLock]) -> Any:
            if lock is None:
                return _UNCHANGED, "lost"
            before = len(lock.tickets)
            lock.remove_expired_tickets()
            changed = len(lock.tickets) != before
            numbers = [ticket.number for ticket in lock.tickets]
            if ticket_number not in numbers:
                state = "lost"
            else:
                state = "serving" if numbers[0] == ticket_number else "waiting"
            if not lock.tickets:
                return None, state  # an empty lock is deleted, never waited on
            return (lock if changed else _UNCHANGED), state

        state: str = self._transaction(conversation_id, change)
        return state

    def _mark_key(self, conversation_id: str) -> str:
        return self.key_prefix + "pending:" + conversation_id

    def _write_mark(self, conversation_id: str, mark: Dict[str, str]) -> None:
        self._guarded(
            lambda: self.red.set(
                self._mark_key(conversation_id), json.dumps(mark), ex=PENDING_MARK_SECONDS
            )
        )

    def _read_mark(self, conversation_id: str) -> Optional[Dict[str, str]]:
        raw = self._guarded(lambda: self.red.get(self._mark_key(conversation_id)))
        try:
            mark = json.loads(raw) if raw else None
        except ValueError:
            return None
        return mark if isinstance(mark, dict) else None

    def _clear_mark(self, conversation_id: str) -> None:
        self._guarded(lambda: self.red.delete(self._mark_key(conversation_id)))

    def _guarded(self, call: Callable[[], Any]) -> Any:
        try:
            result = call()
        except redis.exceptions.RedisError as error:
            message = f"lock store: {self.description} failed: {error}"
            if STATUS.report("lock_store", False, message):
                logger.error(message)
            raise LockStoreUnavailable("lock store unavailable (details in the log)") from error
        self._redis_ok()
        return result

    async def _heartbeat(self, lease: Lease) -> None:
        interval = lease.seconds / 4
        while True:
            await asyncio.sleep(interval)
            sent_at = time.monotonic()
            try:
                renewed = await self._off_loop(
                    self.renew_ticket, lease.conversation_id, lease.ticket, lease.seconds
                )
            except LockError as error:
                logger.warning(
                    "conversation '%s': lock lease not renewed: %s", lease.conversation_id, error
                )
                continue  # still valid until confirmed_at + seconds; retried next beat
            if renewed:
                lease.confirmed_at = sent_at
            else:
                lease.lost = True

    async def _wait_for_turn(self, lease: Lease, poll: float) -> TicketLock:
        deadline = time.monotonic() + self.max_wait_seconds
        while True:
            state = await self._off_loop(self.turn_state, lease.conversation_id, lease.ticket)
            if state == "serving":
                return self.create_lock(lease.conversation_id)
            if time.monotonic() >= deadline:
                raise LockWaitExceeded(
                    f"conversation '{lease.conversation_id}' still locked after "
                    f"{self.max_wait_seconds:g} s"
                )
            if state == "lost":  # our ticket expired while we could not renew it
                lease.confirmed_at = time.monotonic()
                lease.ticket = await self._off_loop(
                    self.issue_ticket, lease.conversation_id, lease.seconds
                )
                lease.lost = False
                continue
            await asyncio.sleep(poll)

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        """Rasa's ``LockStore.lock`` with a renewed lease and a bounded wait; the lease is
        published in :data:`assistant_runtime.turns.CURRENT_LEASE` for the tracker store.
        ``lock_lifetime`` is ignored (the lease is renewed instead)."""
        lease = Lease(conversation_id, self.lease_seconds)
        lease.write_mark = functools.partial(self._off_loop, self._write_mark, conversation_id)
        lease.read_mark = functools.partial(self._off_loop, self._read_mark, conversation_id)
        lease.clear_mark = functools.partial(self._off_loop, self._clear_mark, conversation_id)
        lease.ticket = await self._off_loop(self.issue_ticket, conversation_id, self.lease_seconds)
        heartbeat = asyncio.ensure_future(self._heartbeat(lease))
        token = CURRENT_LEASE.set(lease)
        try:
            yield await self._wait_for_turn(lease, min(wait_time_in_seconds, POLL_SECONDS))
        finally:
            try:
                CURRENT_LEASE.reset(token)
            except ValueError:  # closed from another context (garbage collection)
                pass
            heartbeat.cancel()
            try:
                await self._off_loop(self.cleanup, conversation_id, lease.ticket)
            except LockError as error:
                # The turn's outcome stands (saved and answered, or not): the ticket
                # expires by itself within one lease.
                logger.warning(
                    "conversation '%s': lock not released (%s); it expires within %g s",
                    conversation_id,
                    error,
                    self.lease_seconds,
                )
