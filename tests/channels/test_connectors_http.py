"""Every connector over real HTTP, with a scripted bot instead of the model (fast).

The same behaviour is checked against the real servers in test_e2e_channels.py.
"""

from __future__ import annotations

import json
from typing import Any, List

import pytest
import requests

from channels.splitter import TELEGRAM_TEXT_LIMIT, utf16_len
from tests.channels import stubs
from tests.channels.fakebot import FakeServer, ticket_text
from tests.channels.stubs import ApiCall, ApiStub
from tests.channels.webhooks import (
    TG_BOT,
    TG_SECRET,
    TG_TOKEN,
    WA_SECRET,
    WA_TOKEN,
    WA_VERIFY,
    telegram_post,
    whatsapp_post,
)

# -- REST ----------------------------------------------------------------------------------


def rest(server: FakeServer, payload: Any, raw: bytes = b"") -> requests.Response:
    url = f"{server.url}/webhooks/rest/webhook"
    if raw:
        return requests.post(url, data=raw, timeout=10)
    return requests.post(url, json=payload, timeout=10)


def test_rest_keeps_text_buttons_and_custom_together(fake_server: FakeServer) -> None:
    assert rest(fake_server, {"sender": "r1", "message": "mulai"}).status_code == 200
    asked = rest(fake_server, {"sender": "r1", "message": "081234567890"}).json()
    assert asked == [
        {
            "recipient_id": "r1",
            "text": "Sudah cek saldo?",
            "buttons": [
                {"title": "Ya", "payload": "/affirm"},
                {"title": "Tidak", "payload": "/deny"},
            ],
        }
    ]
    answer = rest(fake_server, {"sender": "r1", "message": "/affirm"}).json()
    assert len(answer) == 1
    assert answer[0]["text"].startswith("Hasil SOP")
    assert answer[0]["custom"]["ticket_text"] == ticket_text("081234567890", "Ya")


def test_rest_guard_answers_without_calling_nlu(fake_server: FakeServer) -> None:
    before = len(fake_server.bot.received)
    long = rest(fake_server, {"sender": "r2", "message": "pulsa " * 400}).json()
    assert long == [
        {
            "recipient_id": "r2",
            "text": "Pesan terlalu panjang (2.399 karakter; batas 2.000 karakter). "
            "Kirim ringkasan kasusnya saja.",
        }
    ]
    empty = rest(fake_server, {"sender": "r2", "message": " \n\t\x00 "}).json()
    assert "kosong" in empty[0]["text"]
    missing = rest(fake_server, {"sender": "r2"}).json()
    assert "kosong" in missing[0]["text"]
    assert len(fake_server.bot.received) == before  # the bot ("NLU") never saw them
    rest(fake_server, {"sender": "r2", "message": "isi\x00 pulsa\x1b \u202e50rb"})
    assert fake_server.bot.received[-1].text == "isi pulsa 50rb"


@pytest.mark.parametrize(
    "payload,raw",
    [
        (None, b"{not json"),
        (None, b"\xff\xfe"),
        (["sender", "message"], b""),
        ({"message": "halo"}, b""),
        ({"sender": 42, "message": "halo"}, b""),
        ({"sender": "r3", "message": {"text": "halo"}}, b""),
        ({"sender": "r3", "message": "halo", "metadata": [1]}, b""),
    ],
)
def test_rest_bad_requests_are_400_json(fake_server: FakeServer, payload: Any, raw: bytes) -> None:
    response = rest(fake_server, payload, raw)
    assert response.status_code == 400
    assert "error" in response.json()


def test_rest_oversized_body_is_413_json(fake_server: FakeServer) -> None:
    answered = rest(fake_server, {"sender": "r4", "message": "x" * 100_000})
    assert answered.status_code == 200
    assert "batas 2.000 karakter" in answered.json()[0]["text"]
    response = rest(fake_server, {"sender": "r4", "message": "x" * 1_100_000})
    assert response.status_code == 413
    assert "error" in response.json()


