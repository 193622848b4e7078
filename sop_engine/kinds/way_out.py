"""The honest ways out of a question, the same for every kind: the customer has no such
value or does not know it ("tidak punya", "lupa", "SN kehapus"), and phrases that only
negate ("blm ada", "ga"), which name no value at all."""

from __future__ import annotations

import re
from typing import Any

from sop_engine.kinds.base import clean_text

_NO_VALUE_RE = re.compile(
    r"\b(?:(?:tidak|tdk|tak|gak|ga|gk|nggak|ngga|enggak|g|belum|blm|blom)\s+"
    r"(?:punya|pny|tau|tahu|taw|ingat|inget|ada|tersedia|dapat|dapet|dpt|simpan)"
    r"|lupa|hilang|ilang|kehapus|terhapus|kehilangan|dihapus|kebuang)\b"
)
# Words of a phrase that only negates ("blm ada", "gak"): never the value of a criterion.
_NEGATION_WORDS = {
    "tidak",
    "tdk",
    "tak",
    "gak",
    "ga",
    "gk",
    "nggak",
    "ngga",
    "enggak",
    "g",
    "belum",
    "blm",
    "blom",
    "ada",
    "no",
    "nope",
    "bukan",
    "engga",
    "nda",
    "ndak",
    "kosong",
    "none",
    "-",
}


def is_no_value(text: Any) -> bool:
    """'pelanggan tidak punya SN', 'tidak tahu', 'SN kehapus', 'gak ada': the way out."""
    if not isinstance(text, str) or re.search(r"\d{4,}", text):
        return False
    lowered = clean_text(text).lower()
    return bool(_NO_VALUE_RE.search(lowered)) or only_negation(lowered)


def only_negation(text: Any) -> bool:
    """True for a phrase that only negates ("blm ada", "ga"): it names no value."""
    if not isinstance(text, str):
        return False
    cleaned = clean_text(text).lower()
    if re.search(r"\d", cleaned):
        return False
    words = re.findall(r"[a-z]+", cleaned)
    return bool(words) and all(w in _NEGATION_WORDS for w in words)
