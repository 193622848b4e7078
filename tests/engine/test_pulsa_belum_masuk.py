"""Every branch of the "pulsa belum masuk" SOP through the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest

from sop_engine.engine import Need, SopResult
from sop_engine.loader import default_registry
from sop_engine.render import result_text

ENGINE = default_registry().by_intent["pulsa_belum_masuk"]
SN = "0215123456789012345678901"
BASE: Dict[str, Any] = {
    "msisdn": "081234567890",
    "nominal": 50000,
    "event_time": "2026-11-21T15:00:00+07:00",
}
NO_CHECKS = {
    "check_recharge_visible": False,
    "check_servo_used": False,
    "check_call_detail_updated": False,
}


def decide(now: datetime, **slots: Any) -> Any:
    return ENGINE.evaluate({**BASE, **slots}, now)


def test_asks_data_in_sop_order_then_first_check(now: datetime) -> None:
    assert ENGINE.evaluate({}, now) == Need("slot", "msisdn")
    assert ENGINE.evaluate({"msisdn": "081234567890"}, now) == Need("slot", "nominal")
    assert decide(now) == Need("slot", "channel")
    assert decide(now, channel="alfamart") == Need("slot", "serial_number")
    assert decide(now, channel="alfamart", serial_number=SN) == Need(
        "question", "check_recharge_visible"
    )


def test_mytelkomsel_asks_payment_method_then_transaction_id_not_sn(now: datetime) -> None:
    assert decide(now, channel=["mytelkomsel"]) == Need("slot", "payment_method")
    assert decide(now, channel="mytelkomsel", payment_method="gopay") == Need(
        "slot", "transaction_id"
    )
    facts = ENGINE.facts({**BASE, "channel": "mytelkomsel", "payment_method": "gopay"}, now)
    assert "serial_number" not in ENGINE.required_slots(facts)


def test_checks_stop_as_soon_as_the_answer_is_found(now: datetime) -> None:
    slots = {"channel": "indomaret", "serial_number": SN}
    result = decide(now, **slots, check_recharge_visible=True)
    assert isinstance(result, SopResult)
    assert result.case_id == "pulsa_belum_masuk.pulsa_sudah_masuk"
    assert result.ticket is None
    assert any("call detail" in s for s in result.steps)
    assert decide(now, **slots, check_recharge_visible=False) == Need(
        "question", "check_servo_used"
    )
    servo = decide(now, **slots, check_recharge_visible=False, check_servo_used=True)
    assert servo.case_id == "pulsa_belum_masuk.servo_sudah_digunakan"
    used = decide(
        now,
        **slots,
        check_recharge_visible=False,
        check_servo_used=False,
        check_call_detail_updated=True,
    )
    assert used.case_id == "pulsa_belum_masuk.pulsa_sudah_terpakai"
    assert "Rp50.000" in used.steps[0]


def test_non_fintech_ticket_with_serial_number(now: datetime) -> None:
    result = decide(now, channel="alfamart", serial_number=SN, **NO_CHECKS)
    assert isinstance(result, SopResult)
    assert result.case_id == "pulsa_belum_masuk.non_fintech"
    assert result.ticket is not None
    assert result.ticket.fields["Serial Number"] == SN
    assert result.ticket.fields["MSISDN"] == "081234567890"
    assert result.ticket.fields["Nominal isi ulang"] == "Rp50.000"
    assert (
        result.ticket.fields["Waktu kendala (hari, tanggal, jam)"] == "Sabtu, 21 Nov 2026 15.00 WIB"
    )
    assert "K22" in result.ticket.kip
    assert "Nama pelanggan" in result.ticket.missing
    assert "Transaksi ID" not in result.ticket.labels
    assert not any("cs@telkomsel.com" in s for s in result.steps)  # bank note only for bank


def test_bank_branch_adds_the_email_note(now: datetime) -> None:
    result = decide(now, channel="bank", serial_number=SN, **NO_CHECKS)
    assert result.case_id == "pulsa_belum_masuk.non_fintech"
    note = next(s for s in result.steps if "cs@telkomsel.com" in s)
    assert '"Bukti 081234567890"' in note
    assert "buku tabungan" in note
    assert "Bukti transaksi pemotongan kartu debit/CC" in result.ticket.missing


def test_fintech_in_mytelkomsel_ticket_without_sla_wait(now: datetime) -> None:
    slots = {"channel": "mytelkomsel", "payment_method": "gopay", "transaction_id": "TRX123456"}
    assert decide(now, **slots, **NO_CHECKS) == Need("question", "check_balance_deducted")
    result = decide(now, **slots, **NO_CHECKS, check_balance_deducted=True)
    assert result.case_id == "pulsa_belum_masuk.fintech"
    assert "tanpa menyarankan pelanggan menunggu SLA 1x24 jam" in result.steps[0]
    assert result.ticket.fields["Transaksi ID"] == "TRX123456"
    assert result.ticket.fields["Metode pembayaran"] == "gopay"
    assert "Serial Number" not in result.ticket.labels
    payload = result.as_payload()
    assert payload["type"] == "sop_result"
    assert payload["ticket"]["required"] is True
    assert "SOP-001/CCM-AC/CHM/XI/2016" in payload["source"]
    assert "Possible Cause 4.b" in payload["source"]


@pytest.mark.parametrize("channel", ["tokopedia", "gopay", "dana", "shopee"])
def test_ecommerce_or_fintech_app_ticket_with_sn(now: datetime, channel: str) -> None:
    result = decide(
        now, channel=channel, serial_number=SN, **NO_CHECKS, check_balance_deducted=True
    )
    assert result.case_id == "pulsa_belum_masuk.ecommerce_fintech_app"
    assert result.ticket.fields["Serial Number"] == SN
    assert any("SLA 1x24 jam" in s for s in result.steps)


def test_balance_not_deducted_is_flagged_uncertain(now: datetime) -> None:
    result = decide(now, channel="ovo", serial_number=SN, **NO_CHECKS, check_balance_deducted=False)
    assert result.case_id == "pulsa_belum_masuk.saldo_belum_terpotong"
    assert result.uncertain
    assert any("TL" in w for w in result.warnings)
    assert result.ticket is None


@pytest.mark.parametrize("method", ["pulsa", "tagihan"])
def test_paid_with_pulsa_or_bill_is_out_of_this_pansol(now: datetime, method: str) -> None:
    result = decide(now, channel="mytelkomsel", payment_method=method)
    assert result.case_id == "pulsa_belum_masuk.di_luar_cakupan"
    assert "Pansol Aktivasi Paket" in result.steps[0]


def test_unknown_payment_method_ends_uncertain_not_guessed(now: datetime) -> None:
    result = decide(
        now,
        channel="mytelkomsel",
        payment_method="lainnya",
        **NO_CHECKS,
        check_balance_deducted=True,
    )
    assert result.case_id == "pulsa_belum_masuk.tidak_tercakup"
    assert result.uncertain


def test_rendered_text_is_one_message_with_ticket(now: datetime) -> None:
    result = decide(now, channel="bank", serial_number=SN, **NO_CHECKS)
    text = result_text(result)
    assert "\n\n" not in text  # Rasa would split it into several messages
    assert "KIP: (DE)AKTIVASI PRODUK" in text
    assert f"Serial Number: {SN}" in text
    assert "Nama pelanggan: (isi manual)" in text
    assert text.rstrip().splitlines()[-1].startswith("Sumber: SOP-001")
