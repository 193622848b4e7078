"""Every branch of "Pembayaran Berhasil Tapi Nomor Belum Aktif" through the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest

from sop_engine.engine import Need, SopResult
from sop_engine.loader import default_registry
from sop_engine.render import result_text

from .helpers import as_result

ENGINE = default_registry().by_intent["nomor_belum_aktif_setelah_bayar"]
MONITORING = "Lakukan pengecekan secara berkala dan monitoring sampai nomor aktif."
KIP_BELUM = (
    "Consumer - tagihan & pembayaran - pembayaran tagihan - k44 pembayaran berhasil, namun "
    "nomor masih terblock & belum masuk ledger"
)
KIP_SUDAH = (
    "Consumer - tagihan & pembayaran - pembayaran tagihan - k44 pembayaran berhasil namun "
    "nomor masih terblock & sudah masuk ledger"
)
BASE: Dict[str, Any] = {
    "msisdn": "081234567890",
    "event_time": "2026-11-21T10:00:00+07:00",
    "channel": ["bank"],
    "layanan": ["voice", "sms"],
}
PAID = {"check_bayar_notifikasi": True, "check_bayar_payment_in_fa": True}
TRIAL = "active_out_of_collection_on_trial"


def decide(now: datetime, **answers: Any) -> Any:
    return ENGINE.evaluate({**BASE, **answers}, now)


def result(now: datetime, **answers: Any) -> SopResult:
    return as_result(decide(now, **answers))


def test_asks_the_data_then_the_notification_first(now: datetime) -> None:
    assert ENGINE.evaluate({}, now) == Need("slot", "msisdn")
    assert ENGINE.evaluate({"msisdn": "081234567890"}, now) == Need("slot", "event_time")
    partial = {"msisdn": "081234567890", "event_time": BASE["event_time"]}
    assert ENGINE.evaluate(partial, now) == Need("slot", "channel")
    assert ENGINE.evaluate({**partial, "channel": "bank"}, now) == Need("slot", "layanan")
    assert decide(now) == Need("question", "check_bayar_notifikasi")
    assert decide(now, check_bayar_notifikasi=False) == Need(
        "question", "check_bayar_payment_in_fa"
    )
    assert decide(now, **PAID) == Need("question", "check_bayar_status")


def test_shared_slots_match_the_pulsa_definitions() -> None:
    pulsa = {s.name: s for s in default_registry().by_intent["pulsa_belum_masuk"].sop.slots}
    for slot in ENGINE.sop.slots:
        if slot.name in pulsa:
            other = pulsa[slot.name]
            assert (slot.validator, slot.entity, slot.multiple) == (
                other.validator,
                other.entity,
                other.multiple,
            )
    layanan = next(s for s in ENGINE.sop.slots if s.name == "layanan")
    assert (layanan.validator, layanan.entity, layanan.multiple) == ("layanan", "layanan", True)


def test_no_notification_and_not_received_confirms_with_the_channel(now: datetime) -> None:
    r = result(now, check_bayar_notifikasi=False, check_bayar_payment_in_fa=False)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.konfirmasi_ke_channel_pembayaran"
    assert r.ticket is None
    assert "konfirmasi dulu ke bagian channel pembayarannya (bank)" in r.steps[0]
    assert MONITORING in r.steps
    assert r.escalation and "Channel pembayaran" in r.escalation


@pytest.mark.parametrize(("ledger", "kip"), [(False, KIP_BELUM), (True, KIP_SUDAH)])
def test_notified_but_not_recorded_escalates_with_a_ticket(
    now: datetime, ledger: bool, kip: str
) -> None:
    answers = {"check_bayar_notifikasi": True, "check_bayar_payment_in_fa": False}
    assert decide(now, **answers) == Need("question", "check_bayar_masuk_ledger")
    r = result(now, **answers, check_bayar_masuk_ledger=ledger)
    assert r.case_id == (
        "nomor_belum_aktif_setelah_bayar.tiket_notifikasi_ada_pembayaran_belum_tercatat"
    )
    assert "di sistem belum terbayarkan" in r.steps[0]
    assert r.ticket is not None and r.ticket.kip == kip
    assert r.ticket.fields["Layanan yang dikeluhkan"] == "VOICE / SMS"
    assert "Status Collection (cek FA Payment)" in r.ticket.missing  # status not checked here
    assert MONITORING in r.steps


def test_aging_needs_reactivation(now: datetime) -> None:
    r = result(now, **PAID, check_bayar_status="aging")
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.reaktivasi_aging"
    assert "harus dilakukan reaktivasi" in r.steps[0]
    assert r.ticket is None


@pytest.mark.parametrize("status", [TRIAL, "active_collection_block_1"])
def test_all_active_network_refresh_manual_then_automatic(now: datetime, status: str) -> None:
    assert decide(now, **PAID, check_bayar_status=status) == Need(
        "question", "check_bayar_hlr_dsc_terblokir"
    )
    r = result(now, **PAID, check_bayar_status=status, check_bayar_hlr_dsc_terblokir=False)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.refresh_jaringan"
    refresh = next(s for s in r.steps if "Refresh Jaringan" in s)
    assert refresh.index("otomatis ke manual") < refresh.index("mode otomatis")
    assert r.ticket is None
    assert MONITORING in r.steps


def test_blokir_hum_on_hlr_goes_to_billco(now: datetime) -> None:
    blocked = {"check_bayar_status": TRIAL, "check_bayar_hlr_dsc_terblokir": True}
    assert decide(now, **PAID, **blocked) == Need("question", "check_bayar_blokir_hum")
    assert decide(now, **PAID, **blocked, check_bayar_blokir_hum=True) == Need(
        "question", "check_bayar_masuk_ledger"
    )
    r = result(now, **PAID, **blocked, check_bayar_blokir_hum=True, check_bayar_masuk_ledger=False)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.aktivasi_blokir_hum_via_billco"
    assert r.escalation == "Billco"
    assert "menghubungi bagian billco" in r.steps[0]
    # a blocked HLR is ticketed as Possible Cause 1.2 says
    assert r.ticket is not None and r.ticket.kip == KIP_BELUM


@pytest.mark.parametrize("status", ["active_voluntary_block_1", "lainnya"])
def test_blokir_hum_is_checked_for_every_status(now: datetime, status: str) -> None:
    assert decide(now, **PAID, check_bayar_status=status) == Need(
        "question", "check_bayar_blokir_hum"
    )
    r = result(
        now, **PAID, check_bayar_status=status, check_bayar_blokir_hum=True,
        check_bayar_masuk_ledger=True,
    )  # fmt: skip
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.aktivasi_blokir_hum_via_billco"


@pytest.mark.parametrize(("ledger", "kip"), [(False, KIP_BELUM), (True, KIP_SUDAH)])
def test_something_blocked_creates_a_ticket(now: datetime, ledger: bool, kip: str) -> None:
    blocked = {
        "check_bayar_status": "active_collection_block_1",
        "check_bayar_hlr_dsc_terblokir": True,
        "check_bayar_blokir_hum": False,
    }
    assert decide(now, **PAID, **blocked) == Need("question", "check_bayar_masuk_ledger")
    r = result(now, **PAID, **blocked, check_bayar_masuk_ledger=ledger)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.tiket_hlr_dsc_terblokir"
    assert "create tiket" in r.steps[0]
    assert r.ticket is not None and r.ticket.kip == kip
    fields = r.ticket.fields
    assert fields["MSISDN"] == "081234567890"
    assert fields["Tanggal pembayaran"] == "Sabtu, 21 Nov 2026 10.00 WIB"
    assert fields["Channel pembayaran"] == "bank"
    assert fields["Status Collection (cek FA Payment)"] == "Active - Collection Block 1"
    assert fields["Layanan yang dikeluhkan"] == "VOICE / SMS"
    for manual in (
        "Class",
        "Nama pelanggan",
        "Status HLR dan info profil",
        "Lokasi",
        "CP lain yang dapat dihubungi",
    ):
        assert manual in r.ticket.missing
    assert MONITORING in r.steps


def test_voluntary_block_1_creates_a_ticket(now: datetime) -> None:
    answers = {
        **PAID, "check_bayar_status": "active_voluntary_block_1", "check_bayar_blokir_hum": False
    }  # fmt: skip
    assert decide(now, **answers) == Need("question", "check_bayar_masuk_ledger")
    r = result(now, **answers, check_bayar_masuk_ledger=False)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.tiket_voluntary_block_1"
    assert r.ticket is not None and r.ticket.kip == KIP_BELUM
    assert r.ticket.fields["Status Collection (cek FA Payment)"] == "Active - Voluntary Block 1"
    assert "Status HLR dan info profil" in r.ticket.missing  # HLR not asked here


def test_paid_without_notification_still_follows_the_status(now: datetime) -> None:
    answers = {"check_bayar_notifikasi": False, "check_bayar_payment_in_fa": True}
    assert decide(now, **answers) == Need("question", "check_bayar_status")


def test_other_status_is_not_guessed(now: datetime) -> None:
    r = result(now, **PAID, check_bayar_status="lainnya", check_bayar_blokir_hum=False)
    assert r.case_id == "nomor_belum_aktif_setelah_bayar.tidak_tercakup"
    assert r.uncertain
    assert r.ticket is None


@pytest.mark.parametrize(
    ("layanan", "shown"),
    [("semua", "SEMUANYA"), ("data", "DATA INTERNET"), (["sms", "data"], "SMS / DATA INTERNET")],
)
def test_layanan_uses_the_page_format(now: datetime, layanan: Any, shown: str) -> None:
    r = result(
        now,
        **{**PAID, "layanan": layanan},
        check_bayar_status="active_voluntary_block_1",
        check_bayar_blokir_hum=False,
        check_bayar_masuk_ledger=True,
    )
    assert r.ticket.fields["Layanan yang dikeluhkan"] == shown
    assert f"layanan yang dikeluhkan: {shown}." in " ".join(r.steps)
    assert f"Layanan yang dikeluhkan: {shown}" in result_text(r)


def test_status_choice_accepts_agent_wording() -> None:
    from sop_engine.kinds.base import Valid
    from sop_engine.kinds.choice import validate_choice

    question = next(q for q in ENGINE.sop.questions if q.name == "check_bayar_status")
    for text, value in [
        ("collection block 1", "active_collection_block_1"),
        ("voluntary block", "active_voluntary_block_1"),
        ("on trial", TRIAL),
        ("aging", "aging"),
    ]:
        checked = validate_choice(question.options, text)
        assert isinstance(checked, Valid) and checked.value == value, text
