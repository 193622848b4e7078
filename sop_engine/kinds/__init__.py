"""The registry of slot kinds: every kind a slot may name as ``validator:`` in sop/*.yaml,
registered here once. One module per kind (sop_engine/kinds/<kind>.py) holds all that is
particular to it; sop_engine/kinds/base.py says what a kind can define.

How to add a kind: docs/ARCHITECTURE.md ("Slot kinds").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence

from sop_engine.kinds import (
    account_number,
    callback_case,
    channel,
    choice,
    courier,
    delivery_type,
    email,
    event_hour,
    event_time,
    gol_case,
    imes_product,
    layanan,
    msisdn,
    nominal,
    order_id,
    payment_method,
    serial_number,
    sid,
    transaction_id,
)
from sop_engine.kinds.base import SlotKind, ValidationResult, clean_text
from sop_engine.models import Option, SopFile

# In this order ``other_kind_named`` tries the kinds' mentions.
KINDS: Mapping[str, SlotKind] = {
    kind.name: kind
    for kind in (
        msisdn.KIND,
        nominal.KIND,
        channel.KIND,
        serial_number.KIND,
        transaction_id.KIND,
        email.KIND,
        order_id.KIND,
        sid.KIND,
        account_number.KIND,
        courier.KIND,
        delivery_type.KIND,
        layanan.KIND,
        imes_product.KIND,
        gol_case.KIND,
        callback_case.KIND,
        event_time.KIND,
        event_hour.KIND,
        choice.KIND,
        payment_method.KIND,
    )
}


def kind(name: str) -> SlotKind:
    """The kind called ``name`` (KeyError naming the known kinds when there is none)."""
    if name not in KINDS:
        raise KeyError(f"unknown slot kind {name!r}; known: {sorted(KINDS)}")
    return KINDS[name]


def names() -> List[str]:
    return sorted(KINDS)


def slot_kinds(sop: SopFile) -> Dict[str, SlotKind]:
    """Slot name -> kind for one SOP, in its order (a slot naming no known kind is left
    out: the loader refuses such a file, `make sop-check` reports it)."""
    return {s.name: KINDS[s.validator] for s in sop.slots if s.validator in KINDS}


def validate(
    name: str, raw: Any, now: datetime, options: Sequence[Option] = ()
) -> ValidationResult:
    """Validate a slot or entity value of any JSON type as the kind called ``name``."""
    return kind(name).validate_value(raw, now, options)


def other_kind_named(text: Any, name: str) -> Optional[str]:
    """The kind of value other than ``name`` that ``text`` names, if it names one and not
    that kind itself: 'pelanggan ga punya SN' names 'serial_number'."""
    if not isinstance(text, str):
        return None
    lowered = clean_text(text).lower()
    own = KINDS[name].mention if name in KINDS else None
    if own is not None and own.search(lowered):
        return None
    for other in KINDS.values():
        if other.name != name and other.mention is not None and other.mention.search(lowered):
            return other.name
    return None
