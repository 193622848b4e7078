"""make nlu-review on the tracker store of a real conversation (real Rasa + action server)."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import pytest

from nlu_components import review
from testkit.assistant import Servers

pytestmark = pytest.mark.servers


def _entries(result: Dict[str, Any], reason: str) -> List[Dict[str, Any]]:
    return [e for entries in result["groups"][reason].values() for e in entries]


def test_review_of_a_real_conversation(servers: Servers) -> None:
    sender = f"agent-{uuid.uuid4().hex[:8]}"
    turns = [
        "resep rendang padang yang enak gimana",
        "pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
        "nomornya 0812345",
        "batal",
    ]
    replies = [servers.say(sender, text) for text in turns]
    refusal = "\n".join(m.get("text") or "" for m in replies[2])
    assert "terlalu pendek" in refusal  # the form refused the MSISDN

    result = review.review(f"sqlite:///{servers.workdir / 'tracker.db'}", days=1)
    ours = {
        reason: [e for e in _entries(result, reason) if e["text"] in turns or "0812" in e["text"]]
        for reason in review.REASONS
    }
    assert [e["text"] for e in ours["out_of_scope"]] == [turns[0]]
    refused = ours["refused_value"]
    assert [e["text"] for e in refused] == ["nomornya 0812345"]
    assert "msisdn" in refused[0]["detail"] and "terlalu pendek" in refused[0]["detail"]
    assert "[0812345](msisdn)" in refused[0]["example"]
    # the agent stopped the case right after the refused value
    assert [e["detail"] for e in ours["restarted"]] == ["batal"]
