#!/usr/bin/env python3
"""NLU quality gate: a trained model scored on a test file as the contract defines the values.

Usage:
    python scripts/nlu_gate.py --model models/assistant.tar.gz --nlu tests/nlu/independent.yml \
        [--min-intent-f1 0.97] [--min-entity-f1 0.95] [--report docs/nlu/independent.md] \
        [--json results/nlu/independent.json]

Parses every message of the file with the model (rasa.core.agent.Agent) and scores
(nlu_components/evaluation.py):
  * intent macro-F1 over the file's intents (nlu_fallback counts as a miss);
  * entity micro-F1 over (entity, value) pairs of the contract's entities, values in the form
    ../shared/CONTRACT.md compares them: canonical values exactly as the model outputs them
    (a raw span is a miss), free-text entities on their digits / normalised text.
Exit 1 below a threshold, 2 when the model or the file is missing. Figures are printed and,
with --report, written as Markdown (per intent, per entity, the misses; texts masked).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu_components import evaluation  # noqa: E402


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--nlu", type=Path, action="append", required=True)
    parser.add_argument("--min-intent-f1", type=float, default=0.97)
    parser.add_argument("--min-entity-f1", type=float, default=0.95)
    parser.add_argument("--report", type=Path, help="Markdown report to write")
    parser.add_argument("--json", type=Path, help="JSON report to write")
    parser.add_argument("--title", default=None)
    args = parser.parse_args(argv)

    missing = [p for p in [args.model, *args.nlu] if not p.exists()]
    if missing:
        print(f"nlu_gate: missing {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    report = evaluation.evaluate(args.model, args.nlu)
    names = ", ".join(str(p) for p in args.nlu)
    text = evaluation.markdown(report, args.title or f"NLU gate on {names}")
    print(text.split("## Intent misses")[0])
    for miss in report["intent_misses"]:
        print(f"intent miss: {miss['expected']} -> {miss['predicted']}")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(text, encoding="utf-8")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")

    failures = []
    if report["intent_macro_f1"] < args.min_intent_f1:
        failures.append(f"intent macro-F1 {report['intent_macro_f1']:.4f} < {args.min_intent_f1}")
    if report["entity_micro"]["f1"] < args.min_entity_f1:
        failures.append(f"entity F1 {report['entity_micro']['f1']:.4f} < {args.min_entity_f1}")
    if failures:
        print(f"NLU gate FAILED on {names}: " + "; ".join(failures))
        return 1
    print(
        f"NLU gate passed on {names}: {evaluation.summary(report)} "
        f"(min {args.min_intent_f1} / {args.min_entity_f1})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
