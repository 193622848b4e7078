"""docs/benchmarks.md and docs/benchmarks-latency.png from the results of one bench run."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from bench.cluster import markdown as cluster_markdown

BOTS = ("assistant", "unpatched", "stock")
LABELS = {
    "assistant": "this assistant",
    "unpatched": "this assistant, runtime patches off",
    "stock": "stock `rasa init`",
}
MB = 1024 * 1024

# metric key -> (label, unit, target text, check(value) -> met?, lower is better)
Row = tuple[str, str, Optional[str], Optional[Callable[[float], bool]], bool]


def _get(results: Dict[str, Any], bot: str, *path: str) -> Optional[float]:
    node: Any = results.get("bots", {}).get(bot)
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, (int, float)) else None


def _fmt(value: Optional[float], unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.1f} s"
    if unit == "MB":
        return f"{value / MB:.0f} MB"
    if unit == "msg/s":
        return f"{value:.1f} msg/s"
    if unit == "ms/msg":
        return f"{value:.1f} ms"
    if unit == "%":
        return f"{100 * value:.1f} %"
    return f"{value:.3f}"


def _ratio(mine: Optional[float], stock: Optional[float]) -> str:
    if mine is None or stock is None or stock == 0 or math.isnan(mine) or math.isnan(stock):
        return "–"
    return f"{mine / stock:.2f}"


def _metrics_table(results: Dict[str, Any]) -> List[str]:
    rows: List[tuple[tuple[str, ...], Row]] = [
        (
            ("runs", "1", "p50"),
            ("REST round trip p50, 1 client", "ms", "≤ 40 ms", lambda v: v <= 40, True),
        ),
        (("runs", "1", "p95"), ("REST round trip p95, 1 client", "ms", None, None, True)),
        (("runs", "1", "p99"), ("REST round trip p99, 1 client", "ms", None, None, True)),
        (("runs", "10", "p50"), ("REST round trip p50, 10 conversations", "ms", None, None, True)),
        (
            ("runs", "10", "p95"),
            ("REST round trip p95, 10 conversations", "ms", "≤ 300 ms", lambda v: v <= 300, True),
        ),
        (("runs", "10", "p99"), ("REST round trip p99, 10 conversations", "ms", None, None, True)),
        (
            ("runs", "10", "throughput"),
            ("messages per second, 10 conversations", "msg/s", "≥ 50", lambda v: v >= 50, False),
        ),
        (
            ("runs", "1", "cpu_ms_rasa"),
            ("Rasa server CPU per message, 1 client", "ms/msg", None, None, True),
        ),
        (
            ("runs", "10", "cpu_ms_rasa"),
            ("Rasa server CPU per message, 10 conv.", "ms/msg", None, None, True),
        ),
        (
            ("runs", "10", "cpu_ms_actions"),
            ("action server CPU per message, 10 conv.", "ms/msg", None, None, True),
        ),
        (
            ("rss", "rasa_warm"),
            ("Rasa server RSS after warm-up", "MB", "≤ 1 GB", lambda v: v <= 1024 * MB, True),
        ),
        (
            ("rss", "rasa_after_load"),
            ("Rasa server RSS after the 10-client run", "MB", None, None, True),
        ),
        (("rss", "actions_warm"), ("action server RSS after warm-up", "MB", None, None, True)),
        (
            ("ready", "total"),
            ("start to ready (both servers answer)", "s", "≤ 30 s", lambda v: v <= 30, True),
        ),
        (("ready", "actions"), ("start to ready, action server alone", "s", None, None, True)),
        (
            ("train", "wall"),
            ("`rasa train --force` wall time", "s", "≤ 180 s", lambda v: v <= 180, True),
        ),
        (("train", "cpu"), ("`rasa train --force` CPU time (user+sys)", "s", None, None, True)),
    ]
    bots = [b for b in BOTS if b in results.get("bots", {})]
    mine = [b for b in bots if b != "stock"]
    header = ["metric", *(LABELS[b] for b in bots)]
    header += [f"{LABELS[b]} ÷ stock" for b in mine if "stock" in bots]
    gated = [b for b in mine if b == "assistant"]  # the targets are for what `make run` starts
    header += ["target", *(f"met ({LABELS[b]})" for b in gated)]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for path, (label, unit, target, check, _lower) in rows:
        values = {b: _get(results, b, *path) for b in bots}
        cells = [label, *(_fmt(values[b], unit) for b in bots)]
        if "stock" in bots:
            cells += [_ratio(values[b], values["stock"]) for b in mine]
        cells.append(target or "")
        for bot in gated:
            value = values[bot]
            met = ""
            if check is not None and value is not None and not math.isnan(value):
                met = "yes" if check(value) else "**no**"
            cells.append(met)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _independent_lines(
    results: Dict[str, Any], mine: Dict[str, Any], stock: Dict[str, Any]
) -> List[str]:
    """The independent set on contract values, side by side, and the training-time ratio."""
    a, b = mine.get("independent"), stock.get("independent")
    lines: List[str] = []
    if a and b:
        lines += [
            "",
            f"Independent set `tests/nlu/independent.yml` ({a['examples']} messages, written "
            "without reading `data/nlu`), scored by `scripts/nlu_gate.py`: entities as "
            "(entity, value) pairs with the contract's canonical values as the model outputs "
            "them, free-text entities on digits / normalised text.",
            "",
            "| metric | this pipeline | stock default pipeline | difference | target | met |",
            "|---|---:|---:|---:|---|---|",
        ]
        for label, key in (
            ("intent macro-F1", "intent_macro_f1"),
            ("intent accuracy", "intent_accuracy"),
            ("entity F1 (canonical values)", "entity_f1"),
        ):
            x, y = float(a[key]), float(b[key])
            gated = key != "intent_accuracy"
            met = ("yes" if x > y else "**no**") if gated else ""
            lines.append(
                f"| {label} | {x:.3f} | {y:.3f} | {x - y:+.3f} | {'> stock' if gated else ''}"
                f" | {met} |"
            )
        entities = sorted(set(a["per_entity"]) | set(b["per_entity"]))
        lines += ["", "| entity F1 | this pipeline | stock |", "|---|---:|---:|"]
        for name in entities:
            x, y = a["per_entity"].get(name), b["per_entity"].get(name)
            cells = ["" if v is None else f"{v:.3f}" for v in (x, y)]
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    mine_train = _get(results, "assistant", "train", "wall")
    stock_train = _get(results, "stock", "train", "wall")
    if mine_train and stock_train:
        ratio = mine_train / stock_train
        lines += [
            "",
            f"Full training (`rasa train --force`, back to back): this bot {mine_train:.0f} s, "
            f"stock bot {stock_train:.0f} s: ratio **{ratio:.2f}** (target ≤ 1.2: "
            f"{'met' if ratio <= 1.2 else '**not met**'}).",
        ]
    return lines


def _nlu_section(results: Dict[str, Any]) -> List[str]:
    nlu = results.get("nlu") or {}
    mine, stock = nlu.get("assistant"), nlu.get("stock_config")
    if not mine or not stock:
        reason = nlu.get("skipped", "not measured in this run")
        return [f"NLU quality: {reason}."]
    lines = [
        f"Held-out set `{nlu.get('heldout', 'tests/nlu/heldout.yml')}` "
        f"({mine['examples']} examples); both pipelines trained on the same `data/nlu`. "
        "Stock = the pipeline Rasa fills in for the empty `pipeline:` of the `rasa init` "
        "config.yml (WhitespaceTokenizer, RegexFeaturizer, LexicalSyntacticFeaturizer, word "
        "and char_wb 1–4 CountVectorsFeaturizer, DIETClassifier 100 epochs, "
        "EntitySynonymMapper, ResponseSelector, FallbackClassifier 0.3).",
        "",
        "| metric | this pipeline | stock default pipeline | difference | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]

    def diet(scores: Dict[str, Any], entity: str) -> Optional[float]:
        value = scores["entities"].get("DIETClassifier", {}).get(entity)
        return float(value[0]) if value else None

    summary = [
        ("intent accuracy", float(mine["intent_accuracy"]), float(stock["intent_accuracy"]), True),
        ("intent macro-F1", float(mine["intent_macro_f1"]), float(stock["intent_macro_f1"]), True),
        (
            "intent weighted F1",
            float(mine["intent_weighted_f1"]),
            float(stock["intent_weighted_f1"]),
            False,
        ),
        ("entity micro-F1 (DIET)", diet(mine, "micro avg"), diet(stock, "micro avg"), True),
        ("entity macro-F1 (DIET)", diet(mine, "macro avg"), diet(stock, "macro avg"), True),
    ]
    for label, a, b, gated in summary:
        if a is None or b is None:
            continue
        met = ("yes" if a >= b else "**no**") if gated else ""
        target = "≥ stock" if gated else ""
        lines.append(f"| {label} | {a:.3f} | {b:.3f} | {a - b:+.3f} | {target} | {met} |")
    lines += _independent_lines(results, mine, stock)
    extractors_mine = sorted(mine["entities"])
    extractors_stock = sorted(stock["entities"])
    entities = sorted(
        {
            name
            for scores in (mine, stock)
            for per_entity in scores["entities"].values()
            for name in per_entity
            if not name.endswith(" avg")
        }
    )
    header = (
        ["entity", "support"]
        + [f"this: {e}" for e in extractors_mine]
        + [f"stock: {e}" for e in extractors_stock]
    )
    lines += [
        "",
        "Entity F1 per entity and extractor (`rasa test nlu` evaluates every extractor "
        "separately; `·`: no correct prediction at all, i.e. the extractor does not cover "
        "that entity; the averages of such a partial extractor are left out):",
        "",
        "| " + " | ".join(header) + " |",
        "|---|---:|" + "---:|" * (len(header) - 2),
    ]

    def covered(scores: Dict[str, Any], extractor: str) -> set[str]:
        return {
            name
            for name, (f1, _support) in scores["entities"].get(extractor, {}).items()
            if f1 > 0 and not name.endswith(" avg")
        }

    def cell(scores: Dict[str, Any], extractor: str, entity: str) -> str:
        value = scores["entities"].get(extractor, {}).get(entity)
        if not value:
            return "–"
        partial = extractor != "DIETClassifier"
        if entity.endswith(" avg") and partial:
            return "–"
        if value[0] == 0 and entity not in covered(scores, extractor):
            return "·"
        return f"{value[0]:.3f}"

    for entity in [*entities, "micro avg", "macro avg"]:
        support = max(
            (
                per[entity][1]
                for scores in (mine, stock)
                for per in scores["entities"].values()
                if entity in per
            ),
            default=0,
        )
        cells = [cell(mine, e, entity) for e in extractors_mine]
        cells += [cell(stock, e, entity) for e in extractors_stock]
        name = f"**{entity}**" if entity.endswith(" avg") else entity
        lines.append(f"| {name} | {support} | " + " | ".join(cells) + " |")
    return lines


def _load_section(results: Dict[str, Any]) -> List[str]:
    lines = [
        "| phase | load average (1/5/15 min) before → after | other processes' CPU |",
        "|---|---|---|",
    ]
    for phase in results.get("phases", []):
        other = phase.get("other_cores")
        other_text = f"{other:.2f} of {results['machine']['cores']} cores" if other else ""
        lines.append(
            f"| {phase['name']} | {phase['load_before']} → {phase['load_after']} | {other_text} |"
        )
    return lines


def write_markdown(results: Dict[str, Any], path: Path, plot_name: str, notes: str) -> None:
    machine = results["machine"]
    env = results.get("env", {})
    errors = [
        f"- {bot}, {clients} client(s): {len(run['errors'])} failed conversations, "
        f"e.g. `{run['errors'][0]}`"
        for bot in BOTS
        for clients, run in (results.get("bots", {}).get(bot, {}).get("runs") or {}).items()
        if run.get("errors")
    ]
    runs_text = []
    for bot in BOTS:
        for clients, run in (results.get("bots", {}).get(bot, {}).get("runs") or {}).items():
            runs_text.append(
                f"{LABELS[bot]}, {clients} client(s): {run['messages']} messages in "
                f"{run['window_seconds']:.0f} s, {run['conversations_ok']} conversations "
                "checked OK"
            )
    lines = [
        "# Benchmarks: this assistant vs a stock `rasa init` bot",
        "",
        f"Generated by `make bench` (`scripts/bench.py`) on {results['date']}; all figures "
        "below come from that one run. Do not edit by hand: rerun `make bench`. The notes "
        "at the end come from `bench/notes.md`.",
        "",
        "## Machine and load",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores, {machine['memory']} RAM, "
        f"Linux {machine['kernel']}, Python {machine['python']}, Rasa {results.get('rasa', '?')}",
        f"- commit `{results.get('commit', '?')}`"
        + (" with uncommitted changes in the tree" if results.get("dirty") else ""),
        "- TensorFlow threads of the Rasa servers: "
        + "; ".join(f"{LABELS.get(bot, bot)}: {text}" for bot, text in env.items()),
        "- The machine is shared: the load average and the CPU used by processes other than "
        "the benchmarked servers and the load generator are recorded per phase. CPU time per "
        "message is the least load-sensitive figure.",
        "",
        *_load_section(results),
        "",
        "## Speed, memory, start and training",
        "",
        *_metrics_table(results),
        "",
        *(f"- {text}" for text in runs_text),
        *(["", "Failed conversations:", "", *errors] if errors else []),
        "",
        f"![latency distributions]({plot_name})",
        "",
        "## NLU quality",
        "",
        *_nlu_section(results),
        "",
        "## How it is measured",
        "",
        "- Both bots run as `make run` runs them (scripts/run.sh): action server and Rasa "
        "server on localhost, this assistant with its endpoints (SQLite tracker store, "
        "its runtime wrapper and logging config), the stock bot with its own endpoints "
        "(in-memory tracker store, no custom actions, so no action server).",
        "- Load: closed loop over REST (`POST /webhooks/rest/webhook`), keep-alive HTTP from "
        "one asyncio client; each simulated agent sends the next message as soon as all bot "
        "messages of the previous one arrived, and starts every conversation with a fresh "
        "sender id. Round trip = message sent → all bot messages received, action server "
        "calls included. A warm-up (not measured) precedes every run; p50/p95/p99 are over "
        "the messages started in the measuring window; messages per second = messages "
        "answered in the window / its length.",
        "- This assistant: agents' cases through the SOP form to the SOP answer "
        "(`testkit/conversations.py`, shared with the tests: the issue's Indomaret case, the "
        "GoPay-in-MyTelkomsel case and an ATM case with an invalid SN first, 7–8 messages "
        "each), clock pinned with `ASSISTANT_FIXED_NOW`; every conversation must end with "
        "the `sop_result` payload of its expected case and ticket fields. Stock bot: its "
        "greet / mood conversations (3–4 messages).",
        "- RSS: VmRSS summed over the server's process tree, after the warm-up and after the "
        "10-client run. Ready: both servers started at once, until both answer HTTP.",
        "- Training: `rasa train --force` of each project, wall and CPU time.",
        "",
        "## Notes",
        "",
        notes.strip(),
        "",
    ]
    notes_at = lines.index("## Notes")
    lines[notes_at:notes_at] = cluster_markdown(results)
    path.write_text("\n".join(lines), encoding="utf-8")


def write_plot(results: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colours = {"assistant": "tab:blue", "unpatched": "tab:green", "stock": "tab:orange"}
    for ax, clients, target in ((axes[0], "1", 40.0), (axes[1], "10", 300.0)):
        for bot in BOTS:
            run = (results.get("bots", {}).get(bot, {}).get("runs") or {}).get(clients)
            if not run or not run.get("latencies"):
                continue
            values = sorted(run["latencies"])
            n = len(values)
            ax.step(
                values,
                [(i + 1) / n for i in range(n)],
                where="post",
                color=colours[bot],
                label=f"{LABELS[bot].replace('`', '')}: p50 {run['p50']:.0f} ms, "
                f"p95 {run['p95']:.0f} ms",
            )
        ax.axvline(target, color="grey", linestyle="--", linewidth=1)
        ax.text(target, 0.02, f" target {target:.0f} ms", color="grey", fontsize=8)
        ax.set_xscale("log")
        ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)]
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("REST round trip (ms, log scale)")
        title = "1 client" if clients == "1" else "10 concurrent conversations"
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_ylabel("fraction of messages answered within")
    fig.suptitle(f"Latency distributions, {results['date']}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
