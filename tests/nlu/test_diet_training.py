"""FastTrainingDIETClassifier (nlu_components/diet.py) against Rasa's DIETClassifier.

Both are trained here, in this process, on the same small featurised data: without length
buckets the two models must be the same weight for weight and predict the same; the train step
must be traced once instead of twice, without gradient wrappers for the forward pass's control
flow. ``bucketed_order`` is checked on its own.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest
import tensorflow as tf

pytest.importorskip("rasa")

from rasa.engine.graph import ExecutionContext, GraphSchema  # noqa: E402
from rasa.engine.storage.local_model_storage import LocalModelStorage  # noqa: E402
from rasa.engine.storage.resource import Resource  # noqa: E402
from rasa.nlu.classifiers.diet_classifier import DIETClassifier  # noqa: E402
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (  # noqa: E402
    CountVectorsFeaturizer,
)
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer  # noqa: E402
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from nlu_components import diet  # noqa: E402

pytestmark = pytest.mark.skipif(
    not diet.versions_supported(), reason="the fast path only runs on the pinned Rasa/TF"
)

# (text, intent, [(entity, span)]): short and long messages, so batches differ in length
EXAMPLES: List[Tuple[str, str, List[Tuple[str, str]]]] = [
    ("pulsa belum masuk dari alfamart", "pulsa_belum_masuk", [("channel", "alfamart")]),
    (
        "isi pulsa di indomaret tapi belum masuk juga sampai sekarang",
        "pulsa_belum_masuk",
        [("channel", "indomaret")],
    ),
    ("plg beli pulsa lewat dana kok belum masuk ya", "pulsa_belum_masuk", [("channel", "dana")]),
    ("pulsa gopay blm masuk", "pulsa_belum_masuk", [("channel", "gopay")]),
    ("topup via ovo tidak masuk", "pulsa_belum_masuk", [("channel", "ovo")]),
    ("sudah bayar tapi nomor masih keblokir", "nomor_belum_aktif_setelah_bayar", []),
    (
        "nomor belum aktif padahal sudah bayar tagihan lewat alfamart kemarin sore",
        "nomor_belum_aktif_setelah_bayar",
        [("channel", "alfamart")],
    ),
    (
        "udah bayar di indomaret nomor blm nyala",
        "nomor_belum_aktif_setelah_bayar",
        [("channel", "indomaret")],
    ),
    ("status order pending perso", "grapari_online", []),
    (
        "order grapari online masih pending perso dari kemarin pelanggan tanya terus",
        "grapari_online",
        [],
    ),
    ("pesanan belum dikirim", "grapari_online", []),
    ("halo", "greet", []),
    ("selamat pagi", "greet", []),
    ("hai bot", "greet", []),
    ("pagi", "greet", []),
    ("ya", "affirm", []),
    ("betul sekali", "affirm", []),
    ("iya benar pelanggan sudah coba restart hp dan masih sama", "affirm", []),
]

TRAINING_CONFIG = {
    "epochs": 3,
    "random_seed": 7,
    "batch_size": [4, 8],
    "number_of_transformer_layers": 1,
    "transformer_size": 32,
    "embedding_dimension": 10,
    "BILOU_flag": False,
}


def _messages() -> List[Message]:
    messages = []
    for text, intent, spans in EXAMPLES:
        entities = []
        for entity, span in spans:
            start = text.index(span)
            entities.append(
                {"entity": entity, "start": start, "end": start + len(span), "value": span}
            )
        messages.append(Message(data={TEXT: text, INTENT: intent, ENTITIES: entities}))
    return messages


def _featurised(tmp_path: Any) -> Tuple[TrainingData, Any, Any, Any]:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    data = TrainingData(_messages())
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process_training_data(data)
    featurizer = CountVectorsFeaturizer.create(
        CountVectorsFeaturizer.get_default_config(), storage, Resource("cvf"), context
    )
    featurizer.train(data)
    featurizer.process_training_data(data)
    return data, storage, context, (tokenizer, featurizer)


def _train(
    cls: type, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, **config: Any
) -> Dict[str, Any]:
    """Train ``cls`` and return its weights, predictions and number of train-step traces."""
    data, storage, context, (tokenizer, featurizer) = _featurised(tmp_path)
    traces: List[int] = []
    adam = tf.keras.optimizers.Adam
    stock_apply_gradients = adam.apply_gradients

    def counting_apply_gradients(self: Any, *args: Any, **kwargs: Any) -> Any:
        # the train step's Python body runs once per trace; both train steps end by applying
        # the gradients (the forward-only build of ours does not)
        traces.append(1)
        return stock_apply_gradients(self, *args, **kwargs)

    monkeypatch.setattr(adam, "apply_gradients", counting_apply_gradients)
    component = cls.create(
        {**cls.get_default_config(), **TRAINING_CONFIG, **config},
        storage,
        Resource(f"diet-{cls.__name__}"),
        context,
    )
    component.train(data)
    monkeypatch.setattr(adam, "apply_gradients", stock_apply_gradients)

    probes = [Message(data={TEXT: text}) for text in ("pulsa alfamart blm masuk", "halo", "ya")]
    for probe in probes:
        tokenizer.process([probe])
        featurizer.process([probe])
    component.process(probes)
    # the functions TensorFlow built for the train step (private API, pinned TF): under a
    # persistent tape every cond / while loop gets a wrapper with its gradient built in advance
    library = [
        function.signature.name
        for concrete in component.model.train_function._list_all_concrete_functions()
        for function in concrete.graph.as_graph_def().library.function
    ]
    return {
        "gradient_wrappers": sum("cflow_gradient_wrapper" in name for name in library),
        "weights": component.model.get_weights(),
        "optimizer_slots": len(component.model.optimizer.variables),
        "predictions": [(p.get(INTENT), p.get("intent_ranking"), p.get(ENTITIES)) for p in probes],
        "traces": len(traces),
    }


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def stock(tmp_path_factory, monkeypatch_module) -> Dict[str, Any]:
    return _train(DIETClassifier, tmp_path_factory.mktemp("stock"), monkeypatch_module)


def test_without_buckets_the_model_is_rasas_weight_for_weight(
    stock, tmp_path_factory, monkeypatch_module
):
    fast = _train(
        diet.FastTrainingDIETClassifier, tmp_path_factory.mktemp("fast"), monkeypatch_module
    )
    assert len(fast["weights"]) == len(stock["weights"])
    for ours, rasas in zip(fast["weights"], stock["weights"], strict=True):
        assert ours.shape == rasas.shape
        assert np.array_equal(ours, rasas)
    assert fast["optimizer_slots"] == stock["optimizer_slots"]
    assert fast["predictions"] == stock["predictions"]
    # Rasa's class: one trace that creates the variables, one that runs; ours: one
    assert stock["traces"] == 2
    assert fast["traces"] == 1
    # ours records the forward pass on a first-order tape: no control flow is wrapped for
    # higher-order gradients (the CRF's decoding, which gets no gradient, included)
    assert stock["gradient_wrappers"] > 0
    assert fast["gradient_wrappers"] == 0


def test_with_buckets_it_trains_and_reports_as_diet(stock, tmp_path_factory, monkeypatch_module):
    bucketed = _train(
        diet.FastTrainingDIETClassifier,
        tmp_path_factory.mktemp("bucketed"),
        monkeypatch_module,
        length_bucket_batches=2,
    )
    assert bucketed["traces"] == 1
    # other batches, so other weights: the option really changes the training
    assert any(
        not np.array_equal(a, b) for a, b in zip(bucketed["weights"], stock["weights"], strict=True)
    )
    intents = [intent["name"] for intent, _, _ in bucketed["predictions"]]
    assert all(intents)
    for _, _, entities in bucketed["predictions"]:
        assert all(e["extractor"] == "DIETClassifier" for e in entities)


def _batches(order: np.ndarray, batch_size: int) -> List[np.ndarray]:
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


@pytest.mark.parametrize(
    "lengths, batch_size, chunk_batches",
    [
        (np.array([5, 1, 9, 2, 8, 3, 7, 4]), 2, 4),  # one chunk, exact batches
        (np.array([5, 1, 9, 2, 8, 3, 7, 4, 6]), 2, 2),  # two chunks and a partial batch
        (np.array([3, 3, 3, 3, 3]), 2, 1),  # equal lengths, chunk of one batch
        (np.array([4]), 8, 4),  # fewer examples than a batch
        (np.array([], dtype=int), 4, 2),  # nothing to order
        (np.arange(100)[::-1], 7, 3),  # batch size not dividing the count
    ],
)
def test_bucketed_order_is_a_batch_aligned_permutation(lengths, batch_size, chunk_batches):
    order = diet.bucketed_order(lengths, batch_size, chunk_batches, np.random.RandomState(0))
    assert sorted(order.tolist()) == list(range(len(lengths)))
    full = (len(lengths) // batch_size) * batch_size
    # the partial batch keeps its examples and stays last
    assert sorted(order[full:].tolist()) == list(range(full, len(lengths)))
    chunk = batch_size * chunk_batches
    for batch in _batches(order[:full], batch_size):
        # a batch comes from one chunk, sorted by length
        assert len({int(i) // chunk for i in batch}) == 1
        assert list(lengths[batch]) == sorted(lengths[batch])


def test_bucketed_batches_pad_less_than_random_ones():
    rng = np.random.RandomState(3)
    lengths = rng.randint(1, 28, size=2000)

    def padded(order: np.ndarray) -> int:
        return sum(int(lengths[b].max()) * len(b) for b in _batches(order, 64))

    bucketed = diet.bucketed_order(lengths, 64, 8, np.random.RandomState(0))
    assert padded(bucketed) < 0.6 * padded(np.arange(len(lengths)))


def test_bucketed_order_depends_on_the_seed_only():
    lengths = np.random.RandomState(1).randint(1, 20, size=64)
    first = diet.bucketed_order(lengths, 4, 2, np.random.RandomState(5))
    again = diet.bucketed_order(lengths, 4, 2, np.random.RandomState(5))
    other = diet.bucketed_order(lengths, 4, 2, np.random.RandomState(6))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("batch_size, chunk_batches", [(0, 1), (4, 0), (-1, 2)])
def test_bucketed_order_refuses_empty_batches(batch_size, chunk_batches):
    with pytest.raises(ValueError):
        diet.bucketed_order(
            np.array([1, 2, 3]), batch_size, chunk_batches, np.random.RandomState(0)
        )


def test_the_component_is_known_as_diet_and_off_by_default():
    config = diet.FastTrainingDIETClassifier.get_default_config()
    assert config[diet.LENGTH_BUCKET_BATCHES] == 0
    assert {k: v for k, v in config.items() if k != diet.LENGTH_BUCKET_BATCHES} == (
        DIETClassifier.get_default_config()
    )


def test_rasas_validator_no_longer_says_entities_go_unlearned():
    from rasa.engine.graph import GraphSchema, SchemaNode
    from rasa.graph_components.validators.default_recipe_validator import (
        DefaultV1RecipeValidator,
    )
    from rasa.nlu.featurizers.sparse_featurizer.regex_featurizer import RegexFeaturizer

    def node(uses: type) -> SchemaNode:
        return SchemaNode(needs={}, uses=uses, constructor_name="create", fn="train", config={})

    def warned(schema: GraphSchema, data: TrainingData) -> List[str]:
        with warnings.catch_warnings(record=True) as caught:
            # what the module does when Rasa imports it for the pipeline (pytest resets filters)
            warnings.simplefilter("always")
            diet.mute_false_validator_warnings()
            DefaultV1RecipeValidator(schema)._warn_if_some_training_data_is_unused(data)
        return [str(w.message) for w in caught]

    lookup = [{"name": "channel", "elements": ["alfamart", "indomaret"]}]
    with_regex = GraphSchema(
        {"diet": node(diet.FastTrainingDIETClassifier), "regex": node(RegexFeaturizer)}
    )
    messages = warned(with_regex, TrainingData(_messages(), lookup_tables=lookup))
    assert not [m for m in messages if m.startswith(diet.FALSE_VALIDATOR_WARNINGS)]
    # Rasa's own warnings would have said it: the filter mutes something real
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DefaultV1RecipeValidator(with_regex)._warn_if_some_training_data_is_unused(
            TrainingData(_messages(), lookup_tables=lookup)
        )
    assert len([w for w in caught if str(w.message).startswith(diet.FALSE_VALIDATOR_WARNINGS)]) == 2
    # other warnings of the validator still come through
    only_diet = GraphSchema({"diet": node(diet.FastTrainingDIETClassifier)})
    regexes = [{"name": "msisdn", "pattern": "08[0-9]+"}]
    messages = warned(only_diet, TrainingData(_messages(), regex_features=regexes))
    assert [m for m in messages if m.startswith("You have defined training data with regexes")]
