"""SID of an IMES/Jastel service: digits with at most one dash group, 6-30 characters."""

from __future__ import annotations

import re

from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now
from sop_engine.kinds.identifier import strip_label

NOUN = "SID"


def validate(text: str) -> ValidationResult:
    """IMES/Jastel SID: digits with at most one dash group, 6-30 characters."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    body = strip_label(cleaned, r"(?:no(?:mor)?\s*)?(?:sid|service\s*id)")
    body = re.sub(r"\s*-\s*", "-", body)
    ask = "Minta SID layanan dari pelanggan (contoh 1192187997 atau 300107201-003092947)."
    if not re.fullmatch(r"\d+(?:-\d+)?", body):
        return Invalid(f"SID hanya berisi angka dengan paling banyak satu tanda '-'. {ask}")
    if not 6 <= len(body) <= 30:
        return Invalid(f"SID harus 6-30 karakter (yang diberikan {len(body)}). {ask}")
    return Valid(body)


KIND = SlotKind("sid", NOUN, without_now(validate), mention=re.compile(r"\bsid\b"))
