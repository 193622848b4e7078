"""One registry of slot kinds (sop_engine/kinds): every kind is one module, registered once;
every SOP slot names a registered kind; and the engine and the actions never test a slot's
name: what differs between slots is asked of their kind."""

from __future__ import annotations

import ast
import importlib
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from sop_engine import kinds
from sop_engine.kinds.base import Given, SlotKind, Valid
from sop_engine.loader import default_registry
from tests.unit.test_layering import _cycle

ROOT = Path(__file__).resolve().parents[2]
KINDS_DIR = ROOT / "sop_engine" / "kinds"
# modules of sop_engine/kinds that hold what several kinds share, not a kind
SHARED_MODULES = {"__init__", "base", "identifier", "listed", "way_out"}

# The code that must never test a slot's name. normaliser.py is left out: it names the NLU
# entities (which share their names with the slots) for the extractors, not slots.
NAME_FREE = sorted(
    [p for p in (ROOT / "sop_engine").glob("*.py") if p.name != "normaliser.py"]
    + list((ROOT / "actions").glob("*.py"))
)
# "choice" is also the entity every button answer sends (domain.yml) and a question's kind
NOT_A_SLOT_NAME = {"choice"}


def _slot_names() -> Set[str]:
    return {s.name for engine in default_registry().by_id.values() for s in engine.sop.slots}


