"""The SOP answer is rendered once (sop_engine/render.py): a channel that receives only the
``sop_result`` payload shows exactly the text the action sends with it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import List, Tuple

import pytest

from channels.output import message_text
from sop_engine.engine import SopResult
from sop_engine.loader import default_registry
from sop_engine.render import result_payload, result_text

NOW = datetime(2026, 3, 10, 5, 0, tzinfo=timezone.utc)
FACTS = {"msisdn": "081234567890", "email": "budi@example.com", "nominal": 50000}


def _every_outcome() -> List[Tuple[str, SopResult]]:
    results = []
    for engine in default_registry().by_id.values():
        for key in engine.sop.outcomes:
            results.append((f"{engine.sop.id}.{key}", engine.outcome_result(key, FACTS, NOW)))
    return results


OUTCOMES = _every_outcome()


def test_every_sop_has_outcomes_to_compare() -> None:
    assert len(OUTCOMES) >= 5 * 3


@pytest.mark.parametrize("name, result", OUTCOMES, ids=[name for name, _ in OUTCOMES])
def test_payload_alone_shows_the_action_text(name: str, result: SopResult) -> None:
    assert message_text({"custom": result_payload(result)}) == result_text(result)


def test_a_ticket_with_missing_fields_keeps_its_reminder() -> None:
    with_missing = [r for _, r in OUTCOMES if r.ticket is not None and r.ticket.missing]
    assert with_missing, "some outcome must lack a ticket field with these facts"
    text = message_text({"custom": result_payload(with_missing[0])})
    assert "Lengkapi manual: " in text and "Template tiket (salin):" in text
