"""Documented platform payloads the first channel tests did not cover, found in review.

Sources:
* WhatsApp unsupported messages webhook reference (developers.facebook.com/documentation/
  business-messaging/whatsapp/webhooks/reference/messages/unsupported/): ``type:
  "unsupported"`` with ``unsupported.type`` (``reaction``, ``pin``, ``keep_in_chat``,
  ``poll_update``, ...) and error 131051; the edit webhook reference says edited messages
  are "currently delivered as an unsupported message type webhook".
* Telegram Bot API Message (core.telegram.org/bots/api#message): ``message_thread_id`` and
  ``is_topic_message`` ("True, if the message is sent to a forum topic"); sendMessage's
  ``message_thread_id`` ("target message thread (topic) of the forum; for forum
  supergroups only").
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional

import pytest

from channels.state import MemoryState
from tests.channels import stubs
from tests.channels.fakebot import FakeServer
from tests.channels.stubs import ApiStub
from tests.channels.test_connectors_http import sent_to, wa_sent
from tests.channels.webhooks import TG_BOT, telegram_post, whatsapp_post


def wa_unsupported(wa_id: str, kind: str, message_id: str) -> Dict[str, Any]:
    return stubs.wa_value(
        {
            "contacts": [{"profile": {"name": "Agen"}, "wa_id": wa_id}],
            "messages": [
                {
                    "from": wa_id,
                    "id": message_id,
                    "timestamp": "1739321024",
                    "errors": [
                        {
                            "code": 131051,
                            "title": "Message type unknown",
                            "message": "Message type unknown",
                            "error_data": {"details": "Message type is currently not supported."},
                        }
                    ],
                    "type": "unsupported",
                    "unsupported": {"type": kind},
                }
            ],
        }
    )


@pytest.mark.parametrize("kind", ["reaction", "pin", "keep_in_chat", "poll_update", "edit"])
def test_whatsapp_unsupported_notices_get_no_reply(
    fake_server: FakeServer, api_stub: ApiStub, kind: str
) -> None:
    user = "6281277770001"
    api_stub.clear()
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, wa_unsupported(user, kind, f"wamid.unsup.{kind}")) == 200
    assert wa_sent(api_stub, user) == []
    assert len(fake_server.bot.received) == before


def test_whatsapp_unsupported_content_is_still_answered(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    user = "6281277770002"
    api_stub.clear()
    body = wa_unsupported(user, "location", "wamid.unsup.loc")
    assert whatsapp_post(fake_server.url, body) == 200
    (reply,) = wa_sent(api_stub, user)
    assert reply.body["text"]["body"] == "Maaf, saya hanya membaca pesan teks."
    assert whatsapp_post(fake_server.url, stubs.wa_text(user, "masih jalan")) == 200
    assert fake_server.bot.received[-1].text == "masih jalan"


def test_telegram_answers_stay_in_the_forum_topic(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    """In a forum supergroup a send without ``message_thread_id`` lands in "General": every
    chunk of a long answer, and the question after a press, stays in the agent's topic."""
    forum = {**stubs.tg_chat(-1001666000333, "supergroup"), "is_forum": True}
    agent = stubs.tg_user(7101, "Gita")
    api_stub.clear()
    update = stubs.tg_message(forum, agent, "panjang", mention=f"@{TG_BOT}")
    update["message"].update({"message_thread_id": 42, "is_topic_message": True})
    assert telegram_post(fake_server.url, update) == 200
    chunks = sent_to(api_stub)
    assert len(chunks) >= 2
    assert [c.body.get("message_thread_id") for c in chunks] == [42] * len(chunks)
    start = stubs.tg_message(forum, agent, "/tanya mulai", command=True)
    start["message"].update({"message_thread_id": 42, "is_topic_message": True})
    assert telegram_post(fake_server.url, start) == 200
    question = sent_to(api_stub)[-1]
    answer = stubs.tg_message(forum, agent, "081234567890")
    answer["message"].update(
        {
            "message_thread_id": 42,
            "is_topic_message": True,
            "reply_to_message": stubs.tg_bot_message(question, forum, TG_BOT),
        }
    )
    assert telegram_post(fake_server.url, answer) == 200
    (keyboard,) = sent_to(api_stub)
    assert keyboard.body["message_thread_id"] == 42
    bot_message = {
        **stubs.tg_bot_message(keyboard, forum, TG_BOT),
        "message_thread_id": 42,
        "is_topic_message": True,
    }
    data = stubs.inline_buttons(keyboard)[0]["callback_data"]
    assert telegram_post(fake_server.url, stubs.tg_callback(agent, bot_message, data)) == 200
    (result,) = sent_to(api_stub)
    assert result.body["message_thread_id"] == 42
    assert "Sudah cek saldo: Ya" in result.body["text"]
    # an ordinary (non-forum) group gets no thread id
    group = stubs.tg_chat(-1001666000444, "supergroup")
    update = stubs.tg_message(group, agent, "halo", mention=f"@{TG_BOT}")
    assert telegram_post(fake_server.url, update) == 200
    assert "message_thread_id" not in sent_to(api_stub)[-1].body


