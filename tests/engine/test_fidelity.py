"""Advice on every branch for the way agents type: times known only to the day, values outside
the page's lists, the honest "tidak punya / tidak tahu", facts already said, each message once.

Every value goes through the same validators the form uses (``validate_values``), then the
engine, against a fixed now in the agents' zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict
from zoneinfo import ZoneInfo

import pytest

from sop_engine.engine import NO_VALUE, Need, SopEngine, SopResult
from sop_engine.kinds import other_kind_named
from sop_engine.loader import default_registry
from sop_engine.render import result_payload, result_text
from sop_engine.slot_values import NO_VALUE_HINT, check_not_known, validate_values

from .helpers import WIB

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=WIB)
REG = default_registry()
GOL = REG.by_id["grapari_online"]
CALLBACK = REG.by_id["callback"]
PULSA = REG.by_id["pulsa_belum_masuk"]
IMES = REG.by_id["imes_tagihan"]
BAYAR = REG.by_id["nomor_belum_aktif_setelah_bayar"]


def typed(engine: SopEngine, now: datetime = NOW, **texts: Any) -> Dict[str, Any]:
    """Values as the agent typed them, through the form's validation."""
    values, messages = validate_values(engine.sop, dict(texts), now)
    refused = [m for m in messages if "belum valid" in m]
    assert not refused, refused
    return values


def branch(decision: Any) -> str:
    assert isinstance(decision, SopResult), decision
    return decision.case_id.split(".", 1)[1]


def shown(r: SopResult) -> str:
    return result_text(r)


# ----------------------------------------------------------------------------- 1. time rules

GOL_INSTANT = {"gol_case": "pending_verification", "email": "a@b.co", "order_id": "GOL123456"}


@pytest.mark.parametrize("said", ["hari ini", "tadi", "tadi pagi"])
def test_instant_order_known_only_to_the_day_asks_the_hour_instead_of_escalating(said: str) -> None:
    noon = NOW.replace(hour=12)
    slots = {**GOL_INSTANT, **typed(GOL, noon, event_time=said), "delivery_type": "instant"}
    assert GOL.evaluate(slots, noon) == Need("slot", "event_hour")


def test_tadi_pagi_said_at_10_is_surely_within_6_hours() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="tadi pagi"), "delivery_type": "instant"}
    assert branch(GOL.evaluate(slots, NOW)) == "pending_verification_instant_belum_6_jam"


def test_the_hour_given_afterwards_decides_the_6_hour_rule() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="hari ini"), "delivery_type": "instant"}
    four_hours_ago = {**slots, **typed(GOL, event_time="hari ini", event_hour="06.00")}
    assert branch(GOL.evaluate(four_hours_ago, NOW)) == "pending_verification_instant_belum_6_jam"
    seven_hours_ago = {**slots, **typed(GOL, event_time="hari ini", event_hour="jam 3")}
    assert branch(GOL.evaluate(seven_hours_ago, NOW)) == "pending_verification_instant_lewat_6_jam"


def test_hour_unknown_takes_the_branch_where_no_limit_is_passed_and_says_so() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="hari ini"), "delivery_type": "instant"}
    r = GOL.evaluate({**slots, "event_hour": NO_VALUE}, NOW)
    assert branch(r) == "pending_verification_instant_belum_6_jam"
    assert isinstance(r, SopResult) and r.uncertain
    assert any("jamnya tidak diketahui" in w and "konfirmasi ke TL" in w for w in r.warnings)


def test_a_day_far_enough_back_decides_without_asking_the_hour() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="20/11"), "delivery_type": "reguler"}
    r = GOL.evaluate(slots, NOW)
    assert branch(r) == "pending_verification_reguler_lewat_1x24_jam"
    assert "00.00" not in " ".join(r.steps).split("antara")[0]  # never shown as midnight


def test_reguler_yesterday_without_hour_asks_because_1x24_falls_within_the_day() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="kemarin"), "delivery_type": "reguler"}
    assert GOL.evaluate(slots, NOW) == Need("slot", "event_hour")


