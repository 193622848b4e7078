"""Nominal: the recharge amount in rupiah. '50rb', 'Rp 50.000', '100k', 'seratus ribu',
'1,5 juta', 'sejuta' -> int; shown as 'Rp50.000'."""

from __future__ import annotations

import re
from typing import Any, List, Optional, Sequence

from sop_engine import normaliser
from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now

NOUN = "nominal isi ulang"


def rupiah(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(int(round(amount))):,}".replace(",", ".")


_UNITS = normaliser.DIGIT_WORDS
_SE_SMALL = {"sepuluh": 10, "sebelas": 11, "seratus": 100}
_SE_BIG = {"seribu": 1_000, "sejuta": 1_000_000}
_SCALE_SMALL = {"puluh": 10, "ratus": 100}
_SCALE_BIG = {
    "ribu": 1_000,
    "rb": 1_000,
    "rebu": 1_000,
    "ribuan": 1_000,
    "k": 1_000,
    "juta": 1_000_000,
    "jt": 1_000_000,
    "jeti": 1_000_000,
}
_NUMBER_WORDS = (
    set(_UNITS) | set(_SE_SMALL) | set(_SE_BIG) | set(_SCALE_SMALL) | set(_SCALE_BIG)
) | {"belas", "setengah"}
_NUMBER_TOKEN = re.compile(r"\d+(?:[.,]\d+)*")


class _NominalError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _parse_digits(token: str, scaled: bool) -> float:
    """'50.000' -> 50000; '1,5' before 'juta' -> 1.5; raises _NominalError when unclear."""
    groups = re.split(r"[.,]", token)
    if len(groups) == 1:
        return float(token)
    tail_ok = all(len(g) == 3 for g in groups[1:])
    if tail_ok and len(groups[0]) <= 3:
        return float("".join(groups))  # thousands separators
    if all(len(g) == 3 for g in groups[1:-1]) and len(groups[0]) <= 3:
        # decimal part after the last separator: "1,5" (juta), "50.000,00" (sen)
        whole = "".join(groups[:-1])
        if scaled or len(groups[-1]) <= 2:
            return float(f"{whole}.{groups[-1]}")
    raise _NominalError(
        f"Format angka '{token}' tidak jelas. Tulis misalnya 50000, 50.000 atau 50rb, lalu "
        "pastikan nominal ke pelanggan."
    )


def _phrase_value(tokens: Sequence[str]) -> float:
    total = 0.0
    small = 0.0
    pending: Optional[float] = None
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if _NUMBER_TOKEN.fullmatch(token):
            pending = (pending or 0.0) + _parse_digits(token, nxt in _SCALE_BIG)
        elif token in _UNITS:
            pending = (pending or 0.0) + _UNITS[token]
        elif token == "setengah":
            pending = (pending or 0.0) + 0.5
        elif token in _SE_SMALL:
            small += _SE_SMALL[token]
        elif token in _SE_BIG:
            total += _SE_BIG[token]
        elif token == "belas":
            small += (pending or 0.0) + 10
            pending = None
        elif token in _SCALE_SMALL:
            small += (pending if pending is not None else 1.0) * _SCALE_SMALL[token]
            pending = None
        elif token in _SCALE_BIG:
            amount = small + (pending or 0.0)
            total += (amount if amount else 1.0) * _SCALE_BIG[token]
            small, pending = 0.0, None
    return total + small + (pending or 0.0)


def _phrases(text: str) -> List[List[str]]:
    """Runs of number tokens; a digit token after a complete number starts a new run."""
    phrases: List[List[str]] = []
    current: List[str] = []
    for token in re.findall(r"\d+(?:[.,]\d+)*|[a-z]+", text):
        is_digits = bool(_NUMBER_TOKEN.fullmatch(token))
        if is_digits or token in _NUMBER_WORDS:
            if is_digits and current and _NUMBER_TOKEN.fullmatch(current[-1]):
                if len(token) == 3 and token.isdigit():  # "50 000": space as separator
                    current[-1] += token
                    continue
                phrases.append(current)
                current = []
            elif is_digits and current and current[-1] in _SCALE_BIG and len(current) > 1:
                # "1 jt 500 rb" keeps going, but "50rb 100rb" are two amounts
                if any(t in _SCALE_BIG and _SCALE_BIG[t] <= 1_000 for t in current):
                    phrases.append(current)
                    current = []
            current.append(token)
        elif current:
            phrases.append(current)
            current = []
    if current:
        phrases.append(current)
    # A scale word alone ("ribu", "k") is no amount.
    return [p for p in phrases if any(t not in _SCALE_BIG and t not in _SCALE_SMALL for t in p)]


def validate(text: str) -> ValidationResult:
    """'50rb', 'Rp 50.000', '100k', 'seratus ribu', '1,5 juta', 'sejuta' -> int rupiah."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    lowered = cleaned.lower()
    lowered = re.sub(r"\b(?:rp|idr)\.?\s*|\brupiah\b", " ", lowered)
    if re.search(r"(?:^|[\s(:=])-\s*\d|\bminus\b", lowered):
        return Invalid(
            "Nominal tidak boleh negatif. Tanyakan nominal isi ulang yang dibayar pelanggan."
        )
    lowered = re.sub(r"(?<=\d)(?=[a-z])", " ", lowered)
    try:
        values = [_phrase_value(p) for p in _phrases(lowered)]
    except _NominalError as exc:
        return Invalid(exc.reason)
    amounts = list(dict.fromkeys(int(round(v)) for v in values))
    if not amounts:
        return Invalid(
            "Nominal tidak terbaca. Tulis angkanya, misalnya 50rb, Rp 50.000 atau lima puluh "
            "ribu, lalu tanyakan nominal isi ulang ke pelanggan."
        )
    if len(amounts) > 1:
        plausible = [a for a in amounts if 1_000 <= a <= 10_000_000]
        if len(plausible) != 1:
            listed = " dan ".join(rupiah(a) for a in (plausible or amounts))
            return Invalid(
                f"Ada lebih dari satu angka ({listed}). Tanyakan ke pelanggan nominal isi ulang "
                "yang benar, lalu tulis satu nominal saja."
            )
        amounts = plausible
    amount = amounts[0]
    if amount == 0:
        return Invalid("Nominal tidak boleh 0. Tanyakan nominal isi ulang yang dibayar pelanggan.")
    if amount < 1_000:
        return Invalid(
            f"Nominal {rupiah(amount)} terlalu kecil (minimal Rp1.000). Kalau maksudnya ribuan, "
            f"tulis misalnya '{amount}rb'. Pastikan nominal ke pelanggan."
        )
    if amount > 10_000_000:
        return Invalid(
            f"Nominal {rupiah(amount)} tidak wajar untuk isi ulang (maksimal Rp10.000.000). "
            "Pastikan ulang nominal ke pelanggan."
        )
    return Valid(amount)


class Nominal(SlotKind):
    def show(self, value: Any) -> str:
        if isinstance(value, (int, float)):
            return rupiah(int(value))  # whole rupiah, as the ticket wants it
        return super().show(value)

    def mask(self, value: Any) -> str:
        return rupiah(value) if isinstance(value, int) else super().mask(value)


KIND = Nominal("nominal", NOUN, without_now(validate))
