"""`action_ask_<slot>` for every slot and check question of every SOP file.

Rasa's form looks an ask action up by name; one class is generated per name from the SOP
data, so adding an SOP adds its questions without new code.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import active_engine, case_slot_names, registry
from sop_engine.engine import SopEngine
from sop_engine.models import Option

YES_NO_BUTTONS = [{"title": "Ya", "payload": "/affirm"}, {"title": "Tidak", "payload": "/deny"}]


def choice_buttons(options: List[Option]) -> List[Dict[str, str]]:
    return [
        {"title": o.title, "payload": "/inform" + json.dumps({"choice": o.value})} for o in options
    ]


def question_for(engine: SopEngine, name: str) -> Optional[Dict[str, Any]]:
    for slot in engine.sop.slots:
        if slot.name == name:
            return {"text": slot.ask, "buttons": choice_buttons(slot.buttons)}
    for question in engine.sop.questions:
        if question.name == name:
            buttons = (
                YES_NO_BUTTONS if question.kind == "yes_no" else choice_buttons(question.options)
            )
            return {"text": question.text, "buttons": buttons}
    return None


class AskSlotAction(Action, ABC):
    @property
    @abstractmethod
    def slot_name(self) -> str:
        """The slot or check question this action asks for."""

    def name(self) -> str:
        return f"action_ask_{self.slot_name}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        engine = active_engine(tracker)
        message = question_for(engine, self.slot_name) if engine else None
        if message is None:  # a slot of another SOP: the first SOP that declares it asks
            for other in registry().by_id.values():
                message = question_for(other, self.slot_name)
                if message:
                    break
        if message is None:
            dispatcher.utter_message(text=f"Mohon isi {self.slot_name}.")
            return []
        dispatcher.utter_message(text=message["text"], buttons=message["buttons"])
        return []


def _make_ask_action(slot_name: str) -> Type[AskSlotAction]:
    return type(
        f"AskAction_{slot_name}",
        (AskSlotAction,),
        {"slot_name": slot_name, "__module__": __name__},
    )


ASK_ACTIONS = [_make_ask_action(name) for name in case_slot_names()]
