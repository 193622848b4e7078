"""The form for the way agents type: the way-out button, a refused SN answered "pelanggan
tidak punya", facts stated in the opening, a bare negation read as an entity, messages once."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk.executor import CollectingDispatcher

from actions.ask import NO_VALUE_BUTTON, question_message
from actions.cases import ActionStartCase
from actions.forms import ValidateSopForm
from tests.actions.conftest import make_tracker

PULSA = {"active_sop": "pulsa_belum_masuk"}
FILLED = {
    **PULSA,
    "msisdn": "081234567890",
    "nominal": 50000,
    "channel": ["alfamart"],
    "event_time": "2026-11-21T15:00:00+07:00",
}


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def candidate_events(values: Dict[str, Any]) -> List[Dict[str, Any]]:
    return [{"event": "action", "name": "sop_form"}] + [
        {"event": "slot", "name": k, "value": v} for k, v in values.items()
    ]


def test_every_data_question_offers_the_way_out_button() -> None:
    tracker = make_tracker(slots=PULSA)
    for name in ("msisdn", "serial_number", "channel", "event_time"):
        assert NO_VALUE_BUTTON in question_message(tracker, name)["buttons"], name


async def test_pelanggan_tidak_punya_sn_moves_on_instead_of_asking_again(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    given = {"serial_number": "pelanggan tidak punya SN"}
    tracker = make_tracker(
        slots={**FILLED, **given, "requested_slot": "serial_number"},
        text="pelanggan tidak punya SN",
        events=candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["serial_number"] == "tidak_ada"
    assert values["requested_slot"] != "serial_number"
    assert not any("belum valid" in (m.get("text") or "") for m in dispatcher.messages)


async def test_a_refused_sn_says_how_to_get_past_it(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    given = {"serial_number": "12345"}
    tracker = make_tracker(
        slots={**FILLED, **given, "requested_slot": "serial_number"},
        text="12345",
        events=candidate_events(given),
        active_loop="sop_form",
    )
    await ValidateSopForm().run(dispatcher, tracker, domain)
    refusal, question = dispatcher.messages
    assert "tidak tahu" in refusal["text"]
    assert NO_VALUE_BUTTON in question["buttons"]


async def test_opening_facts_fill_the_check_with_a_note(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    text = "call putus tadi jam 9.40, blm ada tiket"
    given = {"callback_case": "call_terputus"}
    tracker = make_tracker(
        slots={"active_sop": "callback", **given},
        text=text,
        intent="callback",
        events=[{"event": "action", "name": "action_start_case"}] + candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["check_cb_history_tiket"] is False
    notes = [m["text"] for m in dispatcher.messages if "Dari pesan Anda" in (m.get("text") or "")]
    assert len(notes) == 1 and "tidak" in notes[0]


async def test_a_note_sent_by_the_start_action_is_not_sent_again(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    note = "Catatan Jam call terputus: x"
    given = {"callback_case": "gak tau"}
    tracker = make_tracker(
        slots={"active_sop": "callback", **given, "requested_slot": "callback_case"},
        text="gak tau",
        events=[{"event": "bot", "text": note}] + candidate_events(given),
        active_loop="sop_form",
    )
    await ValidateSopForm().run(dispatcher, tracker, domain)
    texts = [m.get("text") for m in dispatcher.messages]
    assert len(texts) == len(set(texts))


async def test_a_bare_negation_extracted_as_a_criterion_is_dropped(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    text = "plg telp td, blm ada"
    entity = {"entity": "callback_case", "value": "info_produk_belum_ada", "start": 13, "end": 20}
    assert text[13:20] == "blm ada"
    tracker = make_tracker(
        slots={"callback_case": "info_produk_belum_ada"},
        intent="callback",
        text=text,
        entities=[entity],
        events=[{"event": "slot", "name": "callback_case", "value": "info_produk_belum_ada"}],
    )
    events = await ActionStartCase().run(dispatcher, tracker, domain)
    values = slot_events(events)
    assert "callback_case" in values and values["callback_case"] is None


async def test_the_scope_note_is_shown_when_the_case_starts(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    tracker = make_tracker(intent="pulsa_belum_masuk", text="pulsa blm masuk")
    await ActionStartCase().run(dispatcher, tracker, domain)
    assert "selain pulsa atau tagihan" in dispatcher.messages[0]["text"]


async def test_the_hour_answer_is_not_read_as_a_new_event_time(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    day = "2026-11-21T00:00:00+07:00/2026-11-21T23:59:00+07:00"
    given = {"event_hour": "jam 9 malam", "event_time": "jam 9 malam"}
    tracker = make_tracker(
        slots={
            "active_sop": "grapari_online",
            "gol_case": "pending_verification",
            "email": "a@b.co",
            "order_id": "GOL123456",
            "delivery_type": "instant",
            "event_time": day,
            **given,
            "requested_slot": "event_hour",
        },
        text="jam 9 malam",
        events=[
            {"event": "slot", "name": "event_time", "value": day},
            {"event": "user", "text": "jam 9 malam", "parse_data": {}},
        ]
        + candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["event_hour"] == "21:00"
    assert values["event_time"] == day  # the raw "jam 9 malam" is undone
    assert not any("belum valid" in (m.get("text") or "") for m in dispatcher.messages)
