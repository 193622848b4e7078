"""Serial number (SN) of a recharge voucher: exactly 25 digits starting with 02."""

from __future__ import annotations

import re
from typing import List

from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now

NOUN = "serial number (SN)"

_SN_LABEL = re.compile(
    r"^(?:no(?:mor)?\.?\s*)?(?:sn|s/n|serial\s*number|serial\s*voucher|serial|no\s*seri)"
    r"\s*[:=#.]?\s*",
    re.IGNORECASE,
)


def validate(text: str) -> ValidationResult:
    """Recharge SN: exactly 25 digits starting with 02 (spaces, dashes, dots ignored)."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    body = _SN_LABEL.sub("", cleaned)
    digits = re.sub(r"[\s.\-]", "", body)
    ask = "Minta pelanggan menanyakan SN yang sesuai format ke penjual/mitra tempat membeli."
    if not digits.isdigit() or not digits.isascii():
        return Invalid(
            "Serial number hanya berisi angka (25 digit, diawali 02); yang diberikan memuat "
            f"huruf/simbol. {ask}"
        )
    problems: List[str] = []
    if len(digits) != 25:
        problems.append(f"harus 25 digit (yang diberikan {len(digits)} digit)")
    if not digits.startswith("02"):
        problems.append(f"harus diawali 02 (yang diberikan diawali {digits[:2]})")
    if problems:
        return Invalid(f"Serial number {' dan '.join(problems)}. {ask}")
    return Valid(digits)


KIND = SlotKind(
    "serial_number",
    NOUN,
    without_now(validate),
    mention=re.compile(r"\b(?:sn|serial(?:\s*number)?|nomor\s+seri|no\.?\s*seri)\b"),
)
