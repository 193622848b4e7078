"""The scripted conversations of both bots.

This assistant: the sample cases of testkit.conversations (the issue's and the tests'),
each checked to end in its SOP answer. The stock bot: the greet / mood conversations of its
own ``rasa init`` stories."""

from __future__ import annotations

from typing import Callable, List, Optional

from bench.load import Conversation, Reply
from testkit.conversations import BANK_INVALID_SN, FINTECH, INDOMARET, Sample, ending_problem


def _all_answered(replies: List[Reply]) -> Optional[str]:
    for turn, reply in enumerate(replies):
        if not reply:
            return f"no bot message after turn {turn}"
    return None


def _ends_as(sample: Sample) -> Callable[[List[Reply]], Optional[str]]:
    def check(replies: List[Reply]) -> Optional[str]:
        return _all_answered(replies) or ending_problem(sample, replies[-1])

    return check


ASSISTANT = [
    Conversation(sample.name, sample.turns, _ends_as(sample))
    for sample in (INDOMARET, FINTECH, BANK_INVALID_SN)
]

STOCK = [
    Conversation("greet, mood great, bye", ["hello", "I am feeling great", "bye"], _all_answered),
    Conversation(
        "greet, mood sad, cheered up, bye",
        ["hi", "I am sad", "yes", "goodbye"],
        _all_answered,
    ),
]
