"""The team topology under load: `make cluster` (nginx + TLS + login in front of two Rasa
instances on PostgreSQL + Redis) against one of its instances spoken to directly, in the
same run, with 10 and 40 concurrent conversations.

The cluster is started by scripts/cluster.sh itself in a scratch directory, with its own
PostgreSQL database and an empty Redis db number (both removed afterwards), and stopped
with Ctrl-C (SIGINT to its process group). "Direct" sends to the first instance's port
with the headers nginx would add (the proxy secret and an agent id), so both runs store
the same and differ only by nginx, TLS, the login and the second instance.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from bench.load import Conversation, LoadResult, run_load
from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = (10, 40)
AGENT = "bench"


def _pg_admin(statement: str, params: tuple = ()) -> None:  # type: ignore[type-arg]
    """One statement on the server's ``postgres`` database, outside a transaction (CREATE /
    DROP DATABASE refuse to run inside one)."""
    import psycopg2

    connection = psycopg2.connect(
        host=os.environ.get("TRACKER_DB_HOST", "127.0.0.1"),
        port=int(os.environ.get("TRACKER_DB_PORT", "5432")),
        user=os.environ.get("TRACKER_DB_USER", "postgres"),
        password=os.environ.get("TRACKER_DB_PASSWORD") or None,
        dbname="postgres",
        connect_timeout=5,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
    finally:
        connection.close()


def _redis(db: int) -> Any:
    import redis

    return redis.Redis(
        host=os.environ.get("LOCK_REDIS_HOST", "127.0.0.1"),
        port=int(os.environ.get("LOCK_REDIS_PORT", "6379")),
        db=db,
    )


def _claim_redis_db() -> int:
    """An empty Redis db number, claimed by a marker key (as the reliability tests do)."""
    for number in range(15, 0, -1):
        client = _redis(number)
        if client.dbsize() == 0 and client.set("bench:claim", "1", nx=True, ex=3600):
            return number
    raise RuntimeError("no empty Redis db among 1-15 for the cluster bench")


@dataclass
class RunningCluster:
    process: subprocess.Popen  # type: ignore[type-arg]
    workdir: Path
    https_url: str
    rasa_ports: List[int]
    secret: str
    password: str
    ready_seconds: float

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def start_cluster(workdir: Path, dbname: str, redis_db: int, env: Dict[str, str]) -> RunningCluster:
    workdir.mkdir(parents=True, exist_ok=True)
    secret, password = secrets.token_urlsafe(32), secrets.token_urlsafe(12)
    rasa_ports = [free_port(), free_port()]
    https_port = free_port()
    cluster_env = dict(
        os.environ,
        **env,
        CLUSTER_DIR=str(workdir),
        CLUSTER_HTTPS_PORT=str(https_port),
        CLUSTER_RASA_PORTS=" ".join(map(str, rasa_ports)),
        CLUSTER_ACTION_PORTS=f"{free_port()} {free_port()}",
        TRACKER_DB_NAME=dbname,
        LOCK_REDIS_DB=str(redis_db),
        AGENT_PROXY_SECRET=secret,
    )
    subprocess.run(
        [str(ROOT / "scripts" / "add_agent.sh"), AGENT, str(workdir / "htpasswd")],
        env=dict(cluster_env, AGENT_PASSWORD=password),
        check=True,
        capture_output=True,
    )
    log = workdir / "cluster.out"
    start = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "cluster.sh")],
            cwd=ROOT,
            env=cluster_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = RunningCluster(
        process, workdir, f"https://127.0.0.1:{https_port}", rasa_ports, secret, password, 0.0
    )
    while "cluster: ready in" not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() - start > 900:
            running.stop()
            raise RuntimeError(f"the cluster did not start; see {log}")
        time.sleep(1)
    running.ready_seconds = time.monotonic() - start
    return running


def measure_cluster(
    results: Dict[str, Any],
    conversations: Sequence[Conversation],
    seconds: float,
    env: Dict[str, str],
    summarise: Callable[[LoadResult], Dict[str, Any]],
    say: Callable[[str], None],
    workdir: Path,
) -> None:
    """Fills ``results["cluster"]``: {"direct": {"10": ..., "40": ...}, "nginx": {...}}."""
    dbname = f"bench_cluster_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{dbname}"')
    redis_db = _claim_redis_db()
    cluster: Optional[RunningCluster] = None
    try:
        say("cluster: starting scripts/cluster.sh (nginx + TLS, two instances)")
        cluster = start_cluster(workdir, dbname, redis_db, env)
        say(f"cluster: ready after {cluster.ready_seconds:.0f} s")
        login = base64.b64encode(f"{AGENT}:{cluster.password}".encode()).decode()
        targets = {
            # what nginx adds to each request, so the instance accepts and records the same
            "direct": (
                f"http://127.0.0.1:{cluster.rasa_ports[0]}/webhooks/rest/webhook",
                {"X-Agent-Proxy-Secret": cluster.secret, "X-Agent-Id": AGENT},
            ),
            "nginx": (
                f"{cluster.https_url}/webhooks/rest/webhook",
                {"Authorization": f"Basic {login}"},
            ),
        }
        section: Dict[str, Any] = {"ready_seconds": cluster.ready_seconds, "runs": {}}
        for name, (url, headers) in targets.items():
            # warm-up: every conversation once, then a few seconds of 10 clients
            asyncio.run(run_load(url, conversations, 1, 0.0, tag="cwarm", headers=headers))
            asyncio.run(run_load(url, conversations, 10, 0.0, 5.0, "cwarm10-", headers))
            for clients in CLIENTS:
                tag = f"{name}{clients}-"
                run = asyncio.run(run_load(url, conversations, clients, seconds, 3.0, tag, headers))
                summary = summarise(run)
                section["runs"].setdefault(name, {})[str(clients)] = summary
                say(
                    f"cluster, {name}, {clients} conversations: {summary['throughput']:.1f} "
                    f"msg/s, p50 {summary['p50']:.0f} ms, p95 {summary['p95']:.0f} ms, "
                    f"{summary['error_count']} failed conversations"
                )
                for error in run.errors[:3]:
                    say(f"  failed: {error}")
        results["cluster"] = section
    finally:
        if cluster is not None:
            cluster.stop()
            say("cluster: stopped (Ctrl-C)")
        _redis(redis_db).flushdb()
        _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (dbname,),
        )
        _pg_admin(f'DROP DATABASE IF EXISTS "{dbname}"')


def markdown(results: Dict[str, Any]) -> List[str]:
    """The cluster section of docs/benchmarks.md (empty without a cluster run)."""
    section = results.get("cluster")
    if not section:
        return []
    labels = {
        "direct": "one instance, direct (HTTP)",
        "nginx": "nginx + TLS + login, two instances",
    }
    lines = [
        "## The team topology: nginx + TLS in front of two instances",
        "",
        "`make cluster` (scripts/cluster.sh) on this machine, PostgreSQL tracker store and Redis "
        "lock store, the same conversations over REST. *Direct* talks to the first instance's "
        "port with the headers nginx adds; *nginx* goes through https with an agent login and "
        "nginx spreads the messages over both instances. Both in this run, one after the "
        f"other; cluster ready after {section['ready_seconds']:.0f} s.",
        "",
        "| path | conversations | msg/s | p50 ms | p95 ms | failed conversations |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in section["runs"].items():
        for clients, run in runs.items():
            lines.append(
                f"| {labels.get(name, name)} | {clients} | {run['throughput']:.1f} | "
                f"{run['p50']:.0f} | {run['p95']:.0f} | {run['error_count']} |"
            )
    lines.append("")
    return lines
