"""Check questions (Ya/Tidak and choice lists) have an honest way out: the agent cannot check
or the customer does not know. Such a reply is never read as Ya or Tidak, and the answer is
"konfirmasi ke TL" instead of a branch the check would have decided."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.ask import CHECK_UNKNOWN_BUTTON, NO_VALUE_BUTTON, question_message
from actions.common import registry
from actions.forms import ValidateSopForm
from tests.actions.conftest import make_tracker
from tests.engine.helpers import GOL_DELIVERY


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_every_check_question_offers_the_way_out() -> None:
    for engine in registry().by_id.values():
        tracker = make_tracker(slots={"active_sop": engine.sop.id})
        for question in engine.sop.questions:
            buttons = question_message(tracker, question.name)["buttons"]
            payloads = [b["payload"] for b in buttons]
            assert CHECK_UNKNOWN_BUTTON["payload"] in payloads, question.name
            assert len(payloads) == len(set(payloads)), question.name


@pytest.mark.parametrize(
    "text, intent, extracted",
    [
        ("ga tau", "deny", False),
        ("tidak tahu", "deny", False),
        ("blm bisa dicek", "deny", False),
        ("belum dicek kak", "affirm", True),
        (CHECK_UNKNOWN_BUTTON["payload"], "inform", None),
    ],
)
async def test_not_known_is_never_ya_or_tidak(
    text: str,
    intent: str,
    extracted: Any,
    dispatcher: CollectingDispatcher,
    domain: Dict[str, Any],
) -> None:
    name = "check_gol_diambil_kurir"
    events = [{"event": "action", "name": "sop_form"}]
    if extracted is not None:  # what the domain's from_intent mapping set
        events.append({"event": "slot", "name": name, "value": extracted})
    tracker = make_tracker(
        slots={**GOL_DELIVERY, name: extracted, "requested_slot": name},
        intent=intent,
        text=text,
        events=events,
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values[name] == "tidak_ada"
    assert values["requested_slot"] != name  # not asked again


async def test_a_plain_tidak_is_still_tidak(
    dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    name = "check_gol_diambil_kurir"
    tracker = make_tracker(
        slots={**GOL_DELIVERY, name: False, "requested_slot": name},
        intent="deny",
        text="tidak ada",
        events=[
            {"event": "action", "name": "sop_form"},
            {"event": "slot", "name": name, "value": False},
        ],
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values[name] is False


@pytest.mark.parametrize("text", ["gatau jenisnya", json.dumps({"choice": "tidak_ada"})])
async def test_a_choice_check_takes_the_way_out(
    text: str, dispatcher: CollectingDispatcher, domain: Dict[str, Any]
) -> None:
    name = "check_gol_jenis_order"
    raw = "tidak_ada" if text.startswith("{") else text
    shown = "/inform" + text if text.startswith("{") else text
    tracker = make_tracker(
        slots={
            "active_sop": "grapari_online",
            "gol_case": "completed",
            "email": "rina.s@contoh.id",
            "order_id": "GOL7788123",
            name: raw,
            "requested_slot": name,
        },
        text=shown,
        events=[
            {"event": "action", "name": "sop_form"},
            {"event": "slot", "name": name, "value": raw},
        ],
        active_loop="sop_form",
    )
    values = slot_events(await ValidateSopForm().run(dispatcher, tracker, domain))
    assert values[name] == "tidak_ada"
    assert not any("belum valid" in (m.get("text") or "") for m in dispatcher.messages)


def test_every_question_of_every_sop_offers_a_way_out_each_time_it_is_asked() -> None:
    # the form asks with these buttons on every turn (a refusal included), so no question
    # can come back without the way out
    for engine in registry().by_id.values():
        tracker = make_tracker(slots={"active_sop": engine.sop.id})
        for slot in engine.sop.slots:
            payloads = [b["payload"] for b in question_message(tracker, slot.name)["buttons"]]
            assert NO_VALUE_BUTTON["payload"] in payloads, (engine.sop.id, slot.name)
