"""Talks to the real servers through the REST channel until the SOP answer and ticket."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Sequence

import pytest

from testkit.assistant import Servers
from testkit.conversations import BANK_INVALID_SN, FINTECH, NON_FINTECH, checked_answer, sop_result

pytestmark = pytest.mark.servers


def converse(servers: Servers, turns: Sequence[str]) -> List[List[Dict[str, Any]]]:
    sender = f"agent-{uuid.uuid4().hex[:8]}"
    return [servers.say(sender, text) for text in turns]


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def test_fintech_branch_from_the_issue_message(servers: Servers) -> None:
    replies = converse(servers, FINTECH.turns)
    assert "MSISDN" in texts(replies[0])  # nominal and channel were taken from the message
    # the fintech branch; MSISDN, nominal, transaction id and time on the ticket
    result = checked_answer(FINTECH, replies[-1])
    assert any("SLA 1x24 jam" in step for step in result["steps"])


def test_bank_branch_with_an_invalid_sn_first(servers: Servers) -> None:
    replies = converse(servers, BANK_INVALID_SN.turns)
    assert "25 digit" in texts(replies[3])
    result = checked_answer(BANK_INVALID_SN, replies[-1])  # the retyped SN on the ticket
    assert any("Bukti 081298765432" in step for step in result["steps"])


def test_non_fintech_branch_and_stop(servers: Servers) -> None:
    replies = converse(
        servers,
        ["pulsa blm masuk", "batal"],
    )
    assert "dibatalkan" in texts(replies[-1])
    # the indomaret case with a time said as agents say it
    turns = list(NON_FINTECH.turns)
    turns[2] = "tadi pagi"
    replies = converse(servers, turns)
    result = sop_result(replies[-1])
    assert result is not None, replies[-1]
    assert result["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert not any("cs@telkomsel.com" in step for step in result["steps"])
