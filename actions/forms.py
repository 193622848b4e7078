"""Validation of the generic SOP form: the SOP file decides what is asked, validators decide
what is accepted. No SOP-specific code here."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.ask import question_message
from actions.common import (
    FLOW_INTENTS,
    FORM_NAME,
    SWITCH_CONFIDENCE,
    active_engine,
    bot_texts_since_last_user_message,
    current_time,
    latest_intent,
    negated_entity_slots,
    registry,
    slot_values,
    values_before_last_user_message,
)
from sop_engine.engine import NO_VALUE, Need, SopEngine
from sop_engine.slot_values import check_not_known, validate_values

logger = logging.getLogger(__name__)

_FORM_INTERNAL_ACTIONS = {FORM_NAME, "action_listen", "action_extract_slots", None}


def _directly_after_user_message(tracker: Tracker) -> bool:
    """True when the form runs on a fresh user message, not when it resumes after a rule."""
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            return True
        if kind == "action" and event.get("name") not in _FORM_INTERNAL_ACTIONS:
            return False
    return False


def _case_started_this_turn(tracker: Tracker) -> bool:
    """True when action_start_case ran after the latest user message (the opening)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_start_case":
            return True
    return False


class ValidateSopForm(FormValidationAction):
    def name(self) -> str:
        return f"validate_{FORM_NAME}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        if self._leaves_form(tracker):
            # Let the rules handle stop / help / another case; slot values already
            # extracted from this message stay in the tracker for the next case.
            return [ActionExecutionRejected(FORM_NAME)]
        return await super().run(dispatcher, tracker, domain)

    def _leaves_form(self, tracker: Tracker) -> bool:
        if not _directly_after_user_message(tracker):
            return False
        intent, confidence = latest_intent(tracker)
        if intent in FLOW_INTENTS:
            return True
        engine = active_engine(tracker)
        other_case = intent in registry().by_intent and (
            engine is None or registry().by_intent[intent].sop.id != engine.sop.id
        )
        return bool(other_case and confidence >= SWITCH_CONFIDENCE)

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        return []  # values come from the domain's slot mappings; nothing custom to extract

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        engine = active_engine(tracker)
        if engine is None:
            return []
        values = slot_values(tracker, engine)
        now = current_time()
        facts = engine.facts(values, now)
        required = engine.required_slots(facts)
        answered = [q for q in engine.question_names if values.get(q) is not None]
        decision = engine.evaluate(values, now)
        extra: List[str] = []
        if isinstance(decision, Need) and decision.name not in required + answered:
            extra = [decision.name]
        return required + answered + extra

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> EventType:
        # Always decided here, from the engine: Rasa sends no domain to this action
        # (endpoints.yml enable_selective_domain), so rasa_sdk's comparison with the domain's
        # required slots must not be relied on.
        required = await self.required_slots([], dispatcher, tracker, domain)
        missing = next((name for name in required if tracker.slots.get(name) is None), None)
        if missing is not None:
            # asked here, after any refusal message: the domain has no ask action for Rasa's
            # form to call, which saves an action server call per turn (actions/ask.py)
            dispatcher.utter_message(**question_message(tracker, missing))
        return SlotSet(REQUESTED_SLOT, missing)

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        engine = active_engine(tracker)
        candidates: Dict[str, Any] = tracker.slots_to_validate()
        candidates.pop("requested_slot", None)
        if engine is None:
            return []
        previous = values_before_last_user_message(tracker, list(candidates))
        ignored = list(dict.fromkeys(negated_entity_slots(tracker, engine)))  # "blm ada"
        if engine.hour_slot is not None and tracker.get_slot(REQUESTED_SLOT) == engine.hour_slot:
            # the answer to "jam berapa?" is the hour of the day already known, not a new time
            ignored += engine.time_slots
        ignored = [name for name in ignored if name in candidates]
        for name in ignored:
            candidates.pop(name)
        results, messages = validate_values(engine.sop, candidates, current_time(), previous)
        for name in ignored:
            results[name] = previous.get(name)  # undo the raw value Rasa extracted
        requested = tracker.get_slot(REQUESTED_SLOT)
        if (
            requested in engine.question_names
            and _directly_after_user_message(tracker)
            and check_not_known(str(tracker.latest_message.get("text") or ""))
        ):
            # "ga tau" / "blm bisa dicek" / the way-out button: never Ya or Tidak, whatever
            # intent (affirm/deny) the classifier read in it
            results[requested] = NO_VALUE
        said, notes = self._said_answers(tracker, engine)
        results.update(said)
        already = bot_texts_since_last_user_message(tracker)
        for message in list(dict.fromkeys(messages + notes)):
            if message not in already:  # each message once per turn
                dispatcher.utter_message(text=message)
        tracker.slots.update(results)
        return [SlotSet(name, value) for name, value in results.items()]

    @staticmethod
    def _said_answers(tracker: Tracker, engine: SopEngine) -> Tuple[Dict[str, Any], List[str]]:
        """Check answers the agent already typed, taken with a note so they can be corrected."""
        if not _directly_after_user_message(tracker) and not _case_started_this_turn(tracker):
            return {}, []
        text = str(tracker.latest_message.get("text") or "")
        if text.startswith("/"):
            return {}, []
        requested = tracker.get_slot(REQUESTED_SLOT)
        questions = {q.name: q for q in engine.sop.questions}
        values: Dict[str, Any] = {}
        notes: List[str] = []
        for name, value in engine.said_answers(text).items():
            if name == requested or tracker.get_slot(name) == value:
                continue
            values[name] = value
            question = questions[name]
            shown = engine.show(name, value)
            if question.kind == "choice":
                shown = next((o.title for o in question.options if o.value == value), shown)
            what = question.short or question.text
            notes.append(f"Dari pesan Anda: {what} → {shown}. Bila salah, tulis koreksinya.")
        return values, notes
