"""Failures answer the agent in Indonesian, never 5xx and never an empty reply, and nothing
is lost: the action server slow or failing, the tracker store's database going away while
the server runs, and a database or Redis that is down when the server starts."""

from __future__ import annotations

import time

import pytest
import requests
import yaml

from testkit import stores
from testkit.assistant import rasa_server
from testkit.conversations import pulsa_turns
from testkit.processes import free_port
from tests.reliability import harness as h
from tests.reliability.conftest import EmbeddedStack, Figures, ProductionStack

pytestmark = pytest.mark.servers

BUSY = "Maaf, sistem sedang sibuk. Coba kirim lagi sebentar lagi."


def _start_case(port: int, sender: str) -> None:
    for text in pulsa_turns()[:2]:
        assert h.say(port, sender, text).status == 200


def _health(port: int) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{port}/health", timeout=30)


@pytest.mark.parametrize("mode", ["slow", "error", "drop"])
def test_action_server_slow_or_failing_gets_busy_answer(
    embedded: EmbeddedStack, figures: Figures, mode: str
) -> None:
    port = embedded.rasa_port
    sender = h.new_sender(f"fail-{mode}")
    _start_case(port, sender)
    before = embedded.tracker(sender)["slots"]
    embedded.proxy.set(mode, delay=8.0)
    try:
        reply = h.say(port, sender, "kemarin jam 3 sore")
    finally:
        embedded.proxy.set("pass")
    assert reply.status == 200
    assert reply.text.strip() == BUSY, reply.body
    assert reply.seconds < 8.0  # the endpoint timeout (3 s in this test), not 300 s
    assert embedded.tracker(sender)["slots"] == before  # the turn was undone
    # Back to normal: the agent resends and the conversation continues to its answer.
    replies = [h.say(port, sender, text) for text in pulsa_turns()[2:]]
    result = replies[-1].sop_result()
    assert result is not None and result["case_id"] == "pulsa_belum_masuk.non_fintech"
    assert result["ticket"]["fields"]["MSISDN"] == "081234567890"
    log = embedded.rasa.log_text()
    assert "Bot will continue, but the actions events are lost" not in log
    figures.record(
        f"failure_action_server_{mode}",
        busy_answer_status=reply.status,
        busy_answer_seconds=round(reply.seconds, 2),
        slots_changed_by_failed_turn=0,
        events_lost=0,
    )


def test_health_reports_action_server_down_as_degraded(embedded: EmbeddedStack) -> None:
    ok = _health(embedded.rasa_port)
    assert ok.status_code == 200 and ok.json()["status"] == "ok", ok.text
    embedded.proxy.set("drop")
    try:
        degraded = _health(embedded.rasa_port)
    finally:
        embedded.proxy.set("pass")
    assert degraded.status_code == 200
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["checks"]["action_server"]["state"] == "unavailable"
    assert "127.0.0.1" not in degraded.text and "postgres" not in degraded.text.lower()


def test_tracker_store_down_at_runtime_is_loud_and_recovers(
    production: ProductionStack, figures: Figures
) -> None:
    port = production.ports[1]
    server = production.rasa[1]
    sender = h.new_sender("fail-db")
    _start_case(port, sender)
    log_before = len(server.log_text())
    stores.pg_block_database(production.dbname)
    try:
        reply = h.say(port, sender, "kemarin jam 3 sore")
        health = _health(port)
    finally:
        stores.pg_unblock_database(production.dbname)
    assert reply.status == 200
    assert BUSY in reply.text, reply.body
    assert health.status_code == 503
    assert health.json()["checks"]["tracker_store"]["state"] == "down"
    log = server.log_text()[log_before:]
    assert "tracker store: read of conversation" in log and production.dbname in log
    assert "InMemoryTrackerStore" not in log  # no silent fallback
    deadline = time.monotonic() + 30
    while _health(port).status_code != 200 and time.monotonic() < deadline:
        time.sleep(1)
    assert _health(port).json()["checks"]["tracker_store"]["state"] == "ok"
    replies = [h.say(port, sender, text) for text in pulsa_turns()[2:]]
    result = replies[-1].sop_result()
    assert result is not None and result["ticket"]["fields"]["MSISDN"] == "081234567890"
    stored = [text for _, text in h.pg_user_events(production.dbname)[sender]]
    assert stored == pulsa_turns()  # the refused message was never stored, nothing else lost
    figures.record(
        "failure_tracker_store_down_at_runtime",
        busy_answer_status=reply.status,
        health_status_while_down=health.status_code,
        events_lost=0,
        silent_memory_fallback=False,
    )


def test_stores_down_at_start_stop_the_server_with_a_clear_error(
    production: ProductionStack, tmp_path: pytest.TempPathFactory, figures: Figures
) -> None:
    closed_port = free_port()  # nothing listens there
    endpoints = yaml.safe_load(production.endpoints.read_text(encoding="utf-8"))
    cases = {
        "postgres": (
            {"TRACKER_DB_PORT": str(closed_port), "TRACKER_DB_CONNECT_TIMEOUT": "3"},
            f"tracker store: cannot connect to PostgreSQL database '{production.dbname}' "
            f"at {stores.PG_HOST}:{closed_port}",
        ),
        "redis": (
            {"LOCK_REDIS_PORT": str(closed_port), "LOCK_REDIS_CONNECT_TIMEOUT": "3"},
            f"lock store: cannot connect to Redis lock store at {stores.REDIS_HOST}:{closed_port}",
        ),
    }
    assert endpoints["tracker_store"]["port"] == "${TRACKER_DB_PORT}"
    processes = {}
    spawned = time.monotonic()
    for name, (overrides, _expected) in cases.items():
        process = rasa_server(
            free_port(),
            production.endpoints,
            tmp_path / f"{name}.log",  # type: ignore[operator]
            dict(production.env, **overrides),
            enable_api=False,
        )
        process.spawn()
        processes[name] = process
    seconds: dict = {}
    while len(seconds) < len(processes) and time.monotonic() - spawned < 300:
        for name, process in processes.items():
            if name not in seconds and not process.alive:
                seconds[name] = round(time.monotonic() - spawned, 1)
        time.sleep(0.2)
    for name, process in processes.items():
        assert process.process is not None
        code = process.process.wait(timeout=30)
        log = process.log_text()
        assert code != 0, log[-3000:]
        assert cases[name][1] in log, log[-3000:]
    figures.record(
        "failure_stores_down_at_start",
        exit_codes_nonzero=True,
        seconds_from_start_to_exit=seconds,
        errors=[expected for _o, expected in cases.values()],
    )
