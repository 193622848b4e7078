"""Every numbered case (1-21) of the GraPARI Online page through the engine, with the time
rules computed against a fixed, timezone-aware now in the agents' zone (Asia/Jakarta)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional

import pytest

from sop_engine.engine import NO_KIP_WARNING, Need, SopResult
from sop_engine.kinds import validate
from sop_engine.kinds.base import Valid
from sop_engine.loader import default_registry

from .helpers import WIB, as_result, branch, joined

ENGINE = default_registry().by_intent["grapari_online"]
BASE: Dict[str, Any] = {"email": "budi@gmail.com", "order_id": "GOL123456"}
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)
CONTRACT_GOL_CASES = [
    "pending_verification", "pending_payment", "activation_in_progress", "activation_incident",
    "pending_perso", "delivery_init", "delivery_in_progress", "completed", "cancelled_sla",
    "delivery_incident", "benefit_belum_didapat", "nomor_tidak_bisa_digunakan",
    "tidak_bisa_submit_order_psb", "aktivasi_psb_gagal", "bonus_tidak_sesuai",
    "order_id_tidak_ditemukan", "gagal_bayar", "gagal_upload_foto", "kelurahan_tidak_muncul",
]  # fmt: skip


def iso(moment: datetime) -> str:
    return moment.isoformat()


def decide(gol_case: str, now: datetime = NOW, **answers: Any) -> Any:
    return ENGINE.evaluate({**BASE, "gol_case": gol_case, **answers}, now)


def result(gol_case: str, now: datetime = NOW, **answers: Any) -> SopResult:
    return as_result(decide(gol_case, now, **answers))


def assert_ticket(r: SopResult, kip: Optional[str]) -> None:
    assert r.ticket is not None
    assert r.ticket.fields["Order ID"] == BASE["order_id"]
    if kip is None:
        assert r.as_payload()["ticket"]["kip"] is None
        assert NO_KIP_WARNING in r.warnings
    else:
        assert r.ticket.kip == kip
        assert NO_KIP_WARNING not in r.warnings
    for label in (
        "MSISDN",
        "Tanggal Kejadian",
        "Keterangan pada aplikasi (DSC-UPCC)",
        "Capture gagal/error/error aktivasi",
    ):
        assert label in r.ticket.labels


# -- asking --------------------------------------------------------------------------------


def test_gol_case_is_asked_first_with_buttons_for_all_19_values() -> None:
    assert ENGINE.evaluate({}, NOW) == Need("slot", "gol_case")
    spec = next(s for s in ENGINE.sop.slots if s.name == "gol_case")
    assert (spec.validator, spec.entity) == ("gol_case", "gol_case")
    assert [b.value for b in spec.buttons] == CONTRACT_GOL_CASES
    assert all(b.title and b.title != b.value for b in spec.buttons)
    for value in CONTRACT_GOL_CASES:  # a button press validates to its own value
        checked = validate("gol_case", value, NOW)
        assert isinstance(checked, Valid) and checked.value == value


def test_email_and_order_id_asked_but_no_order_id_for_order_id_not_found() -> None:
    assert ENGINE.evaluate({"gol_case": "pending_payment"}, NOW) == Need("slot", "email")
    assert ENGINE.evaluate({"gol_case": "pending_payment", "email": "a@b.co"}, NOW) == Need(
        "slot", "order_id"
    )
    start = {"gol_case": "order_id_tidak_ditemukan", "email": "a@b.co"}
    assert ENGINE.evaluate(start, NOW) == Need("slot", "event_time")
    for during_order in ("gagal_upload_foto", "kelurahan_tidak_muncul"):
        facts = ENGINE.facts({"gol_case": during_order, "email": "a@b.co"}, NOW)
        assert "order_id" not in ENGINE.required_slots(facts)


def test_time_courier_and_delivery_type_only_where_a_rule_needs_them() -> None:
    for gol_case in ("pending_payment", "pending_perso", "benefit_belum_didapat", "gagal_bayar"):
        facts = ENGINE.facts({**BASE, "gol_case": gol_case}, NOW)
        required = ENGINE.required_slots(facts)
        assert not {"event_time", "delivery_type", "courier"} & set(required), gol_case
    assert decide("pending_verification") == Need("slot", "event_time")
    assert decide("pending_verification", event_time="2026-11-22T08:00:00+07:00") == Need(
        "slot", "delivery_type"
    )
    # delivery incident: the check question decides first (18 needs no time/courier)
    assert decide("delivery_incident") == Need("question", "check_gol_tombol_lanjut_tidak_muncul")
    started = {"check_gol_tombol_lanjut_tidak_muncul": False}
    assert decide("delivery_incident", **started) == Need("slot", "event_time")
    started["event_time"] = "2026-11-10T08:00:00+07:00"
    assert decide("delivery_incident", **started) == Need("slot", "delivery_type")
    started["delivery_type"] = "reguler"
    assert decide("delivery_incident", **started) == Need("slot", "courier")


# -- 1. Pending Verification -----------------------------------------------------------------


def test_1_regular_under_24h_waits() -> None:
    r = result(
        "pending_verification", event_time="2026-11-21T10:01:00+07:00", delivery_type="reguler"
    )
    assert branch(r) == "pending_verification_reguler_tunggu"
    assert "arahkan pelanggan untuk menunggu" in r.steps[0]
    assert "Minggu, 22 Nov 2026 10.01 WIB" in r.steps[0]  # when 1x24 jam is reached
    assert any("belum dapat melakukan proses pembayaran" in s for s in r.steps)
    assert r.ticket is None and not r.uncertain


def test_1_regular_exactly_24h_is_not_covered() -> None:
    r = result(
        "pending_verification", event_time=iso(NOW - timedelta(hours=24)), delivery_type="reguler"
    )
    assert branch(r) == "pending_verification_reguler_lewat_1x24_jam"
    assert r.uncertain
    assert any("TL" in w for w in r.warnings)
    assert r.ticket is None


def test_1_instant_over_6h_ticket_and_ccis_acceleration() -> None:
    r = result(
        "pending_verification",
        event_time=iso(NOW - timedelta(hours=6, minutes=1)),
        delivery_type="instant",
    )
    assert branch(r) == "pending_verification_instant_lewat_6_jam"
    assert r.escalation == "Tiket + percepatan via CCIS (INT 856)"
    assert "percepatan via CCIS, INT 856" in r.steps[0]
    assert "Pastikan nomor konfirmasi pelanggan." in r.steps
    assert not any("jam 8 malam" in s for s in r.steps)  # 03:59 order
    assert_ticket(r, None)


def test_1_instant_exactly_6h_is_not_over_6h() -> None:
    r = result(
        "pending_verification", event_time=iso(NOW - timedelta(hours=6)), delivery_type="instant"
    )
    assert branch(r) == "pending_verification_instant_belum_6_jam"
    assert r.uncertain and r.ticket is None
    assert "Minggu, 22 Nov 2026 10.00 WIB" in r.steps[0]  # 6 jam tercapai


@pytest.mark.parametrize(("clock", "next_day"), [("20:00", False), ("20:01", True)])
def test_1_orders_after_20_are_called_back_next_day(clock: str, next_day: bool) -> None:
    r = result(
        "pending_verification", event_time=f"2026-11-21T{clock}:00+07:00", delivery_type="instant"
    )
    assert branch(r) == "pending_verification_instant_lewat_6_jam"
    callback = [s for s in r.steps if "hari selanjutnya (pukul 08.00-20.00)" in s]
    assert bool(callback) is next_day


def test_1_order_2330_checked_0030_next_day() -> None:
    now = datetime(2026, 11, 22, 0, 30, tzinfo=WIB)
    order = "2026-11-21T23:30:00+07:00"
    instant = result("pending_verification", now, event_time=order, delivery_type="instant")
    assert branch(instant) == "pending_verification_instant_belum_6_jam"  # 1 hour only
    assert "Minggu, 22 Nov 2026 05.30 WIB" in instant.steps[0]
    assert any(
        "Sabtu, 21 Nov 2026 23.30 WIB" in s and "hari selanjutnya" in s for s in instant.steps
    )
    regular = result("pending_verification", now, event_time=order, delivery_type="reguler")
    assert branch(regular) == "pending_verification_reguler_tunggu"
    assert "Minggu, 22 Nov 2026 23.30 WIB" in regular.steps[0]


# -- 2. Pending Payment ----------------------------------------------------------------------


def test_2_pending_payment() -> None:
    r = result("pending_payment")
    assert branch(r) == "pending_payment"
    for method in ("LinkAja", "ShopeePay", "OVO", "DANA"):
        assert method in r.steps[0]
    assert r.ticket is None and r.escalation is None


# -- 3. Activation In Progress ---------------------------------------------------------------


@pytest.mark.parametrize(("kind", "text"), [("halo", "resi pengiriman"), ("perdana", "SMS 4444")])
def test_3_guides_halo_or_perdana_first(kind: str, text: str) -> None:
    assert decide("activation_in_progress") == Need("question", "check_gol_jenis_order")
    answers = {"check_gol_jenis_order": kind}
    assert decide("activation_in_progress", **answers) == Need(
        "question", "check_gol_aktivasi_langkah_dilakukan"
    )
    r = result("activation_in_progress", **answers, check_gol_aktivasi_langkah_dilakukan=False)
    assert branch(r) == "activation_in_progress_arahkan_aktivasi"
    assert text in joined(r)
    other = "SMS 4444" if kind == "halo" else "resi pengiriman"
    assert other not in joined(r)
    assert r.ticket is None


def test_3_done_and_past_24h_goes_to_remedy_it_exactly_24h_waits() -> None:
    done = {"check_gol_jenis_order": "perdana", "check_gol_aktivasi_langkah_dilakukan": True}
    assert decide("activation_in_progress", **done) == Need("slot", "event_time")
    exact = result("activation_in_progress", **done, event_time=iso(NOW - timedelta(hours=24)))
    assert branch(exact) == "activation_in_progress_tunggu"
    assert "arahkan pelanggan untuk menunggu" in exact.steps[0]
    assert exact.ticket is None
    late = result(
        "activation_in_progress", **done, event_time=iso(NOW - timedelta(hours=24, minutes=1))
    )
    assert branch(late) == "activation_in_progress_lewat_1x24_jam"
    assert late.escalation == "Remedy IT"
    assert "eskalasi Remedy IT" in late.steps[0]
    assert_ticket(late, None)
    assert "Keterangan gagal" in late.ticket.labels


def test_3_ganti_kartu_activation_is_not_covered() -> None:
    r = result("activation_in_progress", check_gol_jenis_order="ganti_kartu")
    assert branch(r) == "tidak_tercakup" and r.uncertain


# -- 4 / 17. Activation Incident -------------------------------------------------------------


def test_4_failure_while_activating_goes_to_int404_beshq() -> None:
    assert decide("activation_incident") == Need("question", "check_gol_nomor_tidak_bisa_query")
    r = result("activation_incident", check_gol_nomor_tidak_bisa_query=False)
    assert branch(r) == "activation_incident_gagal_aktivasi_paket"
    assert r.escalation == "INT 404 BESHQ"
    assert "INT404 BESHQ" in r.steps[0]
    assert_ticket(r, "K84-Activation Incident")
    assert "Keterangan gagal" in r.ticket.missing


def test_17_number_cannot_be_queried_goes_to_remedy_it() -> None:
    r = result("activation_incident", check_gol_nomor_tidak_bisa_query=True)
    assert branch(r) == "activation_incident_nomor_tidak_bisa_query"
    assert r.escalation == "Remedy IT"
    assert "nomor sudah pending" in r.steps[0]
    assert_ticket(r, "K84-Activation Incident")


# -- 5-9 -----------------------------------------------------------------------------------


def test_5_pending_perso_escalates_to_fos_grapari() -> None:
    r = result("pending_perso")
    assert branch(r) == "pending_perso"
    assert r.escalation and r.escalation.startswith("FOS GraPARI")
    assert "mempercepat proses Perso" in joined(r)
    assert_ticket(r, None)


def test_6_delivery_init_informs() -> None:
    r = result("delivery_init")
    assert branch(r) == "delivery_init"
    assert "setelah kurir melakukan penjemputan" in joined(r)
    assert r.ticket is None and r.escalation is None


def test_7_delivery_in_progress_refers_to_the_sla_sops() -> None:
    r = result("delivery_in_progress")
    assert branch(r) == "delivery_in_progress"
    assert "SOP-011/CCM-EC/OM/I/2022" in joined(r)
    assert "SOP-009/CCM-EC/OM/IV/2020" in joined(r)
    assert "SOP-006/CCM-Back/OM/IV/2017" in joined(r)
    assert r.ticket is None


def test_8_completed_ganti_kartu() -> None:
    assert decide("completed") == Need("question", "check_gol_jenis_order")
    answers = {"check_gol_jenis_order": "ganti_kartu"}
    assert decide("completed", **answers) == Need("question", "check_gol_kartu_berkendala")
    ok = result("completed", **answers, check_gol_kartu_berkendala=False)
    assert branch(ok) == "completed_ganti_kartu_aktifkan_kartu"
    assert "tsel.me/aktifkankartu" in joined(ok)
    assert ok.ticket is None
    stuck = result("completed", **answers, check_gol_kartu_berkendala=True)
    assert branch(stuck) == "completed_ganti_kartu_berkendala"
    assert stuck.escalation and "Remedy IT" in stuck.escalation
    assert "closing case" in joined(stuck)
    assert_ticket(stuck, None)


def test_8_completed_halo_is_cut_off_on_the_page() -> None:
    r = result("completed", check_gol_jenis_order="halo")
    assert branch(r) == "completed_aktivasi_halo"
    assert r.uncertain
    assert "resi pengiriman" in r.steps[0]
    assert any("terpotong" in w for w in r.warnings)
    perdana = result("completed", check_gol_jenis_order="perdana")
    assert branch(perdana) == "tidak_tercakup"


def test_9_cancelled_sla() -> None:
    r = result("cancelled_sla")
    assert branch(r) == "cancelled_sla"
    assert "1x24 jam" in r.steps[0] and "tercancel otomatis" in r.steps[0]
    assert r.ticket is None


# -- 10 / 18. Delivery Incident --------------------------------------------------------------


def test_18_no_lanjut_button_goes_to_remedy_it() -> None:
    r = result("delivery_incident", check_gol_tombol_lanjut_tidak_muncul=True)
    assert branch(r) == "delivery_incident_tombol_lanjut_tidak_muncul"
    assert r.escalation == "Remedy IT"
    assert_ticket(r, "K84-Delivery Incident")
    assert "No. Resi (bila ada)" in r.ticket.labels


def incident(**answers: Any) -> Dict[str, Any]:
    return {"check_gol_tombol_lanjut_tidak_muncul": False, "courier": "jne", **answers}


@pytest.mark.parametrize(
    ("delivery_type", "age", "past"),
    [
        ("reguler", timedelta(days=5), True),
        ("reguler", timedelta(days=5) - timedelta(minutes=1), False),
        ("instant", timedelta(hours=6), True),
        ("instant", timedelta(hours=5, minutes=59), False),
    ],
)
def test_10_sla_5_days_regular_6_hours_instant(
    delivery_type: str, age: timedelta, past: bool
) -> None:
    answers = incident(delivery_type=delivery_type, event_time=iso(NOW - age))
    outcome = decide("delivery_incident", **answers)
    if past:
        assert outcome == Need("question", "check_gol_diambil_kurir")
        return
    assert isinstance(outcome, SopResult)
    assert branch(outcome) == "delivery_incident_belum_lewat_sla"
    assert outcome.uncertain and outcome.ticket is None
    limit = "5 hari" if delivery_type == "reguler" else "6 jam"
    assert any(limit in s and "belum terlewati" in s for s in outcome.steps)


def test_10_not_picked_up_agent_contacts_the_courier() -> None:
    answers = incident(
        delivery_type="reguler",
        event_time="2026-11-10T08:00:00+07:00",
        check_gol_diambil_kurir=False,
    )
    r = result("delivery_incident", **answers)
    assert branch(r) == "delivery_incident_belum_diambil_kurir"
    assert r.escalation == "FOS GraPARI (sesuai DSC) dan kurir"
    assert "Agent eskalasi ke FOS GraPARI yang tertera pada DSC untuk follow up." in r.steps
    assert any("menghubungi kurir (jne)" in s and "tim GraPARI Online" in s for s in r.steps)
    assert "Minggu, 15 Nov 2026 08.00 WIB" in r.steps[0]  # SLA 5 days reached
    assert_ticket(r, "K84-Delivery Incident")
    assert "No. Resi (bila ada)" in r.ticket.missing


def test_10_picked_up_not_arrived_checks_courier_dashboard() -> None:
    answers = incident(
        delivery_type="instant",
        event_time="2026-11-21T08:00:00+07:00",
        check_gol_diambil_kurir=True,
    )
    assert decide("delivery_incident", **answers) == Need(
        "question", "check_gol_live_tracking_sampai"
    )
    r = result("delivery_incident", **answers, check_gol_live_tracking_sampai=False)
    assert branch(r) == "delivery_incident_belum_sampai"
    assert "6 jam" in r.steps[0] and "Sabtu, 21 Nov 2026 14.00 WIB" in r.steps[0]
    assert any("dashboard kurir (on progress)" in s for s in r.steps)
    assert_ticket(r, "K84-Delivery Incident")


def test_10_arrived_resume_order_is_cut_off() -> None:
    answers = incident(
        delivery_type="reguler",
        event_time="2026-11-10T08:00:00+07:00",
        check_gol_diambil_kurir=True,
        check_gol_live_tracking_sampai=True,
    )
    r = result("delivery_incident", **answers)
    assert branch(r) == "delivery_incident_sudah_sampai"
    assert r.uncertain
    assert any("Resume Order di DSC" in s and "klik Lanjut" in s for s in r.steps)
    assert any("terpotong" in w for w in r.warnings)
    assert_ticket(r, "K84-Delivery Incident")


# -- 11-16, 19-21 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gol_case", "escalation"),
    [
        ("benefit_belum_didapat", "INT 404 BESHQ"),
        ("nomor_tidak_bisa_digunakan", "INT 404 BESHQ"),
        ("gagal_upload_foto", "Remedy IT"),
    ],
)
def test_11_12_20_direct_escalations_without_category(gol_case: str, escalation: str) -> None:
    answers: Dict[str, Any] = {}
    if gol_case == "gagal_upload_foto":
        answers["order_id"] = None
    r = ENGINE.evaluate({**BASE, **answers, "gol_case": gol_case}, NOW)
    assert isinstance(r, SopResult)
    assert branch(r) == gol_case
    assert r.escalation == escalation
    assert escalation in joined(r)
    assert r.ticket is not None and r.as_payload()["ticket"]["kip"] is None
    assert NO_KIP_WARNING in r.warnings


def test_13_psb_submit_customer_cannot_reach_grapari() -> None:
    assert decide("tidak_bisa_submit_order_psb") == Need(
        "question", "check_gol_psb_sulit_hubungi_grapari"
    )
    r = result("tidak_bisa_submit_order_psb", check_gol_psb_sulit_hubungi_grapari=True)
    assert branch(r) == "submit_order_psb_eskalasi_grapari"
    assert r.escalation == "GraPARI terkait"
    assert_ticket(r, "K11-Tidak bisa submit order di menu PSB Web")


def test_13_psb_submit_grapari_cannot_activate() -> None:
    answers = {"check_gol_psb_sulit_hubungi_grapari": False}
    assert decide("tidak_bisa_submit_order_psb", **answers) == Need(
        "question", "check_gol_psb_grapari_tidak_bisa_aktivasi"
    )
    r = result(
        "tidak_bisa_submit_order_psb", **answers, check_gol_psb_grapari_tidak_bisa_aktivasi=True
    )
    assert branch(r) == "submit_order_psb_remedy_oleh_grapari"
    assert r.escalation == "Remedy IT (oleh tim GraPARI via DSC)"
    assert r.uncertain and r.ticket is None
    neither = result(
        "tidak_bisa_submit_order_psb", **answers, check_gol_psb_grapari_tidak_bisa_aktivasi=False
    )
    assert branch(neither) == "tidak_tercakup"


def test_14_aktivasi_psb_gagal() -> None:
    assert decide("aktivasi_psb_gagal") == Need("question", "check_gol_psb_pengaduan_close")
    first = result("aktivasi_psb_gagal", check_gol_psb_pengaduan_close=False)
    assert branch(first) == "aktivasi_psb_gagal_remedy_it"
    assert first.escalation == "Remedy IT"
    assert "cek case terkait" in first.steps[0]
    assert_ticket(first, "K11-Aktivasi PSB Gagal")
    assert "Keterangan gagal" in first.ticket.labels
    again = result("aktivasi_psb_gagal", check_gol_psb_pengaduan_close=True)
    assert branch(again) == "aktivasi_psb_gagal_tiket_baru"
    assert "buat ticket baru" in again.steps[0]
    assert_ticket(again, "K11-Aktivasi PSB Gagal")


def test_15_bonus_not_matching() -> None:
    r = result("bonus_tidak_sesuai")
    assert branch(r) == "bonus_tidak_sesuai"
    assert r.escalation == "INT 404 BESHQ"
    assert "kuota lokal" in joined(r)
    assert r.uncertain and any("dan masa" in w for w in r.warnings)
    assert_ticket(r, "K11-Paket / kuota bonus tidak sesuai")
    assert "Paket/jenis bonus yang dikeluhkan" in r.ticket.labels
    assert "No. Resi (bila ada)" not in r.ticket.labels
    assert "Keterangan gagal" not in r.ticket.labels


def test_16_order_id_search_range_is_14_days() -> None:
    start = {"email": "budi@gmail.com", "gol_case": "order_id_tidak_ditemukan"}
    assert ENGINE.evaluate(start, NOW) == Need("slot", "event_time")
    start["event_time"] = "2026-11-08T10:00:00+07:00"
    assert ENGINE.evaluate(start, NOW) == Need("question", "check_gol_order_id_ditemukan")
    missing = ENGINE.evaluate({**start, "check_gol_order_id_ditemukan": False}, NOW)
    assert isinstance(missing, SopResult)
    assert branch(missing) == "order_id_tidak_ditemukan_remedy_it"
    assert "Minggu, 8 Nov 2026 10.00 WIB sampai Minggu, 22 Nov 2026 10.00 WIB" in missing.steps[0]
    assert missing.escalation == "Remedy IT"
    assert missing.ticket is not None and missing.as_payload()["ticket"]["kip"] is None
    assert "Order ID" in missing.ticket.missing
    assert any("K11-Tidak terima order ID Pasang Baru via Web" in w for w in missing.warnings)
    found = ENGINE.evaluate({**start, "check_gol_order_id_ditemukan": True}, NOW)
    assert branch(found) == "order_id_ditemukan_dalam_range"
    assert found.ticket is None


def test_19_payment_error_goes_to_bes_hq_int_404() -> None:
    assert decide("gagal_bayar") == Need("question", "check_gol_bayar_berhasil_status_tetap")
    r = result("gagal_bayar", check_gol_bayar_berhasil_status_tetap=True)
    assert branch(r) == "gagal_bayar_eskalasi_beshq"
    assert "BES HQ INT 404" in r.steps[0]
    assert any("bukti bayar ke email CC" in s for s in r.steps)
    assert r.uncertain  # "... INT 404 untuk" is cut off
    assert_ticket(r, "K92-Gagal/error saat melakukan pembayaran")
    assert "No. Resi (bila ada)" in r.ticket.labels
    assert "Capture bukti pembayaran (bila dibutuhkan)" in r.ticket.labels
    other = result("gagal_bayar", check_gol_bayar_berhasil_status_tetap=False)
    assert branch(other) == "tidak_tercakup"


def test_21_kelurahan_not_shown() -> None:
    start = {"email": "budi@gmail.com", "gol_case": "kelurahan_tidak_muncul"}
    assert ENGINE.evaluate(start, NOW) == Need(
        "question", "check_gol_pin_sesuai_tetap_tidak_muncul"
    )
    educate = ENGINE.evaluate({**start, "check_gol_pin_sesuai_tetap_tidak_muncul": False}, NOW)
    assert branch(educate) == "kelurahan_edukasi_pin"
    assert "lokasi PIN" in joined(educate)
    assert educate.ticket is None
    escalate = ENGINE.evaluate({**start, "check_gol_pin_sesuai_tetap_tidak_muncul": True}, NOW)
    assert branch(escalate) == "kelurahan_eskalasi_remedy_it"
    assert escalate.escalation == "Remedy IT"
    assert escalate.uncertain
    assert escalate.ticket is not None


# -- page-wide -----------------------------------------------------------------------------


def test_the_three_closing_checks_are_shown() -> None:
    texts = " ".join(c.text for c in ENGINE.sop.checks)
    assert "Interaksi history" in texts or "interaksi history" in texts
    assert "Order ID atau alamat email pelanggan pada aplikasi DSC" in texts
    assert "informasi gangguan" in texts


def test_every_gol_case_reaches_an_outcome_or_a_question() -> None:
    reached: List[str] = []
    for gol_case in CONTRACT_GOL_CASES:
        outcome = ENGINE.evaluate({**BASE, "gol_case": gol_case}, NOW)
        assert outcome is not None
        reached.append(gol_case)
    assert reached == CONTRACT_GOL_CASES


def test_categories_come_only_from_the_page() -> None:
    page_kips = {
        "K11-Tidak bisa submit order di menu PSB Web",
        "K11-Aktivasi PSB Gagal",
        "K11-Paket / kuota bonus tidak sesuai",
        "K84-Activation Incident",
        "K84-Delivery Incident",
        "K92-Gagal/error saat melakukan pembayaran",
    }
    for outcome in ENGINE.sop.outcomes.values():
        if outcome.ticket is not None and outcome.ticket.kip is not None:
            assert outcome.ticket.kip in page_kips
