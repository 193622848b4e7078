"""MSISDN: the customer's Telkomsel number. 08..., 628..., +62 8... with spaces, dashes,
dots or parentheses, also inside a sentence -> '08...'. Masked wherever it is named outside
the answer; the customer's identity, kept from one finished case to the next."""

from __future__ import annotations

import re
from typing import Any, List, Optional

from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now

NOUN = "nomor MSISDN"


def mask_msisdn(msisdn: str) -> str:
    """ "081234567890" -> "0812****7890" (digits kept at both ends, the middle masked)."""
    if len(msisdn) > 8:
        return msisdn[:4] + "*" * (len(msisdn) - 8) + msisdn[-4:]
    if len(msisdn) > 4:
        return msisdn[:2] + "*" * (len(msisdn) - 4) + msisdn[-2:]
    return "*" * len(msisdn)


_PHONE_CHUNK = re.compile(r"\+?\d[\d\s().\-/]*\d|\+?\d")


def _phone_groups(text: str) -> List[str]:
    """Digit groups that look like separate numbers ("+62 812-3456-7890 / 0813 ...")."""
    groups: List[str] = []
    for chunk in _PHONE_CHUNK.finditer(text):
        current = ""
        for part in re.findall(r"\+?\d+", chunk.group(0)):
            digits = part.lstrip("+")
            starts_number = part.startswith("+") or digits.startswith(("0", "62"))
            if len(current.lstrip("+")) >= 10 and starts_number:
                groups.append(current)
                current = part
            else:
                current += digits if current else part
        if current:
            groups.append(current)
    return groups


def _normalise(group: str) -> str:
    plus = group.startswith("+")
    digits = group.lstrip("+")
    if digits.startswith("00"):
        digits, plus = digits[2:], True
    if digits.startswith("62"):
        digits = "0" + digits[2:]
        if digits.startswith("00"):  # "+62 0812..."
            digits = digits[1:]
    elif plus:
        return "+" + digits
    elif digits.startswith("8"):
        digits = "0" + digits
    return digits


def _check(number: str) -> ValidationResult:
    masked = mask_msisdn(number.lstrip("+"))
    if number.startswith("+"):
        return Invalid(
            f"Nomor +{masked} bukan nomor Indonesia (+62). Minta nomor Telkomsel pelanggan "
            "yang diawali 08 atau 628."
        )
    if not number.startswith("0"):
        return Invalid(
            f"{masked} bukan format nomor HP. Minta nomor Telkomsel pelanggan yang diawali "
            "08 atau 628 (contoh 0812xxxxxxxx)."
        )
    if not number.startswith("08"):
        return Invalid(
            f"Nomor {masked} adalah nomor telepon rumah/kantor, bukan nomor HP (harus diawali "
            "08). Minta nomor Telkomsel pelanggan yang bermasalah."
        )
    if len(number) < 10:
        return Invalid(
            f"Nomor HP terlalu pendek ({len(number)} digit; seharusnya 10-13 digit). "
            "Minta pelanggan menyebutkan ulang nomornya."
        )
    if len(number) > 13:
        return Invalid(
            f"Nomor HP terlalu panjang ({len(number)} digit; seharusnya 10-13 digit). "
            "Minta pelanggan menyebutkan ulang nomornya."
        )
    return Valid(number)


def validate(text: str) -> ValidationResult:
    """08..., 628..., +62 8... with spaces/dashes/dots/parentheses, also inside a sentence."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    groups = _phone_groups(cleaned)
    if not groups:
        return Invalid(
            "Tidak ada nomor HP di teks ini. Tanyakan nomor Telkomsel pelanggan yang "
            "bermasalah (contoh 0812xxxxxxxx)."
        )
    results = [_check(_normalise(g)) for g in groups]
    valid_numbers = list(dict.fromkeys(r.value for r in results if isinstance(r, Valid)))
    if len(valid_numbers) == 1:
        return Valid(valid_numbers[0])
    if len(valid_numbers) > 1:
        listed = " dan ".join(mask_msisdn(n) for n in valid_numbers)
        return Invalid(
            f"Ada {len(valid_numbers)} nomor berbeda ({listed}). Tanyakan ke pelanggan nomor "
            "mana yang bermasalah, lalu tulis satu nomor saja."
        )
    longest = max(range(len(groups)), key=lambda i: len(groups[i]))
    return results[longest]


class Msisdn(SlotKind):
    def mask(self, value: Any) -> str:
        return mask_msisdn(value) if isinstance(value, str) else super().mask(value)

    def carry_over_note(self, value: Any) -> Optional[str]:
        if not value:
            return None
        return (
            f"Saya pakai MSISDN {mask_msisdn(str(value))} dari kasus sebelumnya; ketik nomor "
            "lain bila berbeda."
        )


KIND = Msisdn("msisdn", NOUN, without_now(validate), carries_over=True, in_log=True)
