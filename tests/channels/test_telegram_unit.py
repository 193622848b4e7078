"""Telegram connector pieces: addressing in groups, buttons, output payloads."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.core.channels.channel import UserMessage

from channels.access import REFUSAL, ChannelConfigError
from channels.questions import Questions, new_token
from channels.splitter import TELEGRAM_TEXT_LIMIT, utf16_len
from channels.state import MemoryState
from channels.telegram import (
    LABEL_LIMIT,
    TelegramApi,
    TelegramConnector,
    TelegramOutput,
    button_labels,
    callback_data,
    keyboard_rows,
    parse_callback,
    pre_entities,
    sender_id,
)
from tests.channels.stubs import (
    tg_anonymous_admin,
    tg_chat,
    tg_document_with_caption,
    tg_message,
    tg_user,
)

BOT = "asisten_sop_bot"
GROUP = tg_chat(-1001234, "supergroup")
ANI = tg_user(111, "Ani")
BUDI = tg_user(222, "Budi")
BOT_USER = {"id": 999, "is_bot": True, "first_name": "Asisten", "username": BOT}


@pytest.fixture
def connector(monkeypatch: pytest.MonkeyPatch) -> TelegramConnector:
    monkeypatch.setenv("ALLOW_ANY_CHAT", "1")
    return TelegramConnector("123:abc", BOT, secret_token="s", api_base="http://stub")


def addressed(connector: TelegramConnector, update: Dict[str, Any], group: bool = True) -> Any:
    return connector.addressed_text(update["message"], group)


def test_sender_is_chat_and_user() -> None:
    assert sender_id(-1001234, 111) == "tg:-1001234:111"


def test_private_chat_is_always_addressed(connector: TelegramConnector) -> None:
    update = tg_message(tg_chat(111, "private"), ANI, "pulsa blm masuk")
    assert addressed(connector, update, group=False) == "pulsa blm masuk"


def test_group_message_without_mention_reply_or_command_is_ignored(
    connector: TelegramConnector,
) -> None:
    assert addressed(connector, tg_message(GROUP, ANI, "halo semua")) is None
    other = tg_message(GROUP, ANI, "ok", reply_to={"message_id": 1, "from": BUDI, "text": "x"})
    assert addressed(connector, other) is None
    assert addressed(connector, tg_message(GROUP, ANI, "cek", mention="@bot_lain")) is None


def test_mention_reply_and_commands_address_the_bot(connector: TelegramConnector) -> None:
    assert addressed(connector, tg_message(GROUP, ANI, "pulsa blm masuk", mention=f"@{BOT}")) == (
        "pulsa blm masuk"
    )
    assert addressed(
        connector, tg_message(GROUP, ANI, "ada kasus", mention="@Asisten_SOP_Bot")
    ) == ("ada kasus")
    reply = tg_message(
        GROUP, ANI, "081234567890", reply_to={"message_id": 5, "from": BOT_USER, "text": "Nomor?"}
    )
    assert addressed(connector, reply) == "081234567890"
    cases = {
        "/batal": "/stop",
        f"/batal@{BOT}": "/stop",
        "/start": "/help",
        "/bantuan": "/help",
        "/tanya plg isi pulsa blm masuk": "plg isi pulsa blm masuk",
        f"/tanya@{BOT} plg isi pulsa": "plg isi pulsa",
        "/tanya": "/help",
        f"/lain@{BOT} teks bebas": "teks bebas",
        f"/lain@{BOT}": "/help",
    }
    for text, expected in cases.items():
        assert addressed(connector, tg_message(GROUP, ANI, text, command=True)) == expected, text
    assert addressed(connector, tg_message(GROUP, ANI, "/batal@bot_lain", command=True)) is None


def test_an_unknown_command_in_a_group_is_ours_only_when_it_names_us(
    connector: TelegramConnector,
) -> None:
    # a bare unknown command in a group belongs to another bot of the group
    for text in ("/poll makan siang", "/start_game", "/lain teks bebas"):
        assert addressed(connector, tg_message(GROUP, ANI, text, command=True)) is None, text
    # ... unless it is a reply to this bot or mentions it
    reply = tg_message(
        GROUP,
        ANI,
        "/lain pulsa blm masuk",
        command=True,
        reply_to={"message_id": 5, "from": BOT_USER, "text": "Nomor?"},
    )
    assert addressed(connector, reply) == "pulsa blm masuk"
    # in a private chat every command is for this bot
    private = tg_chat(111, "private")
    assert addressed(
        connector, tg_message(private, ANI, "/lain teks bebas", command=True), group=False
    ) == ("teks bebas")
    assert addressed(connector, tg_message(private, ANI, "/xyz", command=True), group=False) == (
        "/help"
    )


def test_mention_in_the_middle_with_emoji_before_it(connector: TelegramConnector) -> None:
    text = f"👍 tolong @{BOT} cek pulsa"
    offset = utf16_len("👍 tolong ")
    update = tg_message(GROUP, ANI, text)
    update["message"]["entities"] = [
        {"type": "mention", "offset": offset, "length": utf16_len(f"@{BOT}")}
    ]
    assert addressed(connector, update) == "👍 tolong   cek pulsa"


def test_callback_data_carries_the_question_token_only() -> None:
    token = new_token()
    data = callback_data(token, 2)
    assert len(data.encode()) <= 64
    assert parse_callback(data) == (token, 2)
    # older formats (payload or in-memory token) carry no question: never counted
    for bad in ["", "x", "p:111:/affirm", "t:abc", "q:abc", "q:abc:x"]:
        assert parse_callback(bad) is None, bad


def test_labels_are_cut_at_telegrams_limit_not_whatsapps() -> None:
    buttons = [
        {"title": "Pulsa belum masuk", "payload": "/a"},
        {"title": "Bayar, nomor blm aktif", "payload": "/b"},
    ]
    assert button_labels(buttons) == (["Pulsa belum masuk", "Bayar, nomor blm aktif"], None)
    long = [
        {"title": "Sangat " * 12 + "panjang", "payload": "/a"},
        {"title": "Ya", "payload": "/b"},
    ]
    labels, listing = button_labels(long)
    assert [len(label) <= LABEL_LIMIT for label in labels] == [True, True]
    assert labels[0].startswith("1. Sangat") and labels[0].endswith("…")
    assert listing == "1. " + "Sangat " * 12 + "panjang\n2. Ya"
    assert button_labels([{"title": "Ya", "payload": "/y"}]) == (["Ya"], None)


def test_options_with_their_own_numbers_are_numbered_once() -> None:
    titles = ["1. Pending Verification", "4/17. Activation Incident", "19. " + "x" * 70]
    labels, listing = button_labels([{"title": t, "payload": "/p"} for t in titles])
    assert labels[0] == "1. Pending Verification"  # not "1. 1. Pending Verification"
    assert labels[2].startswith("19. x")
    assert listing is not None and listing.split("\n")[1] == "4/17. Activation Incident"


def test_keyboard_layout() -> None:
    short = keyboard_rows([("Ya", "1"), ("Tidak", "2")])
    assert short == [
        [{"text": "Ya", "callback_data": "1"}, {"text": "Tidak", "callback_data": "2"}]
    ]
    long = keyboard_rows([("Pulsa belum masuk", "1"), ("GraPARI Online", "2")])
    assert len(long) == 2


class FakeApi(TelegramApi):
    def __init__(self) -> None:
        super().__init__("t", "http://stub")
        self.calls: List[Dict[str, Any]] = []

    async def call(self, method: str, payload: Dict[str, Any]) -> Optional[Any]:
        self.calls.append({"method": method, **payload})
        return {"message_id": len(self.calls)}


async def test_output_splits_long_answers_and_keeps_the_ticket_copyable() -> None:
    api = FakeApi()
    out = TelegramOutput(api, None, chat_id=-1001234, owner=111, reply_to=77, group=True)
    ticket = "KIP: X\nMSISDN: 081234567890\nNominal: Rp50.000"
    text = "\n".join([f"{n}. " + "langkah " * 30 for n in range(40)] + [ticket, "Sumber: SOP"])
    custom = {"type": "sop_result", "ticket_text": ticket, "title": "t", "steps": []}
    await out.send_response("tg:-1001234:111", {"text": text, "custom": custom, "buttons": None})
    assert len(api.calls) >= 2
    assert all(c["method"] == "sendMessage" for c in api.calls)
    assert all(utf16_len(c["text"]) <= TELEGRAM_TEXT_LIMIT for c in api.calls)
    with_ticket = [c for c in api.calls if ticket in c["text"]]
    assert len(with_ticket) == 1
    # the ticket is a pre block: one tap copies exactly the ticket
    (entity,) = with_ticket[0]["entities"]
    assert entity["type"] == "pre"
    raw = with_ticket[0]["text"].encode("utf-16-le")
    start, length = entity["offset"] * 2, entity["length"] * 2
    assert raw[start : start + length].decode("utf-16-le") == ticket
    assert api.calls[0]["reply_to_message_id"] == 77
    assert all("reply_to_message_id" not in c for c in api.calls[1:])
    assert all("reply_markup" not in c for c in api.calls)  # a result asks nothing
    assert all("parse_mode" not in c for c in api.calls)  # entities: nothing to escape


async def test_ticket_entity_offsets_count_utf16_units() -> None:
    chunk = "⚠️ 👍 Cek\nKIP: X\nMSISDN: 0812"
    (entity,) = pre_entities(chunk, ["KIP: X\nMSISDN: 0812"])
    assert entity["offset"] == utf16_len("⚠️ 👍 Cek\n") and entity["length"] == 19


async def test_output_buttons_record_the_pending_question_and_force_reply() -> None:
    api = FakeApi()
    questions = Questions(MemoryState())
    out = TelegramOutput(api, questions, chat_id=-1001234, owner=111, reply_to=77, group=True)
    await out.send_response(
        "s",
        {
            "text": "Sudah cek saldo?",
            "buttons": [
                {"title": "Ya", "payload": "/affirm"},
                {"title": "Tidak", "payload": "/deny"},
            ],
        },
    )
    await out.send_response("s", {"text": "Nomor MSISDN pelanggan?"})
    keyboard = api.calls[0]["reply_markup"]["inline_keyboard"]
    parsed = [parse_callback(b["callback_data"]) for row in keyboard for b in row]
    token = parsed[0][0]  # type: ignore[index]
    assert [p[1] for p in parsed] == [0, 1]  # type: ignore[index]
    info = await questions.info(token)
    assert info is not None and info["owner"] == 111 and info["message_id"] == 1
    assert [b["payload"] for b in info["buttons"]] == ["/affirm", "/deny"]
    assert await questions.claim("tg:-1001234:111", token)
    assert not await questions.claim("tg:-1001234:111", token)  # a double press
    assert api.calls[1]["reply_markup"] == {"force_reply": True, "selective": True}
    private = TelegramOutput(api, questions, chat_id=111, owner=111)
    await private.send_response("s", {"text": "Nomor MSISDN pelanggan?"})
    assert "reply_markup" not in api.calls[2] and "reply_to_message_id" not in api.calls[2]


def test_captions_are_text_and_address_the_bot_by_command(connector: TelegramConnector) -> None:
    update = tg_document_with_caption(GROUP, ANI, "/tanya pulsa blm masuk", command=True)
    assert connector.addressed_text(update["message"], True) == "pulsa blm masuk"
    plain = tg_document_with_caption(GROUP, ANI, "foto struk")
    assert connector.addressed_text(plain["message"], True) is None  # not addressed
    assert connector.addressed_text(plain["message"], False) == "foto struk"


def test_a_chat_channel_without_allowlist_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TELEGRAM_ALLOWED_CHATS", "TELEGRAM_ALLOWED_USERS", "ALLOW_ANY_CHAT"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ChannelConfigError, match="TELEGRAM_ALLOWED_CHATS"):
        TelegramConnector("123:abc", BOT, secret_token="s")
    TelegramConnector("", BOT)  # not configured: nothing to protect, starts
    monkeypatch.setenv("ALLOW_ANY_CHAT", "1")
    assert TelegramConnector("123:abc", BOT, secret_token="s").allowed(5, 6)
    monkeypatch.setenv("TELEGRAM_ALLOWED_USERS", "111, 222")
    listed = TelegramConnector("123:abc", BOT, secret_token="s")
    assert listed.allowed(-100, 111) and not listed.allowed(-100, 333)


class Recorder:
    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Nomor MSISDN?"})


async def test_outsiders_get_one_short_refusal_and_no_sop_content(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("ALLOW_ANY_CHAT", raising=False)
    monkeypatch.setenv("TELEGRAM_ALLOWED_CHATS", str(GROUP["id"]))
    monkeypatch.delenv("TELEGRAM_ALLOWED_USERS", raising=False)
    connector = TelegramConnector("123:abc", BOT, secret_token="s")
    connector.api = api = FakeApi()
    bot = Recorder()
    stranger = tg_user(98765432, "Orang")
    private = tg_chat(98765432, "private")
    for _ in range(2):
        await connector.handle_message(
            tg_message(private, stranger, "pulsa blm masuk")["message"], bot
        )
    assert bot.received == []
    assert [c["text"] for c in api.calls] == [REFUSAL]  # once, not per message
    assert "98765432" not in caplog.text and "98****32" in caplog.text
    member = tg_message(GROUP, ANI, "/tanya pulsa blm masuk", command=True)
    await connector.handle_message(member["message"], bot)
    assert [m.text for m in bot.received] == ["pulsa blm masuk"]


async def test_anonymous_admins_are_asked_to_write_as_themselves(
    connector: TelegramConnector,
) -> None:
    connector.api = api = FakeApi()
    bot = Recorder()
    await connector.handle_message(tg_anonymous_admin(GROUP, "/tanya pulsa")["message"], bot)
    assert bot.received == []
    assert "admin anonim" in api.calls[0]["text"]
    await connector.handle_message(tg_anonymous_admin(GROUP, "rapat jam 3")["message"], bot)
    assert len(api.calls) == 1  # not addressed: silent


async def test_a_newer_question_takes_the_keyboard_of_the_older_one_away() -> None:
    api = FakeApi()
    questions = Questions(MemoryState())
    out = TelegramOutput(api, questions, chat_id=111, owner=111)
    yes_no = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]
    await out.send_response("s", {"text": "Pilih kasus:", "buttons": yes_no})
    await out.send_response("s", {"text": "Sudah cek saldo?", "buttons": yes_no})
    assert [c["method"] for c in api.calls] == [
        "sendMessage",
        "editMessageReplyMarkup",
        "sendMessage",
    ]
    assert api.calls[1] == {"method": "editMessageReplyMarkup", "chat_id": 111, "message_id": 1}
