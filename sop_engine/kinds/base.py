"""What every slot kind shares: the validation result, text cleaning, and ``SlotKind``, whose
attributes and methods are the override points of a kind (documented where defined).

A kind is the ``validator:`` a slot names in sop/*.yaml. Its module holds everything about
one kind of value: how text is read (a pure ``validate`` function), how a value is shown in
an answer and masked in a refusal, its Indonesian name, what several values in one message
mean, and how it fills or checks other slots. sop_engine/kinds/__init__.py registers every
kind once; the engine, the form and the actions ask the kind, never the slot's name.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from sop_engine.models import Option, SopFile

MAX_TEXT_LENGTH = 500


@dataclass(frozen=True)
class Valid:
    value: Any  # JSON-serialisable normalised value (str, int, list[str])
    note: Optional[str] = None  # optional Indonesian note for the agent


@dataclass(frozen=True)
class Invalid:
    reason: str  # Indonesian: what is wrong and what to ask the customer


ValidationResult = Union[Valid, Invalid]
TextValidator = Callable[[str, datetime], ValidationResult]


# --------------------------------------------------------------------------- text cleaning

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))


def clean_text(text: str) -> str:
    """Drop zero-width/format/control characters (NUL included), NFKC, collapse spaces."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))  # NBSP -> space
    chars: List[str] = []
    for ch in text:
        if ch in "\t\n\r\x0b\x0c":
            chars.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            continue
        else:
            chars.append(ch)
    return " ".join("".join(chars).split())


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def empty_reason(noun: str) -> str:
    return f"{capitalise(noun)} masih kosong. Tanyakan {noun} ke pelanggan."


def prepare(text: str, noun: str) -> Union[str, Invalid]:
    """Cleaned text, or Invalid when it is empty, too long or holds no letter/digit.

    ``noun`` names the value inside the reason ("nomor MSISDN")."""
    if len(text) > MAX_TEXT_LENGTH * 4:  # cheap guard before cleaning huge input
        return Invalid(
            f"Teks terlalu panjang ({len(text)} karakter, maksimal {MAX_TEXT_LENGTH}). "
            f"Tulis {noun} saja."
        )
    cleaned = clean_text(text)
    if not cleaned:
        return Invalid(empty_reason(noun))
    if len(cleaned) > MAX_TEXT_LENGTH:
        return Invalid(
            f"Teks terlalu panjang ({len(cleaned)} karakter, maksimal {MAX_TEXT_LENGTH}). "
            f"Tulis {noun} saja."
        )
    if not any(ch.isalnum() for ch in cleaned):
        return Invalid(
            f"Isian {noun} tidak berisi huruf atau angka. Tanyakan ulang {noun} ke pelanggan."
        )
    return cleaned


def without_now(func: Callable[[str], ValidationResult]) -> TextValidator:
    """A validator that needs no clock, in the shape every kind's validator has."""

    @functools.wraps(func)
    def wrapper(text: str, now: datetime) -> ValidationResult:
        return func(text)

    return wrapper


def raw_to_text(raw: Any) -> Optional[str]:
    """The text of a scalar slot/entity value; None for a type no validator reads."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return str(int(raw)) if raw.is_integer() else repr(raw)
    if isinstance(raw, str):
        return raw
    return None


def merge_notes(results: Sequence[Valid]) -> Optional[str]:
    notes = list(dict.fromkeys(r.note for r in results if r.note))
    return " ".join(notes) or None


def show_plain(value: Any) -> str:
    """One value in an answer when its kind has no way of its own."""
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


# --------------------------------------------------------------------------- the kind


@dataclass(frozen=True)
class Given:
    """What one message gives for one SOP, as a kind's ``fill`` and ``check_with`` see it."""

    sop: SopFile
    kinds: Mapping[str, SlotKind]  # slot name -> its kind, in the SOP's order
    values: Mapping[str, Any]  # the candidate values of this message, as extracted
    previous: Mapping[str, Any]  # values validated before this message
    now: datetime


