"""Lease semantics of the Redis lock store, on a Redis server of this test's own (it is
frozen here). Two store objects with their own connections stand for two instances; a
ticket issued and never renewed stands for a holder that was killed (the real kill -9 of a
Rasa server is in test_mid_turn.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from rasa.utils.endpoints import EndpointConfig

from assistant_runtime import patches, turns
from assistant_runtime.lock_store import LockError, LockWaitExceeded, StrictRedisLockStore
from tests.reliability.conftest import Figures
from tests.reliability.private_stores import PrivateRedis

pytestmark = pytest.mark.servers
LEASE = 1.0


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    server = PrivateRedis(Path(tempfile.mkdtemp(prefix="lease-redis-")) / "redis")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.workdir.parent, ignore_errors=True)
    patches.uninstall()


def _store(server: PrivateRedis, **settings: Any) -> StrictRedisLockStore:
    config = EndpointConfig(
        url="127.0.0.1",
        type="x",
        port=server.port,
        db=0,
        password="",
        lease_seconds=settings.get("lease_seconds", LEASE),
        max_wait_seconds=settings.get("max_wait_seconds", 5),
        socket_timeout=settings.get("socket_timeout", 0.5),
    )
    return StrictRedisLockStore(endpoint_config=config)


def test_ticket_of_a_dead_holder_expires_within_a_lease(
    redis_server: PrivateRedis, figures: Figures
) -> None:
    dead, alive = _store(redis_server), _store(redis_server)
    dead.issue_ticket("c-dead", LEASE)  # taken, then never renewed nor released

    async def turn() -> float:
        start = time.monotonic()
        async with alive.lock("c-dead"):
            return time.monotonic() - start

    waited = asyncio.run(turn())
    assert waited < 5  # served, not LockWaitExceeded
    assert redis_server.client().get(alive.key_prefix + "c-dead") is None  # released
    figures.record("lock_lease_dead_holder", lease_seconds=LEASE, waited=round(waited, 2))


def test_an_empty_lock_never_blocks(redis_server: PrivateRedis) -> None:
    store = _store(redis_server)
    key = store.key_prefix + "c-empty"
    redis_server.client().set(key, json.dumps({"conversation_id": "c-empty", "tickets": []}))

    async def turn() -> bool:
        async with store.lock("c-empty", wait_time_in_seconds=0.05):
            return True

    assert asyncio.run(asyncio.wait_for(turn(), 3))
    assert redis_server.client().get(key) is None


def test_a_long_turn_keeps_its_lock_and_a_waiter_gets_a_bounded_wait(
    redis_server: PrivateRedis,
) -> None:
    holder, waiter = _store(redis_server), _store(redis_server, max_wait_seconds=1.5)
    inside = 0
    overlaps = 0

    async def long_turn() -> None:
        nonlocal inside
        async with holder.lock("c-long"):
            inside += 1
            await asyncio.sleep(3 * LEASE)  # renewed meanwhile: never taken over
            inside -= 1

    async def impatient() -> float:
        nonlocal overlaps
        await asyncio.sleep(0.2)
        start = time.monotonic()
        with pytest.raises(LockWaitExceeded):
            async with waiter.lock("c-long", wait_time_in_seconds=0.05):
                overlaps += inside
        return time.monotonic() - start

    async def main() -> float:
        _, waited = await asyncio.gather(long_turn(), impatient())
        return float(waited)

    waited = asyncio.run(main())
    assert overlaps == 0
    assert 1.5 <= waited < 5


def test_a_waiter_left_with_an_empty_lock_is_served(redis_server: PrivateRedis) -> None:
    """The hang of a retry right after a crash: the dead holder's and the waiter's tickets
    gone in the same check, an empty lock left in Redis. The waiter takes a new ticket
    instead of waiting on it."""
    dead, waiter = _store(redis_server), _store(redis_server, lease_seconds=30)
    dead.issue_ticket("c-both", 30)  # a dead holder with a long ticket
    key = waiter.key_prefix + "c-both"

    async def main() -> bool:
        async def empty_the_lock() -> None:
            await asyncio.sleep(0.3)  # the waiter is waiting behind the dead holder
            assert len(json.loads(redis_server.client().get(key))["tickets"]) == 2
            redis_server.client().set(key, json.dumps({"conversation_id": "c-both", "tickets": []}))

        async def turn() -> bool:
            async with waiter.lock("c-both", wait_time_in_seconds=0.05):
                return True

        emptier = asyncio.ensure_future(empty_the_lock())
        try:
            return await asyncio.wait_for(turn(), 3)
        finally:
            await emptier

    assert asyncio.run(main())
    assert redis_server.client().get(key) is None


def test_redis_frozen_while_waiting_gets_a_bounded_failure(redis_server: PrivateRedis) -> None:
    holder, waiter = _store(redis_server, lease_seconds=30), _store(redis_server)
    holder.issue_ticket("c-frozen", 30)

    async def main() -> float:
        start = time.monotonic()
        redis_server.freeze()
        try:
            with pytest.raises(LockError):
                async with waiter.lock("c-frozen"):
                    pass
        finally:
            redis_server.thaw()
        return time.monotonic() - start

    assert asyncio.run(main()) < 5  # the socket timeout (0.5 s here), not 10 s per call


def test_a_turn_whose_lease_lapsed_is_not_saved(redis_server: PrivateRedis) -> None:
    store = _store(redis_server)

    async def main() -> None:
        async with store.lock("c-lapsed"):
            await turns.check_lease_before_save("c-lapsed")  # fresh lease: fine
            redis_server.freeze()
            try:
                await asyncio.sleep(LEASE + 0.2)  # renewals time out
                with pytest.raises(turns.LeaseLost):
                    await turns.check_lease_before_save("c-lapsed")
            finally:
                redis_server.thaw()

    asyncio.run(main())
