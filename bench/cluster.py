"""The team topology under load: `make cluster` (nginx + TLS + login in front of two Rasa
instances on PostgreSQL + Redis) against one of its instances spoken to directly, in the
same run, with 10 and 40 concurrent conversations.

The cluster is started by scripts/cluster.sh itself in a scratch directory, with its own
PostgreSQL databases, an empty Redis db number and its own RabbitMQ queue (all removed
afterwards; testkit.cluster, testkit.stores), and stopped with Ctrl-C (SIGINT to its
process group). "Direct" sends to the first instance's port with the headers nginx would
add (the proxy secret and an agent id), so both runs store the same and differ only by
nginx, TLS, the login and the second instance.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from bench.load import Conversation, LoadResult, run_load
from testkit.cluster import Cluster, add_agent, start_cluster
from testkit.stores import RunStores

CLIENTS = (10, 40)
AGENT = "bench"


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
    stores = RunStores("bench_cluster")
    cluster: Optional[Cluster] = None
    try:
        stores.create()
        password = secrets.token_urlsafe(12)
        add_agent(workdir, AGENT, password)
        say("cluster: starting scripts/cluster.sh (nginx + TLS, two instances)")
        cluster = start_cluster(workdir, stores, dict(os.environ, **env))
        say(f"cluster: ready after {cluster.started_in:.0f} s")
        login = base64.b64encode(f"{AGENT}:{password}".encode()).decode()
        targets = {
            # what nginx adds to each request, so the instance accepts and records the same
            "direct": (
                f"http://127.0.0.1:{cluster.rasa_ports[0]}/webhooks/rest/webhook",
                {"X-Agent-Proxy-Secret": cluster.proxy_secret, "X-Agent-Id": AGENT},
            ),
            "nginx": (
                f"{cluster.url}/webhooks/rest/webhook",
                {"Authorization": f"Basic {login}"},
            ),
        }
        section: Dict[str, Any] = {"ready_seconds": cluster.started_in, "runs": {}}
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
        stores.remove()


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
