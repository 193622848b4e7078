"""Helpers shared by the engine tests of every SOP file (one copy, not one per file)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sop_engine.engine import SopResult

WIB = ZoneInfo("Asia/Jakarta")  # the agents' zone: the tests' "now" is given in it


def as_result(outcome: Any) -> SopResult:
    """The engine's decision, which must be an answer (not a question) at this point."""
    assert isinstance(outcome, SopResult), outcome
    return outcome


def branch(result: SopResult) -> str:
    """The SOP branch of a result: ``pulsa_belum_masuk.fintech`` -> ``fintech``."""
    return result.case_id.split(".", 1)[1]


def joined(result: SopResult) -> str:
    return " ".join(result.steps)