async def test_telegram_button_press_of_an_unlisted_user_is_refused(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An agent taken off TELEGRAM_ALLOWED_USERS still holds the keyboard of a question
    asked before (kept a day in the shared state): pressing it must not go on to the SOP
    answer."""
    from channels.access import REFUSAL
    from channels.questions import Questions
    from channels.state import MemoryState
    from channels.telegram import TelegramConnector, TelegramOutput
    from tests.channels.test_telegram_unit import FakeApi, Recorder

    monkeypatch.delenv("ALLOW_ANY_CHAT", raising=False)
    monkeypatch.delenv("TELEGRAM_ALLOWED_CHATS", raising=False)
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", "111")
    state = MemoryState()
    connector = TelegramConnector("123:abc", "asisten_sop_bot", secret_token="s")
    connector.state._state = state
    connector.api = api = FakeApi()
    removed = stubs.tg_user(98765433, "Lama")
    private = stubs.tg_chat(98765433, "private")
    asked_before = TelegramOutput(api, Questions(state), chat_id=private["id"], owner=removed["id"])
    yes_no = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]
    await asked_before.send_response("s", {"text": "Sudah cek saldo?", "buttons": yes_no})
    data = api.calls[-1]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    api.calls.clear()
    bot = Recorder()
    query = {
        "id": "7001",
        "from": removed,
        "message": {"message_id": 1, "chat": private, "date": 1, "text": "Sudah cek saldo?"},
        "chat_instance": "-1",
        "data": data,
    }
    await connector.handle_callback(query, bot)
    assert bot.received == []
    texts = [c.get("text") for c in api.calls if c["method"] == "sendMessage"]
    assert texts == [REFUSAL]
    assert "98765433" not in caplog.text and "98****33" in caplog.text


class DownState(MemoryState):
    """The shared store unreachable (Redis down): every call fails like redis-py does."""

    async def get(self, key: str) -> Optional[str]:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    async def set(self, key: str, value: str, ttl: float = 0) -> None:
        await self.get(key)

    async def add(self, key: str, value: str = "1", ttl: float = 0) -> bool:
        await self.get(key)
        return False

    async def pop(self, key: str) -> Optional[str]:
        return await self.get(key)

    async def delete_if(self, key: str, value: str) -> bool:
        await self.get(key)
        return False

    async def delete(self, key: str) -> None:
        await self.get(key)


@pytest.fixture
def down_server(fake_server: FakeServer) -> Iterator[FakeServer]:
    """The chat connectors of the fake-bot server with their channel state unreachable."""
    chats = [c for c in fake_server.channels if c.name() in ("telegram", "whatsapp")]
    saved = [c.state._state for c in chats]  # type: ignore[attr-defined]
    for connector in chats:
        connector.state._state = DownState()  # type: ignore[attr-defined]
    try:
        yield fake_server
    finally:
        for connector, state in zip(chats, saved, strict=True):
            connector.state._state = state  # type: ignore[attr-defined]


def test_chat_channels_answer_busy_when_the_channel_state_is_down(
    down_server: FakeServer, api_stub: ApiStub
) -> None:
    """Redis down: the agent gets the busy answer (as from a failing Rasa turn), not
    silence; nothing reaches the bot and the platforms get 200."""
    api_stub.clear()
    before = len(down_server.bot.received)
    private = stubs.tg_chat(7301, "private")
    agent = stubs.tg_user(7301, "Indah")
    update = stubs.tg_message(private, agent, "pulsa blm masuk")
    assert telegram_post(down_server.url, update) == 200
    (busy,) = sent_to(api_stub)
    assert busy.body["chat_id"] == 7301 and "sibuk" in busy.body["text"]
    group = stubs.tg_chat(-1001666000777, "supergroup")
    assert telegram_post(down_server.url, stubs.tg_message(group, agent, "rapat jam 3")) == 200
    assert sent_to(api_stub) == []  # not addressed: still silent
    user = "6281277770003"
    assert whatsapp_post(down_server.url, stubs.wa_text(user, "pulsa blm masuk")) == 200
    (wa_busy,) = wa_sent(api_stub, user)
    assert "sibuk" in wa_busy.body["text"]["body"]
    assert len(down_server.bot.received) == before