def test_activation_wait_branch_has_no_invented_remedy_sentence() -> None:
    slots = {
        **GOL_INSTANT,
        "gol_case": "activation_in_progress",
        "check_gol_jenis_order": "perdana",
        "check_gol_aktivasi_langkah_dilakukan": True,
        **typed(GOL, event_time="hari ini jam 8 pagi"),
    }
    r = GOL.evaluate(slots, NOW)
    assert branch(r) == "activation_in_progress_tunggu"
    assert "Bila sampai" not in " ".join(r.steps)


def test_dropped_call_said_as_tadi_asks_the_hour_and_gets_no_false_30_minute_warning() -> None:
    slots = {"callback_case": "pelurusan_informasi", **typed(CALLBACK, event_time="tadi")}
    assert CALLBACK.evaluate(slots, NOW) == Need("slot", "event_hour")
    r = CALLBACK.evaluate({**slots, **typed(CALLBACK, event_time="tadi", event_hour="09.50")}, NOW)
    assert branch(r) == "pelurusan_informasi"
    assert not any("terlewati" in w for w in r.warnings)
    assert "10.20" in " ".join(r.steps)  # callback at the latest 30 minutes after 09.50


def test_an_hour_outside_the_known_day_part_is_refused() -> None:
    values, messages = validate_values(
        CALLBACK.sop, {"event_time": "tadi pagi", "event_hour": "09.59"}, NOW
    )
    assert values["event_hour"] == "09:59"
    _, messages = validate_values(
        CALLBACK.sop,
        {"event_hour": "jam 2 siang"},
        NOW,
        previous={"event_time": values["event_time"]},
    )
    assert any("di luar waktu" in m for m in messages)


def test_clock_time_later_than_now_without_a_date_is_asked_not_assumed_yesterday() -> None:
    _, messages = validate_values(CALLBACK.sop, {"event_time": "jam 9 malam"}, NOW)
    assert any("belum lewat hari ini" in m for m in messages)


def test_page_expiry_is_judged_in_the_agents_zone() -> None:
    # 30 Jun 2025 18:00 UTC is already 1 Jul 2025 01:00 WIB: the page (expired 30 Jun) is old
    now = datetime(2025, 6, 30, 18, 0, tzinfo=ZoneInfo("UTC"))
    slots = {"callback_case": "info_produk_belum_ada"}
    r = CALLBACK.evaluate(slots, now)
    assert isinstance(r, SopResult)
    assert any("kedaluwarsa" in w for w in r.warnings)


# ----------------------------------------------------------------------------- 2. open lists


@pytest.mark.parametrize(
    "channel", ["konter pulsa", "Alfamidi", "virtual account", "autodebet", "bayar di GraPARI"]
)
def test_recharge_channel_outside_the_list_is_grouped_non_fintech_and_noted(channel: str) -> None:
    slots = {
        **typed(PULSA, msisdn="081234567890", nominal="50rb", event_time="kemarin jam 3 sore"),
        **typed(PULSA, channel=channel, serial_number="0215123456789012345678901"),
        "check_recharge_visible": False,
        "check_servo_used": False,
        "check_call_detail_updated": False,
    }
    r = PULSA.evaluate(slots, NOW)
    assert branch(r) == "non_fintech"
    assert any("tidak ada di daftar" in w for w in r.warnings)


def test_listed_channel_has_no_unlisted_note() -> None:
    slots = {
        **typed(PULSA, msisdn="081234567890", nominal="50rb", event_time="kemarin jam 3 sore"),
        **typed(PULSA, channel="indomaret", serial_number="0215123456789012345678901"),
        "check_recharge_visible": False,
        "check_servo_used": False,
        "check_call_detail_updated": False,
    }
    r = PULSA.evaluate(slots, NOW)
    assert branch(r) == "non_fintech"
    assert not any("tidak ada di daftar" in w for w in r.warnings)


@pytest.mark.parametrize("product", ["ASTINET", "vpn ip", "METRO E"])
def test_imes_product_outside_the_list_follows_the_general_path(product: str) -> None:
    values = typed(IMES, imes_product=product)
    decision = IMES.evaluate(values, NOW)
    assert decision == Need("question", "check_imes_data_pelanggan")


def test_bill_payment_channel_refusal_does_not_speak_of_recharge() -> None:
    _, messages = validate_values(BAYAR.sop, {"channel": "???"}, NOW)
    assert messages and all("isi ulang" not in m for m in messages)


