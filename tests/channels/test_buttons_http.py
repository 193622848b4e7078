"""Buttons belong to their question, and the platforms' documented payloads and failures,
on the connectors over HTTP (fake bot, local API stub; fast, in ``make unit``).

Payload sources are cited in :mod:`tests.channels.stubs`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List

import pytest
import requests

from channels.questions import STALE_REPLY
from tests.channels import stubs
from tests.channels.fakebot import FakeServer, ticket_text
from tests.channels.stubs import ApiCall, ApiStub
from tests.channels.webhooks import TG_BOT, telegram_post, whatsapp_post

GROUP = stubs.tg_chat(-1001777000222, "supergroup")


def sent(stub: ApiStub, method: str = "sendMessage") -> List[ApiCall]:
    return stub.take(lambda c: c.method == method)


class TgAgent:
    def __init__(self, server: FakeServer, stub: ApiStub, user_id: int, group: bool) -> None:
        self.server, self.stub = server, stub
        self.user = stubs.tg_user(user_id, f"Agen{user_id}")
        self.chat = GROUP if group else stubs.tg_chat(user_id, "private")

    def say(self, text: str, **kwargs: Any) -> List[ApiCall]:
        self.stub.clear()
        update = stubs.tg_message(self.chat, self.user, text, **kwargs)
        assert telegram_post(self.server.url, update) == 200
        return sent(self.stub)

    def press(self, question: ApiCall, title: str, **message: Any) -> Dict[str, Any]:
        self.stub.clear()
        data = next(
            b["callback_data"] for b in stubs.inline_buttons(question) if b["text"] == title
        )
        bot_message = {**stubs.tg_bot_message(question, self.chat, TG_BOT), **message}
        update = stubs.tg_callback(self.user, bot_message, data)
        assert telegram_post(self.server.url, update) == 200
        return update


def received_since(server: FakeServer, before: int) -> List[str]:
    return [m.text or "" for m in server.bot.received[before:]]


# -- Telegram ------------------------------------------------------------------------------


def test_telegram_double_press_counts_once(fake_server: FakeServer, api_stub: ApiStub) -> None:
    agent = TgAgent(fake_server, api_stub, 810001, group=False)
    agent.say("mulai")
    question = agent.say("081211112222")[-1]
    before = len(fake_server.bot.received)
    agent.press(question, "Ya")
    assert ticket_text("081211112222", "Ya") in sent(api_stub)[-1].body["text"]
    agent.press(question, "Tidak")  # the same keyboard again (a double tap)
    answers = [
        c.body.get("text") for c in api_stub.take(lambda c: c.method == "answerCallbackQuery")
    ]
    assert answers == [STALE_REPLY]
    assert [c.body["text"] for c in sent(api_stub)] == [STALE_REPLY]  # the case is answered
    assert received_since(fake_server, before) == ["/affirm"]  # the second never reached Rasa


def test_telegram_press_of_an_answered_question_never_fills_the_current_one(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    agent = TgAgent(fake_server, api_stub, 810002, group=False)
    menu = agent.say("/bantuan", command=True)[-1]  # a question with buttons
    assert stubs.inline_buttons(menu)
    current = agent.say("mulai")  # answered by typing instead
    assert current[-1].body["text"] == "Nomor MSISDN pelanggan?"
    before = len(fake_server.bot.received)
    agent.press(menu, "Callback")
    assert received_since(fake_server, before) == []
    texts = [c.body["text"] for c in sent(api_stub)]
    assert texts == [f"{STALE_REPLY} Pertanyaan saat ini:", "Nomor MSISDN pelanggan?"]
    # the stale keyboard is taken away
    assert sent(api_stub, "editMessageReplyMarkup")


def test_telegram_typed_answer_removes_the_old_keyboard(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    agent = TgAgent(fake_server, api_stub, 810003, group=False)
    agent.say("mulai")
    question = agent.say("081233334444")[-1]
    assert stubs.inline_buttons(question)
    api_stub.clear()
    update = stubs.tg_message(agent.chat, agent.user, "/deny")
    assert telegram_post(fake_server.url, update) == 200
    removed = sent(api_stub, "editMessageReplyMarkup")
    assert len(removed) == 1 and "reply_markup" not in removed[0].body
    before = len(fake_server.bot.received)
    agent.press(question, "Ya")
    assert received_since(fake_server, before) == []


def test_telegram_redelivered_update_is_handled_once(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    agent = TgAgent(fake_server, api_stub, 810004, group=False)
    update = stubs.tg_message(agent.chat, agent.user, "halo pertama")
    before = len(fake_server.bot.received)
    assert telegram_post(fake_server.url, update) == 200
    assert telegram_post(fake_server.url, update) == 200  # Telegram retries after a timeout
    assert received_since(fake_server, before) == ["halo pertama"]


def test_telegram_follow_up_after_a_press_reaches_the_agent_who_pressed(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    agent = TgAgent(fake_server, api_stub, 810005, group=True)
    agent.say("/tanya mulai", command=True)
    answer = stubs.tg_message(GROUP, agent.user, "081255556666")
    api_stub.clear()
    assert telegram_post(fake_server.url, answer) == 200  # not addressed: ignored
    assert sent(api_stub) == []
    first = agent.say("/tanya mulai", command=True)[-1]
    reply = stubs.tg_message(
        GROUP, agent.user, "081255556666", reply_to=stubs.tg_bot_message(first, GROUP, TG_BOT)
    )
    assert telegram_post(fake_server.url, reply) == 200
    question = sent(api_stub)[-1]
    assert question.body["reply_to_message_id"] == reply["message"]["message_id"]
    # the keyboard message answers the agent's message (reply_to_message in the callback)
    agent.press(question, "Tidak", reply_to_message=reply["message"])
    follow_up = sent(api_stub)[-1]
    assert follow_up.body["reply_to_message_id"] == reply["message"]["message_id"]


def test_telegram_command_menu_is_registered(fake_server: FakeServer) -> None:
    (menu,) = [c for c in fake_server.startup_calls if c.method == "setMyCommands"]
    assert [c["command"] for c in menu.body["commands"]] == ["tanya", "batal", "bantuan"]


def test_telegram_rate_limited_send_is_retried(fake_server: FakeServer, api_stub: ApiStub) -> None:
    agent = TgAgent(fake_server, api_stub, 810006, group=False)
    api_stub.clear()
    api_stub.telegram_rate_limit(1, retry_after=1)
    assert telegram_post(fake_server.url, stubs.tg_message(agent.chat, agent.user, "mulai")) == 200
    texts = [c.body["text"] for c in sent(api_stub)]
    # the refused message was sent again after retry_after, then the next one
    assert texts == [
        "Kasus: Pulsa belum masuk.",
        "Kasus: Pulsa belum masuk.",
        "Nomor MSISDN pelanggan?",
    ]


def test_telegram_question_that_never_arrived_is_asked_again(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    agent = TgAgent(fake_server, api_stub, 810007, group=False)
    agent.say("mulai")
    api_stub.clear()
    api_stub.telegram_rate_limit(4, retry_after=1)  # every attempt of the question fails
    update = stubs.tg_message(agent.chat, agent.user, "081277778888")
    assert telegram_post(fake_server.url, update) == 200
    assert len(sent(api_stub)) == 4
    before = len(fake_server.bot.received)
    again = agent.say("halo?")  # the agent never saw the question
    assert received_since(fake_server, before) == []  # not taken as the answer
    assert again[-1].body["text"] == "Sudah cek saldo?" and stubs.inline_buttons(again[-1])
    agent.press(again[-1], "Ya")
    assert ticket_text("081277778888", "Ya") in sent(api_stub)[-1].body["text"]


# -- WhatsApp ------------------------------------------------------------------------------


def wa_calls(stub: ApiStub) -> List[ApiCall]:
    return stub.take(lambda c: c.method == "messages")


def test_whatsapp_double_press_and_old_numbered_reply_are_refused(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    user = "6281290000001"
    api_stub.clear()
    whatsapp_post(fake_server.url, stubs.wa_text(user, "mulai"))
    whatsapp_post(fake_server.url, stubs.wa_text(user, "081290000001"))
    question = wa_calls(api_stub)[-1]
    yes = stubs.wa_reply_buttons(question)[0]
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, stubs.wa_button_reply(user, yes["id"], "Ya")) == 200
    body = stubs.wa_button_reply(user, yes["id"], "Ya")
    assert whatsapp_post(fake_server.url, body) == 200  # double tap
    assert received_since(fake_server, before) == ["/affirm"]
    texts = [stubs.wa_shown_text(c) for c in wa_calls(api_stub)]
    assert ticket_text("081290000001", "Ya") in texts[0] and texts[1:] == [STALE_REPLY]
    # a menu, answered by typing; then "2" as a reply to the old menu message
    whatsapp_post(fake_server.url, stubs.wa_text(user, "/help"))
    menu = wa_calls(api_stub)[-1]
    whatsapp_post(fake_server.url, stubs.wa_text(user, "mulai"))
    wa_calls(api_stub)
    old_reply = stubs.wa_text(user, "2")  # a reply (context) to the menu message
    old_reply["entry"][0]["changes"][0]["value"]["messages"][0]["context"] = {
        "from": "15550783881",
        "id": message_id(menu),
    }
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, old_reply) == 200
    assert received_since(fake_server, before) == []
    texts = [stubs.wa_shown_text(c) for c in wa_calls(api_stub)]
    assert texts == [f"{STALE_REPLY} Pertanyaan saat ini:", "Nomor MSISDN pelanggan?"]


def message_id(call: ApiCall) -> str:
    return str(call.response["messages"][0]["id"])


def test_whatsapp_username_without_phone_number_is_served(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    bsuid = f"ID.{uuid.uuid4().int % 10**18}"
    api_stub.clear()
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, stubs.wa_username_text(bsuid, "mulai")) == 200
    assert [m.sender_id for m in fake_server.bot.received[before:]] == [f"wa:{bsuid}"]
    replies = wa_calls(api_stub)
    assert replies and all(c.body.get("recipient") == bsuid and "to" not in c.body for c in replies)
    assert stubs.wa_shown_text(replies[-1]) == "Nomor MSISDN pelanggan?"


def test_whatsapp_group_messages_per_participant_only_when_addressed(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    group = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"
    ani, budi = "6281290000002", "6281290000003"
    api_stub.clear()
    before = len(fake_server.bot.received)
    body = stubs.wa_group_text(group, ani, "makan siang dulu")
    assert whatsapp_post(fake_server.url, body) == 200
    assert wa_calls(api_stub) == [] and received_since(fake_server, before) == []
    assert whatsapp_post(fake_server.url, stubs.wa_group_text(group, ani, "/tanya mulai")) == 200
    assert whatsapp_post(fake_server.url, stubs.wa_group_text(group, budi, "/tanya mulai")) == 200
    senders = [m.sender_id for m in fake_server.bot.received[before:]]
    assert senders == [f"wa:g:{group}:{ani}", f"wa:g:{group}:{budi}"]
    assert [m.text for m in fake_server.bot.received[before:]] == ["mulai", "mulai"]
    calls = wa_calls(api_stub)
    assert all(c.body["to"] == group and c.body["recipient_type"] == "group" for c in calls)
    bot = {"from": "15550783881", "id": message_id(calls[-1])}
    whatsapp_post(fake_server.url, stubs.wa_group_text(group, ani, "081290000002", context=bot))
    question = wa_calls(api_stub)[-1]
    assert question.body["type"] == "text"  # groups: no interactive buttons
    assert stubs.wa_shown_text(question).endswith("Balas dengan angka:\n1. Ya\n2. Tidak")
    bot = {"from": "15550783881", "id": message_id(question)}
    whatsapp_post(fake_server.url, stubs.wa_group_text(group, ani, "2", context=bot))
    assert ticket_text("081290000002", "Tidak") in stubs.wa_shown_text(wa_calls(api_stub)[-1])


def test_whatsapp_notifications_without_a_reply(
    fake_server: FakeServer, api_stub: ApiStub, caplog: pytest.LogCaptureFixture
) -> None:
    user = "6281290000004"
    api_stub.clear()
    before = len(fake_server.bot.received)
    caplog.set_level(logging.INFO)
    for body in [
        stubs.wa_reaction(user, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI"),
        stubs.wa_number_changed(user, "6281290000099"),
        stubs.wa_failed_status(user),
    ]:
        assert whatsapp_post(fake_server.url, body) == 200
    assert wa_calls(api_stub) == [] and received_since(fake_server, before) == []
    assert "code 131026" in caplog.text and user not in caplog.text


@pytest.mark.parametrize("code", [130429, 131056])
def test_whatsapp_rate_limited_send_is_retried(
    fake_server: FakeServer, api_stub: ApiStub, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    monkeypatch.setenv("WHATSAPP_RETRY_DELAYS", "0.2,0.2")
    user = f"62812900001{code % 100:02d}"
    api_stub.clear()
    api_stub.whatsapp_rate_limit(1, code)
    assert whatsapp_post(fake_server.url, stubs.wa_text(user, "mulai")) == 200
    texts = [stubs.wa_shown_text(c) for c in wa_calls(api_stub)]
    assert texts == [
        "Kasus: Pulsa belum masuk.",
        "Kasus: Pulsa belum masuk.",
        "Nomor MSISDN pelanggan?",
    ]


# -- widget --------------------------------------------------------------------------------


def widget(server: FakeServer, sender: str, message: str, **metadata: Any) -> List[Dict[str, Any]]:
    body: Dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    response = requests.post(f"{server.url}/webhooks/widget/webhook", json=body, timeout=30)
    assert response.status_code == 200
    return list(response.json())


def test_widget_buttons_belong_to_their_question(fake_server: FakeServer) -> None:
    sender = f"w-{uuid.uuid4()}"
    widget(fake_server, sender, "mulai")
    (question,) = widget(fake_server, sender, "081299990000")
    token = question["question"]
    # a reloaded page: the history gives the pending question's token to its buttons
    history = requests.get(
        f"{fake_server.url}/webhooks/widget/history", params={"sender": sender}, timeout=30
    ).json()["messages"]
    assert history[-1]["question"] == token
    assert all("question" not in m for m in history[:-1])
    before = len(fake_server.bot.received)
    answer = widget(fake_server, sender, "/deny", display="Tidak", question=token)
    assert answer[-1]["custom"]["type"] == "sop_result"
    again = widget(fake_server, sender, "/affirm", display="Ya", question=token)  # double
    assert [m["text"] for m in again] == [STALE_REPLY]
    assert received_since(fake_server, before) == ["/deny"]
    # a menu answered by typing, then its button: refused, the current question again
    (menu,) = widget(fake_server, sender, "/help")
    widget(fake_server, sender, "mulai")
    stale = widget(fake_server, sender, "/callback", display="Callback", question=menu["question"])
    assert [m["text"] for m in stale] == [STALE_REPLY, "Nomor MSISDN pelanggan?"]
    assert received_since(fake_server, before + 1) == ["/help", "mulai"]
