"""Loads every SOP data file and fails loudly (file + field) when one is broken."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Dict, List, Optional

import yaml
from pydantic import ValidationError

from sop_engine import kinds
from sop_engine.engine import SopEngine
from sop_engine.models import SopFile

SOP_DIR = Path(os.environ.get("SOP_DIR", Path(__file__).resolve().parent.parent / "sop"))
NON_SOP_FILES = {"vocabulary.yaml"}


class SopLoadError(RuntimeError):
    """A data file does not match the schema; the message names the file and the field."""


def load_sop_file(path: Path) -> SopFile:
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", baris {mark.line + 1}" if mark is not None else ""
        raise SopLoadError(f"{path}{where}: format YAML salah: {exc}") from exc
    try:
        return SopFile.parse_obj(raw)
    except ValidationError as exc:
        from sop_engine.check import schema_findings  # the line of each field, as sop-check

        problems = "; ".join(f.render(path) for f in schema_findings(raw, yaml.compose(text), exc))
        raise SopLoadError(problems) from exc


class SopRegistry:
    def __init__(self, sops: List[SopFile]) -> None:
        self.by_id: Dict[str, SopEngine] = {}
        self.by_intent: Dict[str, SopEngine] = {}
        for sop in sops:
            unknown = [s.validator for s in sop.slots if s.validator not in kinds.KINDS]
            if unknown:
                raise SopLoadError(f"{sop.id}: unknown validators {unknown}")
            if sop.id in self.by_id or sop.intent in self.by_intent:
                raise SopLoadError(f"duplicate SOP id or intent: {sop.id} / {sop.intent}")
            engine = SopEngine(sop)
            self.by_id[sop.id] = engine
            self.by_intent[sop.intent] = engine

    @classmethod
    def from_directory(cls, directory: Path = SOP_DIR) -> SopRegistry:
        files = sorted(p for p in directory.glob("*.yaml") if p.name not in NON_SOP_FILES)
        if not files:
            raise SopLoadError(f"{directory}: no SOP data files found")
        return cls([load_sop_file(p) for p in files])

    @property
    def intents(self) -> List[str]:
        return list(self.by_intent)

    def all_slot_names(self) -> List[str]:
        names: List[str] = []
        for engine in self.by_id.values():
            for name in engine.slot_names:
                if name not in names:
                    names.append(name)
        return names

    def all_question_names(self) -> List[str]:
        names: List[str] = []
        for engine in self.by_id.values():
            names.extend(n for n in engine.question_names if n not in names)
        return names


_current: Optional[SopRegistry] = None
_swap = threading.Lock()


def default_registry() -> SopRegistry:
    """The SOPs the assistant serves: loaded at first use, replaced by a reload."""
    global _current
    if _current is None:
        with _swap:
            if _current is None:
                _current = SopRegistry.from_directory()
    return _current


def replace_default_registry(new: SopRegistry) -> Optional[SopRegistry]:
    """Serves ``new`` from now on and returns the previous registry. Callers build and check
    ``new`` first, so a broken file never replaces a working set."""
    global _current
    with _swap:
        old, _current = _current, new
    return old
