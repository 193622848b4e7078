"""E-mail address of the customer (GraPARI Online orders): found also inside a sentence,
the domain lower-cased, a likely typo of a common domain noted. Part of the customer's
identity: kept from one finished case to the next."""

from __future__ import annotations

import re
from typing import List

from sop_engine import normaliser
from sop_engine.kinds.base import (
    Invalid,
    SlotKind,
    Valid,
    ValidationResult,
    prepare,
    short,
    without_now,
)

NOUN = "alamat email"

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+'-])([A-Za-z0-9._%+'-]+)@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![A-Za-z0-9-])"
)


def validate(text: str) -> ValidationResult:
    """Pragmatic e-mail check (also inside a sentence); the domain is lower-cased."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    compact = re.sub(r"\s*@\s*", "@", cleaned)
    found: List[str] = []
    for m in _EMAIL_RE.finditer(compact):
        local, domain = m.group(1), m.group(2).lower()
        if local.startswith(".") or local.endswith(".") or ".." in local or len(local) > 64:
            continue
        address = f"{local}@{domain}"
        if address not in found and len(address) <= 254:
            found.append(address)
    ask = "Minta pelanggan mengeja ulang alamat emailnya (contoh budi@gmail.com)."
    if not found:
        if "@" in compact:
            return Invalid(f"Format email '{short(compact)}' tidak valid. {ask}")
        return Invalid(f"Tidak ada alamat email (tanda @) di teks ini. {ask}")
    if len(found) > 1:
        return Invalid(
            f"Ada {len(found)} alamat email berbeda ({', '.join(found)}). Tanyakan ke pelanggan "
            "email mana yang dipakai."
        )
    address = found[0]
    domain = address.rsplit("@", 1)[1]
    fix = normaliser.vocabulary().email_domain_typos.get(domain)
    if fix:
        return Valid(
            address,
            note=f"Domain '{domain}' mungkin salah ketik ({fix}?); pastikan ke pelanggan.",
        )
    return Valid(address)


KIND = SlotKind(
    "email",
    NOUN,
    without_now(validate),
    carries_over=True,
    mention=re.compile(r"\b(?:e-?mail|surel)\b"),
)
