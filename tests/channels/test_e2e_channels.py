"""REST, Telegram and WhatsApp against the real servers (trained model + action server).

Telegram and WhatsApp updates are real webhook JSON posted to the Rasa server; the bot's
answers are caught on a local stub of the Bot API / Graph API (no network).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests

from channels.splitter import TELEGRAM_TEXT_LIMIT, WHATSAPP_TEXT_LIMIT, utf16_len
from testkit.assistant import Servers
from testkit.conversations import FINTECH, NON_FINTECH, SN
from tests.channels import stubs
from tests.channels.stubs import ApiCall, ApiStub
from tests.channels.webhooks import TG_BOT, telegram_post, whatsapp_post

pytestmark = pytest.mark.servers

TITLES = {"/affirm": "Ya", "/deny": "Tidak"}


def ticket_fields(text: str) -> Dict[str, str]:
    fields = {}
    for line in text.split("\n"):
        match = re.match(r"^(MSISDN|Nominal isi ulang|Serial Number|Transaksi ID): (.+)$", line)
        if match:
            fields[match.group(1)] = match.group(2)
    return fields


# -- REST ----------------------------------------------------------------------------------


def rest(servers: Servers, body: Any = None, raw: Optional[bytes] = None) -> requests.Response:
    if raw is not None:
        return requests.post(servers.rest_url, data=raw, timeout=60)
    return requests.post(servers.rest_url, json=body, timeout=60)


def test_rest_answer_is_one_message_with_text_and_sop_result(channel_servers: Servers) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    replies: List[List[Dict[str, Any]]] = []
    for text in FINTECH.turns:
        response = rest(channel_servers, {"sender": sender, "message": text})
        assert response.status_code == 200
        replies.append(response.json())
    questions = [m for turn in replies[:-1] for m in turn if m.get("buttons")]
    assert questions and all(m.get("text") for m in questions)  # question and buttons: one
    final = [m for m in replies[-1] if isinstance(m.get("custom"), dict)]
    assert len(final) == 1, replies[-1]
    message = final[0]
    assert message["custom"]["type"] == "sop_result"
    assert message["custom"]["case_id"] == "pulsa_belum_masuk.fintech"
    assert message["text"].startswith(("Hasil SOP", "⚠️"))  # the text travels with it
    assert message["custom"]["ticket_text"] in message["text"]
    assert ticket_fields(message["custom"]["ticket_text"])["MSISDN"] == "081234567890"


def test_rest_guard_and_bad_requests(channel_servers: Servers) -> None:
    start = time.monotonic()
    long = rest(channel_servers, {"sender": "guard-1", "message": "pulsa blm masuk " * 7000})
    assert long.status_code == 200
    assert time.monotonic() - start < 5
    assert "batas 2.000 karakter" in long.json()[0]["text"]
    empty = rest(channel_servers, {"sender": "guard-1", "message": "  \x00 "})
    assert "kosong" in empty.json()[0]["text"]
    for raw, body in [
        (b"{bad", None),
        (None, {"message": "halo"}),
        (None, {"sender": 5, "message": "halo"}),
        (None, {"sender": "guard-1", "message": 5}),
        (None, ["x"]),
    ]:
        response = rest(channel_servers, body, raw)
        assert response.status_code == 400, (raw, body)
        assert response.json()["error"]


# -- Telegram ------------------------------------------------------------------------------

GROUP = stubs.tg_chat(-1001555000111, "supergroup")


class TelegramAgent:
    """One agent in the group: starts with a command, answers by replying to the bot's last
    question, presses buttons of the bot's last keyboard."""

    def __init__(self, servers: Servers, stub: ApiStub, user: Dict[str, Any]) -> None:
        self.servers = servers
        self.stub = stub
        self.user = user
        self.last_question: Optional[ApiCall] = None
        self.answers: List[List[ApiCall]] = []

    def post(self, update: Dict[str, Any]) -> List[ApiCall]:
        self.stub.clear()
        assert telegram_post(self.servers.base_url, update) == 200
        sent = self.stub.take(lambda c: c.method == "sendMessage")
        for call in sent:
            assert call.body["chat_id"] == GROUP["id"]
        if sent:
            self.last_question = sent[-1]
        self.answers.append(sent)
        return sent

    def say(self, text: str) -> List[ApiCall]:
        if self.last_question is None:
            return self.post(stubs.tg_message(GROUP, self.user, f"/tanya {text}", command=True))
        bot_message = stubs.tg_bot_message(self.last_question, GROUP, TG_BOT)
        return self.post(stubs.tg_message(GROUP, self.user, text, reply_to=bot_message))

    def press(self, payload: str) -> List[ApiCall]:
        assert self.last_question is not None
        buttons = stubs.inline_buttons(self.last_question)
        title = TITLES[payload]
        matching = [b for b in buttons if b["text"] == title]
        assert matching, f"no button {payload} in {self.last_question.body}"
        bot_message = stubs.tg_bot_message(self.last_question, GROUP, TG_BOT)
        return self.post(stubs.tg_callback(self.user, bot_message, matching[0]["callback_data"]))

    def turn(self, text: str) -> List[ApiCall]:
        return self.press(text) if text in ("/affirm", "/deny") else self.say(text)


