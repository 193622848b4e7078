"""Form validation and case actions, run with rasa_sdk's Tracker and CollectingDispatcher."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.ask import CHECK_UNKNOWN_BUTTON, question_message
from actions.cases import ActionOfferCases, ActionSopResult, ActionStartCase, ActionStopCase
from actions.forms import ValidateSopForm
from tests.actions.conftest import ROOT, make_tracker

SN = "0215123456789012345678901"
PULSA = {"active_sop": "pulsa_belum_masuk"}


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def candidate_events(values: Dict[str, Any]) -> List[Dict[str, Any]]:
    # What Rasa's FormAction appends to the tracker before calling the validation action.
    return [{"event": "action", "name": "sop_form"}] + [
        {"event": "slot", "name": k, "value": v} for k, v in values.items()
    ]


async def test_invalid_sn_is_refused_with_the_reason_and_other_slots_kept(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    slots = {
        **PULSA,
        "msisdn": "081234567890",
        "nominal": 50000,
        "channel": ["alfamart"],
        "event_time": "2026-11-21T15:00:00+07:00",
        "requested_slot": "serial_number",
    }
    tracker = make_tracker(
        slots={**slots, "serial_number": "021512345678901234567890"},
        text="021512345678901234567890",
        events=candidate_events({"serial_number": "021512345678901234567890"}),
        active_loop="sop_form",
    )
    events = await ValidateSopForm().run(dispatcher, tracker, domain)
    values = slot_events(events)
    assert values["serial_number"] is None
    assert values["requested_slot"] == "serial_number"  # asked again
    assert "msisdn" not in values  # untouched
    reason = dispatcher.messages[0]["text"]
    assert "25 digit" in reason and "24" in reason
    # then the question again, in the same call (no separate ask action)
    assert len(dispatcher.messages) == 2
    assert dispatcher.messages[1]["text"] == question_message(tracker, "serial_number")["text"]


async def test_valid_values_are_normalised(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    given = {"msisdn": "+62 812-3456-7890", "nominal": "50rb"}
    tracker = make_tracker(
        slots={**PULSA, **given, "requested_slot": "msisdn"},
        text="+62 812-3456-7890 50rb",
        events=candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["msisdn"] == "081234567890"
    assert values["nominal"] == 50000
    assert values["requested_slot"] == "event_time"
    # no refusal, only the next question
    assert [m["text"] for m in dispatcher.messages] == [
        question_message(tracker, "event_time")["text"]
    ]


async def test_gopay_in_mytelkomsel_sets_channel_and_payment_method(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    given = {"channel": ["gopay", "mytelkomsel"]}
    base = {
        **PULSA,
        "msisdn": "081234567890",
        "nominal": 50000,
        "event_time": "2026-11-21T15:00:00+07:00",
    }
    tracker = make_tracker(
        slots={**base, **given},
        text="via gopay di mytelkomsel",
        events=candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["channel"] == "mytelkomsel"
    assert values["payment_method"] == "gopay"
    assert values["requested_slot"] == "transaction_id"


async def test_another_case_mid_form_rejects_so_rules_switch(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={**PULSA, "requested_slot": "nominal"},
        intent="nomor_belum_aktif_setelah_bayar",
        confidence=0.93,
        text="eh ada kasus lain, udh bayar tagihan tp no msh keblokir",
        events=candidate_events({}),
        active_loop="sop_form",
    )
    events = await ValidateSopForm().run(dispatcher, tracker, domain)
    assert events == [ActionExecutionRejected("sop_form")]


async def test_stop_mid_form_rejects_and_stop_action_clears_the_case(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    slots = {**PULSA, "msisdn": "081234567890", "requested_slot": "nominal"}
    tracker = make_tracker(
        slots=slots,
        intent="stop",
        text="batal",
        events=candidate_events({}),
        active_loop="sop_form",
    )
    assert await ValidateSopForm().run(dispatcher, tracker, domain) == [
        ActionExecutionRejected("sop_form")
    ]
    events = await ActionStopCase().run(dispatcher, tracker, domain)
    assert ActiveLoop(None) in events
    values = slot_events(events)
    assert values["msisdn"] is None and values["active_sop"] is None
    assert "dibatalkan" in dispatcher.messages[-1]["text"]


async def test_start_case_keeps_values_from_the_first_message(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    extracted = [
        {"event": "slot", "name": "nominal", "value": "50rb"},
        {"event": "slot", "name": "channel", "value": ["gopay", "mytelkomsel"]},
    ]
    tracker = make_tracker(
        slots={"nominal": "50rb", "channel": ["gopay", "mytelkomsel"]},
        intent="pulsa_belum_masuk",
        text="plg isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
        events=extracted,
    )
    values = slot_events(await ActionStartCase().run(dispatcher, tracker, domain))
    assert values["active_sop"] == "pulsa_belum_masuk"
    assert values["nominal"] == 50000
    assert values["channel"] == "mytelkomsel"
    assert values["payment_method"] == "gopay"
    assert "Kasus: Isi ulang berhasil" in dispatcher.messages[0]["text"]


async def test_switching_back_restores_the_saved_case(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    memory = {"pulsa_belum_masuk": {"msisdn": "081234567890", "nominal": 50000}}
    tracker = make_tracker(
        slots={"active_sop": None, "case_memory": memory},
        intent="pulsa_belum_masuk",
        text="lanjut pulsa blm masuk tadi",
    )
    values = slot_events(await ActionStartCase().run(dispatcher, tracker, domain))
    assert values["nominal"] == 50000 and values["msisdn"] == "081234567890"


async def test_result_carries_text_and_contract_payload(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    slots = {
        **PULSA,
        "msisdn": "081234567890",
        "nominal": 50000,
        "event_time": "2026-11-21T15:00:00+07:00",
        "channel": ["mytelkomsel"],
        "payment_method": "gopay",
        "transaction_id": "TRX778899",
        "check_recharge_visible": False,
        "check_servo_used": False,
        "check_call_detail_updated": False,
        "check_balance_deducted": True,
    }
    await ActionSopResult().run(dispatcher, make_tracker(slots=slots), domain)
    message = dispatcher.messages[0]
    payload = message["custom"]
    assert payload["type"] == "sop_result"
    assert payload["case_id"] == "pulsa_belum_masuk.fintech"
    assert payload["ticket"]["fields"]["Transaksi ID"] == "TRX778899"
    assert "Transaksi ID: TRX778899" in payload["ticket_text"]
    assert "tanpa menyarankan pelanggan menunggu SLA 1x24 jam" in message["text"]


async def test_yes_no_question_is_asked_with_buttons(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    # the validation action asks the next question itself (no action_ask_* in the domain)
    given = {"channel": ["bank"]}
    slots = {
        **PULSA,
        "msisdn": "081234567890",
        "nominal": 50000,
        "event_time": "2026-11-21T15:00:00+07:00",
        "serial_number": SN,
        "requested_slot": "channel",
    }
    tracker = make_tracker(
        slots={**slots, **given},
        text="bank",
        events=candidate_events(given),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    asked = values["requested_slot"]
    assert asked and asked.startswith("check_")
    assert len(dispatcher.messages) == 1
    message = dispatcher.messages[0]
    assert message["text"] == question_message(tracker, asked)["text"]
    assert message["text"].endswith("?")
    assert [b["payload"] for b in message["buttons"]] == [
        "/affirm",
        "/deny",
        CHECK_UNKNOWN_BUTTON["payload"],
    ]


def test_the_question_follows_the_active_sop_and_falls_back_to_the_first_sop() -> None:
    pulsa = question_message(make_tracker(slots=PULSA), "msisdn")
    blocked = question_message(
        make_tracker(slots={"active_sop": "nomor_belum_aktif_setelah_bayar"}), "msisdn"
    )
    none = question_message(make_tracker(slots={}), "msisdn")
    assert pulsa["text"] and blocked["text"]
    assert none["text"] in {pulsa["text"], blocked["text"]}
    servo = question_message(make_tracker(slots={}), "check_servo_used")
    assert "servo" in servo["text"].lower()
    assert [b["payload"] for b in servo["buttons"]] == [
        "/affirm",
        "/deny",
        CHECK_UNKNOWN_BUTTON["payload"],
    ]


async def test_fallback_offers_likely_cases_with_readable_names(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    tracker = make_tracker(intent="nlu_fallback", confidence=0.3, text="kok gitu ya")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "pulsa_belum_masuk", "confidence": 0.3},
        {"name": "callback", "confidence": 0.1},
    ]
    await ActionOfferCases().run(dispatcher, tracker, domain)
    buttons = dispatcher.messages[0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/pulsa_belum_masuk", "/callback"]
    assert buttons[0]["title"].startswith("Isi ulang berhasil")


def test_every_form_slot_has_a_question_and_the_domain_has_no_ask_action() -> None:
    import yaml

    domain_file = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    required = domain_file["forms"]["sop_form"]["required_slots"]
    tracker = make_tracker(slots={})
    for name in required:
        assert not question_message(tracker, name)["text"].startswith("Mohon isi"), name
    # Rasa's form would call an ask action or response after the validation action has
    # already asked: the question would come twice
    assert not [a for a in domain_file["actions"] if a.startswith("action_ask_")]
    assert not [r for r in domain_file.get("responses", {}) if r.startswith("utter_ask_")]
    assert SlotSet  # imported for readers: events are rasa_sdk SlotSet dicts


async def test_a_refused_new_value_keeps_the_value_given_before(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    earlier = [
        {"event": "slot", "name": "nominal", "value": 50000},
        {"event": "user", "text": "sip\x1b[31m", "parse_data": {}},
    ]
    tracker = make_tracker(
        slots={**PULSA, "nominal": "sip[31", "requested_slot": "event_time"},
        text="sip[31",
        events=earlier + candidate_events({"nominal": "sip[31"}),
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values["nominal"] == 50000
    assert "tetap memakai yang tadi" in dispatcher.messages[0]["text"]


async def test_switching_case_saves_the_validated_values_not_this_messages_entities(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    before = [
        {"event": "slot", "name": "active_sop", "value": "pulsa_belum_masuk"},
        {"event": "slot", "name": "nominal", "value": 50000},
        {"event": "slot", "name": "msisdn", "value": "081234567890"},
        {"event": "user", "text": "<script>alert(1)</script>", "parse_data": {}},
        {"event": "slot", "name": "nominal", "value": "alert(1"},
    ]
    tracker = make_tracker(
        slots={**PULSA, "nominal": "alert(1", "msisdn": "081234567890"},
        intent="grapari_online",
        text="<script>alert(1)</script>",
        events=before,
        active_loop="sop_form",
    )
    values = slot_events(await ActionStartCase().run(dispatcher, tracker, domain))
    saved = values["case_memory"]["pulsa_belum_masuk"]
    assert saved == {"nominal": 50000, "msisdn": "081234567890"}
    assert values["active_sop"] == "grapari_online"
