"""WhatsApp Cloud API connector pieces: signatures, options, incoming messages, output."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest

from channels.options import listing_lines, option_keys, pick
from channels.questions import Questions
from channels.splitter import WHATSAPP_TEXT_LIMIT, utf16_len
from channels.state import MemoryState
from channels.whatsapp import (
    Peer,
    WhatsAppApi,
    WhatsAppOutput,
    can_use_reply_buttons,
    command_text,
    parse_reply_id,
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


def test_numbers_and_titles_pick_an_option() -> None:
    titles = [b["title"] for b in CASES]
    assert pick(titles, "2") == 1
    assert pick(titles, " 5. ") == 4
    assert pick(titles, "grapari  online") == 2
    for answer in ["6", "0", "081234567890", "", "Pulsa"]:
        assert pick(titles, answer) is None, answer


# The status options of sop/grapari_online.yaml carry the page's own numbers, with gaps.
GOL = ["1. Pending Verification", "4/17. Activation Incident", "16. Order ID", "19. Gagal bayar"]


def test_options_with_their_own_numbers_are_numbered_once() -> None:
    assert option_keys(GOL) == [["1"], ["4", "17"], ["16"], ["19"]]
    assert listing_lines(GOL) == GOL  # not "2. 4/17. Activation Incident"
    assert pick(GOL, "19") == 3  # status 19, not the 19th option
    assert pick(GOL, "17") == 1 and pick(GOL, "4") == 1
    assert pick(GOL, "2") is None
    # one title without its own number: everything numbered 1..n
    mixed = GOL + ["Lainnya"]
    assert listing_lines(mixed)[1] == "2. 4/17. Activation Incident"
    assert pick(mixed, "5") == 4


def test_commands_and_targets() -> None:
    assert command_text("/tanya plg pulsa blm masuk") == ("plg pulsa blm masuk", True)
    assert command_text("/batal") == ("/stop", True)
    assert command_text("/bantuan") == ("/help", True)
    assert command_text("/affirm") == ("/affirm", False)
    assert command_text("pulsa") == ("pulsa", False)
    assert Peer("6281", "ID.1").target() == {"recipient_type": "individual", "to": "6281"}
    assert Peer("", "ID.1").target() == {"recipient_type": "individual", "recipient": "ID.1"}
    assert Peer("", "ID.1").sender == "wa:ID.1"
    group = Peer("6281", "", "Y2FwaV9ncm91cDox")
    assert group.target() == {"recipient_type": "group", "to": "Y2FwaV9ncm91cDox"}
    assert group.sender == "wa:g:Y2FwaV9ncm91cDox:6281"


def test_when_reply_buttons_can_be_used() -> None:
    assert can_use_reply_buttons("Sudah cek?", YES_NO)
    assert not can_use_reply_buttons("Pilih", CASES)  # more than 3
    assert not can_use_reply_buttons("Pilih", CASES[:2])  # a title over 20 characters
    assert not can_use_reply_buttons("x" * 1025, YES_NO)  # body over 1,024
    assert not can_use_reply_buttons("", YES_NO)


class FakeApi(WhatsAppApi):
    """Records the sends; each gets a message id of its own, as the Graph API gives."""

    def __init__(self) -> None:
        super().__init__("t", "106", "http://stub", "v21.0")
        self.sent: List[Dict[str, Any]] = []

    async def send(self, payload: Dict[str, Any]) -> Optional[Any]:
        self.sent.append(payload)
        return {"messages": [{"id": f"wamid.out{len(self.sent)}"}]}


async def test_output_reply_buttons_numbered_list_and_split() -> None:
    api = FakeApi()
    questions = Questions(MemoryState())
    peer = Peer("6281200000001", "")
    out = WhatsAppOutput(api, questions, peer)
    await out.send_response(peer.sender, {"text": "Sudah cek saldo?", "buttons": YES_NO})
    interactive = api.sent[-1]
    assert interactive["type"] == "interactive" and interactive["to"] == "6281200000001"
    replies = [b["reply"] for b in interactive["interactive"]["action"]["buttons"]]
    assert [r["title"] for r in replies] == ["Ya", "Tidak"]
    token, index = parse_reply_id(replies[1]["id"])  # type: ignore[misc]
    assert index == 1 and await questions.info(token) is not None
    await out.send_response(peer.sender, {"text": "Pilih kasus:", "buttons": CASES})
    listed = api.sent[-1]
    assert listed["type"] == "text"
    assert listed["text"]["body"].endswith(
        "Balas dengan angka:\n1. Pulsa belum masuk\n2. Bayar, nomor blm aktif\n"
        "3. GraPARI Online\n4. Callback\n5. IMES tagihan"
    )
    assert not await questions.claim(peer.sender, token)  # a newer question is pending
    api.sent.clear()
    ticket = "KIP: X\nMSISDN: 081234567890"
    text = "\n".join(["langkah " * 40] * 30 + [ticket])
    custom = {"type": "sop_result", "ticket_text": ticket}
    await out.send_response(peer.sender, {"text": text, "custom": custom})
    assert len(api.sent) >= 2
    assert all(utf16_len(m["text"]["body"]) <= WHATSAPP_TEXT_LIMIT for m in api.sent)
    assert sum(ticket in m["text"]["body"] for m in api.sent) == 1


async def test_groups_get_numbered_options_never_interactive() -> None:
    api = FakeApi()
    out = WhatsAppOutput(api, Questions(MemoryState()), Peer("6281", "", "GRP1"))
    await out.send_response("x", {"text": "Sudah cek saldo?", "buttons": YES_NO})
    assert api.sent[-1]["type"] == "text" and api.sent[-1]["to"] == "GRP1"
    assert api.sent[-1]["recipient_type"] == "group"
    assert api.sent[-1]["text"]["body"].endswith("1. Ya\n2. Tidak")


@pytest.mark.parametrize(
    "data",
    [
        {"entry": "x"},
        {"entry": [1, 2]},
        {"entry": [{"changes": "x"}]},
        {"entry": [{"changes": [{"value": [1]}]}]},
        [1, 2],
        "text",
    ],
)
def test_wrong_notification_shapes_yield_nothing(data: object) -> None:
    from channels.whatsapp import _values_of

    assert _values_of(data) == []


async def test_only_allowed_numbers_are_served(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rasa.core.channels.channel import UserMessage

    from channels.access import REFUSAL, ChannelConfigError
    from channels.whatsapp import WhatsAppConnector

    monkeypatch.delenv("ALLOW_ANY_CHAT", raising=False)
    monkeypatch.delenv("WHATSAPP_ALLOWED_NUMBERS", raising=False)
    with pytest.raises(ChannelConfigError, match="WHATSAPP_ALLOWED_NUMBERS"):
        WhatsAppConnector("t", "106", "secret", "verify", "http://stub")
    monkeypatch.setenv("WHATSAPP_ALLOWED_NUMBERS", "+6281200000001, ID.777")
    connector = WhatsAppConnector("t", "106", "secret", "verify", "http://stub")
    connector.api = api = FakeApi()
    received: List[str] = []

    async def bot(message: UserMessage) -> None:
        received.append(message.sender_id)

    def message(**fields: Any) -> Dict[str, Any]:
        return {
            "id": f"wamid.{len(api.sent)}{fields}",
            "type": "text",
            "text": {"body": "pulsa"},
            **fields,
        }

    for _ in range(2):
        await connector.handle_message(message(**{"from": "6289999999999"}), [], {}, bot)
    assert received == [] and [m["text"]["body"] for m in api.sent] == [REFUSAL]
    assert "6289999999999" not in caplog.text and "62*********99" in caplog.text
    await connector.handle_message(message(**{"from": "6281200000001"}), [], {}, bot)
    await connector.handle_message(message(from_user_id="ID.777"), [], {}, bot)
    assert received == ["wa:6281200000001", "wa:ID.777"]
