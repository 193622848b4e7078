"""Account number of a billing account (IMES): 5-15 digits."""

from __future__ import annotations

import re

from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now
from sop_engine.kinds.identifier import strip_label

NOUN = "account number"


def validate(text: str) -> ValidationResult:
    """Billing account number: 5-15 digits."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    body = strip_label(
        cleaned, r"(?:no(?:mor)?\.?\s*)?(?:account\s*(?:number|no)?|acc(?:ount)?\s*no|akun)"
    )
    body = body.replace(" ", "")
    ask = "Minta account number dari pelanggan atau cari lewat SID di NCX (EBIS > Asset)."
    if not body.isdigit() or not body.isascii():
        return Invalid(f"Account number hanya berisi angka. {ask}")
    if not 5 <= len(body) <= 15:
        return Invalid(f"Account number harus 5-15 digit (yang diberikan {len(body)} digit). {ask}")
    return Valid(body)


KIND = SlotKind(
    "account_number",
    NOUN,
    without_now(validate),
    mention=re.compile(r"\b(?:account|(?:nomor|no)\.?\s*akun|akun)\b"),
)
