"""The SOP files load, and a broken one fails naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sop_engine.kinds import KINDS
from sop_engine.loader import NON_SOP_FILES, SOP_DIR, SopLoadError, SopRegistry, load_sop_file


def test_every_sop_file_loads_as_its_own_intent() -> None:
    files = sorted(p for p in SOP_DIR.glob("*.yaml") if p.name not in NON_SOP_FILES)
    registry = SopRegistry.from_directory()
    assert len(registry.intents) == len(files) > 0
    for path in files:
        sop = load_sop_file(path)
        assert registry.by_intent[sop.intent].sop.id == sop.id == path.stem


def test_every_sop_file_states_its_page_identity_and_menu() -> None:
    """The four keys are written even when the page shows no value (null), so a missing one
    is a forgotten one."""
    for path in sorted(p for p in SOP_DIR.glob("*.yaml") if p.name not in NON_SOP_FILES):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert {"page_id", "version", "updated", "expires", "menu"} <= set(raw), path.name


def test_every_slot_names_an_existing_validator() -> None:
    registry = SopRegistry.from_directory()
    for engine in registry.by_id.values():
        for slot in engine.sop.slots:
            assert slot.validator in KINDS, (engine.sop.id, slot.name)


def test_every_step_keeps_a_reference_to_the_page() -> None:
    registry = SopRegistry.from_directory()
    for engine in registry.by_id.values():
        assert engine.sop.page.endswith(".txt")
        for outcome in engine.sop.outcomes.values():
            assert outcome.ref
            assert all(step.ref for step in outcome.steps)


def _broken_copy(tmp_path: Path, mutate) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load((SOP_DIR / "pulsa_belum_masuk.yaml").read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d.pop("source"))
    with pytest.raises(SopLoadError) as error:
        load_sop_file(path)
    assert "broken.yaml" in str(error.value)
    assert "source" in str(error.value)


def test_rule_to_unknown_outcome_is_refused(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["rules"][0].update(outcome="nowhere"))
    with pytest.raises(SopLoadError, match="nowhere"):
        load_sop_file(path)


def test_condition_on_unknown_fact_is_refused(tmp_path: Path) -> None:
    path = _broken_copy(tmp_path, lambda d: d["rules"][1]["when"].update(check_typo=True))
    with pytest.raises(SopLoadError, match="check_typo"):
        load_sop_file(path)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(SopLoadError, match="bad.yaml"):
        load_sop_file(path)
