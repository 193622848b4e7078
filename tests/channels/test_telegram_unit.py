"""Telegram connector pieces: addressing in groups, buttons, output payloads."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from channels.splitter import TELEGRAM_TEXT_LIMIT, utf16_len
from channels.telegram import (
    ButtonStore,
    TelegramApi,
    TelegramConnector,
    TelegramOutput,
    button_labels,
    keyboard_rows,
    sender_id,
)
from tests.channels.stubs import tg_chat, tg_message, tg_user

BOT = "asisten_sop_bot"
GROUP = tg_chat(-1001234, "supergroup")
ANI = tg_user(111, "Ani")
BUDI = tg_user(222, "Budi")
BOT_USER = {"id": 999, "is_bot": True, "first_name": "Asisten", "username": BOT}


@pytest.fixture
def connector() -> TelegramConnector:
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
        "/lain teks bebas": "teks bebas",
    }
    for text, expected in cases.items():
        assert addressed(connector, tg_message(GROUP, ANI, text, command=True)) == expected, text
    assert addressed(connector, tg_message(GROUP, ANI, "/batal@bot_lain", command=True)) is None


def test_mention_in_the_middle_with_emoji_before_it(connector: TelegramConnector) -> None:
    text = f"👍 tolong @{BOT} cek pulsa"
    offset = utf16_len("👍 tolong ")
    update = tg_message(GROUP, ANI, text)
    update["message"]["entities"] = [
        {"type": "mention", "offset": offset, "length": utf16_len(f"@{BOT}")}
    ]
    assert addressed(connector, update) == "👍 tolong   cek pulsa"


def test_button_store_inline_and_token_payloads() -> None:
    store = ButtonStore(capacity=2)
    short = store.encode(111, "/affirm", "Ya")
    assert short == "p:111:/affirm"
    decoded = store.decode(short)
    assert decoded is not None and (decoded.owner, decoded.payload) == (111, "/affirm")
    long_payload = '/inform{"choice": "' + "x" * 80 + '"}'
    token = store.encode(111, long_payload, "Pilihan panjang")
    assert len(token.encode()) <= 64 and token.startswith("t:")
    decoded = store.decode(token)
    assert decoded is not None and decoded.payload == long_payload and decoded.owner == 111
    store.encode(1, long_payload, "a")
    store.encode(2, long_payload, "b")
    assert store.decode(token) is None  # evicted: capacity 2
    for bad in ["", "x", "p:", "p:abc:/x", "p:111:", "t:unknown"]:
        assert store.decode(bad) is None, bad


def test_long_titles_become_numbered_labels_with_the_full_list_in_the_text() -> None:
    buttons = [
        {"title": "Pulsa belum masuk", "payload": "/a"},
        {"title": "Bayar, nomor blm aktif", "payload": "/b"},
    ]
    labels, listing = button_labels(buttons)
    assert labels == ["1. Pulsa belum masuk", "2. Bayar, nomor blm…"]
    assert all(len(label) <= 20 for label in labels)
    assert listing == "1. Pulsa belum masuk\n2. Bayar, nomor blm aktif"
    assert button_labels([{"title": "Ya", "payload": "/y"}]) == (["Ya"], None)


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


async def test_output_splits_long_answers_and_keeps_the_ticket() -> None:
    api = FakeApi()
    out = TelegramOutput(api, ButtonStore(), chat_id=-1001234, owner=111, reply_to=77, group=True)
    ticket = "KIP: X\nMSISDN: 081234567890\nNominal: Rp50.000"
    text = "\n".join([f"{n}. " + "langkah " * 30 for n in range(40)] + [ticket, "Sumber: SOP"])
    custom = {"type": "sop_result", "ticket_text": ticket, "title": "t", "steps": []}
    await out.send_response("tg:-1001234:111", {"text": text, "custom": custom, "buttons": None})
    assert len(api.calls) >= 2
    assert all(c["method"] == "sendMessage" for c in api.calls)
    assert all(utf16_len(c["text"]) <= TELEGRAM_TEXT_LIMIT for c in api.calls)
    assert sum(ticket in c["text"] for c in api.calls) == 1
    assert api.calls[0]["reply_to_message_id"] == 77
    assert all("reply_to_message_id" not in c for c in api.calls[1:])
    assert all("reply_markup" not in c for c in api.calls)  # a result asks nothing
    assert all("parse_mode" not in c for c in api.calls)  # plain text: no HTML/Markdown


async def test_output_buttons_and_force_reply() -> None:
    api = FakeApi()
    store = ButtonStore()
    out = TelegramOutput(api, store, chat_id=-1001234, owner=111, reply_to=77, group=True)
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
    datas = [b["callback_data"] for row in keyboard for b in row]
    assert [store.decode(d).payload for d in datas] == ["/affirm", "/deny"]  # type: ignore[union-attr]
    assert api.calls[1]["reply_markup"] == {"force_reply": True, "selective": True}
    private = TelegramOutput(api, store, chat_id=111, owner=111)
    await private.send_response("s", {"text": "Nomor MSISDN pelanggan?"})
    assert "reply_markup" not in api.calls[2] and "reply_to_message_id" not in api.calls[2]
