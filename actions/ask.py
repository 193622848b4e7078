"""The form's questions: the text and buttons of every slot and check question, from the SOP data.

There are no ``action_ask_<slot>`` actions and no ``utter_ask_<slot>`` responses: the form's
validation action (actions/forms.py) asks the next question itself in the same call, as
Rasa's FormAction allows ("the user might have asked as part of a custom action"). That
saves one action server call per form turn (docs/benchmarks.md). Adding an SOP adds its
questions without new code.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions.common import active_engine, registry
from sop_engine.engine import NO_VALUE, SopEngine
from sop_engine.models import Option

YES_NO_BUTTONS = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]
# The honest way out of every data question: the customer has no such value or does not
# know it. Its value leads to what the page says for that situation (or "konfirmasi ke TL").
NO_VALUE_BUTTON = {
    "title": "Tidak ada/tidak tahu",
    "payload": "/inform" + json.dumps({"choice": NO_VALUE}),
}
# The way out of a check question: the agent cannot check it or the customer does not know.
# Never read as Ya or Tidak; the answer then says "konfirmasi ke TL" (sop_engine/engine.py).
CHECK_UNKNOWN_BUTTON = {
    "title": "Tidak tahu/blm dicek",  # at most 20 characters: a WhatsApp reply button
    "payload": "/inform" + json.dumps({"choice": NO_VALUE}),
}


def choice_buttons(options: List[Option]) -> List[Dict[str, str]]:
    return [
        {"title": o.title, "payload": "/inform" + json.dumps({"choice": o.value})} for o in options
    ]


def question_for(engine: SopEngine, name: str) -> Optional[Dict[str, Any]]:
    """The question of one SOP for a slot or check question, or None if it has none."""
    for slot in engine.sop.slots:
        if slot.name == name:
            return {"text": slot.ask, "buttons": choice_buttons(slot.buttons) + [NO_VALUE_BUTTON]}
    for question in engine.sop.questions:
        if question.name == name:
            buttons = (
                YES_NO_BUTTONS if question.kind == "yes_no" else choice_buttons(question.options)
            )
            if all(o.value != NO_VALUE for o in question.options):  # else it is an option
                buttons = buttons + [CHECK_UNKNOWN_BUTTON]
            return {"text": question.text, "buttons": buttons}
    return None


def question_message(tracker: Tracker, name: str) -> Dict[str, Any]:
    """What to send to ask for ``name``: the active SOP's wording, else the first SOP's."""
    engine = active_engine(tracker)
    message = question_for(engine, name) if engine else None
    if message is None:  # a slot of another SOP: the first SOP that declares it asks
        for other in registry().by_id.values():
            message = question_for(other, name)
            if message:
                break
    return message or {"text": f"Mohon isi {name}.", "buttons": []}