def test_a_failing_turn_gets_the_busy_answer_not_a_5xx(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    response = rest(fake_server, {"sender": "r5", "message": "meledak"})
    assert response.status_code == 200
    assert "sibuk" in response.json()[0]["text"]
    api_stub.clear()
    private = stubs.tg_chat(6666, "private")
    update = stubs.tg_message(private, stubs.tg_user(6666, "Fajar"), "meledak")
    assert telegram_post(fake_server.url, update) == 200
    assert "sibuk" in sent_to(api_stub)[-1].body["text"]
    assert whatsapp_post(fake_server.url, stubs.wa_text("6281266667777", "meledak")) == 200
    assert "sibuk" in stubs.wa_shown_text(wa_sent(api_stub, "6281266667777")[-1])


def test_rest_health(fake_server: FakeServer) -> None:
    assert requests.get(f"{fake_server.url}/webhooks/rest/", timeout=5).json() == {"status": "ok"}


# -- widget --------------------------------------------------------------------------------


def test_widget_page_and_static_files(fake_server: FakeServer) -> None:
    page = requests.get(f"{fake_server.url}/webhooks/widget/", timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<html lang="id">' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN
    bare = requests.get(f"{fake_server.url}/webhooks/widget", timeout=5, allow_redirects=False)
    assert bare.status_code in (301, 302) and bare.headers["Location"] == "/webhooks/widget/"
    script = requests.get(f"{fake_server.url}/webhooks/widget/widget.js", timeout=5)
    assert script.headers["Content-Type"].startswith("text/javascript")
    assert "innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    css = requests.get(f"{fake_server.url}/webhooks/widget/widget.css", timeout=5)
    assert css.headers["Content-Type"].startswith("text/css")
    for name in ["../widget.py", "x.js", "%2e%2e%2fwidget.py", "__init__.py"]:
        response = requests.get(f"{fake_server.url}/webhooks/widget/{name}", timeout=5)
        assert response.status_code == 404, name


def test_widget_webhook_and_history(fake_server: FakeServer) -> None:
    url = f"{fake_server.url}/webhooks/widget"
    sender = "w-0123456789abcdef"
    requests.post(f"{url}/webhook", json={"sender": sender, "message": "mulai"}, timeout=5)
    requests.post(f"{url}/webhook", json={"sender": sender, "message": "0812"}, timeout=5)
    body = {"sender": sender, "message": "/deny", "metadata": {"display": "Tidak", "x": "y"}}
    answer = requests.post(f"{url}/webhook", json=body, timeout=5).json()
    assert answer[0]["custom"]["type"] == "sop_result"
    assert fake_server.bot.received[-1].metadata == {"display": "Tidak"}
    history = requests.get(f"{url}/history", params={"sender": sender}, timeout=5).json()
    roles = [(m["role"], m.get("text", "")[:20]) for m in history["messages"]]
    assert roles == [
        ("user", "mulai"),
        ("bot", "Kasus: Pulsa belum m"),
        ("bot", "Nomor MSISDN pelangg"),
        ("user", "0812"),
        ("bot", "Sudah cek saldo?"),
        ("user", "Tidak"),  # the button's title, not its payload
        ("bot", "Hasil SOP: Pulsa bel"),
    ]
    assert history["messages"][-1]["custom"]["ticket_text"] == ticket_text("0812", "Tidak")
    empty = requests.get(f"{url}/history", params={"sender": "w-neverseen01"}, timeout=5)
    assert empty.json() == {"sender": "w-neverseen01", "messages": []}


@pytest.mark.parametrize("sender", ["agent1", "tg:-1:2", "wa:62812", "w-short", "w-../../x"])
def test_widget_only_serves_widget_conversations(fake_server: FakeServer, sender: str) -> None:
    url = f"{fake_server.url}/webhooks/widget"
    assert requests.get(f"{url}/history", params={"sender": sender}, timeout=5).status_code == 400
    posted = requests.post(f"{url}/webhook", json={"sender": sender, "message": "x"}, timeout=5)
    assert posted.status_code == 400


# -- Telegram ------------------------------------------------------------------------------

GROUP = stubs.tg_chat(-1009876543210, "supergroup")
ANI = stubs.tg_user(1111, "Ani")
BUDI = stubs.tg_user(2222, "Budi")


def sent_to(stub: ApiStub) -> List[ApiCall]:
    return stub.take(lambda c: c.method == "sendMessage")


def test_telegram_webhook_is_registered_with_the_secret(fake_server: FakeServer) -> None:
    calls = [c for c in fake_server.startup_calls if c.method == "setWebhook"]
    assert calls, "setWebhook was not called at server start"
    assert calls[0].path == f"/bot{TG_TOKEN}/setWebhook"
    assert calls[0].body["secret_token"] == TG_SECRET


@pytest.mark.parametrize("secret", [None, "", "salah", TG_SECRET + "x"])
def test_telegram_wrong_or_missing_secret_is_403(
    fake_server: FakeServer, api_stub: ApiStub, secret: Any
) -> None:
    api_stub.clear()
    before = len(fake_server.bot.received)
    update = stubs.tg_message(stubs.tg_chat(1111, "private"), ANI, "mulai")
    assert telegram_post(fake_server.url, update, secret) == 403
    assert len(fake_server.bot.received) == before
    assert api_stub.calls == []


def test_telegram_two_agents_in_one_group_keep_their_own_forms(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    api_stub.clear()
    # not addressed to the bot: ignored
    assert telegram_post(fake_server.url, stubs.tg_message(GROUP, ANI, "pagi semua")) == 200
    assert sent_to(api_stub) == []
    # both agents start a case
    update = stubs.tg_message(GROUP, ANI, "/tanya mulai kasus", command=True)
    assert telegram_post(fake_server.url, update) == 200
    ani_question = sent_to(api_stub)[-1]
    assert ani_question.body["reply_markup"] == {"force_reply": True, "selective": True}
    mention = stubs.tg_message(GROUP, BUDI, "mulai juga", mention=f"@{TG_BOT}")
    assert telegram_post(fake_server.url, mention) == 200
    budi_question = sent_to(api_stub)[-1]
    assert budi_question.body["text"] == "Nomor MSISDN pelanggan?"
    # each answers by replying to their own question, interleaved
    for user, call, msisdn in [
        (BUDI, budi_question, "081322223333"),
        (ANI, ani_question, "081211112222"),
    ]:
        reply = stubs.tg_message(
            GROUP, user, msisdn, reply_to=stubs.tg_bot_message(call, GROUP, TG_BOT)
        )
        assert telegram_post(fake_server.url, reply) == 200
    asked = sent_to(api_stub)
    budi_buttons, ani_buttons = asked[0], asked[1]
    assert [b["text"] for b in stubs.inline_buttons(ani_buttons)] == ["Ya", "Tidak"]
    # Budi presses Ani's button: refused, nothing reaches the bot
    before = len(fake_server.bot.received)
    ani_yes = stubs.inline_buttons(ani_buttons)[0]["callback_data"]
    ani_message = stubs.tg_bot_message(ani_buttons, GROUP, TG_BOT)
    assert telegram_post(fake_server.url, stubs.tg_callback(BUDI, ani_message, ani_yes)) == 200
    refused = api_stub.take(lambda c: c.method == "answerCallbackQuery")
    assert refused[0].body["show_alert"] is True and "agen lain" in refused[0].body["text"]
    assert len(fake_server.bot.received) == before
    # each presses their own button
    budi_no = stubs.inline_buttons(budi_buttons)[1]["callback_data"]
    budi_message = stubs.tg_bot_message(budi_buttons, GROUP, TG_BOT)
    assert telegram_post(fake_server.url, stubs.tg_callback(BUDI, budi_message, budi_no)) == 200
    assert telegram_post(fake_server.url, stubs.tg_callback(ANI, ani_message, ani_yes)) == 200
    results = sent_to(api_stub)
    assert ticket_text("081322223333", "Tidak") in results[0].body["text"]
    assert ticket_text("081211112222", "Ya") in results[1].body["text"]
    assert results[1].body["reply_to_message_id"] == ani_message["message_id"]
    edits = api_stub.take(lambda c: c.method == "editMessageText")
    assert [e.body["text"].rsplit("\n", 1)[-1] for e in edits] == ["✔ Tidak", "✔ Ya"]
    senders = {m.sender_id for m in fake_server.bot.received[-6:]}
    assert senders == {f"tg:{GROUP['id']}:1111", f"tg:{GROUP['id']}:2222"}


def test_telegram_long_answer_is_split_with_the_ticket_whole(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    api_stub.clear()
    private = stubs.tg_chat(3333, "private")
    update = stubs.tg_message(private, stubs.tg_user(3333, "Citra"), "panjang")
    assert telegram_post(fake_server.url, update) == 200
    chunks = [c.body["text"] for c in sent_to(api_stub)]
    assert len(chunks) >= 2
    assert all(utf16_len(c) <= TELEGRAM_TEXT_LIMIT for c in chunks)
    assert sum(ticket_text("081200000000", "Ya") in c for c in chunks) == 1


def test_telegram_help_buttons_with_long_titles(fake_server: FakeServer, api_stub: ApiStub) -> None:
    api_stub.clear()
    private = stubs.tg_chat(4444, "private")
    user = stubs.tg_user(4444, "Dedi")
    update = stubs.tg_message(private, user, "/start", command=True)
    assert telegram_post(fake_server.url, update) == 200
    call = sent_to(api_stub)[-1]
    labels = [b["text"] for b in stubs.inline_buttons(call)]
    # Telegram's labels are not cut at WhatsApp's 20 characters
    assert labels[1] == "Bayar, nomor blm aktif"
    data = stubs.inline_buttons(call)[1]["callback_data"]
    assert telegram_post(
        fake_server.url, stubs.tg_callback(user, stubs.tg_bot_message(call, private, TG_BOT), data)
    )
    assert fake_server.bot.received[-1].text == "/nomor_belum_aktif_setelah_bayar"


def test_telegram_guard_and_non_text(fake_server: FakeServer, api_stub: ApiStub) -> None:
    api_stub.clear()
    private = stubs.tg_chat(5555, "private")
    user = stubs.tg_user(5555, "Eka")
    before = len(fake_server.bot.received)
    assert telegram_post(fake_server.url, stubs.tg_message(private, user, "x" * 3000)) == 200
    sticker = stubs.tg_message(private, user, "")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {"file_id": "abc"}
    assert telegram_post(fake_server.url, sticker) == 200
    texts = [c.body["text"] for c in sent_to(api_stub)]
    assert "batas 2.000 karakter" in texts[0]
    assert texts[1] == "Maaf, saya hanya membaca pesan teks."
    assert len(fake_server.bot.received) == before


# -- WhatsApp ------------------------------------------------------------------------------


def wa_sent(stub: ApiStub, wa_id: str) -> List[ApiCall]:
    return stub.take(lambda c: c.method == "messages" and c.body.get("to") == wa_id)


def test_whatsapp_verification_handshake(fake_server: FakeServer) -> None:
    url = f"{fake_server.url}/webhooks/whatsapp/webhook"
    ok = requests.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "1158"},
        timeout=5,
    )
    assert (ok.status_code, ok.text) == (200, "1158")
    for params in [
        {"hub.mode": "subscribe", "hub.verify_token": "salah", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": WA_VERIFY, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ]:
        assert requests.get(url, params=params, timeout=5).status_code == 403


@pytest.mark.parametrize("secret", [None, "salah", ""])
def test_whatsapp_bad_signature_is_403(
    fake_server: FakeServer, api_stub: ApiStub, secret: Any
) -> None:
    api_stub.clear()
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, stubs.wa_text("6281200000009", "mulai"), secret) == 403
    assert len(fake_server.bot.received) == before and api_stub.calls == []


def test_whatsapp_tampered_body_is_403(fake_server: FakeServer) -> None:
    raw = json.dumps(stubs.wa_text("6281200000009", "mulai")).encode()
    signature = stubs.wa_signature(WA_SECRET, raw)
    tampered = raw.replace(b"mulai", b"batal")
    response = requests.post(
        f"{fake_server.url}/webhooks/whatsapp/webhook",
        data=tampered,
        headers={"X-Hub-Signature-256": signature},
        timeout=5,
    )
    assert response.status_code == 403


def test_whatsapp_two_users_keep_their_own_forms(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    api_stub.clear()
    ani, budi = "6281211112222", "6281322223333"
    assert whatsapp_post(fake_server.url, stubs.wa_text(ani, "mulai")) == 200
    assert whatsapp_post(fake_server.url, stubs.wa_text(budi, "mulai")) == 200
    assert stubs.wa_shown_text(wa_sent(api_stub, ani)[-1]) == "Nomor MSISDN pelanggan?"
    assert whatsapp_post(fake_server.url, stubs.wa_text(budi, "081322223333")) == 200
    assert whatsapp_post(fake_server.url, stubs.wa_text(ani, "081211112222")) == 200
    ani_question = wa_sent(api_stub, ani)[-1]
    assert ani_question.body["type"] == "interactive"
    ani_buttons = stubs.wa_reply_buttons(ani_question)
    assert [b["title"] for b in ani_buttons] == ["Ya", "Tidak"]
    assert ani_question.headers["Authorization"] == f"Bearer {WA_TOKEN}"
    assert ani_question.path == "/v21.0/106540352242922/messages"
    # Budi answers with the number of the option, Ani with the reply button
    assert whatsapp_post(fake_server.url, stubs.wa_text(budi, "2")) == 200
    body = stubs.wa_button_reply(ani, ani_buttons[0]["id"], "Ya")
    assert whatsapp_post(fake_server.url, body) == 200
    assert ticket_text("081322223333", "Tidak") in stubs.wa_shown_text(wa_sent(api_stub, budi)[-1])
    assert ticket_text("081211112222", "Ya") in stubs.wa_shown_text(wa_sent(api_stub, ani)[-1])
    received = fake_server.bot.received[-2:]
    assert [(m.sender_id, m.text) for m in received] == [
        (f"wa:{budi}", "/deny"),
        (f"wa:{ani}", "/affirm"),
    ]
    assert received[0].metadata["display"] == "Tidak"


def test_whatsapp_many_options_are_numbered(fake_server: FakeServer, api_stub: ApiStub) -> None:
    api_stub.clear()
    user = "6281244445555"
    assert whatsapp_post(fake_server.url, stubs.wa_text(user, "/help")) == 200
    listing = wa_sent(api_stub, user)[-1]
    assert listing.body["type"] == "text"
    assert "Balas dengan angka:\n1. Pulsa belum masuk\n2. Bayar, nomor blm aktif" in (
        stubs.wa_shown_text(listing)
    )
    assert whatsapp_post(fake_server.url, stubs.wa_text(user, "2")) == 200
    assert fake_server.bot.received[-1].text == "/nomor_belum_aktif_setelah_bayar"
    # the options were for that answer only: a later "2" is just text
    assert whatsapp_post(fake_server.url, stubs.wa_text(user, "2")) == 200
    assert fake_server.bot.received[-1].text == "2"


def test_whatsapp_redelivery_is_ignored_and_non_text_answered(
    fake_server: FakeServer, api_stub: ApiStub
) -> None:
    api_stub.clear()
    user = "6281255556666"
    body = stubs.wa_text(user, "halo sekali")
    before = len(fake_server.bot.received)
    assert whatsapp_post(fake_server.url, body) == 200
    assert whatsapp_post(fake_server.url, body) == 200  # same message id again
    assert len(fake_server.bot.received) == before + 1
    image = stubs.wa_text(user, "")
    image["entry"][0]["changes"][0]["value"]["messages"][0].update(
        {"type": "image", "image": {"id": "1"}}
    )
    del image["entry"][0]["changes"][0]["value"]["messages"][0]["text"]
    assert whatsapp_post(fake_server.url, image) == 200
    answer = stubs.wa_shown_text(wa_sent(api_stub, user)[-1])
    assert answer == "Maaf, saya hanya membaca pesan teks."
    status_only = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}
    assert whatsapp_post(fake_server.url, status_only) == 200
