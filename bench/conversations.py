"""The scripted conversations of both bots.

This assistant: agents' cases that go through the SOP form to the SOP answer (the turns of
the issue and of tests/e2e). The stock bot: the greet / mood conversations of its own
``rasa init`` stories."""

from __future__ import annotations

from typing import List, Optional

from bench.load import Conversation, Reply

SN = "0215123456789012345678901"


def _all_answered(replies: List[Reply]) -> Optional[str]:
    for turn, reply in enumerate(replies):
        if not reply:
            return f"no bot message after turn {turn}"
    return None


def _ends_with_sop_result(replies: List[Reply]) -> Optional[str]:
    problem = _all_answered(replies)
    if problem:
        return problem
    for message in replies[-1]:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("type") == "sop_result":
            return None
    texts = " | ".join(str(m.get("text", ""))[:80] for m in replies[-1])
    return f"last reply has no sop_result payload: {texts}"


ASSISTANT = [
    Conversation(
        "pulsa non-fintech (indomaret)",
        [
            "plg isi pulsa 50rb di indomaret blm masuk",
            "081234567890",
            "kemarin jam 3 sore",
            SN,
            "/deny",
            "/deny",
            "/deny",
        ],
        _ends_with_sop_result,
    ),
    Conversation(
        "pulsa fintech (gopay in MyTelkomsel)",
        [
            "pelanggan isi pulsa 50rb via gopay di mytelkomsel tp blm masuk",
            "0812-3456-7890",
            "kemarin jam 3 sore",
            "TRX20261121ABC",
            "/deny",
            "/deny",
            "/deny",
            "/affirm",
        ],
        _ends_with_sop_result,
    ),
    Conversation(
        "pulsa via ATM, invalid SN first",
        [
            "cust topup pulsa lewat atm bca 100rb blm nambah",
            "081298765432",
            "21/11/2026 09.30",
            "021512345678901234567890",
            SN,
            "/deny",
            "/deny",
            "/deny",
        ],
        _ends_with_sop_result,
    ),
]

STOCK = [
    Conversation("greet, mood great, bye", ["hello", "I am feeling great", "bye"], _all_answered),
    Conversation(
        "greet, mood sad, cheered up, bye",
        ["hi", "I am sad", "yes", "goodbye"],
        _all_answered,
    ),
]
