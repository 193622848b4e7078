"""Scores a trained model on an NLU test file as ../shared/CONTRACT.md defines the values.

Intents: macro-F1 over the intents of the test file (a prediction of ``nlu_fallback`` or of
another intent is a miss). Entities: per message, the set of (entity, value) pairs of the
contract's entities, values compared in their normal form:

* canonical entities (channel, gol_case, callback_case, layanan, imes_product): the contract
  value itself; the model must output it (a raw span like "alfa" is a miss);
* msisdn: digits as 08...; nominal: the integer number of rupiah (the form's parser);
  serial_number, sid, account_number: digits; transaction_id, order_id: letters and digits,
  upper case; email: lower case.

Used by scripts/nlu_gate.py (the `make test-nlu` gate) and by `make bench` (this pipeline and
the stock one on the same file).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Set, Tuple

from sop_engine import normaliser
from sop_engine.kinds import nominal
from sop_engine.kinds.base import Valid

CONTRACT_ENTITIES = (
    "msisdn",
    "nominal",
    "channel",
    "serial_number",
    "transaction_id",
    "order_id",
    "email",
    "gol_case",
    "callback_case",
    "layanan",
    "sid",
    "account_number",
    "imes_product",
)
_CANONICAL = ("channel", "gol_case", "callback_case", "layanan", "imes_product")


def normal_value(entity: str, value: Any, gold: bool = False) -> str:
    """The form a value is compared in. Gold canonical values written as text are mapped."""
    text = " ".join(str(value).split())
    if entity in _CANONICAL:
        if gold and text not in normaliser.canonical_values(entity):
            found = normaliser.canonical(entity, text)
            return found.value if found is not None else text
        return text
    if entity == "msisdn":
        digits = re.sub(r"\D", "", text)
        if digits.startswith("62"):
            digits = "0" + digits[2:]
        elif digits.startswith("8"):
            digits = "0" + digits
        return digits
    if entity == "nominal":
        result = nominal.validate(text)
        if isinstance(result, Valid):
            return str(result.value)
        return re.sub(r"\D", "", text) or text.lower()
    if entity in ("serial_number", "sid", "account_number"):
        return re.sub(r"\D", "", text) or text.lower()
    if entity in ("transaction_id", "order_id"):
        return re.sub(r"[^0-9A-Za-z]", "", text).upper()
    return text.lower()


@dataclass
class Example:
    text: str
    intent: str
    entities: Set[Tuple[str, str]]


@dataclass
class Prediction:
    intent: str
    confidence: float
    entities: Set[Tuple[str, str]]
    raw_entities: List[Dict[str, Any]] = field(default_factory=list)


def read_examples(paths: Iterable[Path]) -> List[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples: List[Example] = []
    for path in paths:
        data = load_data(str(path))
        for message in data.intent_examples:
            entities = {
                (e["entity"], normal_value(e["entity"], e.get("value"), gold=True))
                for e in message.get("entities") or []
                if e["entity"] in CONTRACT_ENTITIES
            }
            examples.append(Example(message.get("text"), message.get("intent"), entities))
    return examples


def predicted_entities(entities: Sequence[Dict[str, Any]]) -> Set[Tuple[str, str]]:
    return {
        (e["entity"], normal_value(e["entity"], e.get("value")))
        for e in entities
        if e.get("entity") in CONTRACT_ENTITIES and e.get("value") is not None
    }


def parse_all(model: Path, texts: Sequence[str]) -> List[Dict[str, Any]]:
    """Parse results of a trained model (rasa.core.agent.Agent), one per text."""
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    # one debug line per parsed message would print the whole test set
    configure_structlog(logging.WARNING)
    logging.getLogger("rasa").setLevel(logging.WARNING)

    async def run() -> List[Dict[str, Any]]:
        agent = Agent.load(str(model))
        return [await agent.parse_message(text) for text in texts]

    return asyncio.run(run())


def _prf(tp: int, fp: int, fn: int) -> Dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}


def score(examples: Sequence[Example], predictions: Sequence[Prediction]) -> Dict[str, Any]:
    labels = sorted({e.intent for e in examples})
    counts: Dict[str, Counter[str]] = {label: Counter() for label in labels}
    misses: List[Dict[str, Any]] = []
    for example, pred in zip(examples, predictions, strict=True):
        if pred.intent == example.intent:
            counts[example.intent]["tp"] += 1
        else:
            counts[example.intent]["fn"] += 1
            if pred.intent in counts:
                counts[pred.intent]["fp"] += 1
            misses.append(
                {"text": example.text, "expected": example.intent, "predicted": pred.intent}
            )
    per_intent = {label: _prf(c["tp"], c["fp"], c["fn"]) for label, c in sorted(counts.items())}
    macro = sum(r["f1"] for r in per_intent.values()) / len(per_intent) if per_intent else 0.0
    accuracy = sum(1 for e, p in zip(examples, predictions, strict=True) if e.intent == p.intent)

    ent: Dict[str, Counter[str]] = defaultdict(Counter)
    entity_misses: List[Dict[str, Any]] = []
    for example, pred in zip(examples, predictions, strict=True):
        for name, _ in example.entities | pred.entities:
            ent[name]  # every entity seen gets a row
        for pair in example.entities & pred.entities:
            ent[pair[0]]["tp"] += 1
        missing = example.entities - pred.entities
        extra = pred.entities - example.entities
        for pair in missing:
            ent[pair[0]]["fn"] += 1
        for pair in extra:
            ent[pair[0]]["fp"] += 1
        if missing or extra:
            entity_misses.append(
                {
                    "text": example.text,
                    "missing": sorted(f"{n}={v}" for n, v in missing),
                    "extra": sorted(f"{n}={v}" for n, v in extra),
                }
            )
    per_entity = {name: _prf(c["tp"], c["fp"], c["fn"]) for name, c in sorted(ent.items())}
    total: Counter[str] = Counter()
    for c in ent.values():
        total.update(c)
    return {
        "examples": len(examples),
        "intent_macro_f1": macro,
        "intent_accuracy": accuracy / len(examples) if examples else 0.0,
        "per_intent": per_intent,
        "entity_micro": _prf(total["tp"], total["fp"], total["fn"]),
        "per_entity": per_entity,
        "intent_misses": misses,
        "entity_misses": entity_misses,
    }


def evaluate(model: Path, paths: Sequence[Path]) -> Dict[str, Any]:
    examples = read_examples(paths)
    parsed = parse_all(model, [e.text for e in examples])
    predictions = [
        Prediction(
            intent=(p.get("intent") or {}).get("name") or "",
            confidence=float((p.get("intent") or {}).get("confidence") or 0.0),
            entities=predicted_entities(p.get("entities") or []),
            raw_entities=list(p.get("entities") or []),
        )
        for p in parsed
    ]
    return score(examples, predictions)


def markdown(report: Dict[str, Any], title: str, max_misses: int = 60) -> str:
    lines = [f"# {title}", ""]
    lines.append(
        f"{report['examples']} messages; intent macro-F1 **{report['intent_macro_f1']:.4f}** "
        f"(accuracy {report['intent_accuracy']:.4f}); entity F1 (canonical values) "
        f"**{report['entity_micro']['f1']:.4f}** "
        f"(P {report['entity_micro']['precision']:.4f}, R {report['entity_micro']['recall']:.4f},"
        f" {report['entity_micro']['support']} gold values)."
    )
    lines += ["", "| intent | precision | recall | F1 | n |", "|---|---|---|---|---|"]
    for name, r in report["per_intent"].items():
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
            f"{r['support']} |"
        )
    lines += ["", "| entity | precision | recall | F1 | n |", "|---|---|---|---|---|"]
    for name, r in report["per_entity"].items():
        lines.append(
            f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | "
            f"{r['support']} |"
        )
    lines += ["", f"## Intent misses ({len(report['intent_misses'])})", ""]
    for miss in report["intent_misses"][:max_misses]:
        lines.append(f"- `{miss['expected']}` -> `{miss['predicted']}`: {_short(miss['text'])}")
    lines += ["", f"## Entity misses ({len(report['entity_misses'])})", ""]
    for miss in report["entity_misses"][:max_misses]:
        lines.append(
            f"- {_short(miss['text'])} — missing {miss['missing'] or '-'}, "
            f"extra {miss['extra'] or '-'}"
        )
    return "\n".join(lines) + "\n"


def _short(text: str, limit: int = 120) -> str:
    text = normaliser.mask_text(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(report: Dict[str, Any]) -> str:
    return (
        f"intent macro-F1 {report['intent_macro_f1']:.4f}, "
        f"entity F1 {report['entity_micro']['f1']:.4f}"
    )
