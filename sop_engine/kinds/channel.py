"""Channel: where the recharge was made (canonical values of sop/vocabulary.yaml). Several
channels in one message are all kept, then read as the place and the way of payment
("gopay di mytelkomsel": channel mytelkomsel, payment method gopay).

``channel_group`` is the vocabulary's grouping of a channel (non_fintech / fintech / app, as
in the contract); an SOP that groups channels its own way names that fact differently
(pulsa_belum_masuk: ``purchase_route``)."""

from __future__ import annotations

import difflib
from typing import Any, Dict, Optional, Sequence, Tuple

from sop_engine import normaliser
from sop_engine.kinds.base import (
    Given,
    Invalid,
    SlotKind,
    Valid,
    ValidationResult,
    prepare,
    short,
    without_now,
)
from sop_engine.kinds.listed import is_time_text, looks_like_a_name
from sop_engine.kinds.payment_method import KIND as PAYMENT_METHOD

NOUN = "channel"
_APP = "mytelkomsel"  # the operator's own app, where a payment method is chosen


def _examples() -> str:
    return ", ".join(t.label.split(" (")[0] for t in normaliser.vocabulary().channels)


def validate(text: str) -> ValidationResult:
    """One mention -> canonical value; several -> list of canonical values in order.

    The pages list channels with "dll": a channel outside the list is accepted as written
    (the SOP file groups it by its words, e.g. a konter or kios is non fintech), with a note.
    """
    cleaned = prepare(text, NOUN)
    if isinstance(cleaned, Invalid):
        return cleaned
    matcher = normaliser.matcher("channels")
    found = matcher.find(cleaned)
    if found:
        return Valid(found[0] if len(found) == 1 else found)
    words = normaliser.words(cleaned).split()
    if 1 <= len(words) <= 3:
        # Typo in a short answer ("indomarret"): accept the close match, with a note.
        squashed = "".join(words)
        for candidate in [squashed, *words]:
            if len(candidate) < 6:
                continue
            close = difflib.get_close_matches(candidate, matcher.single_words, n=1, cutoff=0.85)
            if close:
                value = matcher.lookup(close[0])
                label = matcher.terms[value].label.split(" (")[0]
                return Valid(
                    value,
                    note=f"'{cleaned}' dibaca sebagai {label}; pastikan channel ke pelanggan.",
                )
    if looks_like_a_name(words) and not is_time_text(cleaned):
        return Valid(
            cleaned.lower(),
            note=f"Channel '{cleaned}' tidak ada di daftar; dicatat sesuai tulisan.",
        )
    return Invalid(
        f"Channel '{short(cleaned)}' tidak dikenali. Tanyakan ke pelanggan lewat mana "
        f"transaksinya (nama channel saja). Contoh: {_examples()}."
    )


def channel_group(channel: str) -> str:
    """'non_fintech' | 'fintech' | 'app' of a canonical channel value (ValueError if unknown)."""
    groups = normaliser.vocabulary().channel_groups
    if channel not in groups:
        raise ValueError(f"unknown channel {channel!r}; expected one of {sorted(groups)}")
    return groups[channel]


def known_channel_group(channel: str) -> Optional[str]:
    """The group of a listed channel; None for a channel accepted as written."""
    return normaliser.vocabulary().channel_groups.get(channel)


def split_mentions(channels: Sequence[str]) -> Tuple[Optional[str], Optional[str]]:
    """Several channels in one message: where the recharge was made and how it was paid,
    as (channel, payment method).

    "gopay di mytelkomsel" -> channel mytelkomsel, payment method gopay (SOP 4.b);
    "tokopedia pakai gopay" -> channel tokopedia (the app that sold it, SOP 4.c).
    """
    unique = list(dict.fromkeys(channels))
    if not unique:
        return None, None
    if len(unique) == 1:
        return unique[0], None
    if _APP in unique:
        others = [c for c in unique if c != _APP]
        fintech = [c for c in others if known_channel_group(c) == "fintech"]
        return _APP, (fintech or others)[0]
    apps = [c for c in unique if known_channel_group(c) == "app"]
    return (apps or unique)[0], None


class Channel(SlotKind):
    def fill(self, name: str, value: Any, given: Given) -> Dict[str, Any]:
        """The channel, and the SOP's payment-method slot when a payment was named too."""
        channels = value if isinstance(value, list) else [value]
        channel, payment = split_mentions([str(c) for c in channels])
        out: Dict[str, Any] = {name: channel}
        if not payment:
            return out
        for spec in given.sop.slots:
            if given.kinds.get(spec.name) is PAYMENT_METHOD:
                checked = PAYMENT_METHOD.validate_value(payment, given.now, spec.buttons)
                out[spec.name] = checked.value if isinstance(checked, Valid) else None
        return out


KIND = Channel("channel", NOUN, without_now(validate), multiple=True)
