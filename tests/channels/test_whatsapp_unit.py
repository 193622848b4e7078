"""WhatsApp Cloud API connector pieces: signatures, options, incoming messages, output."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from channels.splitter import WHATSAPP_TEXT_LIMIT, utf16_len
from channels.whatsapp import (
    OptionMemory,
    WhatsAppApi,
    WhatsAppConnector,
    WhatsAppOutput,
    can_use_reply_buttons,
    valid_signature,
)
from tests.channels.stubs import wa_signature

YES_NO = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]
CASES = [
    {"title": "Pulsa belum masuk", "payload": "/pulsa_belum_masuk"},
    {"title": "Bayar, nomor blm aktif", "payload": "/nomor_belum_aktif_setelah_bayar"},
    {"title": "GraPARI Online", "payload": "/grapari_online"},
    {"title": "Callback", "payload": "/callback"},
    {"title": "IMES tagihan", "payload": "/imes_tagihan"},
]


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = b'{"object":"whatsapp_business_account"}'
    good = wa_signature("rahasia", body)
    assert valid_signature("rahasia", body, good)
    assert valid_signature("rahasia", body, good.upper().replace("SHA256=", "sha256="))
    assert not valid_signature("rahasia", body + b" ", good)
    assert not valid_signature("lain", body, good)
    assert not valid_signature("rahasia", body, good[len("sha256=") :])
    assert not valid_signature("rahasia", body, "")
    assert not valid_signature("", body, wa_signature("", body))  # no secret: refuse all


def test_numbers_and_titles_map_to_the_last_options() -> None:
    memory = OptionMemory()
    memory.remember("wa:1", CASES)
    assert memory.resolve_text("wa:1", "2")["payload"] == "/nomor_belum_aktif_setelah_bayar"  # type: ignore[index]
    assert memory.resolve_text("wa:1", " 5. ")["payload"] == "/imes_tagihan"  # type: ignore[index]
    assert memory.resolve_text("wa:1", "grapari  online")["payload"] == "/grapari_online"  # type: ignore[index]
    assert memory.resolve_text("wa:1", "6") is None
    assert memory.resolve_text("wa:1", "0") is None
    assert memory.resolve_text("wa:1", "081234567890") is None
    assert memory.resolve_text("wa:2", "1") is None  # another user's options
    memory.forget("wa:1")
    assert memory.resolve_text("wa:1", "1") is None


def test_when_reply_buttons_can_be_used() -> None:
    assert can_use_reply_buttons("Sudah cek?", YES_NO)
    assert not can_use_reply_buttons("Pilih", CASES)  # more than 3
    assert not can_use_reply_buttons("Pilih", CASES[:2])  # a title over 20 characters
    assert not can_use_reply_buttons("x" * 1025, YES_NO)  # body over 1,024
    assert not can_use_reply_buttons("", YES_NO)


class FakeApi(WhatsAppApi):
    def __init__(self) -> None:
        super().__init__("t", "106", "http://stub", "v21.0")
        self.sent: List[Dict[str, Any]] = []

    async def send(self, payload: Dict[str, Any]) -> Optional[Any]:
        self.sent.append(payload)
        return {"messages": [{"id": "wamid.x"}]}


async def test_output_reply_buttons_numbered_list_and_split() -> None:
    api = FakeApi()
    memory = OptionMemory()
    out = WhatsAppOutput(api, memory, "6281200000001")
    await out.send_response("wa:6281200000001", {"text": "Sudah cek saldo?", "buttons": YES_NO})
    interactive = api.sent[-1]
    assert interactive["type"] == "interactive"
    assert interactive["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/affirm", "title": "Ya"}},
        {"type": "reply", "reply": {"id": "/deny", "title": "Tidak"}},
    ]
    await out.send_response("wa:6281200000001", {"text": "Pilih kasus:", "buttons": CASES})
    listed = api.sent[-1]
    assert listed["type"] == "text"
    assert listed["text"]["body"].endswith(
        "Balas dengan angka:\n1. Pulsa belum masuk\n2. Bayar, nomor blm aktif\n"
        "3. GraPARI Online\n4. Callback\n5. IMES tagihan"
    )
    assert memory.resolve_text("wa:6281200000001", "3")["payload"] == "/grapari_online"  # type: ignore[index]
    api.sent.clear()
    ticket = "KIP: X\nMSISDN: 081234567890"
    text = "\n".join(["langkah " * 40] * 30 + [ticket])
    custom = {"type": "sop_result", "ticket_text": ticket}
    await out.send_response("wa:6281200000001", {"text": text, "custom": custom})
    assert len(api.sent) >= 2
    assert all(utf16_len(m["text"]["body"]) <= WHATSAPP_TEXT_LIMIT for m in api.sent)
    assert sum(ticket in m["text"]["body"] for m in api.sent) == 1


def test_incoming_messages() -> None:
    connector = WhatsAppConnector("t", "106", "secret", "verify", "http://stub")
    sender = "wa:62812"
    text = {"type": "text", "text": {"body": "pulsa blm masuk"}}
    assert connector.incoming(sender, text) == ("pulsa blm masuk", "pulsa blm masuk")
    connector.memory.remember(sender, YES_NO)
    assert connector.incoming(sender, {"type": "text", "text": {"body": "2"}}) == ("/deny", "Tidak")
    button = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "/affirm", "title": "Ya"}},
    }
    assert connector.incoming(sender, button) == ("/affirm", "Ya")
    listed = {
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": "/deny", "title": "Tidak"}},
    }
    assert connector.incoming(sender, listed) == ("/deny", "Tidak")
    connector.memory.forget(sender)  # after a restart: our ids are payloads
    assert connector.incoming(sender, button) == ("/affirm", "Ya")
    other = {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "x1", "title": "Halo"}},
    }
    assert connector.incoming(sender, other) == ("Halo", "Halo")
    template = {"type": "button", "button": {"text": "Ya", "payload": "/affirm"}}
    assert connector.incoming(sender, template) == ("/affirm", "Ya")
    assert connector.incoming(sender, {"type": "image", "image": {"id": "1"}}) == (None, "")
    assert connector.incoming(sender, {"type": "interactive", "interactive": {}}) == (None, "")


@pytest.mark.parametrize(
    "data",
    [
        {"entry": "x"},
        {"entry": [1, 2]},
        {"entry": [{"changes": "x"}]},
        {"entry": [{"changes": [{"value": [1]}]}]},
        {"entry": [{"changes": [{"value": {"messages": "x"}}]}]},
        [1, 2],
        "text",
    ],
)
def test_wrong_notification_shapes_yield_no_messages(data: object) -> None:
    from channels.whatsapp import _messages_of

    assert _messages_of(data) == []


def test_messages_are_found_in_a_cloud_api_notification() -> None:
    from channels.whatsapp import _messages_of

    message = {"from": "6281234567890", "id": "wamid.1", "type": "text", "text": {"body": "hi"}}
    data = {"entry": [{"changes": [{"value": {"messages": [message, 5]}}]}]}
    assert _messages_of(data) == [message]
