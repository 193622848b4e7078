#!/usr/bin/env python3
"""NLU quality gate on the output directory of `rasa test nlu`.

Usage:
    rasa test nlu --nlu tests/nlu/heldout.yml --model models/assistant.tar.gz --out results/nlu
    python scripts/nlu_gate.py results/nlu [--min-intent-f1 0.95] [--min-entity-f1 0.95]

Fails (exit 1) when
  * the intent macro-averaged F1 (intent_report.json) is below --min-intent-f1, or
  * the entity micro- or weighted-averaged F1 of the main entity extractor
    (DIETClassifier_report.json; DIET is trained on every entity) is below --min-entity-f1, or
  * an entity extracted by regex (msisdn, serial_number, email:
    RegexEntityExtractor_report.json) has an F1 below --min-entity-f1.
Exit 2 when a report is missing. The figures are printed either way.

Rasa writes one entity report per extractor and scores each against ALL annotated entities,
so the RegexEntityExtractor report shows 0.0 for the entities it never extracts; only its own
entities are read from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

AVERAGES = ("micro avg", "macro avg", "weighted avg", "accuracy")


def load(path: Path) -> Optional[Dict[str, Any]]:
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def per_label(report: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    return {k: v for k, v in report.items() if k not in AVERAGES and isinstance(v, dict)}


def fmt(row: Dict[str, float]) -> str:
    return (
        f"P={row['precision']:.3f} R={row['recall']:.3f} F1={row['f1-score']:.3f} "
        f"n={int(row['support'])}"
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, help="output directory of `rasa test nlu`")
    parser.add_argument("--min-intent-f1", type=float, default=0.95)
    parser.add_argument("--min-entity-f1", type=float, default=0.95)
    parser.add_argument("--entity-extractor", default="DIETClassifier")
    parser.add_argument("--regex-extractor", default="RegexEntityExtractor")
    parser.add_argument(
        "--regex-entities",
        default="msisdn,serial_number,email",
        help="comma-separated entities judged on the regex extractor's report",
    )
    args = parser.parse_args(argv)

    failures: List[str] = []
    intent = load(args.results / "intent_report.json")
    main_report = load(args.results / f"{args.entity_extractor}_report.json")
    if intent is None or main_report is None:
        print(
            f"nlu_gate: missing intent_report.json or {args.entity_extractor}_report.json "
            f"in {args.results}",
            file=sys.stderr,
        )
        return 2

    # ------------------------------------------------------------------ intents
    print("== intents (held-out) ==")
    for name, row in sorted(per_label(intent).items()):
        print(f"  {name:34s} {fmt(row)}")
    macro = intent["macro avg"]["f1-score"]
    print(
        f"  intent macro-F1 {macro:.4f}  weighted-F1 {intent['weighted avg']['f1-score']:.4f}"
        f"  accuracy {intent.get('accuracy', float('nan')):.4f}"
    )
    if macro < args.min_intent_f1:
        failures.append(f"intent macro-F1 {macro:.4f} < {args.min_intent_f1}")

    # ----------------------------------------------------------------- entities
    print(f"== entities: {args.entity_extractor} (token level) ==")
    for name, row in sorted(per_label(main_report).items()):
        print(f"  {name:34s} {fmt(row)}")
    for avg in ("micro avg", "weighted avg"):
        value = main_report[avg]["f1-score"]
        print(f"  entity {avg.split()[0]}-F1 {value:.4f}")
        if value < args.min_entity_f1:
            failures.append(f"entity {avg} F1 {value:.4f} < {args.min_entity_f1}")

    regex_entities = [e for e in args.regex_entities.split(",") if e]
    regex_report = load(args.results / f"{args.regex_extractor}_report.json")
    if regex_entities:
        print(f"== entities: {args.regex_extractor} (own entities only) ==")
        if regex_report is None:
            failures.append(f"{args.regex_extractor}_report.json missing")
        else:
            rows = per_label(regex_report)
            for name in regex_entities:
                row = rows.get(name)
                if row is None or row["support"] == 0:
                    print(f"  {name:34s} (not in the test set)")
                    continue
                print(f"  {name:34s} {fmt(row)}")
                if row["f1-score"] < args.min_entity_f1:
                    failures.append(f"{name} F1 {row['f1-score']:.4f} < {args.min_entity_f1}")

    if failures:
        print("NLU gate FAILED: " + "; ".join(failures))
        return 1
    print(
        f"NLU gate passed (intent macro-F1 >= {args.min_intent_f1}, "
        f"entity micro/weighted F1 >= {args.min_entity_f1})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
