"""What the kinds whose values come from a list of sop/vocabulary.yaml share: one value of
the list from the agent's wording, and whether a short text outside the list can be a name
(the pages' lists end with "dll": such a value is accepted as written)."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sop_engine import normaliser
from sop_engine.kinds.base import Invalid, Valid, ValidationResult, capitalise, prepare, short
from sop_engine.timeparse import agent_timezone, parse_indonesian_datetime


def single_choice(text: str, noun: str, terms: str, ask: str) -> ValidationResult:
    """Exactly one value of the vocabulary list ``terms`` named in ``text``."""
    cleaned = prepare(text, noun)
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = normaliser.matcher(terms)
    found = matcher.find(cleaned)
    if len(found) == 1:
        return Valid(found[0])
    if found:
        return Invalid(
            f"Ada lebih dari satu {noun} ({matcher.labels(found)}). {ask} Pilih satu saja."
        )
    examples = matcher.labels(list(matcher.terms))
    return Invalid(
        f"{capitalise(noun)} '{short(cleaned)}' tidak dikenali. {ask} Pilihan: {examples}."
    )


# Words that make a short text a description of the complaint, not the name of a channel.
_NOT_A_NAME = {
    "belum",
    "tidak",
    "gak",
    "ga",
    "blm",
    "tdk",
    "masuk",
    "kartu",
    "jenis",
    "nomor",
    "kuota",
    "paket",
    "sudah",
    "udah",
    "ada",
    "gagal",
    "error",
    "saldo",
}


def is_time_text(text: str) -> bool:
    """'kemarin', 'tadi pagi': a time typed into the wrong question is not a name."""
    now = datetime.now(agent_timezone())
    return parse_indonesian_datetime(text, now) is not None


def looks_like_a_name(words: Sequence[str]) -> bool:
    return (
        1 <= len(words) <= 4
        and any(ch.isalpha() for w in words for ch in w)
        and not any(w in _NOT_A_NAME for w in words)
    )
