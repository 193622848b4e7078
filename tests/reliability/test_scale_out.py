"""Two Rasa instances share the PostgreSQL tracker store and the Redis lock store.

50 conversations run at once; their messages alternate between the two instances (as a
load balancer without sticky sessions would send them). Every conversation reaches its SOP
answer and its tracker holds exactly the messages that were sent, in order: none lost, none
doubled, none from another conversation. Then two messages of one conversation arrive on the
two instances at the same moment: the lock store runs them one after the other.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

import pytest

from testkit import stores
from testkit.conversations import PULSA_OPENING, pulsa_turns
from tests.reliability import harness as h
from tests.reliability.conftest import Figures, ProductionStack

pytestmark = pytest.mark.servers

CONVERSATIONS = 50


def _msisdn(index: int) -> str:
    return f"0812{index:04d}{7000 + index:04d}"


def _run_conversation(
    ports: List[int], index: int, latencies: List[float], lock: threading.Lock
) -> Tuple[str, List[str], List[h.Reply]]:
    sender = f"scale-{index:03d}-{h.new_sender('c')}"
    turns = pulsa_turns(_msisdn(index))
    replies = []
    for number, text in enumerate(turns):
        port = ports[(index + number) % 2]  # alternate instances, message by message
        reply = h.say(port, sender, text, timeout=300)
        replies.append(reply)
        with lock:
            latencies.append(reply.seconds)
    return sender, turns, replies


def test_fifty_conversations_alternating_between_two_instances(
    production: ProductionStack, figures: Figures
) -> None:
    latencies: List[float] = []
    lock = threading.Lock()
    load_before = os.getloadavg()[0]
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=CONVERSATIONS) as pool:
        futures = [
            pool.submit(_run_conversation, production.ports, i, latencies, lock)
            for i in range(CONVERSATIONS)
        ]
        results = [f.result() for f in futures]
    wall = time.monotonic() - start

    failures: Dict[str, str] = {}
    for sender, _turns, replies in results:
        if any(r.status != 200 for r in replies):
            failures[sender] = f"statuses {[r.status for r in replies]}"
            continue
        result = replies[-1].sop_result()
        if result is None or result.get("case_id") != "pulsa_belum_masuk.non_fintech":
            failures[sender] = f"no SOP answer: {replies[-1].body}"
    assert not failures, failures

    stored = h.pg_user_events(production.dbname)
    lost = doubled = out_of_order = foreign = 0
    for sender, turns, _replies in results:
        texts = [text for _, text in stored.get(sender, [])]
        ids = [event_id for event_id, _ in stored.get(sender, [])]
        lost += sum(max(0, turns.count(t) - texts.count(t)) for t in set(turns))
        doubled += sum(max(0, texts.count(t) - turns.count(t)) for t in set(texts))
        out_of_order += int(ids != sorted(ids) or (texts != turns and not lost and not doubled))
        foreign += sum(1 for t in texts if t not in turns)
    assert (lost, doubled, out_of_order, foreign) == (0, 0, 0, 0)

    # The same trackers through the HTTP API of instance 2 (token) agree with the table.
    for sender, turns, _replies in results[:5]:
        assert stores.user_texts(production.tracker(sender)["events"]) == turns

    latencies.sort()
    figures.record(
        "scale_out_two_instances",
        conversations=CONVERSATIONS,
        messages=len(latencies),
        rasa_instances=2,
        action_servers=1,
        wall_seconds=round(wall, 1),
        messages_per_second=round(len(latencies) / wall, 1),
        latency_p50_seconds=round(statistics.median(latencies), 3),
        latency_p95_seconds=round(latencies[int(len(latencies) * 0.95) - 1], 3),
        sop_answers=CONVERSATIONS,
        user_events_lost=lost,
        user_events_doubled=doubled,
        out_of_order=out_of_order,
        foreign_events=foreign,
        machine_load_1min_before_after=[round(load_before, 1), round(os.getloadavg()[0], 1)],
        cpu_cores=os.cpu_count(),
    )


def _turns_do_not_interleave(events: List[dict]) -> bool:
    """Each user message is handled to the end (the bot listens again) before the next one
    is taken: between two user events there is an ``action_listen``."""
    seen_user = False
    listened = True
    for event in events:
        if event.get("event") == "user":
            if seen_user and not listened:
                return False
            seen_user, listened = True, False
        elif event.get("event") == "action" and event.get("name") == "action_listen":
            listened = True
    return True


def test_same_conversation_on_both_instances_at_once_is_serialised(
    production: ProductionStack, figures: Figures
) -> None:
    pairs = 20
    senders = [h.new_sender("lock") for _ in range(pairs)]
    for sender in senders:
        assert h.say(production.ports[0], sender, PULSA_OPENING).status == 200
    barrier = threading.Barrier(2 * pairs)

    def send(port: int, sender: str, text: str) -> int:
        barrier.wait()
        return h.say(port, sender, text, timeout=300).status

    with ThreadPoolExecutor(max_workers=2 * pairs) as pool:
        futures = []
        for sender in senders:
            futures.append(pool.submit(send, production.ports[0], sender, "0812-3456-7890"))
            futures.append(pool.submit(send, production.ports[1], sender, "kemarin jam 3 sore"))
        statuses = [f.result() for f in futures]
    assert set(statuses) == {200}

    interleaved = lost = 0
    for sender in senders:
        events = stores.pg_events(production.dbname, sender)
        texts = stores.user_texts(events)
        lost += 3 - len(texts)
        assert sorted(texts[1:]) == sorted(["0812-3456-7890", "kemarin jam 3 sore"]), texts
        interleaved += int(not _turns_do_not_interleave(events))
        tracker = production.tracker(sender)
        assert tracker["slots"]["msisdn"] == "081234567890"  # both answers kept
        assert tracker["slots"]["event_time"] is not None
    assert (interleaved, lost) == (0, 0)
    figures.record(
        "scale_out_same_conversation_concurrent",
        conversations=pairs,
        concurrent_message_pairs=pairs,
        interleaved_turns=interleaved,
        user_events_lost=lost,
    )
