"""Transaction ID of a purchase in MyTelkomsel: 8-40 letters/digits/-/_, with a digit."""

from __future__ import annotations

import re

from sop_engine.kinds.base import SlotKind, ValidationResult, without_now
from sop_engine.kinds.identifier import identifier

NOUN = "ID transaksi"


def validate(text: str) -> ValidationResult:
    """MyTelkomsel transaction ID: 8-40 letters/digits/-/_, with a digit; upper case."""
    return identifier(
        text,
        NOUN,
        r"(?:(?:id|no|nomor)\s*)?(?:transaksi|trx|transaction)(?:\s*id)?|trxid",
        r"[A-Za-z0-9_-]",
        "huruf, angka, - dan _",
        8,
        40,
        "Minta pelanggan menyalin ID transaksi persis dari riwayat transaksi MyTelkomsel.",
    )


KIND = SlotKind(
    "transaction_id",
    NOUN,
    without_now(validate),
    mention=re.compile(r"\b(?:trx|transaksi\s*id|id\s*transaksi|trans(?:action)?\s*id|id\s*trx)\b"),
)