# ----------------------------------------------------------------------------- 3. ways out


@pytest.mark.parametrize(
    "text", ["pelanggan tidak punya SN", "SN kehapus", "gak tau", "blm ada", "tidak_ada"]
)
def test_no_sn_is_an_honest_value_not_a_loop(text: str) -> None:
    values, messages = validate_values(PULSA.sop, {"serial_number": text}, NOW)
    assert values["serial_number"] == NO_VALUE
    assert not messages


@pytest.mark.parametrize(
    ("slot", "text", "named"),
    [
        ("channel", "pelanggan ga punya SN, struknya udh dibuang", "Serial Number"),
        ("channel", "id trx nya ga tau", "Transaksi ID"),
        ("msisdn", "email gak punya", "email"),
        ("nominal", "SN kehapus", "Serial Number"),
    ],
)
def test_a_way_out_naming_another_value_does_not_answer_the_question_asked(
    slot: str, text: str, named: str
) -> None:
    values, messages = validate_values(PULSA.sop, {slot: text}, NOW)
    assert values[slot] is None  # nothing recorded for the question being asked
    assert len(messages) == 1 and "belum valid" in messages[0] and named in messages[0]


@pytest.mark.parametrize(
    ("slot", "text"),
    [("serial_number", "pelanggan ga punya SN"), ("transaction_id", "id trx nya ga tau")],
)
def test_a_way_out_naming_its_own_value_is_the_way_out(slot: str, text: str) -> None:
    values, messages = validate_values(PULSA.sop, {slot: text}, NOW)
    assert values[slot] == NO_VALUE and not messages


@pytest.mark.parametrize(
    ("text", "kind", "other"),
    [
        ("pelanggan tidak punya SN", "channel", "serial_number"),
        ("pelanggan tidak punya SN", "serial_number", None),
        ("gak tau", "channel", None),
        ("no order ga ada", "email", "order_id"),
        ("sid ga tau", "account_number", "sid"),
        ("akun ga tau", "sid", "account_number"),
        ("email ga punya", "email", None),
        (None, "channel", None),
    ],
)
def test_other_kind_named(text: Any, kind: str, other: Any) -> None:
    assert other_kind_named(text, kind) == other


def test_no_sn_ends_in_what_the_page_says_contact_the_seller() -> None:
    slots = {
        **typed(PULSA, msisdn="081234567890", nominal="50rb", event_time="kemarin jam 3 sore"),
        **typed(PULSA, channel="indomaret", serial_number="pelanggan tidak punya SN"),
        "check_recharge_visible": False,
        "check_servo_used": False,
        "check_call_detail_updated": False,
    }
    r = PULSA.evaluate(slots, NOW)
    assert branch(r) == "sn_tidak_ada"
    assert "menghubungi penjual pulsanya" in " ".join(r.steps)
    assert any("konfirmasi ke TL" in w for w in r.warnings)


def test_a_missing_value_the_page_is_silent_about_says_konfirmasi_ke_tl() -> None:
    slots = {
        **typed(BAYAR, msisdn="tidak tahu", event_time="kemarin jam 3 sore", channel="indomaret"),
        "layanan": "semua",
        "check_bayar_notifikasi": True,
        "check_bayar_payment_in_fa": True,
        "check_bayar_status": "aging",
    }
    r = BAYAR.evaluate(slots, NOW)
    assert isinstance(r, SopResult)
    assert any("MSISDN: pelanggan tidak punya/tidak tahu" in w for w in r.warnings)
    assert r.uncertain and "konfirmasi ke TL" in shown(r)


def test_unknown_time_of_an_order_never_loops() -> None:
    slots = {**GOL_INSTANT, "event_time": NO_VALUE, "delivery_type": "instant"}
    r = GOL.evaluate(slots, NOW)
    assert branch(r) == "tidak_tercakup"


def test_a_bare_negation_is_never_a_case_criterion() -> None:
    values, messages = validate_values(CALLBACK.sop, {"callback_case": "blm ada"}, NOW)
    assert values["callback_case"] is None
    assert messages and "hanya penyangkalan" in messages[0] and NO_VALUE_HINT in messages[0]


