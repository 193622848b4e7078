"""Everything of the Rasa domain and rules that follows from the SOP files.

Plain data in, plain data out (no Rasa import): ``scripts/sync_domain.py`` writes it into
domain.yml and data/rules.yml, and the action server compares it before a reload
(``assistant_runtime/sop_reload.py``), because a change here needs a new model while a change
of wording or rules does not.
"""

from __future__ import annotations

from typing import Any, Dict, List, Sequence

from sop_engine.engine import SopEngine
from sop_engine.loader import SopRegistry
from sop_engine.models import Menu

FORM = "sop_form"
CASE_ACTIONS = [
    "action_start_case",
    "action_stop_case",
    "action_sop_result",
    "action_offer_cases",
    "validate_sop_form",
]


def menu_of(engine: SopEngine) -> Menu:
    if engine.sop.menu is None:
        raise ValueError(f"SOP {engine.sop.id}: 'menu' is missing (button, summary, example)")
    return engine.sop.menu


def ordered(registry: SopRegistry) -> List[SopEngine]:
    """The SOPs in menu order (``menu.order``, then file name)."""
    engines = list(registry.by_id.values())  # file name order
    return sorted(engines, key=lambda e: menu_of(e).order)


def sop_intents(registry: SopRegistry) -> List[str]:
    return [engine.sop.intent for engine in ordered(registry)]


def _requested(slot: str) -> List[Dict[str, Any]]:
    return [{"active_loop": FORM, "requested_slot": slot}]


def _data_slot(spec_entity: Any, name: str, not_intent: List[str]) -> Dict[str, Any]:
    mappings: List[Dict[str, Any]] = []
    if spec_entity:
        mappings.append({"type": "from_entity", "entity": spec_entity})
    mappings.append({"type": "from_entity", "entity": "choice", "conditions": _requested(name)})
    mappings.append({"type": "from_text", "not_intent": not_intent, "conditions": _requested(name)})
    return {"mappings": mappings}


def form_domain(registry: SopRegistry, flow_intents: Sequence[str]) -> Dict[str, Any]:
    """The slots, the form and the case actions of the domain.

    Raises ValueError when two SOP files disagree about a shared slot or both declare the
    same check question (all SOPs share one slot namespace).
    """
    not_intent = list(flow_intents) + registry.intents
    slots: Dict[str, Any] = {
        "active_sop": {
            "type": "text",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
        "case_memory": {
            "type": "any",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
        # feedback, copies and "Tanya TL" of the agent, recorded without a user turn
        # (channels/feedback.py); read by the analytics from the event broker
        "feedback_event": {
            "type": "any",
            "influence_conversation": False,
            "mappings": [{"type": "custom"}],
        },
    }
    entity_of: Dict[str, Any] = {}
    for engine in registry.by_id.values():
        for spec in engine.sop.slots:
            previous = entity_of.setdefault(spec.name, (spec.entity, spec.multiple))
            if previous != (spec.entity, spec.multiple):
                raise ValueError(
                    f"slot {spec.name}: entity/multiple differ between SOP files "
                    f"({previous} vs {(spec.entity, spec.multiple)})"
                )
            if spec.name in slots:
                continue
            slots[spec.name] = {
                "type": "list" if spec.multiple else "any",
                "influence_conversation": False,
                **_data_slot(spec.entity, spec.name, not_intent),
            }
        for question in engine.sop.questions:
            if question.name in slots:
                raise ValueError(f"question {question.name} is declared by two SOP files")
            if question.kind == "yes_no":
                mappings: List[Dict[str, Any]] = [
                    {
                        "type": "from_intent",
                        "intent": intent,
                        "value": value,
                        "conditions": _requested(question.name),
                    }
                    for intent, value in (("affirm", True), ("deny", False))
                ]
                slots[question.name] = {
                    "type": "bool",
                    "influence_conversation": False,
                    "mappings": mappings,
                }
            else:
                slots[question.name] = {
                    "type": "any",
                    "influence_conversation": False,
                    "mappings": [
                        {
                            "type": "from_entity",
                            "entity": "choice",
                            "conditions": _requested(question.name),
                        },
                        {
                            "type": "from_text",
                            "not_intent": not_intent,
                            "conditions": _requested(question.name),
                        },
                    ],
                }
    asked = [name for name in slots if name not in ("active_sop", "case_memory", "feedback_event")]
    return {
        "slots": slots,
        "forms": {FORM: {"required_slots": asked}},
        # no action_ask_<slot>: validate_sop_form asks the next question itself (actions/ask.py)
        "actions": CASE_ACTIONS,
    }


def _quoted_list(items: List[str]) -> str:
    quoted = [f'"{item}"' for item in items]
    if len(quoted) < 2:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " atau " + quoted[-1]


def menu_responses(registry: SopRegistry) -> Dict[str, Any]:
    """utter_greet, utter_help (text + one button per SOP) and utter_out_of_scope."""
    engines = ordered(registry)
    listing = "\n".join(f"- {menu_of(e).summary}" for e in engines)
    examples = _quoted_list([menu_of(e).example for e in engines])
    return {
        "utter_greet": [{"text": f"Halo, kak. Ceritakan kasus pelanggannya, misalnya {examples}."}],
        "utter_help": [
            {
                "text": "Saya membantu menjalankan Pansol untuk kasus berikut:\n"
                + listing
                + "\nCeritakan kasusnya, saya tanyakan data yang diminta SOP, memandu "
                "pengecekan, lalu memberi langkah, eskalasi dan template tiket. Ketik "
                '"batal" untuk menghentikan kasus.',
                "buttons": [
                    {"title": menu_of(e).button, "payload": f"/{e.sop.intent}"} for e in engines
                ],
            }
        ],
        "utter_out_of_scope": [
            {
                "text": "Maaf, itu di luar Pansol yang saya pegang. Saya hanya mencakup:\n"
                + listing
                + "\nUntuk kasus lain gunakan KMS atau tanyakan TL."
            }
        ],
    }


def case_rules(registry: SopRegistry) -> List[Dict[str, Any]]:
    """One start rule and one switch rule (a form is running) per SOP intent."""
    starts: List[Dict[str, Any]] = []
    switches: List[Dict[str, Any]] = []
    for intent in sop_intents(registry):
        steps = [
            {"intent": intent},
            {"action": "action_start_case"},
            {"action": FORM},
            {"active_loop": FORM},
        ]
        starts.append({"rule": f"start {intent}", "steps": steps})
        switches.append(
            {
                "rule": f"switch to {intent}",
                "condition": [{"active_loop": FORM}],
                "steps": steps,
            }
        )
    return starts + switches


def model_signature(registry: SopRegistry, flow_intents: Sequence[str]) -> Dict[str, Any]:
    """What the trained model depends on: a difference here needs `make domain` + `make train`."""
    return {
        "intents": sorted(registry.intents),
        "domain": form_domain(registry, flow_intents),
        "responses": menu_responses(registry),
    }
