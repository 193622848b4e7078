"""Every branch of "Tidak Bisa Bayar Tagihan Jastel pada Layanan IMES" through the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import pytest

from sop_engine.engine import NO_KIP_WARNING, Need, SopResult
from sop_engine.kinds.base import Valid
from sop_engine.kinds.choice import validate_choice
from sop_engine.loader import default_registry
from sop_engine.render import result_payload

from .helpers import as_result, branch, joined

ENGINE = default_registry().by_intent["imes_tagihan"]
SID = "1192187997"
ACC = "4861675"
MULTI_SID_WARNING = "tidak bisa menjadi acuan status lunas/belum lunas"


def decide(now: datetime, **slots: Any) -> Any:
    return ENGINE.evaluate(slots, now)


def result(now: datetime, **slots: Any) -> SopResult:
    return as_result(decide(now, **slots))


def with_sid(**answers: Any) -> Dict[str, Any]:
    return {
        "imes_product": "vsat",
        "check_imes_data_pelanggan": "sid",
        "sid": SID,
        "account_number": ACC,
        "check_imes_status_layanan": "active",
        "check_imes_multi_sid": False,
        "check_imes_kanal_kontak": "voice",
        **answers,
    }


def test_product_first_then_what_the_customer_gave(now: datetime) -> None:
    assert decide(now) == Need("slot", "imes_product")
    spec = next(s for s in ENGINE.sop.slots if s.name == "imes_product")
    assert [b.value for b in spec.buttons] == ["radio", "vsat", "seat_management"]
    assert decide(now, imes_product="radio") == Need("question", "check_imes_data_pelanggan")


def test_sid_path_asks_sid_account_then_the_checks(now: datetime) -> None:
    slots: Dict[str, Any] = {"imes_product": "radio", "check_imes_data_pelanggan": "sid"}
    assert decide(now, **slots) == Need("slot", "sid")
    slots["sid"] = SID
    assert decide(now, **slots) == Need("slot", "account_number")
    slots["account_number"] = ACC
    assert decide(now, **slots) == Need("question", "check_imes_status_layanan")
    slots["check_imes_status_layanan"] = "suspended"
    assert decide(now, **slots) == Need("question", "check_imes_multi_sid")
    slots["check_imes_multi_sid"] = False
    assert decide(now, **slots) == Need("question", "check_imes_kanal_kontak")
    slots["check_imes_kanal_kontak"] = "voice"
    assert decide(now, **slots) == Need("question", "check_imes_am_tidak_respon")


@pytest.mark.parametrize(
    ("status", "meaning"),
    [
        ("active", "status layanan aktif"),
        ("inactive", "status layanan sudah tidak aktif"),
        ("suspended", "status layanan ter-suspend"),
        ("inprogress", "pending BASO atau delete order"),
    ],
)
def test_status_in_ncx_is_explained(now: datetime, status: str, meaning: str) -> None:
    r = result(now, **with_sid(check_imes_status_layanan=status, check_imes_am_tidak_respon=False))
    status_step = next(s for s in r.steps if s.startswith(f"Status layanan SID {SID}"))
    assert "EBIS > Asset" in status_step
    assert meaning in status_step


def test_sid_path_am_responds(now: datetime) -> None:
    r = result(now, **with_sid(check_imes_am_tidak_respon=False))
    assert branch(r) == "koordinasi_dengan_am"
    assert r.escalation == "AM"
    assert any("Account number dari SID" in s and "EBIS > sub menu Asset" in s for s in r.steps)
    tos = next(s for s in r.steps if "TOS" in s)
    assert f"account number {ACC}" in tos
    assert "Print Invoice Billing Test" in tos and "Bill Periode" in tos
    assert "E-Payment" in joined(r)
    assert "koordinasi langsung dengan AM" in joined(r)
    assert "CABASA" not in joined(r)  # AO path only
    assert "Nama CC/Perusahaan" not in joined(r)  # no-SID path only
    assert r.ticket is None
    assert not any(MULTI_SID_WARNING in w for w in r.warnings)


def test_am_not_responding_goes_to_eos(now: datetime) -> None:
    r = result(now, **with_sid(check_imes_am_tidak_respon=True))
    assert branch(r) == "koordinasi_dengan_eos"
    assert r.escalation == "EOS"
    assert "koordinasikan dengan EOS" in joined(r)
    assert r.ticket is None


@pytest.mark.parametrize("outcome_answer", [False, True])
def test_several_sids_on_one_account_warns_the_total_says_nothing(
    now: datetime, outcome_answer: bool
) -> None:
    r = result(
        now, **with_sid(check_imes_multi_sid=True, check_imes_am_tidak_respon=outcome_answer)
    )
    warning = next(w for w in r.warnings if MULTI_SID_WARNING in w)
    assert f"Account number {ACC} memiliki lebih dari satu SID/produk" in warning
    assert "total tagihan seluruh SID" in warning


def test_ao_path_finds_the_account_via_sales_order_cabasa(now: datetime) -> None:
    slots: Dict[str, Any] = {"imes_product": "vsat", "check_imes_data_pelanggan": "ao"}
    assert decide(now, **slots) == Need("slot", "account_number")
    slots.update(account_number=ACC)
    assert decide(now, **slots) == Need("question", "check_imes_multi_sid")  # no status: no SID
    r = result(
        now,
        **slots,
        check_imes_multi_sid=False,
        check_imes_kanal_kontak="non_voice",
        check_imes_am_tidak_respon=False,
    )
    assert branch(r) == "koordinasi_dengan_am"
    cabasa = next(s for s in r.steps if "CABASA" in s)
    assert "EBIS > sub menu Sales Order > masukkan AO > Detail > CABASA" in cabasa
    assert any("TOS" in s for s in r.steps)
    assert not any(s.startswith("Status layanan SID") for s in r.steps)


def test_account_number_given_goes_straight_to_tos(now: datetime) -> None:
    r = result(
        now,
        imes_product="radio",
        check_imes_data_pelanggan="account_number",
        account_number=ACC,
        check_imes_multi_sid=False,
        check_imes_kanal_kontak="voice",
        check_imes_am_tidak_respon=True,
    )
    assert branch(r) == "koordinasi_dengan_eos"
    assert any(f"account number {ACC}" in s for s in r.steps)
    assert "CABASA" not in joined(r) and "Account number dari SID" not in joined(r)


def test_no_sid_asks_company_name_product_and_address(now: datetime) -> None:
    slots = {"imes_product": "radio", "check_imes_data_pelanggan": "tidak_ada"}
    assert decide(now, **slots) == Need("question", "check_imes_kanal_kontak")
    r = result(now, **slots, check_imes_kanal_kontak="voice", check_imes_am_tidak_respon=False)
    assert branch(r) == "koordinasi_dengan_am"
    ask = next(s for s in r.steps if "tidak menginformasikan SID" in s)
    for item in ("Nama CC/Perusahaan", "Produk yang digunakan", "Alamat Perusahaan"):
        assert item in ask
    assert "TOS" not in joined(r)


def test_voice_channel_looks_the_am_up_reactively_others_proactively(now: datetime) -> None:
    voice = result(now, **with_sid(check_imes_am_tidak_respon=False))
    assert any("reaktif" in s and "Instacheck" in s for s in voice.steps)
    assert not any("proaktif" in s for s in voice.steps)
    other = result(
        now, **with_sid(check_imes_kanal_kontak="non_voice", check_imes_am_tidak_respon=False)
    )
    assert any("proaktif dari awal" in s for s in other.steps)
    assert not any("reaktif" in s and "Instacheck" in s for s in other.steps)


def test_seat_management_opens_a_non_numbering_ticket(now: datetime) -> None:
    r = result(now, imes_product="seat_management")
    assert branch(r) == "seat_management_tiket_nn"
    assert r.escalation == "Tiket NN (Non Numbering)"
    assert "Open tiket NN (Non Numbering)" in joined(r)
    assert r.ticket is not None
    assert r.ticket.labels == [
        "SN/Serial Number",
        "Nama CC/Perusahaan",
        "Produk yang digunakan/perangkat yang terkendala",
        "Alamat Perusahaan",
        "PIC",
    ]
    assert result_payload(r)["ticket"]["kip"] is None
    assert NO_KIP_WARNING in r.warnings
    facts = ENGINE.facts({"imes_product": "seat_management"}, now)
    assert "sid" not in ENGINE.required_slots(facts)


def test_choice_answers_in_agent_wording() -> None:
    questions = {q.name: q for q in ENGINE.sop.questions}
    cases = [
        ("check_imes_data_pelanggan", "SID", "sid"),
        ("check_imes_data_pelanggan", "activation order", "ao"),
        ("check_imes_data_pelanggan", "tidak ada sid", "tidak_ada"),
        ("check_imes_status_layanan", "inactive", "inactive"),
        ("check_imes_status_layanan", "active", "active"),
        ("check_imes_status_layanan", "pending BASO", "inprogress"),
        ("check_imes_kanal_kontak", "chat", "non_voice"),
        ("check_imes_kanal_kontak", "telepon", "voice"),
    ]
    for name, text, value in cases:
        checked = validate_choice(questions[name].options, text)
        assert isinstance(checked, Valid) and checked.value == value, (name, text)


def test_no_application_address_or_login_is_given(now: datetime) -> None:
    r = result(now, **with_sid(check_imes_am_tidak_respon=False))
    for word in ("Username", "Password", "[URL internal]", "[DIHAPUS]", "Link:"):
        assert word not in joined(r)
