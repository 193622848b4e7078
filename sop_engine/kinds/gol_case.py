"""GraPARI Online case: one of the 19 canonical cases of the page (a case criterion)."""

from __future__ import annotations

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.listed import single_choice

NOUN = "kasus GraPARI Online"


def validate(text: str) -> ValidationResult:
    """One of the 19 canonical gol_case values from agent wording."""
    return single_choice(
        text, NOUN, "gol_cases", "Cek status order di DSC atau tanyakan kendalanya."
    )


KIND = SlotKind("gol_case", NOUN, without_now(validate), criterion=True)
