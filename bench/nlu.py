"""NLU quality on the held-out set: ``rasa test nlu`` reports of one model, summarised."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional

# report files of `rasa test nlu` that are not entity extractors
_NOT_EXTRACTORS = {"intent_report.json", "response_selection_report.json"}


@dataclass
class NluScores:
    intent_accuracy: float
    intent_macro_f1: float
    intent_weighted_f1: float
    examples: int
    # extractor name -> entity name -> (f1, support); "micro avg" etc. kept as entity names
    entities: Dict[str, Dict[str, tuple[float, int]]] = field(default_factory=dict)

    def entity_f1(self, extractor: str, entity: str) -> Optional[float]:
        value = self.entities.get(extractor, {}).get(entity)
        return value[0] if value else None


def read_reports(out_dir: Path) -> NluScores:
    intents = json.loads((out_dir / "intent_report.json").read_text(encoding="utf-8"))
    scores = NluScores(
        intent_accuracy=float(intents["accuracy"]),
        intent_macro_f1=float(intents["macro avg"]["f1-score"]),
        intent_weighted_f1=float(intents["weighted avg"]["f1-score"]),
        examples=int(intents["macro avg"]["support"]),
    )
    for report in sorted(out_dir.glob("*_report.json")):
        if report.name in _NOT_EXTRACTORS:
            continue
        extractor = report.name[: -len("_report.json")]
        data = json.loads(report.read_text(encoding="utf-8"))
        scores.entities[extractor] = {
            name: (float(values["f1-score"]), int(values["support"]))
            for name, values in data.items()
            if isinstance(values, dict) and "f1-score" in values
        }
    return scores
