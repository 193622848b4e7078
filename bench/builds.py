"""Two or more builds of this assistant over REST, alternated, on the same machine load.

``make bench`` measures one build at one moment; on a shared machine a run an hour later
sees another load, so two reports do not tell whether the code got slower. Here every
build (a checkout with its own trained model, e.g. a ``git worktree`` of an older commit)
runs its servers as ``make run`` does (``python -m assistant_runtime run``, rasa_sdk's
action server, one TensorFlow intra-op thread), all at once on free ports, and the load
runs take turns: per round, each build gets the 1-client run and then the 10-conversation
run, the order rotating from round to round. Reported per build: the median over rounds
of p50 / p95 and CPU per message at 1 client and messages per second at 10.

    python -m bench.builds old=/path/to/old-checkout new=. --rounds 4 --seconds 20

A build ``NAME=DIR@MODEL`` uses another trained model than ``DIR/models/assistant.tar.gz``.
(Run from the project root with scripts/env.sh sourced; each build's servers run with its
own folder as working directory and ``PYTHONPATH``.)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
from pathlib import Path
from typing import Any, Dict, List

from bench import procs
from bench.conversations import ASSISTANT
from bench.load import percentile, run_load
from testkit.assistant import FIXED_NOW, ROOT, Servers

OUT = ROOT / "bench-out" / "builds"


def build_servers(name: str, spec: str) -> Servers:
    """``DIR`` or ``DIR@MODEL`` -> that checkout's servers, as scripts/bench.py starts them;
    the tracker database and the event broker's file go to the run's own folder."""
    directory, _, model = spec.partition("@")
    root = Path(directory).resolve()
    logging_config = root / "logging.yml"
    return Servers(
        workdir=OUT / name,
        env={
            **os.environ,
            "ASSISTANT_FIXED_NOW": FIXED_NOW,
            "PYTHONPATH": str(root),
            "TF_INTER_OP_PARALLELISM_THREADS": "1",
            "TF_INTRA_OP_PARALLELISM_THREADS": "1",
        },
        root=root,
        model=Path(model).resolve() if model else root / "models" / "assistant.tar.gz",
        logging_config=logging_config if logging_config.exists() else None,
        name=name,
    )


def measure(servers: Servers, clients: int, seconds: float) -> Dict[str, Any]:
    assert servers.rasa is not None and servers.actions is not None
    pids = (servers.rasa.pid, servers.actions.pid)
    before = [procs.cpu_seconds(pid) for pid in pids]
    tag = f"{servers.name}{clients}-"
    run = asyncio.run(run_load(servers.rest_url, ASSISTANT, clients, seconds, 3.0, tag=tag))
    after = [procs.cpu_seconds(pid) for pid in pids]
    answered = max(run.completed, 1)
    latencies = run.latencies()
    return {
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "msg_s": run.throughput,
        # CPU of the whole run (its warm-up included) per message answered in the window,
        # as scripts/bench.py counts it
        "cpu_rasa": 1000.0 * (after[0] - before[0]) / answered,
        "cpu_actions": 1000.0 * (after[1] - before[1]) / answered,
        "failed": len(run.errors),
    }


def compare(builds: Dict[str, str], rounds: int, seconds: float) -> Dict[str, Any]:
    servers = {name: build_servers(name, spec) for name, spec in builds.items()}
    results: Dict[str, Dict[str, List[Dict[str, Any]]]] = {
        name: {"1": [], "10": []} for name in servers
    }
    try:
        for bot in servers.values():
            bot.start()
            print(f"{bot.name}: ready after {bot.ready_seconds:.1f} s", flush=True)
        for bot in servers.values():  # warm-up: every conversation, then the 10-client mix
            asyncio.run(run_load(bot.rest_url, ASSISTANT, 1, 0.0, tag="warm"))
            asyncio.run(run_load(bot.rest_url, ASSISTANT, 10, 0.0, 5.0, tag="warm10-"))
        names = list(servers)
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                for clients in (1, 10):
                    row = measure(servers[name], clients, seconds)
                    results[name][str(clients)].append(row)
                    print(
                        f"round {round_index + 1} {name} {clients:>2} client(s): "
                        f"p50 {row['p50']:.1f} ms, p95 {row['p95']:.1f} ms, "
                        f"{row['msg_s']:.1f} msg/s, Rasa CPU {row['cpu_rasa']:.1f} ms/msg, "
                        f"actions CPU {row['cpu_actions']:.1f} ms/msg, "
                        f"{row['failed']} failed, load {procs.load_average()}",
                        flush=True,
                    )
    finally:
        for bot in servers.values():
            bot.stop()
    print("build | 1 client: p50 ms | p95 ms | Rasa CPU ms/msg | 10 conv.: msg/s | Rasa CPU")
    for name, runs in results.items():

        def median(clients: str, key: str, runs: Dict[str, List[Dict[str, Any]]] = runs) -> float:
            return float(statistics.median(row[key] for row in runs[clients]))

        print(
            f"{name} | {median('1', 'p50'):.1f} | {median('1', 'p95'):.1f} | "
            f"{median('1', 'cpu_rasa'):.1f} | {median('10', 'msg_s'):.1f} | "
            f"{median('10', 'cpu_rasa'):.1f}"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("builds", nargs="+", help="NAME=DIR or NAME=DIR@MODEL")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="measuring window per run")
    args = parser.parse_args()
    builds = dict(spec.split("=", 1) for spec in args.builds)
    compare(builds, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
