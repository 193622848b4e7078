"""Conversations typed as agents type them, through REST on the real servers: date-only
times, a channel outside the page's list, "pelanggan tidak punya SN", facts in the opening.
Each ends in the SOP-correct answer or an honest "konfirmasi ke TL", never in a loop.

The driver answers whatever the assistant asks (matched on the question's words), so the
tests do not depend on the order of the questions; a question asked a third time fails."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Tuple

import pytest

from testkit.assistant import Servers
from testkit.conversations import sop_result

pytestmark = pytest.mark.servers


def talk(
    servers: Servers, opening: str, answers: List[Tuple[str, str]]
) -> Tuple[Dict[str, Any], List[str]]:
    """(sop_result, every text the agent saw). ``answers``: (words of a question, reply)."""
    sender = f"agent-{uuid.uuid4().hex[:8]}"
    seen: List[str] = []
    asked: Dict[str, int] = {}
    replies = servers.say(sender, opening)
    for _ in range(20):
        seen += [m.get("text") or "" for m in replies]
        result = sop_result(replies)
        if result is not None:
            return result, seen
        question = next((m.get("text") or "" for m in reversed(replies) if m.get("text")), "")
        asked[question] = asked.get(question, 0) + 1
        assert asked[question] <= 2, f"asked a third time: {question!r}\n" + "\n".join(seen)
        reply = next((r for words, r in answers if words.lower() in question.lower()), None)
        assert reply is not None, f"no scripted answer for: {question!r}\n" + "\n".join(seen)
        replies = servers.say(sender, reply)
    raise AssertionError("no SOP answer after 20 turns:\n" + "\n".join(seen))


def test_instant_order_said_as_hari_ini_asks_the_hour_not_escalates(servers: Servers) -> None:
    result, seen = talk(
        servers,
        "grapari online status pending verification, order instant hari ini",
        [
            ("email", "budi@gmail.com"),
            ("order id", "GOL123456"),
            ("jenis pengiriman", "instant"),
            ("tanggal dan jam order", "hari ini"),
            ("jam berapa order", "gak tau"),
        ],
    )
    assert any("Jam berapa order" in t for t in seen)
    assert result["case_id"] == "grapari_online.pending_verification_instant_belum_6_jam"
    assert any("konfirmasi ke TL" in w for w in result["warnings"])


def test_recharge_at_a_konter_without_sn_ends_in_the_pages_advice(servers: Servers) -> None:
    result, seen = talk(
        servers,
        "plg isi pulsa 50rb di konter pulsa kemarin jam 3 sore tp blm masuk, no 081234567890",
        [
            ("msisdn", "081234567890"),
            ("nominal", "50rb"),
            ("channel", "konter pulsa"),
            ("tanggal dan jam", "kemarin jam 3 sore"),
            ("serial number", "pelanggan tidak punya SN"),
            ("indira dan dsc", "/deny"),
            ("servo", "/deny"),
            ("panggilan detail", "/deny"),
            ("saldo", "/affirm"),
        ],
    )
    assert result["case_id"] == "pulsa_belum_masuk.sn_tidak_ada"
    assert any("penjual pulsanya" in s for s in result["steps"])
    assert any("konfirmasi ke TL" in w for w in result["warnings"])
    assert not any("channel isi ulang" in t.lower() and "tidak dikenali" in t for t in seen)


def test_callback_opening_facts_are_used_and_the_hour_is_asked(servers: Servers) -> None:
    result, seen = talk(
        servers,
        "call putus tadi, blm ada tiket",
        [
            ("kriteria callback", "call terputus"),
            ("agent kedua", "/deny"),
            ("jam berapa call terputus", "09.45"),
            ("interaksi dan id pelanggan", "/affirm"),
        ],
    )
    assert not any(t.startswith("Cek history tiket") for t in seen)  # not asked again
    assert any("Dari pesan Anda" in t for t in seen)
    assert result["case_id"] == "callback.callback_interaksi_dan_case_diketahui"
    assert not any("terlewati" in w for w in result["warnings"])
    assert len(seen) == len(set(seen)) or all(seen.count(t) == 1 for t in seen if "Catatan" in t)


@pytest.mark.parametrize(
    "not_known", ["ga tau", "blm bisa dicek", '/inform{"choice": "tidak_ada"}']
)
def test_a_check_nobody_can_answer_is_never_tidak(servers: Servers, not_known: str) -> None:
    # typed "ga tau" is classified deny; it must not become "Tidak" (belum diambil kurir →
    # FOS escalation), nor may the order of the rules pick a later branch in its place
    result, seen = talk(
        servers,
        "GOL delivery incident, kurir sicepat reguler",
        [
            ("email", "wulan.k@contoh.id"),
            ("order id", "GOL9081726"),
            ("tombol lanjut", "tidak"),
            ("tanggal dan jam order", "10/11/2026 08.15"),
            ("jenis pengiriman", "reguler"),
            ("diambil oleh kurir", not_known),  # before "kurir": matched in order
            ("kurir yang dipilih", "sicepat"),
        ],
    )
    assert result["case_id"] == "grapari_online.tidak_tercakup", result["case_id"]
    assert any("Hasil cek belum diketahui" in w for w in result["warnings"])
