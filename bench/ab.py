"""In-process before/after comparison of the speed patches of :mod:`assistant_runtime.patches`.

On a shared machine two server runs minutes apart see different loads. Here one process
loads the assistant's model once (with the project's runtime patches, endpoints and a real
action server) and alternates the variants message batch by message batch, so every
variant sees the same load. Reported per variant: the median over rounds of the per-message
wall time and CPU time (this process = the Rasa server's work, and the action server's).

    python -m bench.ab --variants none,schema,keepalive,schema+keepalive --rounds 5

A variant ``PATCHES@DIR`` talks to a second action server that runs the ``actions`` package
found in ``DIR`` (a copy of ``actions/`` with a proposed change), e.g.
``schema@/tmp/variant``.

(run from the project root with scripts/env.sh sourced; the REST layer is left out: messages
go to ``Agent.handle_message`` directly).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Sequence

import yaml

from assistant_runtime import patches
from assistant_runtime.patches.http_session import close_sessions
from bench import procs
from bench.conversations import ASSISTANT
from bench.load import Conversation, percentile
from bench.servers import BotServers, answers, free_port

ROOT = Path(__file__).resolve().parents[1]
FIXED_NOW = "2026-11-22T10:00:00+07:00"


async def _converse(agent: Any, conversations: Sequence[Conversation], count: int) -> List[float]:
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    latencies: List[float] = []
    for index in range(count):
        conversation = conversations[index % len(conversations)]
        sender = f"ab-{uuid.uuid4().hex[:12]}"
        for text in conversation.turns:
            started = time.perf_counter()
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
            latencies.append((time.perf_counter() - started) * 1000.0)
    return latencies


def _tracker_store(endpoints: Any, agent: Any, workdir: Path, index: int) -> Any:
    """A tracker store as configured, created with the patches of the variant installed;
    a SQLite store gets a file of its own (journal modes persist in the file)."""
    import copy

    from rasa.core.tracker_store import TrackerStore

    config = copy.deepcopy(endpoints.tracker_store)
    if config is not None and config.kwargs.get("dialect") == "sqlite":
        path = workdir / f"tracker-variant{index}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        config.kwargs["db"] = str(path)
    return TrackerStore.create(config, domain=agent.domain)


async def compare(variants: List[str], rounds: int, conversations: int, model: Path) -> None:
    os.environ.setdefault("ASSISTANT_FIXED_NOW", FIXED_NOW)
    workdir = ROOT / "bench-out" / "run" / "ab"
    servers = BotServers(
        name="ab",
        root=ROOT,
        model=model,
        workdir=workdir,
        credentials=ROOT / "credentials.yml",
        python_bin=Path(sys.executable),
        endpoints=yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8")),
        actions_module="actions",
        env={"ASSISTANT_FIXED_NOW": FIXED_NOW},
    )
    workdir.mkdir(parents=True, exist_ok=True)
    endpoints_file = servers._endpoints_file()
    action_urls: Dict[str, str] = {}
    action_servers: Dict[str, subprocess.Popen] = {}  # type: ignore[type-arg]
    for directory in sorted({v.partition("@")[2] for v in variants}):
        port = servers.action_port if not directory else free_port()
        env = dict(os.environ)
        if directory:  # the copy's `actions` first, sop_engine etc. from the project
            env["PYTHONPATH"] = f"{directory}:{env.get('PYTHONPATH', '')}"
        log = open(workdir / f"actions{port}.log", "wb")  # noqa: SIM115
        action_servers[directory] = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(port),
            ],
            cwd=directory or ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        action_urls[directory] = f"http://127.0.0.1:{port}/webhook"
    try:
        import logging

        from rasa.utils.common import configure_logging_and_warnings
        from rasa.utils.log_utils import configure_structlog

        # as `rasa run` without -v: INFO (the logging config file is left out)
        configure_logging_and_warnings(logging.INFO)
        configure_structlog(logging.INFO)
        patches.install()
        from rasa.core.agent import load_agent
        from rasa.core.utils import AvailableEndpoints

        endpoints = AvailableEndpoints.read_endpoints(str(endpoints_file))
        agent = await load_agent(model_path=str(model), endpoints=endpoints)
        stores: Dict[str, Any] = {}
        for url in action_urls.values():
            while not answers(url.replace("/webhook", "/health")):
                await asyncio.sleep(0.5)
        endpoint = agent.processor.action_endpoint
        for url in action_urls.values():
            endpoint.url = url
            await _converse(agent, ASSISTANT, len(ASSISTANT))  # warm-up
        results: Dict[str, List[Dict[str, float]]] = {v: [] for v in variants}
        for round_index in range(rounds):
            order = (
                variants[round_index % len(variants) :] + variants[: round_index % len(variants)]
            )
            for variant in order:
                patches.uninstall(patches.SPEED_PATCHES)
                await close_sessions()
                speed, _, directory = variant.partition("@")
                patches.install([n for n in speed.split("+") if n != "none"])
                if variant not in stores:  # own store (and SQLite file) per variant
                    stores[variant] = _tracker_store(endpoints, agent, workdir, len(stores))
                agent.tracker_store = agent.processor.tracker_store = stores[variant]
                endpoint.url = action_urls[directory]
                actions_pid = action_servers[directory].pid
                await _converse(agent, ASSISTANT, 1)  # settle (new sessions, caches)
                cpu0, act0 = time.process_time(), procs.cpu_seconds(actions_pid)
                latencies = await _converse(agent, ASSISTANT, conversations)
                cpu1, act1 = time.process_time(), procs.cpu_seconds(actions_pid)
                n = len(latencies)
                results[variant].append(
                    {
                        "p50": percentile(latencies, 50),
                        "p95": percentile(latencies, 95),
                        "cpu_rasa": 1000.0 * (cpu1 - cpu0) / n,
                        "cpu_actions": 1000.0 * (act1 - act0) / n,
                    }
                )
            print(f"round {round_index + 1}/{rounds} done, load {procs.load_average()}", flush=True)
        print("variant | p50 ms | p95 ms | Rasa CPU ms/msg | action server CPU ms/msg")
        for variant, rows in results.items():
            cells = [
                statistics.median(row[key] for row in rows)
                for key in ("p50", "p95", "cpu_rasa", "cpu_actions")
            ]
            print(f"{variant} | " + " | ".join(f"{c:.1f}" for c in cells))
    finally:
        patches.uninstall()
        await close_sessions()
        for process in action_servers.values():
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="none,schema,keepalive,schema+keepalive")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conversations", type=int, default=6, help="per variant and round")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    args = parser.parse_args()
    asyncio.run(compare(args.variants.split(","), args.rounds, args.conversations, args.model))


if __name__ == "__main__":
    main()
