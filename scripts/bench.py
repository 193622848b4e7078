"""`make bench`: this assistant and a stock `rasa init` bot measured side by side, in one run.

Steps (each prints what it does; scratch files in the git-ignored bench-out/):

1. stock bot: `rasa init --no-prompt` into bench-out/stock (once; reused afterwards);
2. training: `rasa train --force` of both projects, timed (wall and CPU);
3. NLU quality: the project's held-out set tests/nlu/heldout.yml on this pipeline and on
   stock Rasa's default pipeline, both trained on data/nlu (`rasa train nlu` + `rasa test nlu`);
4. speed: each bot's servers started as scripts/run.sh starts them, time to ready, RSS,
   REST round trips with 1 client and with 10 concurrent conversations;
   the team topology (`make cluster`: nginx + TLS + login, two instances, PostgreSQL +
   Redis) against one of its instances spoken to directly, 10 and 40 conversations
   (bench/cluster.py; `--bots cluster` runs only this part);
5. docs/benchmarks.md + docs/benchmarks-latency.png (and bench-out/results.json).

Tuning runs: `--skip-train --skip-nlu --bots assistant --label NAME --env KEY=VALUE` writes
bench-out/NAME.json only (docs untouched).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from bench import procs  # noqa: E402
from bench.cluster import measure_cluster  # noqa: E402
from bench.conversations import ASSISTANT, STOCK  # noqa: E402
from bench.load import Conversation, LoadResult, percentile, run_load  # noqa: E402
from bench.nlu import read_reports  # noqa: E402
from bench.report import write_markdown, write_plot  # noqa: E402
from testkit.assistant import ACTIONS_COMMAND, FIXED_NOW, RASA_COMMAND, Servers  # noqa: E402

OUT = ROOT / "bench-out"
MODELS = OUT / "models"
STOCK_DIR = OUT / "stock"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
# written without reading data/nlu; scored on contract values (nlu_components/evaluation.py)
INDEPENDENT = ROOT / "tests" / "nlu" / "independent.yml"
DOCS = ROOT / "docs"
NOTES = ROOT / "bench" / "notes.md"
PYTHON = Path(sys.executable)
RASA = PYTHON.parent / "rasa"
TF_ENV = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")
# "this assistant": as scripts/run.sh starts it (testkit.assistant): the runtime wrapper with
# its speed patches, rasa_sdk's action server, one TensorFlow intra-op thread in the server
ASSISTANT_ENV = {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "1"}
# "runtime patches off": the same model and wrapper on Rasa's own runtime, as the project ran
# before the speed work (ASSISTANT_SPEEDUPS=none, `rasa run actions`, scripts/env.sh threads)
UNPATCHED_ACTIONS_COMMAND = ["rasa", "run", "actions"]
UNPATCHED_ENV = {
    "ASSISTANT_SPEEDUPS": "none",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "2",
}
# the stock bot gets scripts/env.sh's thread settings (TensorFlow's default would take every
# core for one message)
STOCK_ENV = {"TF_INTER_OP_PARALLELISM_THREADS": "1", "TF_INTRA_OP_PARALLELISM_THREADS": "2"}


def say(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


class Phase:
    """Load average and the CPU used by everything else on the machine during one step."""

    def __init__(self, results: Dict[str, Any], name: str, own_pids: Sequence[int] = ()) -> None:
        self.results, self.name = results, name
        self.own_pids = list(own_pids)  # the servers measured: their CPU is not "other"
        self.new_pids: List[int] = []  # servers started inside the phase (all their CPU is own)

    def __enter__(self) -> Phase:
        self.load_before = procs.load_average()
        self.cpu_start = procs.CpuSample.now()
        self.own_cpu_start = self._own_cpu()
        return self

    def _own_cpu(self) -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
        return own + sum(procs.cpu_seconds(pid) for pid in self.own_pids)

    def __exit__(self, *exc: Any) -> None:
        end = procs.CpuSample.now()
        wall = end.wall - self.cpu_start.wall
        own = self._own_cpu() - self.own_cpu_start
        own += sum(procs.cpu_seconds(pid) for pid in self.new_pids)
        other = procs.busy_cores(self.cpu_start, end) - (own / wall if wall > 0 else 0.0)
        self.results.setdefault("phases", []).append(
            {
                "name": self.name,
                "load_before": self.load_before,
                "load_after": procs.load_average(),
                "other_cores": max(other, 0.0),
                "seconds": wall,
            }
        )


def run_logged(argv: Sequence[str], log: Path, cwd: Path = ROOT) -> Dict[str, float]:
    """Runs a command with its output in ``log``; returns its wall and CPU seconds."""
    log.parent.mkdir(parents=True, exist_ok=True)
    say(f"$ {' '.join(str(a) for a in argv)}   (log: {log.relative_to(ROOT)})")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with open(log, "wb") as handle:
        code = subprocess.call(list(argv), cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"bench: command failed ({code}): {' '.join(map(str, argv))}\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu}


def ensure_stock_bot() -> None:
    if (STOCK_DIR / "config.yml").exists() and (STOCK_DIR / "data" / "nlu.yml").exists():
        return
    say("creating the stock bot: rasa init --no-prompt (it trains once as part of init)")
    STOCK_DIR.mkdir(parents=True, exist_ok=True)
    run_logged([RASA, "init", "--no-prompt", "--init-dir", STOCK_DIR], OUT / "logs" / "init.log")


def train_both(results: Dict[str, Any], bots: Sequence[str]) -> None:
    for bot in [b for b in ("assistant", "stock") if b in bots]:
        with Phase(results, f"training: {bot}"):
            load_before = procs.load_average()
            if bot == "assistant":
                timing = run_logged(
                    [RASA, "train", "--force", "--fixed-model-name", "assistant", "--out", MODELS],
                    OUT / "logs" / "train-assistant.log",
                )
            else:
                timing = run_logged(
                    [RASA, "train", "--force", "--fixed-model-name", "stock", "--out", MODELS],
                    OUT / "logs" / "train-stock.log",
                    cwd=STOCK_DIR,
                )
        timing["load_before"] = load_before  # type: ignore[assignment]
        results["bots"].setdefault(bot, {})["train"] = timing
        say(f"{bot}: rasa train --force took {timing['wall']:.0f} s ({timing['cpu']:.0f} s CPU)")


def model_of(bot: str) -> Path:
    """The model trained by this run (bench-out/models), else the Makefile's / init's one."""
    benched = MODELS / f"{bot}.tar.gz"
    if benched.exists():
        return benched
    if bot == "assistant":
        return ROOT / "models" / "assistant.tar.gz"
    candidates = sorted((STOCK_DIR / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise SystemExit("bench: the stock bot has no trained model; run without --skip-train")
    return candidates[-1]


def nlu_quality(results: Dict[str, Any]) -> None:
    nlu: Dict[str, Any] = {"heldout": str(HELDOUT.relative_to(ROOT))}
    results["nlu"] = nlu
    if not HELDOUT.exists():
        nlu["skipped"] = f"{nlu['heldout']} does not exist yet"
        say(f"NLU quality skipped: {nlu['skipped']}")
        return
    with Phase(results, "NLU: train stock pipeline on data/nlu, test both"):
        stock_config = OUT / "stock-config.yml"
        # the stock bot's config.yml as `rasa init` wrote it (empty pipeline: Rasa's defaults)
        stock_config.write_text((STOCK_DIR / "config.yml").read_text(encoding="utf-8"))
        run_logged(
            [
                RASA,
                "train",
                "nlu",
                "--config",
                stock_config,
                "--nlu",
                "data/nlu",
                "--domain",
                "domain.yml",
                "--fixed-model-name",
                "stock-config-nlu",
                "--out",
                MODELS,
            ],
            OUT / "logs" / "train-nlu-stock-config.log",
        )
        for name, model in (
            ("assistant", model_of("assistant")),
            ("stock_config", MODELS / "stock-config-nlu.tar.gz"),
        ):
            out = OUT / "nlu" / name
            run_logged(
                [RASA, "test", "nlu", "--model", model, "--nlu", HELDOUT, "--out", out],
                OUT / "logs" / f"test-nlu-{name}.log",
            )
            scores = read_reports(out)
            nlu[name] = {
                "intent_accuracy": scores.intent_accuracy,
                "intent_macro_f1": scores.intent_macro_f1,
                "intent_weighted_f1": scores.intent_weighted_f1,
                "examples": scores.examples,
                "entities": scores.entities,
            }
            say(
                f"NLU {name}: intent accuracy {scores.intent_accuracy:.3f}, "
                f"macro-F1 {scores.intent_macro_f1:.3f}"
            )
            if INDEPENDENT.exists():
                nlu[name]["independent"] = independent_scores(name, model)


def independent_scores(name: str, model: Path) -> Dict[str, Any]:
    """The independent set scored as the contract defines values (scripts/nlu_gate.py)."""
    out = OUT / "nlu" / f"{name}-independent.json"
    run_logged(
        [
            PYTHON,
            ROOT / "scripts" / "nlu_gate.py",
            "--model",
            model,
            "--nlu",
            INDEPENDENT,
            "--min-intent-f1",
            "0",
            "--min-entity-f1",
            "0",
            "--json",
            out,
        ],
        OUT / "logs" / f"independent-{name}.log",
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    scores = {
        "examples": report["examples"],
        "intent_macro_f1": report["intent_macro_f1"],
        "intent_accuracy": report["intent_accuracy"],
        "entity_f1": report["entity_micro"]["f1"],
        "entity_precision": report["entity_micro"]["precision"],
        "entity_recall": report["entity_micro"]["recall"],
        "per_entity": {k: v["f1"] for k, v in report["per_entity"].items()},
    }
    say(
        f"NLU {name} on {INDEPENDENT.name}: intent macro-F1 {scores['intent_macro_f1']:.3f}, "
        f"entity F1 (canonical) {scores['entity_f1']:.3f}"
    )
    return scores


def assistant_servers(
    env: Dict[str, str],
    command: Sequence[str],
    action_command: Sequence[str],
    name: str = "assistant",
) -> Servers:
    """This assistant started as scripts/run.sh starts it (testkit.assistant keeps in step
    with run.sh), with ``command`` / ``action_command`` instead when given."""
    return Servers(
        workdir=OUT / "run" / name,
        env={**os.environ, "ASSISTANT_FIXED_NOW": FIXED_NOW, **env},
        model=model_of("assistant"),
        rasa_command=command,
        action_command=action_command,
        name=name,
    )


def stock_servers(env: Dict[str, str]) -> Servers:
    """The stock bot: its own endpoints.yml and credentials.yml, no custom actions, Rasa's
    own logging."""
    return Servers(
        workdir=OUT / "run" / "stock",
        env={**os.environ, **env},
        root=STOCK_DIR,
        model=model_of("stock"),
        endpoints=STOCK_DIR / "endpoints.yml",
        actions_module=None,
        rasa_command=["rasa", "run"],
        logging_config=None,
        name="stock",
    )


def summarise(run: LoadResult, cpu_rasa: float, cpu_actions: float) -> Dict[str, Any]:
    values = run.latencies()
    answered = max(run.completed, 1)
    return {
        "clients": run.clients,
        "messages": run.messages,
        "completed": run.completed,
        "window_seconds": run.window_seconds,
        "throughput": run.throughput,
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "mean": sum(values) / len(values) if values else float("nan"),
        "max": max(values) if values else float("nan"),
        "conversations_ok": run.conversations_ok,
        "errors": run.errors[:20],
        "error_count": len(run.errors),
        # CPU of all messages of the run (warm-up included) per message answered in the window
        "cpu_ms_rasa": 1000.0 * cpu_rasa / answered,
        "cpu_ms_actions": 1000.0 * cpu_actions / answered,
        "latencies": [round(v, 3) for v in values],
    }


def measure_bot(
    results: Dict[str, Any],
    servers: Servers,
    conversations: Sequence[Conversation],
    seconds: float,
) -> None:
    bot = results["bots"].setdefault(servers.name, {})
    with Phase(results, f"{servers.name}: start to ready") as phase:
        servers.start()
        phase.new_pids = [p.pid for p in servers.processes]
    assert servers.rasa is not None
    bot["ready"] = {
        "total": servers.ready_seconds,
        "rasa": servers.rasa.starts[-1],
        "actions": servers.actions.starts[-1] if servers.actions else None,
    }
    say(f"{servers.name}: ready after {servers.ready_seconds:.1f} s")
    rasa_pid = servers.rasa.pid
    action_pid = servers.actions.pid if servers.actions else None
    try:
        # warm-up: every conversation once, then a few seconds of the 10-client mix
        asyncio.run(run_load(servers.rest_url, conversations, 1, 0.0, tag="warm"))
        asyncio.run(run_load(servers.rest_url, conversations, 10, 0.0, 5.0, tag="warm10-"))
        bot["rss"] = {
            "rasa_warm": procs.rss_bytes(rasa_pid),
            "actions_warm": procs.rss_bytes(action_pid) if action_pid else None,
        }
        bot["runs"] = {}
        for clients in (1, 10):
            own = [p for p in (rasa_pid, action_pid) if p]
            with Phase(results, f"{servers.name}: {clients} client(s)", own):
                cpu0 = (
                    procs.cpu_seconds(rasa_pid),
                    (procs.cpu_seconds(action_pid) if action_pid else 0.0),
                )
                run = asyncio.run(
                    run_load(
                        servers.rest_url,
                        conversations,
                        clients,
                        seconds,
                        warmup_seconds=3.0,
                        tag=f"c{clients}-",
                    )
                )
                cpu1 = (
                    procs.cpu_seconds(rasa_pid),
                    (procs.cpu_seconds(action_pid) if action_pid else 0.0),
                )
            summary = summarise(run, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])
            bot["runs"][str(clients)] = summary
            say(
                f"{servers.name}, {clients} client(s): p50 {summary['p50']:.0f} ms, "
                f"p95 {summary['p95']:.0f} ms, p99 {summary['p99']:.0f} ms, "
                f"{summary['throughput']:.1f} msg/s, Rasa CPU {summary['cpu_ms_rasa']:.1f} "
                f"ms/msg, actions CPU {summary['cpu_ms_actions']:.1f} ms/msg, "
                f"{summary['error_count']} failed conversations"
            )
            for error in run.errors[:3]:
                say(f"  failed: {error}")
        bot["rss"]["rasa_after_load"] = procs.rss_bytes(rasa_pid)
        bot["rss"]["actions_after_load"] = procs.rss_bytes(action_pid) if action_pid else None
        say(
            f"{servers.name}: RSS Rasa {bot['rss']['rasa_warm'] / 2**20:.0f} MB after warm-up, "
            f"{bot['rss']['rasa_after_load'] / 2**20:.0f} MB after the runs"
        )
    finally:
        servers.stop()


def git_facts() -> Dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.check_output(["git", *args], cwd=ROOT, text=True).strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "-s"))}


def rasa_version() -> str:
    try:
        from importlib.metadata import version

        return version("rasa")
    except Exception:  # the report is still useful without it
        return "?"


def parse_env(pairs: Sequence[str]) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        env[key] = value
    return env


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--bots", default="assistant,unpatched,stock,cluster", help="comma-separated subset"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring window per run")
    parser.add_argument("--skip-train", action="store_true", help="reuse the trained models")
    parser.add_argument("--skip-nlu", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the servers")
    parser.add_argument("--command", help="Rasa server command of this assistant, e.g. 'rasa run'")
    parser.add_argument("--actions-command", help="its action server, e.g. 'python -m rasa_sdk'")
    parser.add_argument("--label", help="tuning run: write bench-out/LABEL.json, not the docs")
    parser.add_argument("--report-only", action="store_true", help="docs from results.json")
    args = parser.parse_args(argv)

    OUT.mkdir(exist_ok=True)
    results_path = OUT / f"{args.label or 'results'}.json"
    if args.report_only:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    else:
        bots = [b for b in args.bots.split(",") if b]
        env = parse_env(args.env)
        now = dt.datetime.now(dt.timezone.utc).astimezone()
        results = {
            "date": now.strftime("%Y-%m-%d %H:%M %Z"),
            "machine": procs.machine_info(),
            "rasa": rasa_version(),
            **git_facts(),
            "env": {
                name: ", ".join(f"`{k}={bot_env[k]}`" for k in TF_ENV)
                for name, bot_env in (
                    ("assistant", {**ASSISTANT_ENV, **env}),
                    ("unpatched", {**UNPATCHED_ENV, **env}),
                    ("stock", {**STOCK_ENV, **env}),
                )
            },
            "label": args.label,
            "bots": {},
        }
        say(f"load average at start: {procs.load_average()}")
        if "stock" in bots or not args.skip_nlu:
            ensure_stock_bot()
        if not args.skip_train:
            train_both(results, bots)
        if not args.skip_nlu:
            nlu_quality(results)
        if not args.skip_speed:
            command = args.command.split() if args.command else RASA_COMMAND
            action_command = (
                args.actions_command.split() if args.actions_command else ACTIONS_COMMAND
            )
            if "assistant" in bots:
                servers = assistant_servers({**ASSISTANT_ENV, **env}, command, action_command)
                measure_bot(results, servers, ASSISTANT, args.seconds)
            if "unpatched" in bots:
                servers = assistant_servers(
                    {**UNPATCHED_ENV, **env},
                    RASA_COMMAND,
                    UNPATCHED_ACTIONS_COMMAND,
                    name="unpatched",
                )
                measure_bot(results, servers, ASSISTANT, args.seconds)
            if "stock" in bots:
                measure_bot(results, stock_servers({**STOCK_ENV, **env}), STOCK, args.seconds)
            if "cluster" in bots:
                measure_cluster(
                    results,
                    ASSISTANT,
                    args.seconds,
                    {
                        **ASSISTANT_ENV,
                        "ASSISTANT_FIXED_NOW": FIXED_NOW,
                        "ASSISTANT_MODEL": str(model_of("assistant")),
                        **env,
                    },
                    lambda run: summarise(run, 0.0, 0.0),
                    say,
                    OUT / "run" / "cluster",
                )
        say(f"load average at end: {procs.load_average()}")
        results_path.write_text(json.dumps(results, indent=1), encoding="utf-8")
        say(f"results: {results_path.relative_to(ROOT)}")
    if args.label:
        return
    notes = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    write_plot(results, DOCS / "benchmarks-latency.png")
    write_markdown(results, DOCS / "benchmarks.md", "benchmarks-latency.png", notes)
    say("wrote docs/benchmarks.md and docs/benchmarks-latency.png")


if __name__ == "__main__":
    main()