def test_telegram_two_agents_in_one_group_fill_two_forms_at_once(
    channel_servers: Servers, api_stub: ApiStub
) -> None:
    ani = TelegramAgent(channel_servers, api_stub, stubs.tg_user(700001, "Ani"))
    budi = TelegramAgent(channel_servers, api_stub, stubs.tg_user(700002, "Budi"))
    # chatter in the group that does not address the bot is ignored
    chatter = stubs.tg_message(GROUP, stubs.tg_user(700003, "Citra"), "makan siang dulu ya")
    assert ani.post(chatter) == []
    for step in range(max(len(FINTECH.turns), len(NON_FINTECH.turns))):
        for agent, case in ((ani, FINTECH.turns), (budi, NON_FINTECH.turns)):
            if step < len(case):
                sent = agent.turn(case[step])
                assert sent, f"{agent.user['first_name']}: no answer to {case[step]!r}"
    ani_text = "\n".join(c.body["text"] for c in ani.answers[-1])
    budi_text = "\n".join(c.body["text"] for c in budi.answers[-1])
    assert "Hasil SOP" in ani_text and "Hasil SOP" in budi_text
    assert ticket_fields(ani_text)["MSISDN"] == "081234567890"
    assert ticket_fields(ani_text)["Transaksi ID"] == "TRX20261121ABC"
    assert ticket_fields(budi_text)["MSISDN"] == "081311112222"
    assert ticket_fields(budi_text)["Serial Number"] == SN
    assert "081311112222" not in ani_text and "081234567890" not in budi_text
    for answers in ani.answers[1:] + budi.answers:
        for call in answers:
            assert utf16_len(call.body["text"]) <= TELEGRAM_TEXT_LIMIT
    # the buttons of a check question were an inline keyboard
    keyboards = [c for a in ani.answers for c in a if stubs.inline_buttons(c)]
    assert keyboards and all(
        len(b["text"]) <= 20 for c in keyboards for b in stubs.inline_buttons(c)
    )


def test_telegram_bad_secret_is_403(channel_servers: Servers, api_stub: ApiStub) -> None:
    api_stub.clear()
    update = stubs.tg_message(
        GROUP, stubs.tg_user(700009, "Eko"), "/tanya pulsa blm masuk", command=True
    )
    for secret in [None, "salah"]:
        assert telegram_post(channel_servers.base_url, update, secret) == 403
    assert [c for c in api_stub.calls if c.method == "sendMessage"] == []


# -- WhatsApp ------------------------------------------------------------------------------


