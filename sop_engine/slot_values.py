"""Validation of one message's form values against the SOP that asks for them.

Thin layer over the slot kinds (sop_engine/kinds): each slot's kind reads its value; this
module adds what holds for every slot alike: the way out ("tidak ada / tidak tahu"), answers
to check questions, and the previous value kept when a new one is refused.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from sop_engine import kinds
from sop_engine.engine import NO_VALUE
from sop_engine.kinds.base import Given, Invalid, SlotKind, Valid, ValidationResult
from sop_engine.kinds.choice import payload_value, simplify, validate_choice
from sop_engine.kinds.way_out import is_no_value, only_negation
from sop_engine.models import SopFile

NO_VALUE_HINT = (
    "Bila pelanggan tidak punya/tidak tahu, pilih 'Tidak ada/tidak tahu' atau ketik 'tidak tahu'."
)


# A check the agent cannot do or the customer cannot answer ("ga tau", "blm bisa dicek"):
# never Ya or Tidak. Narrower than the data slots' way out: "tidak ada" answers a check.
_NOT_YET = r"(?:tidak|tdk|tak|gak|ga|gk|g|nggak|ngga|enggak|engga|ndak|nda|belum|blm|blom|blum)"
_CHECK_NOT_KNOWN_RE = re.compile(
    rf"\b(?:{_NOT_YET}|kurang) (?:tau|tahu|taw|tw|ingat|inget|yakin|pasti)\b"
    rf"|\b{_NOT_YET} (?:(?:bisa|bs|sempat|sempet) )?(?:di ?)?"
    r"(?:cek|cek2|ceck|check|periksa|lihat|liat)\b"
    r"|\b(?:gatau|gatw|gtau|gataw|gktau|gaktau|ngatau|entah|unknown)\b"
)


def check_not_known(raw: Any) -> bool:
    """True when an answer to a check question says it is not known / cannot be checked:
    typed text, or the way-out button's payload."""
    if not isinstance(raw, str) or not raw.strip():
        return False
    if payload_value(raw) == NO_VALUE:
        return True
    return bool(_CHECK_NOT_KNOWN_RE.search(simplify(raw)))


def validate_values(
    sop: SopFile,
    values: Dict[str, Any],
    now: datetime,
    previous: Optional[Dict[str, Any]] = None,
) -> Tuple[Dict[str, Any], List[str]]:
    """Validates candidate slot values for one SOP.

    Returns the normalised values and the messages for the agent: the reason of each refusal
    and notes such as an approximate time. A refused value falls back to the slot's
    ``previous`` (already validated) value, so a stray entity in a later message never wipes
    what the agent gave. Values of slots the SOP does not use are left out, to be validated
    when a case that uses them starts.
    """
    previous = previous or {}
    specs = {s.name: s for s in sop.slots}
    questions = {q.name: q for q in sop.questions}
    given = Given(sop, kinds.slot_kinds(sop), values, previous, now)
    out: Dict[str, Any] = {}
    messages: List[str] = []
    for name, value in values.items():
        if value is None:
            continue
        result: ValidationResult
        slot_kind: Optional[SlotKind] = None
        if name in questions:
            question = questions[name]
            if question.kind == "yes_no":
                out[name] = value if isinstance(value, bool) or value == NO_VALUE else None
                continue
            if check_not_known(_text_of(value)):
                out[name] = NO_VALUE
                continue
            result = validate_choice(question.options, value)
            label = "Jawaban"
        elif name in specs:
            spec = specs[name]
            slot_kind = given.kinds[name]
            label = spec.label
            way_out = _no_value(slot_kind, value)
            other = kinds.other_kind_named(_text_of(value), spec.validator)
            if way_out is True and other is not None:
                # "ga punya SN" typed while the channel is asked: it answers another question
                other_label = next(
                    (s.label for s in sop.slots if s.validator == other), other.replace("_", " ")
                )
                result = Invalid(
                    f"'{_text_of(value)}' menyebut {other_label}, bukan {label.lower()}. "
                    f"Jawab dulu {label.lower()}-nya."
                )
            elif way_out is True:
                out[name] = NO_VALUE
                continue
            elif way_out is None:
                result = Invalid(
                    f"'{_text_of(value)}' hanya penyangkalan, bukan {label.lower()}. "
                    f"{NO_VALUE_HINT}"
                )
            else:
                result = slot_kind.validate_value(value, now, spec.buttons)
            if isinstance(result, Valid):
                result = slot_kind.check_with(result, {**previous, **values, **out}, given)
        else:
            continue
        if isinstance(result, Invalid):
            kept = previous.get(name)
            if kept is None:
                # data slots have the way-out button; check questions have their own options
                way_out = name in specs and NO_VALUE_HINT not in result.reason
                hint = f" {NO_VALUE_HINT}" if way_out else ""
                messages.append(f"{label} belum valid: {result.reason}{hint}")
            else:
                messages.append(
                    f"{label} baru belum valid, tetap memakai yang tadi. {result.reason}"
                )
            out[name] = kept
            continue
        if result.note:
            messages.append(f"Catatan {label}: {result.note}")
        if slot_kind is None:
            out[name] = result.value
        else:
            out.update(slot_kind.fill(name, result.value, given))
    return out, messages


def _text_of(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _no_value(slot_kind: SlotKind, value: Any) -> Optional[bool]:
    """True: the honest way out (no value / not known); None: a bare negation given as a
    criterion (refused); False: an ordinary value to validate."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) for i in items):
        return False
    if all(payload_value(i) == NO_VALUE for i in items):
        return True
    text = " ".join(items)
    if slot_kind.criterion and only_negation(text):
        return None
    return True if is_no_value(text) else False
