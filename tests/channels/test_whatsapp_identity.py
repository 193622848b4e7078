"""One conversation per WhatsApp user whose webhooks carry the phone only sometimes.

Source: Meta's business-scoped user ID page (developers.facebook.com/documentation/
business-messaging/whatsapp/business-scoped-user-ids/): every messages webhook carries the
BSUID in ``contacts[].user_id`` (and ``messages[].from_user_id``); the phone (``wa_id`` /
``from``) is included only while Meta's phone-number rules allow it. A send names a phone in
``to`` or a BSUID in ``recipient``.

Two connector instances share one channel state backend (memory or SQLite), as two Rasa
instances share Redis in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import pytest
from rasa.core.channels.channel import UserMessage

from channels.access import REFUSAL
from channels.state import ChannelState, MemoryState, SqliteState, StateHolder
from channels.whatsapp import LINK_TTL, WhatsAppApi, WhatsAppConnector
from tests.channels.test_review_payloads import DownState
from tests.channels.test_whatsapp_unit import FakeApi

PHONE = "6281277770042"
BSUID = "ID.1502576394655843"
YES_NO = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]


class Bot:
    """Asks a yes/no question on a new case, records every turn as the agent's side sees it."""

    def __init__(self) -> None:
        self.turns: List[tuple] = []

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append((message.sender_id, message.text))
        if message.text == "pulsa blm masuk":
            await message.output_channel.send_response(
                message.sender_id, {"text": "Sudah cek saldo?", "buttons": YES_NO}
            )
        else:
            await message.output_channel.send_response(message.sender_id, {"text": "Baik."})


counter = iter(range(10**6))


def text_message(text: str, phone: str = "", user_id: str = "") -> tuple:
    """(message, contacts) as the webhook has them; the phone only when given."""
    message: Dict[str, Any] = {"id": f"wamid.in{next(counter)}", "type": "text"}
    message["text"] = {"body": text}
    contact: Dict[str, Any] = {"profile": {"name": "Agen", "username": "agen.satu"}}
    if phone:
        message["from"] = phone
        contact["wa_id"] = phone
    if user_id:
        message["from_user_id"] = user_id
        contact["user_id"] = user_id
    return message, [contact]


def connector(state: ChannelState) -> WhatsAppConnector:
    instance = WhatsAppConnector("t", "106", "secret", "verify", "http://stub")
    instance.api = FakeApi()
    instance.state = StateHolder(state)
    return instance


@pytest.fixture(params=["memory", "sqlite"])
def shared_state(request: pytest.FixtureRequest, tmp_path: Path) -> ChannelState:
    if request.param == "sqlite":
        return SqliteState(str(tmp_path / "channels.db"))
    return MemoryState()


@pytest.fixture(autouse=True)
def allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOW_ANY_CHAT", raising=False)
    monkeypatch.setenv("WHATSAPP_ALLOWED_NUMBERS", f"+{PHONE}")


def last(api: WhatsAppApi) -> Dict[str, Any]:
    return api.sent[-1]  # type: ignore[attr-defined,no-any-return]


async def test_alternating_payloads_keep_one_conversation_across_instances(
    shared_state: ChannelState,
) -> None:
    first, second = connector(shared_state), connector(shared_state)
    bot = Bot()
    await first.handle_message(*text_message("pulsa blm masuk", PHONE, BSUID), {}, bot)
    asked = last(first.api)
    assert asked["to"] == PHONE and "recipient" not in asked
    assert asked["type"] == "interactive"
    # the phone withheld, on the other instance: the pending question is still this user's
    await second.handle_message(*text_message("Tidak", user_id=BSUID), {}, bot)
    answered = last(second.api)
    assert answered["recipient"] == BSUID and "to" not in answered
    assert answered["text"]["body"] == "Baik."
    await first.handle_message(*text_message("kasus baru", PHONE, BSUID), {}, bot)
    await second.handle_message(*text_message("lagi", user_id=BSUID), {}, bot)
    assert bot.turns == [
        (f"wa:{PHONE}", "pulsa blm masuk"),
        (f"wa:{PHONE}", "/deny"),  # the button's payload: the question was found pending
        (f"wa:{PHONE}", "kasus baru"),
        (f"wa:{PHONE}", "lagi"),
    ]
    assert await shared_state.get(f"wa:bsuid:{BSUID}") == PHONE
    assert await shared_state.get(f"wa:phone:{PHONE}") == BSUID


