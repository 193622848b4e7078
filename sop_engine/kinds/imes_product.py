"""IMES product: 'radio' | 'vsat' | 'seat_management', or a product outside the page's list
accepted as written (a case criterion)."""

from __future__ import annotations

from sop_engine import normaliser
from sop_engine.kinds.base import Invalid, SlotKind, Valid, ValidationResult, prepare, without_now
from sop_engine.kinds.listed import is_time_text, looks_like_a_name, single_choice

NOUN = "produk IMES"


def validate(text: str) -> ValidationResult:
    """'radio' | 'vsat' | 'seat_management'; another product is accepted as written.

    The page names "Radio, VSAT, Seat Management DLL": a product outside the list (ASTINET,
    VPN IP, METRO, ...) follows the page's general path, with a note."""
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    found = normaliser.matcher("imes_products").find(cleaned)
    if len(found) == 1:
        return Valid(found[0])
    result = single_choice(
        text, NOUN, "imes_products", "Tanyakan produk IMES yang digunakan pelanggan."
    )
    words = normaliser.words(cleaned, normaliser.vocabulary().slang).split()
    if found or not looks_like_a_name(words) or is_time_text(cleaned):
        return result
    return Valid(
        cleaned.upper(),
        note=f"Produk '{cleaned}' tidak ada di daftar halaman (Radio, VSAT, Seat Management "
        "dll); dicatat sesuai tulisan dan mengikuti alur umum halaman.",
    )


KIND = SlotKind("imes_product", NOUN, without_now(validate), criterion=True)
