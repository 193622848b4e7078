"""Choice: one of the options the SOP file lists for the slot (its buttons), from the button's
payload or from typed text (exact value/title/synonym first, then a whole-word hit)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Sequence

from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult
from sop_engine.models import Option

_NON_WORD = re.compile(r"[^0-9a-z]+")


def simplify(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def payload_value(raw: str) -> str:
    """The value a button sends ('/inform{"choice": "x"}' -> 'x'); typed text as it is."""
    if raw.startswith("/") and "{" in raw:
        try:
            data = json.loads(raw[raw.index("{") :])
        except ValueError:
            return raw
        if isinstance(data, dict) and data:
            return str(next(iter(data.values())))
    return raw


def validate_choice(options: Sequence[Option], raw: Any) -> ValidationResult:
    """Maps an answer to one option: exact value/title/synonym first, then a whole-word hit."""
    if isinstance(raw, list):
        raw = raw[-1] if raw else None
    if raw is None or not str(raw).strip():
        return Invalid(_reason(options))
    text = simplify(payload_value(str(raw))[:500])
    if not text:
        return Invalid(_reason(options))
    padded = f" {text} "
    for option in options:
        names = [option.value, option.title, *option.synonyms]
        if any(simplify(n) == text for n in names):
            return Valid(option.value)
    hits = []
    for option in options:
        names = [option.title, *option.synonyms, option.value.replace("_", " ")]
        if any(f" {simplify(n)} " in padded for n in names if simplify(n)):
            hits.append(option.value)
    if len(set(hits)) == 1:
        return Valid(hits[0])
    return Invalid(_reason(options))


def _reason(options: Sequence[Option]) -> str:
    titles = ", ".join(o.title for o in options)
    return f"Jawaban belum saya kenali. Pilih salah satu: {titles}."


class Choice(SlotKind):
    """The options are the slot's ``buttons`` in the SOP file, not a vocabulary list."""

    def __init__(self, name: str, noun: str) -> None:
        super().__init__(name, noun, lambda text, now: validate_choice((), text), criterion=True)

    def validate_value(
        self, raw: Any, now: datetime, options: Sequence[Option] = ()
    ) -> ValidationResult:
        return validate_choice(options, raw)


KIND = Choice("choice", "pilihan")
