"""The TL loop with the production stores: PostgreSQL tracker store, Redis lock store and
Rasa's Pika event broker publishing to RabbitMQ (endpoints.production.yml as shipped, only
environment variables), ``python -m analytics.consumer`` storing the events in a PostgreSQL
database of this run, the ops page reading them from there (``ANALYTICS_DB_URL``).

Every name is this run's own (databases, Redis db number, queue, exchange) and removed
afterwards."""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

from tests.analytics import rabbit
from tests.analytics.loop import (
    ANI_CASE,
    UNCERTAIN_CASE,
    csv_rows,
    figures,
    give,
    new_sender,
    run_case,
    say,
)
from tests.e2e import servers as e2e
from tests.e2e.servers import MODEL, ROOT, VENV_BIN, Servers, wait_http
from tests.reliability import harness as h

pytestmark = pytest.mark.servers


class ProductionServers(Servers):
    def endpoints(self) -> Path:
        return ROOT / "endpoints.production.yml"  # as shipped: environment variables only


def pg_url(dbname: str) -> str:
    password = f":{h.PG_PASSWORD}" if h.PG_PASSWORD else ""
    return f"postgresql://{h.PG_USER}{password}@{h.PG_HOST}:{h.PG_PORT}/{dbname}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dict[str, Any]]:
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` first")
    if not rabbit.rabbit_available():
        pytest.fail(
            f"RabbitMQ is not reachable at {rabbit.RABBIT_HOST}:{rabbit.RABBIT_PORT} "
            "(guest/guest); start it (apt-get install rabbitmq-server)"
        )
    run = uuid.uuid4().hex[:10]
    tracker_db, analytics_db, queue = f"tl_{run}", f"tl_{run}_analytics", f"tl_{run}"
    workdir = Path(tmp_path_factory.mktemp("tl_production"))
    h.pg_create_database(tracker_db)
    h.pg_create_database(analytics_db)
    redis_db = h.claim_redis_db()
    token = uuid.uuid4().hex
    servers = ProductionServers(workdir=workdir)
    env = {
        "ASSISTANT_FIXED_NOW": "2026-11-22T10:00:00+07:00",
        "OPS_TOKEN": token,
        "ANALYTICS_DB_URL": pg_url(analytics_db),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{servers.action_port}/webhook",
        "TRACKER_DB_HOST": h.PG_HOST,
        "TRACKER_DB_PORT": str(h.PG_PORT),
        "TRACKER_DB_NAME": tracker_db,
        "TRACKER_DB_USER": h.PG_USER,
        "TRACKER_DB_PASSWORD": h.PG_PASSWORD,
        "LOCK_REDIS_HOST": h.REDIS_HOST,
        "LOCK_REDIS_PORT": str(h.REDIS_PORT),
        "LOCK_REDIS_DB": str(redis_db),
        "LOCK_REDIS_PASSWORD": "",
        **rabbit.broker_env(queue),
    }
    servers.env_extra = env
    consumer_log = open(workdir / "consumer.log", "ab")  # noqa: SIM115
    consumer = subprocess.Popen(
        [str(VENV_BIN / "python"), "-m", "analytics.consumer"],
        cwd=ROOT,
        env=e2e.test_env(env),
        stdout=consumer_log,
        stderr=subprocess.STDOUT,
    )
    try:
        servers.start_actions()
        servers.start_rasa()
        wait_http(f"{servers.base_url}/health", 30, servers.processes[-1])
        yield {
            "servers": servers,
            "token": token,
            "analytics_db": analytics_db,
            "consumer": consumer,
        }
    finally:
        servers.stop()
        consumer.terminate()
        try:
            consumer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            consumer.kill()
        consumer_log.close()
        rabbit.delete(queue)
        h.pg_drop_database(tracker_db)
        h.pg_drop_database(analytics_db)
        h.release_redis_db(redis_db)


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
    connection = h.pg_connect(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id")
            return {sender: count for sender, count in cursor.fetchall()}
    finally:
        connection.close()


def test_events_reach_postgresql_through_rabbitmq(stack: Dict[str, Any]) -> None:
    servers, token = stack["servers"], stack["token"]
    sender = new_sender("prod")
    result = run_case(servers.base_url, sender, ANI_CASE)
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
    assert counts > len(ANI_CASE)
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
    assert data["turns"]["max"] == len(ANI_CASE)
    rows = csv_rows(servers.base_url, token)
    assert [(r["agent"], r["case_id"], r["feedback"], r["msisdn"]) for r in rows] == [
        (sender, "pulsa_belum_masuk.fintech", "down", "0812****7890")
    ]


def test_uncertain_answer_and_fallback_with_production_stores(stack: Dict[str, Any]) -> None:
    servers, token = stack["servers"], stack["token"]
    before = figures(servers.base_url, token)
    sender = new_sender("prod")
    result = run_case(servers.base_url, sender, UNCERTAIN_CASE)
    assert result["case_id"] == "pulsa_belum_masuk.tidak_tercakup" and result["uncertain"]
    say(servers.base_url, sender, "resep rendang padang yang enak gimana")
    data = eventually(
        lambda: figures(servers.base_url, token),
        lambda d: d["totals"]["messages"] == before["totals"]["messages"] + len(UNCERTAIN_CASE) + 1,
        "messages on /ops/",
    )
    assert data["totals"]["tidak_tercakup"] == before["totals"]["tidak_tercakup"] + 1
    assert [r["case_id"] for r in data["uncertain_answers"] if r["agent"] == sender] == [
        "pulsa_belum_masuk.tidak_tercakup"
    ]
    gained = data["totals"]["out_of_scope"] + data["totals"]["fallback"]
    assert gained == before["totals"]["out_of_scope"] + before["totals"]["fallback"] + 1