async def test_the_link_is_refreshed_on_use_and_a_new_bsuid_replaces_it() -> None:
    state = MemoryState()
    one = connector(state)
    bot = Bot()
    await one.handle_message(*text_message("halo", PHONE, BSUID), {}, bot)
    expires = state._data[f"wa:bsuid:{BSUID}"][1]
    await one.handle_message(*text_message("halo lagi", user_id=BSUID), {}, bot)
    assert state._data[f"wa:bsuid:{BSUID}"][1] >= expires
    assert state._data[f"wa:phone:{PHONE}"][1] > expires - LINK_TTL / 2
    # Meta issues a new BSUID when the user changes phone number; the old one stops linking
    await one.handle_message(*text_message("nomor baru", PHONE, "ID.99"), {}, bot)
    assert await state.get(f"wa:bsuid:{BSUID}") is None
    assert await state.get("wa:bsuid:ID.99") == PHONE


async def test_allowlist_accepts_a_bsuid_through_its_linked_phone(
    shared_state: ChannelState,
) -> None:
    first, second = connector(shared_state), connector(shared_state)
    bot = Bot()
    # never seen with its phone: the BSUID alone is not on the list
    await first.handle_message(*text_message("pulsa", user_id=BSUID), {}, bot)
    assert bot.turns == []
    refused = last(first.api)
    assert refused["text"]["body"] == REFUSAL and refused["recipient"] == BSUID
    await second.handle_message(*text_message("pulsa", PHONE, BSUID), {}, bot)
    await first.handle_message(*text_message("saldo", user_id=BSUID), {}, bot)
    assert bot.turns == [(f"wa:{PHONE}", "pulsa"), (f"wa:{PHONE}", "saldo")]
    # another user's BSUID, linked to an unlisted phone: still refused
    await first.handle_message(*text_message("x", "6289999999999", "ID.5"), {}, bot)
    await second.handle_message(*text_message("y", user_id="ID.5"), {}, bot)
    assert len(bot.turns) == 2


async def test_bsuid_only_first_contact(
    shared_state: ChannelState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHATSAPP_ALLOWED_NUMBERS", f"{PHONE},{BSUID}")
    first, second = connector(shared_state), connector(shared_state)
    bot = Bot()
    await first.handle_message(*text_message("pulsa blm masuk", user_id=BSUID), {}, bot)
    asked = last(first.api)
    assert asked["recipient"] == BSUID and "to" not in asked
    await second.handle_message(*text_message("2", user_id=BSUID), {}, bot)
    assert bot.turns == [(f"wa:{BSUID}", "pulsa blm masuk"), (f"wa:{BSUID}", "/deny")]
    assert await shared_state.get(f"wa:bsuid:{BSUID}") is None  # nothing to link yet


async def test_state_down_gives_the_busy_answer_to_the_bsuid() -> None:
    """What the webhook does when a message fails: the busy answer, not an error."""
    down = connector(DownState())
    bot = Bot()
    message, contacts = text_message("pulsa", user_id=BSUID)
    with pytest.raises(ConnectionError):
        await down.handle_message(message, contacts, {}, bot)
    await down.answer_busy(message, contacts, {})
    assert down.api.sent == []  # type: ignore[attr-defined]  # link unknown: not allowed
    message, contacts = text_message("pulsa", PHONE, BSUID)
    with pytest.raises(ConnectionError):
        await down.handle_message(message, contacts, {}, bot)
    await down.answer_busy(message, contacts, {})
    (busy,) = down.api.sent  # type: ignore[attr-defined]
    assert busy["to"] == PHONE and "sibuk" in busy["text"]["body"]
    assert bot.turns == []
