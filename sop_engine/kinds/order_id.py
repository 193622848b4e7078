"""Order ID of a GraPARI Online order: 6-40 letters/digits/-, with a digit."""

from __future__ import annotations

import re

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.identifier import identifier

NOUN = "order ID GraPARI Online"


def validate(text: str) -> ValidationResult:
    """GraPARI Online order ID: 6-40 letters/digits/-, with a digit; upper case."""
    return identifier(
        text,
        NOUN,
        r"(?:no(?:mor)?\s*)?(?:order\s*id|id\s*order|order)",
        r"[A-Za-z0-9-]",
        "huruf, angka dan -",
        6,
        40,
        "Minta pelanggan melihat order ID di email/SMS konfirmasi GraPARI Online.",
    )


KIND = SlotKind(
    "order_id",
    NOUN,
    without_now(validate),
    mention=re.compile(
        r"\b(?:order\s*id|id\s*order|id\s*pesanan|(?:nomor|no)\.?\s*(?:order|pesanan))\b"
    ),
)
