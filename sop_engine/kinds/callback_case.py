"""Callback case: one of the 5 callback criteria of the page (a case criterion)."""

from __future__ import annotations

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.listed import single_choice

NOUN = "kriteria callback"


def validate(text: str) -> ValidationResult:
    """One of the 5 canonical callback_case values."""
    return single_choice(text, NOUN, "callback_cases", "Tentukan kriteria callback-nya.")


KIND = SlotKind("callback_case", NOUN, without_now(validate), criterion=True)