def test_every_refusal_offers_the_way_out() -> None:
    _, messages = validate_values(PULSA.sop, {"serial_number": "12345"}, NOW)
    assert messages and NO_VALUE_HINT in messages[0]


# ----------------------------------------------------------------------------- 5. said facts


@pytest.mark.parametrize(
    ("engine", "text", "expected"),
    [
        (
            CALLBACK,
            "plg call putus tgl 12 kemarin, blm ada tiket",
            {"check_cb_history_tiket": False},
        ),
        (CALLBACK, "call terputus, history tiket udh ada", {"check_cb_history_tiket": True}),
        (CALLBACK, "call putus, sudah ada tiket sebelumnya", {"check_cb_history_tiket": True}),
        (CALLBACK, "call putus blm ada", {}),
        (PULSA, "isi pulsa via dana, saldo dana udh kepotong", {"check_balance_deducted": True}),
        (PULSA, "saldo blm kepotong tp pulsa blm masuk", {"check_balance_deducted": False}),
        (
            BAYAR,
            "udh bayar tp nomor msh mati, status dsc active collection block 1",
            {"check_bayar_status": "active_collection_block_1"},
        ),
    ],
)
def test_facts_in_the_agents_message_answer_the_check(
    engine: SopEngine, text: str, expected: Dict[str, Any]
) -> None:
    assert engine.said_answers(text) == expected


# ----------------------------------------------------------------------------- 6. once


def test_each_warning_once_and_the_payload_keeps_its_contract() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="hari ini"), "delivery_type": "instant"}
    r = GOL.evaluate({**slots, "event_hour": NO_VALUE}, NOW, notes=["x", "x"])
    assert isinstance(r, SopResult)
    assert len(r.warnings) == len(set(r.warnings))
    payload = result_payload(r)
    assert set(payload) >= {"type", "case_id", "title", "steps", "ticket", "source", "warnings"}
    assert payload["case_id"] == "grapari_online.pending_verification_instant_belum_6_jam"


# ----------------------------------------------------------------------------- 4. page lines


@pytest.mark.parametrize("data", ["ao", "account_number", "tidak_ada"])
def test_imes_company_data_is_asked_whenever_no_sid_is_given(data: str) -> None:
    slots: Dict[str, Any] = {
        "imes_product": "radio",
        "check_imes_data_pelanggan": data,
        "account_number": "4861675",
        "check_imes_multi_sid": False,
        "check_imes_kanal_kontak": "voice",
        "check_imes_am_tidak_respon": False,
    }
    r = IMES.evaluate(slots, NOW)
    assert branch(r) == "koordinasi_dengan_am"
    assert any("Nama CC/Perusahaan" in s for s in r.steps)


def test_pulsa_scope_note_is_in_the_data() -> None:
    assert PULSA.sop.scope_note is not None
    assert "selain pulsa atau tagihan" in PULSA.sop.scope_note.text


def test_callback_rule_keeps_the_pages_ambiguous_words_and_says_so() -> None:
    r = CALLBACK.evaluate(
        {"callback_case": "pelurusan_informasi", "event_time": NOW.isoformat()}, NOW
    )
    text = " ".join(r.steps) if isinstance(r, SopResult) else ""
    assert "(Agent Baru bisa Callback)" in text and "konfirmasi ke TL" in text


def test_a_new_event_time_drops_the_hour_given_for_the_old_day() -> None:
    values, _ = validate_values(
        GOL.sop, {"event_time": "kemarin"}, NOW, previous={"event_time": "x", "event_hour": "08:00"}
    )
    assert values["event_hour"] is None


def test_a_day_only_time_not_yet_needed_does_not_ask_the_hour_first() -> None:
    slots = {"callback_case": "call_terputus", **typed(CALLBACK, event_time="tadi")}
    assert CALLBACK.evaluate(slots, NOW) == Need("question", "check_cb_agent_kedua")


def test_a_stray_number_next_to_a_time_expression_is_ignored() -> None:
    values = typed(BAYAR, event_time=["kemarin", "1"])
    assert values["event_time"].startswith("2026-11-21T00:00:00+07:00/")


def test_check_question_refusals_do_not_offer_a_button_they_do_not_have() -> None:
    _, messages = validate_values(IMES.sop, {"check_imes_data_pelanggan": "telepon"}, NOW)
    assert messages and NO_VALUE_HINT not in messages[0]