class SlotKind:
    """One kind of form value. Construct it with the kind's validator and flags; subclass it
    only to override one of the methods below."""

    def __init__(
        self,
        name: str,
        noun: str,
        validate: TextValidator,
        *,
        multiple: bool = False,
        criterion: bool = False,
        carries_over: bool = False,
        in_log: bool = False,
        mention: Optional[re.Pattern[str]] = None,
        holds_time: bool = False,
        holds_hour: bool = False,
    ) -> None:
        self.name = name
        """What a slot writes as ``validator:`` in sop/*.yaml."""
        self.noun = noun
        """The value's Indonesian name inside a generic reason ("nomor MSISDN"); the SOP file
        gives each slot its own ``label`` for questions, answers and tickets."""
        self._validate = validate
        self.multiple = multiple
        """Several different values in one message are all kept (a list slot), not refused
        with a question. A slot of such a kind declares ``multiple: true`` (Rasa list slot)."""
        self.criterion = criterion
        """The value decides the case's branch: a phrase that only negates ("blm ada") is
        refused instead of being read as the way out (only an explicit "tidak tahu" is)."""
        self.carries_over = carries_over
        """The customer's identity: kept from a finished case to the next one."""
        self.in_log = in_log
        """Named, masked, in the server's log line of each answer."""
        self.mention = mention
        """How agents name this kind of value inside another answer: "ga punya SN" typed
        while another value is asked answers the SN's question, not the one asked."""
        self.holds_time = holds_time
        """The value is the time of the event: an ISO 8601 moment, or an interval
        'start/end' when only the day or the day part is known (kinds/event_time.py)."""
        self.holds_hour = holds_hour
        """The value is the hour 'HH:MM' of a time known only to the day: the engine asks it
        when a rule needs it and applies it to the SOP's time slots (kinds/event_hour.py)."""

    def __repr__(self) -> str:
        return f"<slot kind {self.name}>"

    def validate(self, text: str, now: datetime) -> ValidationResult:
        """One text -> Valid(normalised value) | Invalid(reason)."""
        return self._validate(text, now)

    def validate_value(
        self, raw: Any, now: datetime, options: Sequence[Option] = ()
    ) -> ValidationResult:
        """Any JSON value of a slot or entity -> result. Lists (an entity found several
        times) go to ``validate_several``; ``options`` are the slot's buttons (read only by
        choice kinds)."""
        if isinstance(raw, (list, tuple)):
            items = [
                item
                for item in raw
                if not (item is None or (isinstance(item, str) and not item.strip()))
            ]
            if not items:
                return Invalid(empty_reason(self.noun))
            if len(items) == 1:
                return self.validate_value(items[0], now)
            return self.validate_several(items, now)
        if raw is None:
            return Invalid(empty_reason(self.noun))
        text = raw_to_text(raw)
        if text is None:
            return Invalid(
                f"Format isian {self.noun} tidak dikenali. Tulis {self.noun} sebagai teks, "
                "lalu coba lagi."
            )
        return self.validate(text, now)

    def validate_several(self, items: List[Any], now: datetime) -> ValidationResult:
        """Several values in one message: each is validated; equal values are merged;
        different values are kept (``multiple``, through ``combine``) or refused with a
        question."""
        results = [self.validate_value(item, now) for item in items]
        for result in results:
            if isinstance(result, Invalid):
                return result
        valid = [r for r in results if isinstance(r, Valid)]
        if self.multiple:
            flat: List[Any] = []
            for r in valid:
                for v in r.value if isinstance(r.value, list) else [r.value]:
                    if v not in flat:
                        flat.append(v)
            value = self.combine(flat)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            return Valid(value, note=merge_notes(valid))
        distinct: Dict[str, Valid] = {}
        for r in valid:
            distinct.setdefault(json.dumps(r.value, sort_keys=True), r)
        if len(distinct) == 1:
            return Valid(valid[0].value, note=merge_notes(valid))
        listed = ", ".join(self.mask(r.value) for r in distinct.values())
        return Invalid(
            f"Ada {len(distinct)} {self.noun} berbeda ({listed}). Tanyakan ke pelanggan mana "
            "yang benar, lalu tulis satu saja."
        )

    def combine(self, values: List[Any]) -> Any:
        """The slot value of several different valid values (``multiple`` kinds only)."""
        return values

    def show(self, value: Any) -> str:
        """One value as the answer and the ticket show it (never masked: the agent copies
        it into the ticket)."""
        return show_plain(value)

    def mask(self, value: Any) -> str:
        """One value as a refusal or a log line names it; personal numbers masked."""
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def carry_over_note(self, value: Any) -> Optional[str]:
        """What the case introduction says when the value is kept from the case before
        (``carries_over`` kinds)."""
        return None

    def check_with(self, result: Valid, known: Mapping[str, Any], given: Given) -> ValidationResult:
        """A valid value checked against the other values already known for the case."""
        return result

    def fill(self, name: str, value: Any, given: Given) -> Dict[str, Any]:
        """The slot values a valid value sets: its own slot, and any slot it decides."""
        return {name: value}
