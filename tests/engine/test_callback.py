"""Every situation of the current "New Callback" flow through the engine: criteria, the
30-minute rule, the history check, the IRMA MyCX entries, agent 2, and grey-area cases.
The old flow (after "Flow Dibawah ini sudah Tidak berlaku") must never be served."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from sop_engine.engine import NO_KIP_WARNING, Need, SopResult
from sop_engine.loader import default_registry
from sop_engine.render import result_payload, result_text

from .helpers import WIB, as_result, branch, joined
from .test_no_credentials_in_sop_data import explore

ENGINE = default_registry().by_intent["callback"]
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)
CALL_END = "2026-11-22T09:50:00+07:00"  # 10 minutes before NOW
EXPIRED = "Halaman sumber sudah kedaluwarsa sejak 30 Jun 2025"
SCRIPT_COORDINATE = (
    "kami bantu koordinasikan terlebih dahulu ke unit terkait. Kami akan hubungi kembali "
    "setelah menerima update informasinya."
)
SCRIPT_RELEASE = "Dikarenakan suara Bapak/Ibu tidak terdengar, kami bantu tutup dari system kami."
IRMA_CALLBACK = (
    "Interaction: A_INFORMATION; Product: A_Information_Callback; Voice of Customer: "
    "A_Callback Mandiri;"
)
IRMA_CALL_PUTUS = (
    "Interaction: A_INFORMATION; Product: A_Information_Call Putus; Voice of Customer: "
    "A_Call Putus_Belum sempat tanya DN atau case pelanggan;"
)
AGENT1 = {"check_cb_agent_kedua": False}


def decide(case: str, now: datetime = NOW, **answers: Any) -> Any:
    return ENGINE.evaluate({"callback_case": case, **answers}, now)


def result(case: str, now: datetime = NOW, **answers: Any) -> SopResult:
    return as_result(decide(case, now, **answers))


# -- criteria and the expired page ---------------------------------------------------------


def test_callback_case_is_asked_with_the_five_contract_values() -> None:
    assert ENGINE.evaluate({}, NOW) == Need("slot", "callback_case")
    spec = next(s for s in ENGINE.sop.slots if s.name == "callback_case")
    assert (spec.validator, spec.entity) == ("callback_case", "callback_case")
    assert [b.value for b in spec.buttons] == [
        "pelurusan_informasi",
        "call_terputus",
        "call_hening",
        "info_produk_belum_ada",
        "case_abu_abu",
    ]
    criteria = " ".join(c.text for c in ENGINE.sop.checks)
    assert "Pelurusan informasi".lower() in criteria.lower()
    assert "AUX 1" in criteria and "WAG DC TIER 1 CC147" in criteria


def test_every_answer_carries_the_expired_warning_after_30_june_2025() -> None:
    results = [r for _, r in explore(ENGINE, NOW)]
    assert len({r.case_id for r in results}) == len(ENGINE.sop.outcomes)
    for r in results:
        assert r.warnings[0].startswith(EXPIRED), r.case_id
        assert result_payload(r)["warnings"][0].startswith(EXPIRED)


@pytest.mark.parametrize(
    ("today", "expired"),
    [
        (datetime(2025, 6, 30, 23, 0, tzinfo=WIB), False),
        (datetime(2025, 7, 1, 8, 0, tzinfo=WIB), True),
    ],
)
def test_expiry_edge(today: datetime, expired: bool) -> None:
    r = result("case_abu_abu", today)
    assert any(w.startswith(EXPIRED) for w in r.warnings) is expired


def test_old_flow_never_appears_as_a_step() -> None:
    for _, r in explore(ENGINE, NOW):
        shown = result_text(r) + " ".join(r.steps) + " ".join(r.warnings)
        assert "WITA" not in shown.upper(), r.case_id
        assert "SMS TURBO" not in shown.upper(), r.case_id
        assert "MANUAL TIKET" not in shown.upper(), r.case_id
        assert "07.30" not in shown and "19.00" not in shown, r.case_id
    for question in ENGINE.sop.questions:
        assert "WITA" not in question.text.upper()


# -- pelurusan informasi -------------------------------------------------------------------


def test_pelurusan_informasi_callback_within_30_minutes() -> None:
    assert decide("pelurusan_informasi") == Need("slot", "event_time")
    r = result("pelurusan_informasi", event_time=CALL_END)
    assert branch(r) == "pelurusan_informasi"
    deadline = next(s for s in r.steps if "maksimal 30 menit" in s)
    assert "callback paling lambat Minggu, 22 Nov 2026 10.20 WIB" in deadline
    assert any(SCRIPT_COORDINATE in s for s in r.steps)
    assert "Informasi yang disampaikan jelas dan singkat." in r.steps
    assert any(IRMA_CALLBACK in s and "extension callback" in s for s in r.steps)
    assert not any("terlewati" in w for w in r.warnings)
    assert r.ticket is None


@pytest.mark.parametrize(("minutes_ago", "late"), [(30, False), (31, True)])
def test_warning_when_more_than_30_minutes_passed(minutes_ago: int, late: bool) -> None:
    now = datetime(2026, 11, 22, 10, minutes_ago, tzinfo=WIB)
    r = result("pelurusan_informasi", now, event_time="2026-11-22T10:00:00+07:00")
    warning = [w for w in r.warnings if "batas maksimal 30 menit" in w]
    assert bool(warning) is late
    if late:
        assert "Sudah 31.0 menit" in warning[0]


def test_call_ended_2350_deadline_after_midnight() -> None:
    now = datetime(2026, 11, 23, 0, 5, tzinfo=WIB)
    answers = {**AGENT1, "check_cb_history_tiket": False, "check_cb_interaksi_lengkap": False}
    r = result("call_terputus", now, event_time="2026-11-22T23:50:00+07:00", **answers)
    deadline = next(s for s in r.steps if "maksimal 30 menit" in s)
    assert "call terputus Minggu, 22 Nov 2026 23.50 WIB" in deadline
    assert "callback paling lambat Senin, 23 Nov 2026 00.20 WIB" in deadline
    assert "Malam/dini hari pun tetap callback" in deadline
    assert not any("terlewati" in w for w in r.warnings)
    later = result(
        "call_terputus",
        datetime(2026, 11, 23, 0, 35, tzinfo=WIB),
        event_time="2026-11-22T23:50:00+07:00",
        **answers,
    )
    assert any("45.0 menit" in w and "Senin, 23 Nov 2026 00.20 WIB" in w for w in later.warnings)


# -- call terputus / call hening, agent 1 ----------------------------------------------------


@pytest.mark.parametrize("case", ["call_terputus", "call_hening"])
def test_agent_2_question_then_history_first(case: str) -> None:
    assert decide(case) == Need("question", "check_cb_agent_kedua")
    assert decide(case, **AGENT1) == Need("question", "check_cb_history_tiket")
    # the call-end time is asked only once a callback is actually needed
    assert decide(case, **AGENT1, check_cb_history_tiket=False) == Need("slot", "event_time")


def test_ticket_history_exists_no_callback_two_irma_interactions() -> None:
    answers = {**AGENT1, "check_cb_history_tiket": True}
    assert decide("call_terputus", **answers) == Need("question", "check_cb_interaksi_lengkap")
    r = result("call_terputus", **answers, check_cb_interaksi_lengkap=True)
    assert branch(r) == "sudah_ada_history_tiket"
    assert "agent tidak perlu melakukan callback, cukup update IRMA MyCX" in joined(r)
    assert "Input 2 interaksi IRMA MyCX" in joined(r)
    assert "input VOC sesuai case" in joined(r)
    assert IRMA_CALL_PUTUS not in joined(r)
    assert not any("maksimal 30 menit" in s for s in r.steps)
    assert r.ticket is None
    no_id = result("call_terputus", **answers, check_cb_interaksi_lengkap=False)
    assert IRMA_CALL_PUTUS in joined(no_id)
    silent = result("call_hening", **answers)
    assert branch(silent) == "sudah_ada_history_tiket"
    assert IRMA_CALL_PUTUS in joined(silent)


def test_no_history_interaction_id_and_case_known() -> None:
    answers = {**AGENT1, "check_cb_history_tiket": False, "event_time": CALL_END}
    r = result("call_terputus", **answers, check_cb_interaksi_lengkap=True)
    assert branch(r) == "callback_interaksi_dan_case_diketahui"
    assert any(SCRIPT_RELEASE in s for s in r.steps)
    assert "agent melakukan callback ke pelanggan" in joined(r)
    assert "input VOC sesuai case di IRMA MyCX" in joined(r)
    assert IRMA_CALLBACK in joined(r)
    assert IRMA_CALL_PUTUS not in joined(r)
    assert "Minggu, 22 Nov 2026 10.20 WIB" in joined(r)
    assert r.ticket is None


def test_no_history_no_interaction_or_no_id() -> None:
    answers = {**AGENT1, "check_cb_history_tiket": False, "event_time": CALL_END}
    r = result("call_terputus", **answers, check_cb_interaksi_lengkap=False)
    assert branch(r) == "callback_belum_ada_interaksi_atau_id"
    assert IRMA_CALL_PUTUS in joined(r)
    assert "WO OBC Caring" in joined(r)
    assert IRMA_CALLBACK in joined(r)  # documentation after the callback
    assert r.ticket is None


def test_silent_call_without_history() -> None:
    answers = {**AGENT1, "check_cb_history_tiket": False, "event_time": CALL_END}
    r = result("call_hening", **answers)
    assert branch(r) == "callback_call_hening"
    assert IRMA_CALL_PUTUS in joined(r)
    assert any(SCRIPT_RELEASE in s for s in r.steps)
    assert "input VOC sesuai case" not in joined(r)  # no interaction question


# -- agent 2 -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["call_terputus", "call_hening"])
def test_agent_2_history_shows_guidance_next_escalation(case: str) -> None:
    agent2 = {"check_cb_agent_kedua": True}
    assert decide(case, **agent2) == Need("question", "check_cb_history_panduan")
    r = result(case, **agent2, check_cb_history_panduan=True)
    assert branch(r) == "agent2_lanjut_eskalasi_tanpa_panduan"
    assert "lanjut ke eskalasi berikutnya tanpa panduan lagi" in r.steps[0]
    assert r.escalation and "tanpa panduan ulang" in r.escalation
    assert r.ticket is None
    facts = ENGINE.facts({"callback_case": case, **agent2}, NOW)
    assert "event_time" not in ENGINE.required_slots(facts)  # agent 2 does not call back


def test_agent_2_nothing_recorded_asks_the_customer() -> None:
    answers = {"check_cb_agent_kedua": True, "check_cb_history_panduan": False}
    assert decide("call_terputus", **answers) == Need("question", "check_cb_pelanggan_hc")
    answers["check_cb_pelanggan_hc"] = False
    assert decide("call_terputus", **answers) == Need("question", "check_cb_sudah_dipandu_agent1")
    guided = result("call_terputus", **answers, check_cb_sudah_dipandu_agent1=True)
    assert branch(guided) == "agent2_lanjut_eskalasi_tanpa_panduan"
    not_guided = result("call_terputus", **answers, check_cb_sudah_dipandu_agent1=False)
    assert branch(not_guided) == "agent2_panduan_sesuai_pansol"
    assert "lakukan panduan sesuai Pansol existing" in not_guided.steps[0]


def test_agent_2_customer_hc_is_not_covered() -> None:
    answers = {"check_cb_agent_kedua": True, "check_cb_history_panduan": False}
    r = result("call_terputus", **answers, check_cb_pelanggan_hc=True)
    assert branch(r) == "agent2_pelanggan_hc"
    assert r.uncertain
    assert any("TL" in w for w in r.warnings)


# -- grey area / product not in KMS ----------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "key"),
    [
        ("info_produk_belum_ada", "info_produk_belum_ada_di_kms"),
        ("case_abu_abu", "case_abu_abu_timsol"),
    ],
)
def test_grey_area_through_tl_and_the_dsc_pool(case: str, key: str) -> None:
    r = result(case)
    assert branch(r) == key
    pool = "N-10217-Complain Handling Officer-CCSemarangnew_site41"
    assert r.escalation == f"Tiket DSC ke pool {pool}"
    assert r.steps[0] == "Agent Tier 1 koordinasi dengan TL."
    assert any(pool in s and "symptom yang mendekati keluhan" in s for s in r.steps)
    assert any("tidak ditemukan konten pada KMS" in s for s in r.steps)
    assert any(SCRIPT_COORDINATE in s for s in r.steps)
    feedback = next(s for s in r.steps if s.startswith("Setelah ada feedback"))
    assert feedback.index("CHO update ke WAG") < feedback.index("TL meneruskan ke agent")
    assert "agent callback pelanggan dan update IRMA MyCX" in feedback
    assert any("A_Callback Mandiri Case Timsol" in s for s in r.steps)
    # a DSC ticket without a KIP category on the page: kip null, said so
    assert r.ticket is not None
    payload = result_payload(r)
    assert payload["ticket"]["kip"] is None
    assert NO_KIP_WARNING in r.warnings
    assert "KIP: (tidak ada di halaman SOP)" in payload["ticket_text"]
    assert "Symptom (yang mendekati keluhan pelanggan)" in r.ticket.missing
    facts = ENGINE.facts({"callback_case": case}, NOW)
    assert "event_time" not in ENGINE.required_slots(facts)


def test_no_other_outcome_has_a_ticket() -> None:
    with_ticket = {k for k, o in ENGINE.sop.outcomes.items() if o.ticket is not None}
    assert with_ticket == {"info_produk_belum_ada_di_kms", "case_abu_abu_timsol"}
