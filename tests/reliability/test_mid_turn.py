"""Failures in the middle of a running turn, on two Rasa instances sharing a PostgreSQL and a
Redis of this test's own (they are killed, frozen and stopped here, never the shared ones).

A turn is held open deterministically by slowing its action call (the fault-injecting proxy
in front of the action server); the failure is injected once the call has arrived, i.e.
while the turn holds the conversation's lock. Each test asserts what the agent sees (the
real answer or the busy answer alone, never both) and what is stored (every message the
agent meant exactly once, nothing the agent did not choose), and that every request was
answered within :data:`REQUEST_BOUND_SECONDS` (a request that does not come back within it
counts as a hang and fails the test).

The module's last test kills an instance and leaves it dead (no restart needed after it).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from testkit import stores
from testkit.assistant import ROOT, action_server, rasa_server, server_env
from testkit.conversations import PULSA_OPENING, SN, pulsa_turns
from testkit.processes import ManagedProcess, free_port, wait_ready
from tests.reliability import harness as h
from tests.reliability.conftest import Figures
from tests.reliability.private_stores import PrivatePostgres, PrivateRedis, store_env

pytestmark = pytest.mark.servers

BUSY = "Maaf, sistem sedang sibuk. Coba kirim lagi sebentar lagi."
# The documented bound (docs/reliability.md): lock wait <= 15 s, action call <= 10 s, a few
# Redis calls <= 2 s each, plus CPU queueing on a loaded test machine.
REQUEST_BOUND_SECONDS = 45.0
HOLD_SECONDS = 3.0  # how long the held turn's action call takes
DBNAME = "midturn"


@dataclass
class Stack:
    redis: PrivateRedis
    pg: PrivatePostgres
    proxy: h.ActionProxy
    actions: ManagedProcess
    rasa: List[ManagedProcess]
    ports: List[int]
    token: str
    waits: List[float] = field(default_factory=list)
    hangs: int = 0
    answers_for_agent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def say(
        self, instance: int, sender: str, text: str, message_id: Optional[str] = None
    ) -> h.Reply:
        body: Dict[str, Any] = {"sender": sender, "message": text}
        if message_id:
            body["metadata"] = {"message_id": message_id}
        start = time.monotonic()
        try:
            response = requests.post(
                f"http://127.0.0.1:{self.ports[instance]}/webhooks/rest/webhook",
                json=body,
                timeout=REQUEST_BOUND_SECONDS,
            )
        except requests.Timeout:
            with self.lock:
                self.hangs += 1
            raise AssertionError(
                f"no answer within {REQUEST_BOUND_SECONDS:g} s: {text!r}"
            ) from None
        except requests.ConnectionError as error:  # the instance was killed meanwhile
            return h.Reply(0, None, time.monotonic() - start, str(error).encode())
        seconds = time.monotonic() - start
        with self.lock:
            self.waits.append(seconds)
        return h.Reply(response.status_code, response.json(), seconds, response.content)

    def health(self, instance: int) -> tuple[int, Dict[str, Any], float]:
        start = time.monotonic()
        response = requests.get(f"http://127.0.0.1:{self.ports[instance]}/health", timeout=10)
        return response.status_code, response.json(), time.monotonic() - start

    def stored(self, sender: str) -> List[str]:
        return self.pg.user_texts(DBNAME, sender)

    def check_stored(self, sender: str, expected: List[str]) -> None:
        stored = self.stored(sender)
        extra = len(stored) - len(expected)
        with self.lock:
            self.answers_for_agent += max(0, extra)
        assert stored == expected, stored


@pytest.fixture(scope="module")
def stack(figures: Figures) -> Iterator[Stack]:
    base = Path(tempfile.mkdtemp(prefix="midturn-"))
    base.chmod(0o711)  # the postgres user must reach its data directory inside
    redis = PrivateRedis(base / "redis")
    pg = PrivatePostgres(base / "pg")
    servers: List[ManagedProcess] = []
    proxy: Optional[h.ActionProxy] = None
    queue = stores.run_name("midturn")
    started = time.monotonic()
    try:
        redis.start()
        pg.init()
        pg.create_database(DBNAME)
        action_port = free_port()
        proxy = h.ActionProxy(action_port)
        env = server_env(
            {
                **store_env(redis.port, pg.port, DBNAME, f"http://127.0.0.1:{proxy.port}/webhook"),
                # the shipped endpoints publish events: to a queue of this run (deleted below)
                **stores.broker_env(queue),
            }
        )
        actions = action_server(action_port, base / "actions.log", env)
        token = h.new_secret()
        ports = [free_port(), free_port()]
        rasa = [
            rasa_server(
                port,
                ROOT / "endpoints.production.yml",  # as shipped: env variables only
                base / f"rasa{number}.log",
                dict(env, RASA_AUTH_TOKEN=token),
                enable_api=True,
            )
            for number, port in enumerate(ports)
        ]
        servers = [actions, *rasa]
        for server in servers:
            server.spawn()
        wait_ready(servers)
        built = Stack(redis, pg, proxy, actions, rasa, ports, token)
        figures.record("mid_turn_servers", seconds_until_ready=round(time.monotonic() - started))
        yield built
        waits = sorted(built.waits)
        figures.record(
            "mid_turn",
            requests=len(waits),
            wait_p50_seconds=round(statistics.median(waits), 2) if waits else None,
            wait_max_seconds=round(max(waits), 2) if waits else None,
            bound_seconds=REQUEST_BOUND_SECONDS,
            hangs=built.hangs,
            answers_given_for_the_agent=built.answers_for_agent,
        )
    finally:
        for server in servers:
            server.stop()
        if proxy is not None:
            proxy.close()
        redis.stop()
        pg.destroy()
        shutil.rmtree(base, ignore_errors=True)
        stores.rabbit_delete(queue)


def _asks_for_sn(reply: h.Reply) -> bool:
    return "SN" in reply.text or "Serial" in reply.text


def _start_case(stack: Stack, sender: str, first: int) -> None:
    """The case and the MSISDN, on alternating instances; the form then asks for the time."""
    for number, text in enumerate(pulsa_turns()[:2]):
        reply = stack.say((first + number) % 2, sender, text)
        assert reply.status == 200 and BUSY not in reply.text, reply.body


def _finish_case(stack: Stack, sender: str, first: int, alternate: bool = True) -> h.Reply:
    """The SN and the three checks (alternating instances unless told otherwise)."""
    reply = None
    for number, text in enumerate(pulsa_turns()[3:]):
        reply = stack.say((first + number) % 2 if alternate else first, sender, text)
        assert reply.status == 200 and BUSY not in reply.text, reply.body
    assert reply is not None
    result = reply.sop_result()
    assert result is not None and result["case_id"] == "pulsa_belum_masuk.non_fintech", reply.body
    fields = result["ticket"]["fields"]
    assert fields["MSISDN"] == "081234567890"
    assert fields["Serial Number"] == SN
    assert fields["Waktu kendala (hari, tanggal, jam)"] == "Sabtu, 21 Nov 2026 15.00 WIB"
    return reply


def _hold_turn(
    stack: Stack,
    pool: ThreadPoolExecutor,
    instance: int,
    sender: str,
    text: str,
    message_id: Optional[str] = None,
    hold: float = HOLD_SECONDS,
) -> Future[h.Reply]:
    """Sends ``text``; returns once its action call has arrived (the turn holds the lock)."""
    before = stack.proxy.posts
    stack.proxy.set("slow", delay=hold)
    future = pool.submit(stack.say, instance, sender, text, message_id)
    deadline = time.monotonic() + REQUEST_BOUND_SECONDS
    while stack.proxy.posts == before:
        assert time.monotonic() < deadline and not future.done(), "the turn never called"
        time.sleep(0.02)
    stack.proxy.set("pass")  # only the held call is slow
    return future


def _lock_keys(stack: Stack, sender: str) -> List[str]:
    return [k.decode() for k in stack.redis.client().scan_iter(f"*{sender}*")]


def test_redis_killed_during_a_turn(stack: Stack, figures: Figures) -> None:
    sender = h.new_sender("mid-redis-kill")
    _start_case(stack, sender, first=0)
    with ThreadPoolExecutor(2) as pool:
        held = _hold_turn(stack, pool, 1, sender, "kemarin jam 3 sore")
        stack.redis.kill9()
        reply = held.result()
    # The turn was saved before Redis was missed: the real answer, alone.
    assert reply.status == 200 and BUSY not in reply.text and _asks_for_sn(reply), reply.body
    stack.check_stored(sender, pulsa_turns()[:3])
    # Redis still down: the next message is refused before it runs, with the busy answer alone.
    down = stack.say(0, sender, SN)
    assert down.status == 200 and down.text == BUSY, down.body
    status, report, health_seconds = stack.health(0)
    assert status == 503 and report["checks"]["lock_store"]["state"] == "down", report
    stack.check_stored(sender, pulsa_turns()[:3])
    stack.redis.start()
    _finish_case(stack, sender, first=1)  # the agent resends the SN
    stack.check_stored(sender, pulsa_turns())
    assert _lock_keys(stack, sender) == []
    figures.record(
        "mid_turn_redis_killed",
        held_turn_answer="real answer (saved), no busy text",
        busy_answer_seconds_while_down=round(down.seconds, 2),
        health_seconds_while_down=round(health_seconds, 2),
        stored_user_messages=len(pulsa_turns()),
        lost=0,
        doubled=0,
    )


def test_redis_frozen_during_a_turn(stack: Stack, figures: Figures) -> None:
    sender = h.new_sender("mid-redis-stop")
    other = h.new_sender("mid-redis-stop-other")
    _start_case(stack, sender, first=1)
    with ThreadPoolExecutor(2) as pool:
        held = _hold_turn(stack, pool, 0, sender, "kemarin jam 3 sore")
        stack.redis.freeze()
        try:
            # The other instance keeps answering: health names the slow store, a new
            # message gets the busy answer instead of hanging.
            status, report, health_seconds = stack.health(1)
            refused = stack.say(1, other, PULSA_OPENING)
            reply = held.result()
        finally:
            stack.redis.thaw()
    assert status == 503 and report["checks"]["lock_store"]["state"] == "slow", report
    assert report["checks"]["tracker_store"]["state"] == "ok", report
    assert refused.status == 200 and refused.text == BUSY, refused.body
    assert reply.status == 200 and BUSY not in reply.text and _asks_for_sn(reply), reply.body
    stack.check_stored(sender, pulsa_turns()[:3])
    assert stack.stored(other) == []
    _finish_case(stack, sender, first=1)
    stack.check_stored(sender, pulsa_turns())
    figures.record(
        "mid_turn_redis_frozen",
        held_turn_answer="real answer (saved), no busy text",
        health_seconds_while_frozen=round(health_seconds, 2),
        busy_answer_seconds_while_frozen=round(refused.seconds, 2),
        held_turn_seconds=round(reply.seconds, 2),
        lost=0,
        doubled=0,
    )


def test_postgres_stopped_during_a_save(stack: Stack, figures: Figures) -> None:
    sender = h.new_sender("mid-pg-stop")
    message_id = uuid.uuid4().hex
    _start_case(stack, sender, first=0)
    with ThreadPoolExecutor(2) as pool:
        held = _hold_turn(stack, pool, 1, sender, "kemarin jam 3 sore", message_id)
        stack.pg.stop("fast")
        try:
            reply = held.result()
            status, report, health_seconds = stack.health(1)
        finally:
            stack.pg.start()
    # Not saved: the busy answer alone (not the next question with it).
    assert reply.status == 200 and reply.text == BUSY, reply.body
    assert status == 503 and report["checks"]["tracker_store"]["state"] == "down", report
    stack.check_stored(sender, pulsa_turns()[:2])
    # The pending-reply mark written just before the failed save stays: a same-text resend
    # is checked against what is stored.
    assert [k for k in _lock_keys(stack, sender) if "pending:" in k], _lock_keys(stack, sender)
    deadline = time.monotonic() + 30
    while stack.health(0)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    # The agent types it again (no message id): the marked message is not stored, so the
    # resend runs, once.
    again = stack.say(0, sender, "kemarin jam 3 sore")
    assert again.status == 200 and _asks_for_sn(again), again.body
    stack.check_stored(sender, pulsa_turns()[:3])
    _finish_case(stack, sender, first=1)
    stack.check_stored(sender, pulsa_turns())
    assert _lock_keys(stack, sender) == []
    figures.record(
        "mid_turn_postgres_stopped",
        held_turn_answer="busy answer alone (not saved)",
        health_seconds_while_down=round(health_seconds, 2),
        resend="ran once, stored once",
        lost=0,
        doubled=0,
    )


def test_rasa_killed_while_a_turn_holds_the_lock(stack: Stack, figures: Figures) -> None:
    sender = h.new_sender("mid-kill")
    message_id = uuid.uuid4().hex
    _start_case(stack, sender, first=1)
    with ThreadPoolExecutor(2) as pool:
        held = _hold_turn(stack, pool, 0, sender, "kemarin jam 3 sore", message_id, hold=6.0)
        stack.rasa[0].kill9()
        lost = held.result()
        # The client retries at once on the other instance: served once the dead holder's
        # lease runs out, with the real answer.
        retry = stack.say(1, sender, "kemarin jam 3 sore", message_id)
    assert lost.status == 0  # the connection died with the instance
    assert retry.status == 200 and BUSY not in retry.text and _asks_for_sn(retry), retry.body
    stack.check_stored(sender, pulsa_turns()[:3])
    # Later the agent resends it: answered with the saved reply, not run against the SN.
    resend = stack.say(1, sender, "kemarin jam 3 sore", message_id)
    assert resend.status == 200 and resend.text == retry.text, resend.body
    stack.check_stored(sender, pulsa_turns()[:3])
    _finish_case(stack, sender, first=1, alternate=False)  # instance 1 is left dead
    stack.check_stored(sender, pulsa_turns())
    assert _lock_keys(stack, sender) == []
    figures.record(
        "mid_turn_rasa_kill9",
        immediate_retry_seconds=round(retry.seconds, 2),
        later_resend="saved reply, not run again",
        resend_seconds=round(resend.seconds, 2),
        lost=0,
        doubled=0,
    )