class WhatsAppUser:
    def __init__(self, servers: Servers, stub: ApiStub, wa_id: str, numbers: bool) -> None:
        self.servers, self.stub, self.wa_id, self.numbers = servers, stub, wa_id, numbers
        self.last: List[ApiCall] = []

    def turn(self, text: str) -> List[ApiCall]:
        """Types ``text``; "/affirm" / "/deny" answer the last question: with its reply
        button, or (``numbers``, or no reply buttons shown) with the option's number."""
        self.stub.clear()
        body = stubs.wa_text(self.wa_id, text)
        if text in ("/affirm", "/deny"):
            assert self.last, "no question to answer"
            question = self.last[-1]
            buttons = stubs.wa_reply_buttons(question)
            if buttons and not self.numbers:
                reply = next(b for b in buttons if b["title"] == TITLES[text])
                body = stubs.wa_button_reply(self.wa_id, reply["id"], reply["title"])
            elif buttons:
                number = [b["title"] for b in buttons].index(TITLES[text]) + 1
                body = stubs.wa_text(self.wa_id, str(number))
            else:
                title = "Ya" if text == "/affirm" else "Tidak"
                found = re.search(rf"^(\d+)\. {title}$", stubs.wa_shown_text(question), re.M)
                assert found, stubs.wa_shown_text(question)
                body = stubs.wa_text(self.wa_id, found.group(1))
        assert whatsapp_post(self.servers.base_url, body) == 200
        self.last = self.stub.take(lambda c: c.method == "messages")
        assert all(c.body["to"] == self.wa_id for c in self.last)
        return self.last


def test_whatsapp_two_users_keep_separate_conversations(
    channel_servers: Servers, api_stub: ApiStub
) -> None:
    ani = WhatsAppUser(channel_servers, api_stub, "6281234000001", numbers=False)
    budi = WhatsAppUser(channel_servers, api_stub, "6281234000002", numbers=True)
    finals: Dict[str, List[ApiCall]] = {}
    interactive_seen = False
    for step in range(max(len(FINTECH.turns), len(NON_FINTECH.turns))):
        for user, case in ((ani, FINTECH.turns), (budi, NON_FINTECH.turns)):
            if step < len(case):
                sent = user.turn(case[step])
                assert sent, f"{user.wa_id}: no answer to {case[step]!r}"
                interactive_seen |= any(c.body["type"] == "interactive" for c in sent)
                finals[user.wa_id] = sent
    assert interactive_seen  # yes/no questions were WhatsApp reply buttons
    ani_text = "\n".join(stubs.wa_shown_text(c) for c in finals[ani.wa_id])
    budi_text = "\n".join(stubs.wa_shown_text(c) for c in finals[budi.wa_id])
    assert ticket_fields(ani_text)["MSISDN"] == "081234567890"
    assert ticket_fields(budi_text)["MSISDN"] == "081311112222"
    assert ticket_fields(budi_text)["Serial Number"] == SN
    for calls in finals.values():
        for call in calls:
            assert utf16_len(stubs.wa_shown_text(call)) <= WHATSAPP_TEXT_LIMIT


def test_whatsapp_help_options_are_numbered_and_map_back(
    channel_servers: Servers, api_stub: ApiStub
) -> None:
    user = WhatsAppUser(channel_servers, api_stub, "6281234000003", numbers=True)
    sent = user.turn("/help")
    listing = stubs.wa_shown_text(sent[-1])
    assert sent[-1].body["type"] == "text"
    match = re.search(r"^(\d+)\. Pulsa belum masuk$", listing, re.M)
    assert match, listing
    answer = "\n".join(stubs.wa_shown_text(c) for c in user.turn(match.group(1)))
    assert "Kasus:" in answer and "MSISDN" in answer  # the pulsa case started


def test_whatsapp_bad_signature_is_403(channel_servers: Servers, api_stub: ApiStub) -> None:
    api_stub.clear()
    body = stubs.wa_text("6281234000004", "pulsa blm masuk")
    assert whatsapp_post(channel_servers.base_url, body, secret="salah") == 403
    assert whatsapp_post(channel_servers.base_url, body, secret=None) == 403
    assert api_stub.calls == []
    verify = requests.get(
        f"{channel_servers.base_url}/webhooks/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "salah", "hub.challenge": "7"},
        timeout=30,
    )
    assert verify.status_code == 403
