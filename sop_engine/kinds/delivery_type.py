"""Delivery type of a GraPARI Online order: 'reguler' | 'instant' (a case criterion)."""

from __future__ import annotations

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.listed import single_choice

NOUN = "jenis pengiriman"


def validate(text: str) -> ValidationResult:
    """'reguler' | 'instant'."""
    # The page names two delivery types only; another service ("same day", "express") is not
    # mapped onto one of them: the agent checks the order, else the TL decides
    return single_choice(
        text,
        NOUN,
        "delivery_types",
        "Halaman hanya membedakan reguler dan instant: cek jenis pengiriman di detail order; "
        "bila tetap tidak jelas, konfirmasi ke TL.",
    )


KIND = SlotKind("delivery_type", NOUN, without_now(validate), criterion=True)
