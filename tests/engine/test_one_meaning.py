"""One name, one meaning: ``channel_group`` is the vocabulary's grouping of a canonical
channel (non_fintech / fintech / app, sop/vocabulary.yaml, as in the contract). An SOP fact
that groups channels its own way (pulsa_belum_masuk: an e-wallet's own app is the "app"
route) must carry its own name, or a condition written for one would read the other."""

from __future__ import annotations

from sop_engine.kinds.channel import channel_group
from sop_engine.loader import default_registry
from sop_engine.normaliser import vocabulary

RESERVED = {"channel_group"}  # names of vocabulary concepts (sop_engine/kinds/channel.py)


def test_no_sop_fact_or_slot_reuses_a_vocabulary_concept_name() -> None:
    clashes = [
        f"{engine.sop.id}: {name}"
        for engine in default_registry().by_id.values()
        for name in [d.name for d in engine.sop.derived] + engine.slot_names
        if name in RESERVED
    ]
    assert clashes == []


def test_channel_group_is_the_vocabularys_grouping() -> None:
    groups = vocabulary().channel_groups
    assert groups, "the vocabulary groups no channel"
    assert set(groups.values()) <= {"non_fintech", "fintech", "app"}
    for channel, group in groups.items():
        assert channel_group(channel) == group


def test_the_sop_route_differs_from_the_vocabulary_group_where_the_page_says_so() -> None:
    # why the two names must differ: GoPay is a fintech channel, but its purchase takes the
    # page's app route
    sop = default_registry().by_id["pulsa_belum_masuk"].sop
    route = next(d for d in sop.derived if d.name == "purchase_route")
    assert route.table is not None
    assert channel_group("gopay") == "fintech" and route.table["gopay"] == "app"
