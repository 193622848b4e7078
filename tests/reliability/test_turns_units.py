"""One truth per turn, at unit level: the replaced ``Agent.handle_message`` answers as stock
Rasa 3.6 does for a new message, answers a resend with the saved reply without running it
again, and shows the busy answer alone when a store fails after the turn said something."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered

from assistant_runtime import patches, turns
from assistant_runtime.busy import FALLBACK_BUSY_TEXT
from assistant_runtime.tracker_store import TrackerStoreUnavailable


class ScriptedProcessor:
    """Stands for Rasa's processor: stores the message and one numbered answer."""

    def __init__(self, store: InMemoryTrackerStore, fail_save: bool = False) -> None:
        self.store = store
        self.calls = 0
        self.fail_save = fail_save

    async def handle_message(self, message: UserMessage) -> Optional[List[Dict[str, Any]]]:
        self.calls += 1
        tracker = await self.store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, message_id=message.message_id))
        bot = BotUttered(f"jawaban {self.calls}")
        tracker.update(bot)
        await message.output_channel.send_response(message.sender_id, bot.message())
        if self.fail_save:
            raise TrackerStoreUnavailable("tracker store unavailable: save failed")
        await self.store.save(tracker)
        return message.output_channel.messages  # type: ignore[no-any-return]


def _agent(fail_save: bool = False) -> Agent:
    agent = Agent.__new__(Agent)
    agent.tracker_store = InMemoryTrackerStore(Domain.empty())
    agent.lock_store = InMemoryLockStore()
    agent.processor = ScriptedProcessor(agent.tracker_store, fail_save)  # type: ignore[assignment]
    agent.domain = Domain.empty()
    return agent


def _send(agent: Agent, text: str, message_id: Optional[str] = None) -> Any:
    metadata = {"message_id": message_id} if message_id else None
    message = UserMessage(text, CollectingOutputChannel(), "agent-1", metadata=metadata)
    return asyncio.run(agent.handle_message(message))


@pytest.fixture
def patched() -> Iterator[None]:
    patches.install()
    yield
    patches.uninstall()


def test_a_new_message_is_answered_as_stock_rasa_answers_it() -> None:
    patches.uninstall()
    agent = _agent()
    stock = [_send(agent, text) for text in ("halo", "tidak", "tidak")]
    patches.install()
    try:
        agent = _agent()
        ours = [_send(agent, text) for text in ("halo", "tidak", "tidak")]
    finally:
        patches.uninstall()
    assert ours == stock
    assert [m[0]["text"] for m in ours] == ["jawaban 1", "jawaban 2", "jawaban 3"]


def test_same_client_message_id_gets_the_saved_reply(patched: None) -> None:
    agent = _agent()
    first = _send(agent, "tidak", "m-1")
    _send(agent, "ya", "m-2")
    again = _send(agent, "tidak", "m-1")  # a client retry of the first message
    assert again == first
    assert agent.processor.calls == 2  # type: ignore[union-attr]
    # A deliberate repeat of the same text with a new id runs.
    assert _send(agent, "tidak", "m-3")[0]["text"] == "jawaban 3"


def test_a_failed_save_shows_the_busy_answer_alone(patched: None) -> None:
    reply = _send(_agent(fail_save=True), "tidak")
    assert reply is None or reply == []
    message = UserMessage("tidak", CollectingOutputChannel(), "agent-1")
    asyncio.run(_agent(fail_save=True).handle_message(message))
    assert [m.get("text") for m in message.output_channel.messages] == [FALLBACK_BUSY_TEXT]


def _lease_with_mark(mark: Optional[Dict[str, str]]) -> turns.Lease:
    lease = turns.Lease("agent-1", 10.0)

    async def read_mark() -> Optional[Dict[str, str]]:
        return mark

    lease.read_mark = read_mark
    return lease


@pytest.mark.parametrize(
    "mark_id, text, replayed",
    [
        ("u-2", "tidak", True),  # the marked turn is stored: its reply was maybe never seen
        ("u-3", "tidak", False),  # the marked turn was not saved: run the resend
        ("u-2", "ya", False),  # another text: a new message
    ],
)
def test_same_text_after_an_undelivered_reply(mark_id: str, text: str, replayed: bool) -> None:
    agent = _agent()
    tracker = asyncio.run(agent.tracker_store.get_or_create_tracker("agent-1"))
    for message_id, said, answer in (("u-1", "halo", "pilih"), ("u-2", "tidak", "berikutnya")):
        tracker.update(UserUttered(said, message_id=message_id))
        tracker.update(BotUttered(answer))
    asyncio.run(agent.tracker_store.save(tracker))
    message = UserMessage(text, CollectingOutputChannel(), "agent-1")
    lease = _lease_with_mark({"message_id": mark_id, "text": "tidak"})
    reply = asyncio.run(turns.saved_reply(agent, message, lease))
    assert (reply is not None) == replayed
    if replayed:
        assert [event.text for event in reply or []] == ["berikutnya"]


def test_client_message_id_is_taken_from_the_metadata() -> None:
    message = UserMessage("x", None, "s", metadata={"message_id": " abc "})
    turns.use_client_message_id(message)
    assert message.message_id == "abc"
    plain = UserMessage("x", None, "s", metadata={"message_id": {"not": "an id"}})
    generated = plain.message_id
    turns.use_client_message_id(plain)
    assert plain.message_id == generated


def test_stock_agent_handle_message_is_what_the_patch_replaces() -> None:
    """Drift check: the patch repeats stock's body (lock, then the processor); a Rasa update
    that changes it must be looked at before the patch is trusted."""
    import inspect

    patches.uninstall()
    source = inspect.getsource(Agent.handle_message)
    body = [line.strip() for line in source.splitlines() if line.strip()]
    assert "async with self.lock_store.lock(message.sender_id):" in body
    assert "return await self.processor.handle_message(  # type: ignore[union-attr]" in body
    assert sum(1 for line in body if line.startswith(("return", "async with"))) == 3


def test_widget_keeps_the_client_message_id() -> None:
    from channels.widget import widget_metadata

    assert widget_metadata({"message_id": "m-1", "other": "x"}) == {"message_id": "m-1"}
    assert widget_metadata({"display": "Ya", "message_id": 5}) == {"display": "Ya"}
