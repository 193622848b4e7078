"""Courier of a GraPARI Online delivery: a listed courier, or a plausible name as typed."""

from __future__ import annotations

from sop_engine import normaliser
from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now

NOUN = "kurir"


def validate(text: str) -> ValidationResult:
    """Canonical courier; an unknown but plausible name is kept as typed, with a note."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = normaliser.matcher("couriers")
    found = matcher.find(cleaned)
    if len(found) == 1:
        return Valid(found[0])
    if found:
        return Invalid(
            f"Ada lebih dari satu kurir ({matcher.labels(found)}). Tanyakan kurir yang dipilih "
            "pelanggan saat order."
        )
    if len(cleaned) <= 40 and any(ch.isalpha() for ch in cleaned):
        return Valid(
            cleaned,
            note="Kurir ini tidak ada di daftar; dicatat sesuai tulisan, pastikan ke pelanggan.",
        )
    return Invalid(
        "Nama kurir tidak dikenali. Tanyakan kurir yang dipilih pelanggan saat order "
        "(contoh JNE, J&T, SiCepat, AnterAja, GoSend, GrabExpress)."
    )


KIND = SlotKind("courier", NOUN, without_now(validate))
