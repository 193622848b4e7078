"""Starting, switching, stopping and answering a case. The SOP engine decides; these actions
only move slot values around and format the engine's answer."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    ACTIVE_SOP_SLOT,
    CASE_MEMORY_SLOT,
    FORM_NAME,
    active_engine,
    case_slot_names,
    current_time,
    latest_intent,
    negated_entity_slots,
    registry,
    slot_values,
    slots_set_since_last_user_message,
    values_before_last_user_message,
)
from sop_engine.case_switch import CaseStart, plan_case_start
from sop_engine.engine import Need, SopEngine, local_date
from sop_engine.render import result_payload, result_text
from sop_engine.timeparse import format_date

logger = logging.getLogger(__name__)


class ActionStartCase(Action):
    def name(self) -> str:
        return "action_start_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        intent, _ = latest_intent(tracker)
        new = registry().by_intent.get(intent or "")
        if new is None:
            dispatcher.utter_message(response="utter_help")
            return []
        names = case_slot_names()
        fresh = slots_set_since_last_user_message(tracker)
        plan = plan_case_start(
            new,
            CaseStart(
                old=active_engine(tracker),
                form_was_active=tracker.active_loop.get("name") == FORM_NAME,
                memory=dict(tracker.get_slot(CASE_MEMORY_SLOT) or {}),
                current={k: tracker.get_slot(k) for k in names},
                fresh={k: v for k, v in fresh.items() if k in names},
                negated=negated_entity_slots(tracker, new),
                values_before=lambda wanted: values_before_last_user_message(tracker, list(wanted)),
            ),
            current_time(),
        )
        keep, memory, lines, messages = plan.values, plan.memory, plan.lines, plan.messages
        events: List[EventType] = [ActiveLoop(None)]
        # only the slots that change: every later turn reads, replays and sends each event
        # (a conversation 123 -> 74 events, docs/benchmarks.md)
        events += [
            SlotSet(name, keep.get(name))
            for name in case_slot_names()
            if keep.get(name) != tracker.get_slot(name)
        ]
        events += [
            SlotSet(ACTIVE_SOP_SLOT, new.sop.id),
            SlotSet(CASE_MEMORY_SLOT, memory or None),
            SlotSet("requested_slot", None),
        ]
        dispatcher.utter_message(text=self._intro(new, lines))
        for message in messages:
            dispatcher.utter_message(text=message)
        return events

    @staticmethod
    def _intro(engine: SopEngine, lines: List[str]) -> str:
        sop = engine.sop
        text = [f"Kasus: {sop.title}."] + lines
        if sop.expired_at and local_date(current_time()) > sop.expired_at:
            text.append(
                f"⚠️ Halaman sumber kedaluwarsa sejak {format_date(sop.expired_at)}; "
                "konfirmasi ke TL bila ragu."
            )
        if sop.scope_note:
            text.append(f"Cakupan: {sop.scope_note.text}")
        if sop.checks:
            text.append("Sambil saya tanya, lakukan pengecekan:")
            text += [f"- {c.text}" for c in sop.checks]
        return "\n".join(text)


def _reset_case_events(tracker: Tracker) -> List[EventType]:
    return [SlotSet(name, None) for name in case_slot_names() if tracker.get_slot(name) is not None]


class ActionStopCase(Action):
    def name(self) -> str:
        return "action_stop_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        engine = active_engine(tracker)
        memory: Dict[str, Any] = dict(tracker.get_slot(CASE_MEMORY_SLOT) or {})
        if engine is None:
            dispatcher.utter_message(text="Tidak ada kasus yang sedang berjalan.")
        else:
            memory.pop(engine.sop.id, None)
            dispatcher.utter_message(
                text=f'Baik, kasus "{engine.sop.title}" dibatalkan. Ketik kasus lain kapan saja.'
            )
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet(ACTIVE_SOP_SLOT, None),
            SlotSet(CASE_MEMORY_SLOT, memory or None),
            *_reset_case_events(tracker),
        ]


class ActionSopResult(Action):
    def name(self) -> str:
        return "action_sop_result"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        engine = active_engine(tracker)
        if engine is None:
            dispatcher.utter_message(response="utter_help")
            return []
        values = slot_values(tracker, engine)
        decision = engine.evaluate(values, current_time())
        if isinstance(decision, Need):
            # The form ended early (e.g. a value was refused twice): say what is missing.
            dispatcher.utter_message(
                text="Data kasus belum lengkap. Sebut kasusnya lagi untuk melanjutkan."
            )
            return []
        customer = "".join(  # e.g. " msisdn=0812****7890"
            f" {name}={kind.mask(values[name]) if values.get(name) else '-'}"
            for name, kind in engine.kinds.items()
            if kind.in_log
        )
        logger.info("sop_result case_id=%s%s", decision.case_id, customer)
        payload = result_payload(decision)
        # names this answer for feedback and "Tanya TL" (channels/feedback.py)
        payload["answer_id"] = uuid.uuid4().hex[:12]
        dispatcher.utter_message(text=result_text(decision), json_message=payload)
        memory: Dict[str, Any] = dict(tracker.get_slot(CASE_MEMORY_SLOT) or {})
        memory.pop(engine.sop.id, None)
        return [SlotSet(CASE_MEMORY_SLOT, memory or None)]


class ActionOfferCases(Action):
    """Low-confidence message: offer the likely cases as buttons with readable names."""

    def name(self) -> str:
        return "action_offer_cases"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        by_intent = registry().by_intent
        likely = [r["name"] for r in ranking[:5] if r.get("name") in by_intent][:3]
        intents = likely or list(by_intent)
        buttons = [{"title": by_intent[i].sop.title, "payload": f"/{i}"} for i in intents]
        text = (
            "Maaf, saya belum yakin maksudnya. Apakah salah satu kasus ini?"
            if likely
            else "Maaf, saya belum paham. Saya bisa membantu kasus berikut:"
        )
        dispatcher.utter_message(text=text, buttons=buttons)
        return []
