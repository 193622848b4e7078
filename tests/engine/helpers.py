"""Helpers shared by the engine tests of every SOP file (one copy, not one per file)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sop_engine.engine import SopResult

WIB = ZoneInfo("Asia/Jakarta")  # the agents' zone: the tests' "now" is given in it

# a GraPARI Online delivery incident up to its second check question (the engine tests and
# the action tests of the check questions' way out)
GOL_DELIVERY = {
    "active_sop": "grapari_online",
    "gol_case": "delivery_incident",
    "email": "rina.s@contoh.id",
    "order_id": "GOL7788123",
    "event_time": "2026-11-10T13:15:00+07:00",
    "delivery_type": "reguler",
    "courier": "jne",
    "check_gol_tombol_lanjut_tidak_muncul": False,
}


def as_result(outcome: Any) -> SopResult:
    """The engine's decision, which must be an answer (not a question) at this point."""
    assert isinstance(outcome, SopResult), outcome
    return outcome


def branch(result: SopResult) -> str:
    """The SOP branch of a result: ``pulsa_belum_masuk.fintech`` -> ``fintech``."""
    return result.case_id.split(".", 1)[1]


def joined(result: SopResult) -> str:
    return " ".join(result.steps)
