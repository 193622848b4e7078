"""The TL loop with the production stores: PostgreSQL tracker store, Redis lock store and
Rasa's Pika event broker publishing to RabbitMQ (endpoints.production.yml as shipped, only
environment variables), ``python -m analytics.consumer`` storing the events in a PostgreSQL
database of this run, the ops page reading them from there (``ANALYTICS_DB_URL``).

Every name is this run's own (databases, Redis db number, queue, exchange) and removed
afterwards."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Dict, Iterator

import pytest

from testkit.assistant import PYTHON, ROOT, Servers, say, server_env
from testkit.conversations import FINTECH, NOT_COVERED
from testkit.processes import ManagedProcess, wait_http
from testkit.stores import RunStores, pg_connect, pg_url
from tests.analytics.loop import (
    csv_rows,
    figures,
    give,
    new_sender,
    run_case,
)

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    stores = RunStores("tl", analytics=True)
    workdir = tmp_path_factory.mktemp("tl_production")
    token = uuid.uuid4().hex
    try:
        stores.create()
        servers = Servers(workdir=workdir, endpoints=ROOT / "endpoints.production.yml")
        servers.env = server_env(
            {
                "OPS_TOKEN": token,
                "ANALYTICS_DB_URL": pg_url(stores.analytics_db),
                **stores.env(f"http://127.0.0.1:{servers.action_port}/webhook"),
            }
        )
        consumer = ManagedProcess(
            "analytics consumer",
            [str(PYTHON), "-m", "analytics.consumer"],
            servers.env,
            workdir / "consumer.log",
            ready_url="",  # it serves nothing: running is all
            cwd=ROOT,
        )
        consumer.spawn()
        try:
            with servers.running():
                wait_http(f"{servers.base_url}/health", 30)
                yield {
                    "servers": servers,
                    "token": token,
                    "analytics_db": stores.analytics_db,
                    "consumer": consumer,
                }
        finally:
            consumer.stop()
    finally:
        stores.remove()


def eventually(read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    """The consumer stores events shortly after Rasa publishes them: read until ``done``."""
    deadline = time.monotonic() + 60
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not there after 60 s; last value {value!r}")
        time.sleep(0.5)


def stored_senders(dbname: str) -> Dict[str, int]:
    connection = pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
            return {sender: count for sender, count in cursor.fetchall()}
    finally:
        connection.close()


def test_events_reach_postgresql_through_rabbitmq(stack: Dict[str, Any]) -> None:
    servers, token = stack["servers"], stack["token"]
    sender = new_sender("prod")
    result = run_case(servers.base_url, sender, FINTECH)
    answer = give(
        servers.base_url, {"sender": sender, "answer_id": result["answer_id"], "kind": "down"}
    )
    assert answer.status_code == 200, answer.text
    reason = {"sender": sender, "answer_id": result["answer_id"], "kind": "reason"}
    reason["reason"] = "nomor 081234567890 sudah dicek"
    assert give(servers.base_url, reason).status_code == 200
    assert give(servers.base_url, {**reason, "answer_id": "f" * 12}).status_code == 404
    # every event of the conversation went through RabbitMQ into the analytics database
    counts = eventually(
        lambda: stored_senders(stack["analytics_db"]).get(sender, 0),
        lambda n: n > 0,
        "events in PostgreSQL",
    )
    assert counts > len(FINTECH.turns)
    data = eventually(
        lambda: figures(servers.base_url, token),
        lambda d: d["feedback"]["reason"] >= 1,
        "figures on /ops/",
    )
    assert data["totals"]["cases"] == 1
    assert data["per_channel"] == {"rest": 1}
    assert data["case_ids"] == {"pulsa_belum_masuk.fintech": 1}
    assert data["feedback"]["down"] == 1 and data["feedback"]["up"] == 0
    down = data["thumbs_down"]
    assert down[0]["agent"] == sender and down[0]["reason"] == "nomor 0812****7890 sudah dicek"
    assert data["turns"]["max"] == len(FINTECH.turns)
    rows = csv_rows(servers.base_url, token)
    assert [(r["agent"], r["case_id"], r["feedback"], r["msisdn"]) for r in rows] == [
        (sender, "pulsa_belum_masuk.fintech", "down", "0812****7890")
    ]


def test_uncertain_answer_and_fallback_with_production_stores(stack: Dict[str, Any]) -> None:
    servers, token = stack["servers"], stack["token"]
    before = figures(servers.base_url, token)
    sender = new_sender("prod")
    result = run_case(servers.base_url, sender, NOT_COVERED)
    assert result["case_id"] == "pulsa_belum_masuk.tidak_tercakup" and result["uncertain"]
    say(servers.base_url, sender, "resep rendang padang yang enak gimana")
    data = eventually(
        lambda: figures(servers.base_url, token),
        lambda d: (
            d["totals"]["messages"] == before["totals"]["messages"] + len(NOT_COVERED.turns) + 1
        ),
        "messages on /ops/",
    )
    assert data["totals"]["tidak_tercakup"] == before["totals"]["tidak_tercakup"] + 1
    assert [r["case_id"] for r in data["uncertain_answers"] if r["agent"] == sender] == [
        "pulsa_belum_masuk.tidak_tercakup"
    ]
    gained = data["totals"]["out_of_scope"] + data["totals"]["fallback"]
    assert gained == before["totals"]["out_of_scope"] + before["totals"]["fallback"] + 1