def _name_literals(path: Path, names: Set[str]) -> List[Tuple[int, str]]:
    """Every string constant in the file that is one of ``names``, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    ]


def test_engine_and_actions_never_name_a_slot() -> None:
    names = (_slot_names() | set(kinds.KINDS)) - NOT_A_SLOT_NAME
    found = [
        f"{path.relative_to(ROOT)}:{line} names {value!r}"
        for path in NAME_FREE
        for line, value in _name_literals(path, names)
    ]
    assert found == [], "ask the slot's kind (sop_engine/kinds) instead"


def test_the_name_check_covers_the_engine_and_the_actions() -> None:
    covered = {str(p.relative_to(ROOT)) for p in NAME_FREE}
    for expected in (
        "sop_engine/engine.py",
        "sop_engine/case_switch.py",
        "sop_engine/slot_values.py",
        "actions/forms.py",
        "actions/cases.py",
    ):
        assert expected in covered


def test_the_name_check_sees_a_slot_name(tmp_path: Path) -> None:
    # the checker itself must be able to fail: a comparison and a lookup by name
    sample = tmp_path / "sample.py"
    sample.write_text('if name == "nominal":\n    x = slots["msisdn"]\n', encoding="utf-8")
    assert _name_literals(sample, {"nominal", "msisdn"}) == [(1, "nominal"), (2, "msisdn")]


def _kind_modules() -> Dict[str, SlotKind]:
    found: Dict[str, SlotKind] = {}
    for path in sorted(KINDS_DIR.glob("*.py")):
        if path.stem in SHARED_MODULES:
            continue
        module = importlib.import_module(f"sop_engine.kinds.{path.stem}")
        kind = getattr(module, "KIND", None)
        assert isinstance(kind, SlotKind), f"{path.name} defines no KIND"
        found[path.stem] = kind
    return found


def test_every_kind_is_one_module_registered_once() -> None:
    modules = _kind_modules()
    assert {stem: kind.name for stem, kind in modules.items()} == {s: s for s in modules}
    assert sorted(modules) == kinds.names()
    for name, kind in kinds.KINDS.items():
        assert modules[name] is kind  # the registered object is the module's own


def test_kind_modules_import_neither_the_registry_nor_each_other_in_a_cycle() -> None:
    # kinds/__init__.py imports every kind module: a kind that needs another kind imports
    # that kind's module, never the registry
    modules = {p.stem for p in KINDS_DIR.glob("*.py")}
    graph: Dict[str, Set[str]] = {}
    for path in sorted(KINDS_DIR.glob("*.py")):
        edges: Set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ImportFrom) or node.module is None:
                continue
            if node.module == "sop_engine.kinds":
                edges |= {a.name if a.name in modules else "__init__" for a in node.names}
            elif node.module.startswith("sop_engine.kinds."):
                edges.add(node.module.rsplit(".", 1)[1])
        graph[path.stem] = edges - {path.stem}
    assert [m for m, edges in graph.items() if m != "__init__" and "__init__" in edges] == []
    assert _cycle(graph) == []


def test_every_kind_names_its_value_in_indonesian() -> None:
    for kind in kinds.KINDS.values():
        assert kind.noun.strip(), kind


def test_every_sop_slot_has_a_registered_kind_with_its_multi_value_policy() -> None:
    for engine in default_registry().by_id.values():
        for slot in engine.sop.slots:
            kind = kinds.kind(slot.validator)
            # the Rasa slot type (list or not) and the kind's policy must agree
            assert slot.multiple == kind.multiple, (engine.sop.id, slot.name)
            assert engine.kinds[slot.name] is kind


def test_a_name_means_one_thing_across_slots_and_kinds() -> None:
    # a slot called like a kind is of that kind; no question or derived fact takes a kind's name
    for engine in default_registry().by_id.values():
        sop = engine.sop
        for slot in sop.slots:
            if slot.name in kinds.KINDS:
                assert slot.validator == slot.name, (sop.id, slot.name)
        others = [q.name for q in sop.questions] + [d.name for d in sop.derived]
        assert [n for n in others if n in kinds.KINDS] == [], sop.id


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="unknown slot kind 'nope'"):
        kinds.kind("nope")


# -- the override points, through the kinds that use them ------------------------------------


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("msisdn", "carries_over"),
        ("email", "carries_over"),
        ("msisdn", "in_log"),
        ("channel", "multiple"),
        ("layanan", "multiple"),
        ("layanan", "criterion"),
        ("gol_case", "criterion"),
        ("callback_case", "criterion"),
        ("delivery_type", "criterion"),
        ("imes_product", "criterion"),
        ("choice", "criterion"),
        ("payment_method", "criterion"),
        ("event_time", "holds_time"),
        ("event_hour", "holds_hour"),
    ],
)
def test_kind_flags(name: str, flag: str) -> None:
    assert getattr(kinds.kind(name), flag) is True
    others = [k.name for k in kinds.KINDS.values() if getattr(k, flag)]
    assert name in others


@pytest.mark.parametrize(
    ("name", "value", "shown", "masked"),
    [
        ("msisdn", "081234567890", "081234567890", "0812****7890"),
        ("nominal", 50000, "Rp50.000", "Rp50.000"),
        ("nominal", 1500000.0, "Rp1.500.000", "1500000.0"),
        ("email", "budi@gmail.com", "budi@gmail.com", "budi@gmail.com"),
        ("serial_number", "0215123456789012345678901", "0215123456789012345678901", None),
        ("channel", "gopay", "gopay", None),
        ("courier", 0.75, "0.8", "0.75"),
    ],
)
def test_show_and_mask(name: str, value: object, shown: str, masked: str | None) -> None:
    kind = kinds.kind(name)
    assert kind.show(value) == shown
    assert kind.mask(value) == (shown if masked is None else masked)


@pytest.mark.parametrize(
    ("name", "value", "note"),
    [
        ("msisdn", "081234567890", "Saya pakai MSISDN 0812****7890 dari kasus sebelumnya"),
        ("msisdn", "", None),
        ("email", "budi@gmail.com", None),
    ],
)
def test_carry_over_note(name: str, value: str, note: str | None) -> None:
    said = kinds.kind(name).carry_over_note(value)
    assert (said is None) if note is None else (said is not None and said.startswith(note))


def _given(sop_id: str, now: datetime, **values: object) -> Given:
    sop = default_registry().by_id[sop_id].sop
    return Given(sop, kinds.slot_kinds(sop), values, {}, now)


def test_channel_fills_the_payment_method_slot_of_its_sop(now: datetime) -> None:
    channel = kinds.kind("channel")
    given = _given("pulsa_belum_masuk", now)
    assert channel.fill("channel", ["gopay", "mytelkomsel"], given) == {
        "channel": "mytelkomsel",
        "payment_method": "gopay",
    }
    # an SOP without a payment-method slot keeps the channel only
    other = _given("nomor_belum_aktif_setelah_bayar", now)
    assert channel.fill("channel", ["gopay", "mytelkomsel"], other) == {"channel": "mytelkomsel"}
    assert channel.fill("channel", ["tokopedia", "gopay"], given) == {"channel": "tokopedia"}


def test_a_new_event_time_drops_the_hour_of_another_day(now: datetime) -> None:
    event_time = kinds.kind("event_time")
    given = _given("callback", now)
    value = "2026-11-21T00:00:00+07:00/2026-11-21T23:59:00+07:00"
    assert event_time.fill("event_time", value, given) == {"event_time": value, "event_hour": None}
    same = Given(given.sop, given.kinds, {}, {"event_time": value}, now)
    assert event_time.fill("event_time", value, same) == {"event_time": value}
    with_hour = _given("callback", now, event_hour="14.00")
    assert event_time.fill("event_time", value, with_hour) == {"event_time": value}


@pytest.mark.parametrize(("hour", "valid"), [("09:30", True), ("10:00", True), ("14:30", False)])
def test_the_hour_falls_within_the_known_part_of_the_day(
    now: datetime, hour: str, valid: bool
) -> None:
    event_hour = kinds.kind("event_hour")
    known = {"event_time": "2026-11-22T00:00:00+07:00/2026-11-22T10:00:00+07:00"}
    result = event_hour.check_with(Valid(hour), known, _given("callback", now))
    assert isinstance(result, Valid) is valid
