"""Layanan: the services the customer cannot use, 'voice' | 'sms' | 'data' | 'semua'.
Several are kept, in that order; all three are 'semua' (a case criterion)."""

from __future__ import annotations

from typing import Any, List, Sequence, Union

from sop_engine import normaliser
from sop_engine.kinds.base import (
    Invalid,
    SlotKind,
    Valid,
    ValidationResult,
    prepare,
    short,
    without_now,
)

NOUN = "layanan yang tidak bisa digunakan"
_ORDER = ("voice", "sms", "data")


def layanan_value(found: Sequence[str]) -> Union[str, List[str]]:
    if "semua" in found or set(_ORDER) <= set(found):
        return "semua"
    ordered = [v for v in _ORDER if v in found]
    return ordered[0] if len(ordered) == 1 else ordered


def validate(text: str) -> ValidationResult:
    """'voice' | 'sms' | 'data' | 'semua'; several -> list in that order; all three -> 'semua'."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    found = normaliser.matcher("layanan").find(cleaned)
    if not found:
        return Invalid(
            f"Layanan '{short(cleaned)}' tidak dikenali. Tanyakan layanan yang tidak bisa "
            "digunakan: voice (telepon), SMS, data/internet, atau semuanya."
        )
    return Valid(layanan_value(found))


class Layanan(SlotKind):
    def combine(self, values: List[Any]) -> Any:
        return layanan_value(values)


KIND = Layanan("layanan", NOUN, without_now(validate), multiple=True, criterion=True)
