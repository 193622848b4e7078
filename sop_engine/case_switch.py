"""Which values survive when a case starts: the same case again, a switch away from an
unfinished form, a new case after a finished one, or the first case of the conversation.

Plain Python: the action (actions/cases.py) reads the conversation into a `CaseStart` and
turns the `CaseStartPlan` back into slot events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence

from sop_engine.engine import SopEngine
from sop_engine.slot_values import validate_values

# slot names -> their values as validated before the latest message (None values dropped)
ValuesBefore = Callable[[Sequence[str]], Dict[str, Any]]


@dataclass
class CaseStart:
    """The conversation as a case starts."""

    old: Optional[SopEngine]  # the case active before this message, if any
    form_was_active: bool  # the old case's form was still asking
    memory: Dict[str, Dict[str, Any]]  # unfinished cases put aside: sop id -> values
    current: Dict[str, Any]  # every case slot's value now
    fresh: Dict[str, Any]  # case slots set from this message (resets dropped)
    negated: List[str]  # slots whose entity in this message only negates ("blm ada")
    values_before: ValuesBefore


@dataclass
class CaseStartPlan:
    values: Dict[str, Any]  # case slot values for the new case (missing = none)
    memory: Dict[str, Dict[str, Any]]
    lines: List[str] = field(default_factory=list)  # notes for the case introduction
    messages: List[str] = field(default_factory=list)  # validation messages, in order


def _filled(engine: SopEngine, current: Dict[str, Any]) -> Dict[str, Any]:
    names = engine.slot_names + engine.question_names
    return {k: current.get(k) for k in names if current.get(k) is not None}


def _labels(engine: SopEngine, names: List[str]) -> str:
    labels = {s.name: s.label for s in engine.sop.slots}
    return ", ".join(labels.get(n, n) for n in names if n in labels)


def plan_case_start(new: SopEngine, start: CaseStart, now: datetime) -> CaseStartPlan:
    old = start.old
    memory = dict(start.memory)
    keep: Dict[str, Any] = {}
    lines: List[str] = []
    if old is not None and old.sop.id == new.sop.id and start.form_was_active:
        keep = _filled(old, start.current)  # same case again: nothing to reset
    else:
        if old is not None and start.form_was_active:
            # the values validated before this message: the message that switched the
            # case may carry stray entities that were never validated for the old case
            memory[old.sop.id] = start.values_before(old.slot_names + old.question_names)
            lines.append(
                f'Kasus "{old.sop.title}" saya simpan; sebut kasusnya lagi untuk melanjutkan.'
            )
        elif old is not None:
            # the customer's identity survives from one finished case to the next one
            for name, value in _filled(old, start.current).items():
                kind = old.kinds.get(name)
                if kind is not None and kind.carries_over:
                    keep[name] = value
                    note = kind.carry_over_note(value)
                    if note:
                        lines.append(note)
        else:
            # no case before: everything the agent already said is kept
            keep = dict(start.current)
        restored = memory.pop(new.sop.id, {})
        if restored:
            keep.update(restored)
            lines.append(
                f'Melanjutkan kasus "{new.sop.title}" yang tadi (tersimpan: '
                f"{_labels(new, list(restored))})."
            )
    keep.update(start.fresh)
    if start.negated:  # "blm ada" read as an entity names no value
        before = start.values_before(start.negated)
        keep.update({name: before.get(name) for name in start.negated})
    checked, messages = validate_values(new.sop, keep, now)
    keep.update(checked)
    return CaseStartPlan(values=keep, memory=memory, lines=lines, messages=messages)
