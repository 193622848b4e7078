"""What the identifier kinds share (transaction ID, order ID, SID, account number): a
leading label the agent copied with the value is dropped, then the characters and the length
are checked."""

from __future__ import annotations

import re

from sop_engine.kinds.base import Invalid, Valid, ValidationResult, capitalise, prepare, short


def strip_label(text: str, label: str) -> str:
    """Drop a leading label ("order id: ", "SID ") that is followed by a separator."""
    return re.sub(rf"^(?:{label})(?:\s*[:=#]\s*|\s+)", "", text, flags=re.IGNORECASE).strip()


def identifier(
    text: str,
    noun: str,
    label_re: str,
    allowed: str,
    allowed_desc: str,
    min_len: int,
    max_len: int,
    ask: str,
) -> ValidationResult:
    """Letters/digits (``allowed``, one character each), ``min_len``-``max_len`` long, with a
    digit; upper case."""
    cleaned = prepare(text, noun)
    if isinstance(cleaned, Invalid):
        return cleaned
    body = strip_label(cleaned, label_re)
    if not body:
        return Invalid(f"{capitalise(noun)} masih kosong. {ask}")
    if " " in body:
        return Invalid(f"{capitalise(noun)} tidak boleh berisi spasi ('{short(body)}'). {ask}")
    bad = sorted({ch for ch in body if not re.fullmatch(allowed, ch)})
    if bad:
        return Invalid(
            f"{capitalise(noun)} hanya boleh berisi {allowed_desc} (ada karakter "
            f"'{''.join(bad[:5])}'). {ask}"
        )
    if not min_len <= len(body) <= max_len:
        return Invalid(
            f"{capitalise(noun)} harus {min_len}-{max_len} karakter (yang diberikan "
            f"{len(body)} karakter). {ask}"
        )
    if not any(ch.isdigit() for ch in body):
        return Invalid(f"{capitalise(noun)} harus mengandung angka. {ask}")
    return Valid(body.upper())