def test_unknown_hour_shows_the_known_day_not_an_invented_time_and_warns_once() -> None:
    slots = {**GOL_INSTANT, **typed(GOL, event_time="kemarin"), "delivery_type": "reguler"}
    r = GOL.evaluate({**slots, "event_hour": NO_VALUE}, NOW)
    assert branch(r) == "pending_verification_reguler_tunggu"
    assert "antara 00.00-23.59" in " ".join(r.steps)
    assert not any("Jam order: pelanggan tidak punya" in w for w in r.warnings)


# --------------------------------------------------------------- check not known
def test_an_unknown_check_answer_ends_in_konfirmasi_ke_tl_not_a_branch() -> None:
    engine = default_registry().by_id["grapari_online"]
    slots = {
        "gol_case": "delivery_incident",
        "email": "rina.s@contoh.id",
        "order_id": "GOL7788123",
        "event_time": "2026-11-10T13:15:00+07:00",
        "delivery_type": "reguler",
        "courier": "jne",
        "check_gol_tombol_lanjut_tidak_muncul": False,
        "check_gol_diambil_kurir": NO_VALUE,
    }
    result = engine.evaluate(slots, datetime.fromisoformat("2026-11-22T10:00:00+07:00"))
    assert isinstance(result, SopResult)
    assert result.case_id == "grapari_online.tidak_tercakup"
    assert result.uncertain and result.escalation is None
    assert any("Pesanan sudah diambil oleh kurir" in w and "TL" in w for w in result.warnings)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tidak tahu", True),
        ("ga tau", True),
        ("gatau kak", True),
        ("belum dicek", True),
        ("blm bisa dicek", True),
        ("blm sempat cek", True),
        ("kurang tau", True),
        ("tidak", False),
        ("tidak ada", False),
        ("belum", False),
        ("ya sudah", False),
        ("", False),
        (None, False),
    ],
)
def test_check_not_known_words(text: Any, expected: bool) -> None:
    assert check_not_known(text) is expected


def test_an_unknown_order_date_never_claims_the_sla_has_passed() -> None:
    # the SLA rule cannot be decided without the order date: no FOS escalation "sudah
    # mencapai batas SLA" on a date nobody knows
    engine = default_registry().by_id["grapari_online"]
    slots = {
        "gol_case": "delivery_incident",
        "email": "sari.w@contoh.id",
        "order_id": "GOL4400912",
        "event_time": NO_VALUE,
        "delivery_type": "instant",
        "courier": "gosend",
        "check_gol_tombol_lanjut_tidak_muncul": False,
        "check_gol_diambil_kurir": False,
    }
    result = engine.evaluate(slots, datetime.fromisoformat("2026-11-22T10:00:00+07:00"))
    assert isinstance(result, SopResult)
    assert result.case_id == "grapari_online.tidak_tercakup", result.case_id
    assert not any("batas SLA" in s for s in result.steps)
    assert any("Tanggal dan jam order" in w and "TL" in w for w in result.warnings)


def test_a_check_any_answer_accepts_not_known_with_a_warning() -> None:
    slots: Dict[str, Any] = {
        "imes_product": "astinet",
        "check_imes_data_pelanggan": "account_number",
        "account_number": "5512093",
        "check_imes_multi_sid": NO_VALUE,
        "check_imes_kanal_kontak": "non_voice",
        "check_imes_am_tidak_respon": True,
    }
    result = IMES.evaluate(slots, NOW)
    assert isinstance(result, SopResult)
    assert result.case_id == "imes_tagihan.koordinasi_dengan_eos"
    assert result.uncertain
    assert any("Hasil cek belum diketahui" in w for w in result.warnings)


@pytest.mark.parametrize("said", ["barusan", "baru aja", "br saja"])
def test_a_call_dropped_just_now_is_read_and_its_hour_asked(said: str) -> None:
    slots = {"callback_case": "call_hening", **typed(CALLBACK, event_time=said)}
    assert CALLBACK.evaluate(
        {**slots, "check_cb_agent_kedua": False, "check_cb_history_tiket": False}, NOW
    ) == Need("slot", "event_hour")
