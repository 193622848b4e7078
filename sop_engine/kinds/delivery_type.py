"""Delivery type of a GraPARI Online order: 'reguler' | 'instant' (a case criterion)."""

from __future__ import annotations

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.listed import single_choice

NOUN = "jenis pengiriman"


def validate(text: str) -> ValidationResult:
    """'reguler' | 'instant'."""
    return single_choice(
        text, NOUN, "delivery_types", "Tanyakan jenis pengiriman yang dipilih saat order."
    )


KIND = SlotKind("delivery_type", NOUN, without_now(validate), criterion=True)
