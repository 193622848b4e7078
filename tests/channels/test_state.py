"""The channel state backends: the same answers from memory, SQLite and Redis, and the
atomic steps the buttons rely on (a pending question is consumed by exactly one press)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest

from channels.questions import STALE_REPLY, Questions, is_question
from channels.state import ChannelState, MemoryState, RedisState, SqliteState, from_url


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.servers)],
)
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChannelState]:
    if request.param == "memory":
        backend: ChannelState = MemoryState()
    elif request.param == "sqlite":
        backend = SqliteState(str(tmp_path / "channels.db"))
    else:
        from testkit import stores

        number = stores.claim_redis_db()
        backend = RedisState(stores.REDIS_HOST, stores.REDIS_PORT, number, prefix="chan-test:")
        request.addfinalizer(lambda: stores.release_redis_db(number))
    yield backend
    await backend.close()


async def test_set_get_pop_and_ttl(state: ChannelState) -> None:
    assert await state.get("a") is None
    await state.set("a", "1")
    assert await state.get("a") == "1"
    assert await state.pop("a") == "1"
    assert await state.pop("a") is None
    await state.set("short", "x", ttl=0.05)
    await asyncio.sleep(0.2)
    assert await state.get("short") is None
    await state.set_json("j", {"buttons": [{"title": "Ya"}]})
    assert await state.get_json("j") == {"buttons": [{"title": "Ya"}]}


async def test_add_is_true_once(state: ChannelState) -> None:
    assert await state.add("tg:update:1")
    assert not await state.add("tg:update:1")
    await state.set("gone", "1", ttl=0.05)
    await asyncio.sleep(0.2)
    assert await state.add("gone")  # an expired key counts as absent


async def test_delete_if_consumes_only_the_expected_value(state: ChannelState) -> None:
    await state.set("pend:s", "tok1")
    assert not await state.delete_if("pend:s", "tok0")
    results = await asyncio.gather(*[state.delete_if("pend:s", "tok1") for _ in range(5)])
    assert sorted(results) == [False, False, False, False, True]
    assert await state.get("pend:s") is None


async def test_a_pending_question_answered_once(state: ChannelState) -> None:
    questions = Questions(state)
    first = await questions.asked("s", {"buttons": [{"title": "Ya", "payload": "/affirm"}]})
    second = await questions.asked("s", {"buttons": [{"title": "Tidak", "payload": "/deny"}]})
    assert not await questions.claim("s", first)  # an older question
    assert await questions.claim("s", second)
    assert not await questions.claim("s", second)  # a double press
    third = await questions.asked("s", {"buttons": []})
    answered = await questions.drop_pending("s")  # typed
    assert answered is not None and answered["sender"] == "s"
    assert not await questions.claim("s", third)  # answered by typing
    await questions.end_turn("s", {"text": "Nomor?"}, failed=True)
    assert await questions.take_undelivered("s") == {"text": "Nomor?"}
    assert await questions.take_undelivered("s") is None
    await questions.begin_turn("s")
    assert await questions.to_ask_again("s") is None  # the running turn asks itself
    await questions.end_turn("s", None)
    assert await questions.to_ask_again("s") == {"text": "Nomor?"}
    assert STALE_REPLY == "Tombol ini sudah tidak berlaku."


def test_what_is_asked_again() -> None:
    assert is_question({"text": "Sudah cek?", "buttons": [{"title": "Ya"}]})
    assert is_question({"text": "Nomor?"})
    assert not is_question({"text": "Hasil SOP", "custom": {"type": "sop_result"}})
    assert not is_question(None)


def test_backend_urls(tmp_path: Path) -> None:
    assert isinstance(from_url("memory"), MemoryState)
    assert isinstance(from_url(f"sqlite:///{tmp_path}/c.db"), SqliteState)
    redis_state = from_url("redis://:pw@10.0.0.5:6380/3")
    assert isinstance(redis_state, RedisState) and redis_state.where == "10.0.0.5:6380/3"
    with pytest.raises(ValueError):
        from_url("mongodb://x")


async def test_sqlite_state_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "channels.db")
    first = SqliteState(path)
    await first.set("pend:s", "tok")
    await first.close()
    second = SqliteState(path)
    assert await second.delete_if("pend:s", "tok")
    await second.close()
