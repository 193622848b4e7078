"""The Redis lock store shared by two instances lets one turn of a conversation run at a time.

Two lock store objects with their own Redis connections (as two Rasa processes would have)
and their own event loops in two threads take the lock of one conversation 50 times at
once (25 each); the critical section is never entered twice and no turn fails. Needs the
real Redis of ``make test-services``, hence the ``servers`` mark."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Dict, Iterator, List

import pytest
from rasa.utils.endpoints import EndpointConfig

from assistant_runtime import patches
from assistant_runtime.lock_store import StrictRedisLockStore
from tests.reliability import harness as h
from tests.reliability.conftest import Figures

pytestmark = pytest.mark.servers
TURNS_PER_INSTANCE = 25


@pytest.fixture
def redis_db() -> Iterator[int]:
    number = h.claim_redis_db()
    yield number
    h.release_redis_db(number)
    patches.uninstall()


def _store(db: int) -> StrictRedisLockStore:
    config = EndpointConfig(
        url=h.REDIS_HOST, type="x", port=h.REDIS_PORT, db=db, password="", key_prefix="t"
    )
    return StrictRedisLockStore(endpoint_config=config)


def test_two_lock_stores_never_run_two_turns_at_once(redis_db: int, figures: Figures) -> None:
    state: Dict[str, int] = {"inside": 0, "max_inside": 0, "turns": 0}
    guard = threading.Lock()
    errors: List[BaseException] = []

    async def turn(store: StrictRedisLockStore) -> None:
        async with store.lock("conversation-1", lock_lifetime=60, wait_time_in_seconds=0.02):
            with guard:
                state["inside"] += 1
                state["max_inside"] = max(state["max_inside"], state["inside"])
            await asyncio.sleep(0.002)
            with guard:
                state["inside"] -= 1
                state["turns"] += 1

    def instance() -> None:
        store = _store(redis_db)

        async def main() -> None:
            await asyncio.gather(*(turn(store) for _ in range(TURNS_PER_INSTANCE)))

        try:
            asyncio.run(main())
        except BaseException as error:  # reported below
            errors.append(error)

    started = time.monotonic()
    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    assert state["turns"] == 2 * TURNS_PER_INSTANCE
    assert state["max_inside"] == 1
    assert list(h.redis_keys(redis_db)) in ([], ["reliability:claim"])  # no lock left behind
    figures.record(
        "lock_store_two_instances",
        turns=2 * TURNS_PER_INSTANCE,
        max_concurrent_turns_of_one_conversation=state["max_inside"],
        seconds=round(time.monotonic() - started, 2),
    )
