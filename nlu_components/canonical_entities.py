"""Canonical entity values out of the model, and identifiers named by their context.

Runs after the entity extractors and ``EntitySynonymMapper`` (docs/nlu-report.md has the
measurements behind each rule). For every entity:

* canonical entities (``channel``, ``gol_case``, ``callback_case``, ``layanan``,
  ``imes_product``, and the project's ``courier`` / ``delivery_type``) get their contract value
  through the shared normaliser (``sop_engine.normaliser.canonical``: slang table +
  ``sop/vocabulary.yaml``). A span the vocabulary does not name ("kartunya udh nyala tp ga
  bisa dipake nelpon") gets the value of the most similar span annotated in the training data
  (character n-grams of the normalised text, cosine >= ``min_similarity``). Otherwise an open
  list (channel, courier) keeps the text with ``"in_vocabulary": false`` so the form's
  validator can note it; on the closed case lists the fragment is dropped.
  A span naming two channels ("gopay di mytsel") yields one entity per value.
* a case value only counts in its own case's messages (and ``inform``), one per message; a
  case message without one gets the value of the most similar training message.
* identifiers (``order_id``, ``sid``, ``account_number``, ``transaction_id``) are re-labelled
  by the label in front of them and their shape (``sop_engine.normaliser.identifier_entity``):
  "trx 8812..." is a transaction ID, "akun 441122" an account number, "OID/77120-AB" an order
  ID; a labelled code no extractor found is added, one too short for the form is dropped.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from sop_engine import normaliser

logger = logging.getLogger(__name__)

EXAMPLES_FILE = "canonical_examples.json"
IN_VOCABULARY = "in_vocabulary"
MESSAGE_PREFIX = "message:"  # examples of whole messages, per case entity
_RANK = "_canonical_rank"  # internal: (known 2 / nearest 1 / unknown 0, score)


class _Nearest:
    """Nearest annotated span per entity (tf-idf over character n-grams, cosine)."""

    def __init__(self, examples: List[Tuple[str, str, str]]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._by_entity: Dict[str, Tuple[Any, Any, List[str]]] = {}
        grouped: Dict[str, Dict[str, str]] = {}
        for entity, text, value in examples:
            grouped.setdefault(entity, {})[text] = value
        for entity, spans in grouped.items():
            texts = list(spans)
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
            matrix = vectorizer.fit_transform(texts)
            self._by_entity[entity] = (vectorizer, matrix, [spans[t] for t in texts])

    def best(self, entity: str, text: str) -> Tuple[Optional[str], float]:
        found = self._by_entity.get(entity)
        if found is None or not text.strip():
            return None, 0.0
        vectorizer, matrix, values = found
        scores = (matrix @ vectorizer.transform([text]).T).toarray().ravel()
        if not len(scores):
            return None, 0.0
        index = int(scores.argmax())
        return values[index], float(scores[index])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class CanonicalEntities(GraphComponent, EntityExtractorMixin):
    """Contract values for canonical entities; identifiers re-labelled by context."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # cosine similarity of character n-grams needed to take an annotated span's value
            "min_similarity": 0.6,
            # a one-word span ("info", "kartu") needs more, and at least 4 letters ("PT")
            "min_similarity_single_word": 0.7,
            # lists where a value outside the vocabulary is plausible (a new payment app, a
            # new courier): such a span is kept as written, marked "in_vocabulary": false,
            # when DIET is this sure of it; elsewhere it is dropped (a fragment is no case)
            "open_lists": ["channel", "courier"],
            "min_unknown_confidence": 0.9,
            # one case per message: the best-supported value wins
            "single_value_entities": ["gol_case", "callback_case"],
            # a case message whose case no extractor found: the value of the most similar
            # annotated training message, when this similar (else the form asks for it)
            "case_intents": {"gol_case": "grapari_online", "callback_case": "callback"},
            "min_message_similarity": 0.5,
            # a case value belongs to its case: other forms never ask for it, so in a message
            # of another intent it is a misreading (inform: the value typed when asked)
            "entity_intents": {
                "gol_case": ["grapari_online", "inform"],
                "callback_case": ["callback", "inform"],
                "imes_product": ["imes_tagihan", "inform"],
            },
            # re-label order_id / sid / account_number / transaction_id by context and shape,
            # and add a labelled identifier no extractor found ("id transaksi DN2311...")
            "identifiers_by_context": True,
            # a value no extractor found, named with one typo ("kredifo"), digits for letters
            # ("0v0") or split in two ("link aja"): taken from the vocabulary in messages of
            # these intents (where the form asks for it), when no value of it was found
            "misspelled_values": {
                "channel": ["pulsa_belum_masuk", "nomor_belum_aktif_setelah_bayar", "inform"],
            },
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: Optional[List[Tuple[str, str, str]]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._examples = list(examples or [])
        self._nearest: Optional[_Nearest] = _Nearest(self._examples) if self._examples else None

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CanonicalEntities:
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CanonicalEntities:
        examples: List[Tuple[str, str, str]] = []
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((directory / EXAMPLES_FILE).read_text(encoding="utf-8"))
                examples = [tuple(item) for item in data]
        except (ValueError, OSError):
            logger.debug("CanonicalEntities: no trained examples, vocabulary only")
        return cls(config, model_storage, resource, examples)

    # ------------------------------------------------------------------ training
    def train(self, training_data: TrainingData) -> Resource:
        """Keeps every annotated span (and synonym) of a canonical entity with its value."""
        seen: Dict[Tuple[str, str], str] = {}
        for example in training_data.entity_examples:
            text = example.get(TEXT) or ""
            for entity in example.get(ENTITIES, []):
                name = entity.get("entity")
                if name not in normaliser.CANONICAL_ENTITIES:
                    continue
                value = str(entity.get("value"))
                if value not in normaliser.canonical_values(name):
                    continue
                span = normaliser.words(text[entity["start"] : entity["end"]])
                if span:
                    seen.setdefault((name, span), value)
                if name in self._config["case_intents"]:
                    whole = normaliser.words(text)
                    if whole:
                        seen.setdefault((f"{MESSAGE_PREFIX}{name}", whole), value)
        owner = {
            value: name
            for name in normaliser.CANONICAL_ENTITIES
            for value in normaliser.canonical_values(name)
        }
        for synonym, value in training_data.entity_synonyms.items():
            name = owner.get(str(value))
            span = normaliser.words(str(synonym))
            if name and span:
                seen.setdefault((name, span), str(value))
        self._examples = sorted((name, span, value) for (name, span), value in seen.items())
        self._nearest = _Nearest(self._examples) if self._examples else None
        with self._model_storage.write_to(self._resource) as directory:
            (directory / EXAMPLES_FILE).write_text(
                json.dumps(self._examples, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    # ------------------------------------------------------------------ inference
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entities = message.get(ENTITIES, [])
            text = message.get(TEXT) or ""
            intent = (message.get(INTENT) or {}).get("name")
            message.set(ENTITIES, self.canonicalise(text, entities, intent), add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def canonicalise(
        self, text: str, entities: List[Dict[str, Any]], intent: Optional[str] = None
    ) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = []
        for entity in entities:
            entity = dict(entity)
            name = entity.get("entity")
            start = entity.get("start")
            if self._config["identifiers_by_context"] and isinstance(start, int):
                relabelled = normaliser.identifier_entity(
                    str(name), str(entity.get("value")), text[:start]
                )
                if relabelled != name:
                    entity["entity"] = name = relabelled
                    self.add_processor_name(entity)
            if name not in normaliser.CANONICAL_ENTITIES:
                if normaliser.identifier_too_short(str(name), str(entity.get("value"))):
                    continue  # "sid 11": no identifier has that shape
                result.append(entity)
                continue
            result.extend(self._canonical(str(name), text, entity))
        if self._config["identifiers_by_context"]:
            result.extend(self._labelled_identifiers(text, result))
        scoped = self._config["entity_intents"]
        if intent is not None:
            result = [
                e for e in result if e.get("entity") not in scoped or intent in scoped[e["entity"]]
            ]
        result = self._single_values(result)
        result.extend(self._case_from_message(text, intent, result))
        result.extend(self._misspelled_values(text, intent, result))
        for entity in result:
            entity.pop(_RANK, None)
        return _dedupe(result)

    def _canonical(self, name: str, text: str, entity: Dict[str, Any]) -> List[Dict[str, Any]]:
        value = str(entity.get("value"))
        span = value
        if isinstance(entity.get("start"), int) and isinstance(entity.get("end"), int):
            span = text[entity["start"] : entity["end"]] or value
        confidence = float(entity.get("confidence_entity") or 1.0)
        found = normaliser.canonical(name, value)
        if found is not None and not found.known and span != value:
            found = normaliser.canonical(name, span)
        if found is None:
            return [entity]
        self.add_processor_name(entity)
        if found.known:
            entity["value"] = found.value
            entity.pop(IN_VOCABULARY, None)
            entity[_RANK] = (2, confidence)
            extra = [{**entity, "value": other} for other in found.others]
            return [entity, *extra]
        normal = normaliser.words(span)
        if self._nearest is not None and normal:
            single = len(normal.split()) == 1
            needed = float(
                self._config["min_similarity_single_word" if single else "min_similarity"]
            )
            best, score = self._nearest.best(name, normal)
            long_enough = not single or sum(ch.isalpha() for ch in normal) >= 4
            if best is not None and score >= needed and long_enough:
                entity["value"] = best
                entity["confidence_canonical"] = round(score, 3)
                entity[_RANK] = (1, confidence * score)
                return [entity]
        if (
            name in self._config["open_lists"]
            and confidence >= float(self._config["min_unknown_confidence"])
            and sum(ch.isalpha() for ch in found.value) >= 4
        ):
            entity["value"] = found.value
            entity[IN_VOCABULARY] = False
            entity[_RANK] = (0, confidence)
            return [entity]
        return []

    def _labelled_identifiers(
        self, text: str, entities: List[Dict[str, Any]]
    ) -> List[Dict[str, Any]]:
        found = []
        for name, start, end in normaliser.labelled_identifiers(text):
            overlaps = any(
                isinstance(e.get("start"), int)
                and isinstance(e.get("end"), int)
                and e["start"] < end
                and start < e["end"]
                for e in entities
            )
            if not overlaps:
                entity = {
                    "entity": name,
                    "start": start,
                    "end": end,
                    "value": text[start:end],
                    "extractor": self.__class__.__name__,
                }
                found.append(entity)
        return found

    def _case_from_message(
        self, text: str, intent: Optional[str], entities: List[Dict[str, Any]]
    ) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        if self._nearest is None or not text.strip():
            return found
        for name, case_intent in self._config["case_intents"].items():
            if intent != case_intent or any(e.get("entity") == name for e in entities):
                continue
            best, score = self._nearest.best(f"{MESSAGE_PREFIX}{name}", normaliser.words(text))
            if best is not None and score >= float(self._config["min_message_similarity"]):
                found.append(
                    {
                        "entity": name,
                        "start": 0,
                        "end": len(text),
                        "value": best,
                        "confidence_canonical": round(score, 3),
                        "extractor": self.__class__.__name__,
                    }
                )
        return found

    def _misspelled_values(
        self, text: str, intent: Optional[str], entities: List[Dict[str, Any]]
    ) -> List[Dict[str, Any]]:
        found: List[Dict[str, Any]] = []
        for name, intents in self._config["misspelled_values"].items():
            if intent not in intents or any(e.get("entity") == name for e in entities):
                continue
            kind = normaliser.CANONICAL_ENTITIES.get(name)
            if kind is None:
                continue
            for value in normaliser.matcher(kind).find_misspelled(text):
                found.append(
                    {
                        "entity": name,
                        "start": 0,
                        "end": len(text),
                        "value": value,
                        "extractor": self.__class__.__name__,
                    }
                )
        return found

    def _single_values(self, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        for name in self._config["single_value_entities"]:
            candidates = [e for e in entities if e.get("entity") == name]
            if len({str(e.get("value")) for e in candidates}) > 1:
                best = max(candidates, key=lambda e: e.get(_RANK, (0, 0.0)))
                entities = [
                    e for e in entities if e.get("entity") != name or e["value"] == best["value"]
                ]
        return entities


def _dedupe(entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One entity per (name, value, span): the extractors may report the same span twice."""
    seen = set()
    result = []
    for entity in entities:
        key = (entity.get("entity"), str(entity.get("value")), entity.get("start"))
        if key in seen:
            continue
        seen.add(key)
        result.append(entity)
    return result
