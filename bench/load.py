"""Closed-loop load over the REST channel: N concurrent agents, each running scripted
conversations one message at a time with a fresh sender id per conversation."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import aiohttp

Reply = List[Dict[str, Any]]


@dataclass(frozen=True)
class Conversation:
    """Turns typed by the agent; ``check`` looks at every reply of one run and returns an
    error text when the bot did not answer as expected (None when it did)."""

    name: str
    turns: Sequence[str]
    check: Callable[[List[Reply]], Optional[str]]


@dataclass
class Sample:
    latency_ms: float
    started: float  # monotonic seconds
    turn: int
    conversation: str

    @property
    def ended(self) -> float:
        return self.started + self.latency_ms / 1000.0


@dataclass
class LoadResult:
    """``samples``: messages started inside the measuring window (their latencies);
    ``completed``: messages answered inside the window (for messages per second)."""

    clients: int
    samples: List[Sample] = field(default_factory=list)
    completed: int = 0
    window_seconds: float = 0.0
    conversations_ok: int = 0
    errors: List[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return len(self.samples)

    @property
    def throughput(self) -> float:
        return self.completed / self.window_seconds if self.window_seconds else 0.0

    def latencies(self) -> List[float]:
        return [s.latency_ms for s in self.samples]


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _say(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> Reply:
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        response.raise_for_status()
        body = await response.json()
        return list(body) if isinstance(body, list) else []


async def _agent(
    session: aiohttp.ClientSession,
    url: str,
    conversations: Sequence[Conversation],
    offset: int,
    window: tuple[float, float],
    result: LoadResult,
    tag: str,
) -> None:
    """Starts conversations until the window ends and always finishes the one it is in, so
    every sender ends in a known state and every conversation can be checked."""
    measure_from, stop_at = window
    index = offset
    while time.monotonic() < stop_at:
        conversation = conversations[index % len(conversations)]
        index += 1
        sender = f"bench-{tag}-{uuid.uuid4().hex[:12]}"
        replies: List[Reply] = []
        for turn, text in enumerate(conversation.turns):
            started = time.monotonic()
            try:
                reply = await _say(session, url, sender, text)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                result.errors.append(f"{conversation.name} turn {turn}: {error!r}")
                break
            ended = time.monotonic()
            replies.append(reply)
            if measure_from <= started < stop_at:
                result.samples.append(
                    Sample((ended - started) * 1000.0, started, turn, conversation.name)
                )
            if measure_from <= ended <= stop_at:
                result.completed += 1
        else:
            problem = conversation.check(replies)
            if problem is None:
                result.conversations_ok += 1
            else:
                result.errors.append(f"{conversation.name} ({sender}): {problem}")


async def run_load(
    url: str,
    conversations: Sequence[Conversation],
    clients: int,
    seconds: float,
    warmup_seconds: float = 0.0,
    tag: str = "load",
    headers: Optional[Dict[str, str]] = None,
) -> LoadResult:
    """``clients`` agents talk at once: ``warmup_seconds`` not measured, then a window of
    ``seconds``: latencies of the messages started in it, messages per second = messages
    answered in it / its length. ``headers`` go with every request (a login)."""
    result = LoadResult(clients=clients, window_seconds=seconds)
    # the cluster's certificate is self-signed (make cluster); plain HTTP is unaffected
    connector = aiohttp.TCPConnector(limit=0, ssl=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers=headers
    ) as session:
        measure_from = time.monotonic() + warmup_seconds
        window = (measure_from, measure_from + seconds)
        await asyncio.gather(
            *(
                _agent(session, url, conversations, i, window, result, f"{tag}{i}")
                for i in range(clients)
            )
        )
    return result
