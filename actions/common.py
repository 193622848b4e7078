"""Shared helpers of the actions: which SOP is active, its facts, the current time."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from sop_engine.engine import SopEngine
from sop_engine.kinds.event_time import parse_iso
from sop_engine.kinds.way_out import only_negation
from sop_engine.loader import SopRegistry, default_registry

logger = logging.getLogger(__name__)

FORM_NAME = "sop_form"
ACTIVE_SOP_SLOT = "active_sop"
CASE_MEMORY_SLOT = "case_memory"
# Intents that never fill a form value by free text: they change the flow instead.
# "greet" is not among them: "tadi pagi" is often read as a greeting but is a valid time.
FLOW_INTENTS = ["stop", "help", "bot_challenge", "request_credentials", "goodbye"]
# A different case is only started mid-form when the classifier is this sure.
SWITCH_CONFIDENCE = 0.7


def registry() -> SopRegistry:
    return default_registry()


def current_time() -> datetime:
    """Now, timezone-aware. ASSISTANT_FIXED_NOW (ISO 8601) pins it for reproducible tests."""
    fixed = parse_iso(os.environ.get("ASSISTANT_FIXED_NOW", ""))
    return fixed if fixed is not None else datetime.now(timezone.utc)


def active_engine(tracker: Tracker) -> Optional[SopEngine]:
    sop_id = tracker.get_slot(ACTIVE_SOP_SLOT)
    return registry().by_id.get(sop_id) if sop_id else None


def case_slot_names() -> List[str]:
    reg = registry()
    return reg.all_slot_names() + reg.all_question_names()


def slot_values(tracker: Tracker, engine: SopEngine) -> Dict[str, Any]:
    names = engine.slot_names + engine.question_names
    return {name: tracker.get_slot(name) for name in names}


def slots_set_since_last_user_message(tracker: Tracker) -> Dict[str, Any]:
    """Slot values extracted from the latest user message (before any action reset them)."""
    values: Dict[str, Any] = {}
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            values.setdefault(event["name"], event["value"])
    # reversed walk keeps the latest value per slot; drop resets
    return {k: v for k, v in values.items() if v is not None}


def latest_intent(tracker: Tracker) -> tuple[Optional[str], float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def values_before_last_user_message(tracker: Tracker, names: List[str]) -> Dict[str, Any]:
    """Slot values as they were before the latest user message (already validated then)."""
    wanted = set(names)
    values: Dict[str, Any] = {}
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
            continue
        if seen_user and event.get("event") == "slot" and event.get("name") in wanted:
            values.setdefault(event["name"], event["value"])
        if event.get("event") == "restart":
            break
    return {k: v for k, v in values.items() if v is not None}


def bot_texts_since_last_user_message(tracker: Tracker) -> List[str]:
    """Texts already sent in this turn (a note is not repeated by the next action)."""
    texts: List[str] = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "bot" and event.get("text"):
            texts.append(str(event["text"]))
    return texts


def negated_entity_slots(tracker: Tracker, engine: SopEngine) -> List[str]:
    """Slots whose entity in the latest message is a phrase that only negates ("blm ada")."""
    text = str(tracker.latest_message.get("text") or "")
    by_entity = {s.entity: s.name for s in engine.sop.slots if s.entity}
    names: List[str] = []
    for entity in tracker.latest_message.get("entities") or []:
        name = by_entity.get(entity.get("entity"))
        start, end = entity.get("start"), entity.get("end")
        if name is None or not isinstance(start, int) or not isinstance(end, int):
            continue
        if only_negation(text[start:end]):
            names.append(name)
    return names
