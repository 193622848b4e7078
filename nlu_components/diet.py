"""Rasa's DIETClassifier with a cheaper training: one trace of the train step, on first-order
gradient tapes, and batches of messages of similar length.

Each part is measured in docs/nlu-report.md ("Training time"):

* **One trace.** Keras wraps DIET's ``train_step`` in a ``tf.function``. DIET's layers and
  Adam's slots are created lazily inside its first call, and TensorFlow traces a function that
  creates variables twice (the first trace only creates them). Here the variables are built
  before Keras' first step, by tracing the forward pass alone (no gradient tape, nothing
  executed), and Adam's slots are created for the trainable variables; the train step then
  creates nothing and its first trace is the one that runs. TensorFlow's autograph conversion
  is skipped for the train step: Rasa's DIET code has no Python control flow on tensors, and
  the conversion was most of the extra trace's cost.
* **First-order tapes.** Rasa's train step records the forward pass on a persistent gradient
  tape (it takes two gradients from it). Under a persistent tape TensorFlow wraps every
  ``tf.cond`` and ``tf.while_loop`` in a function and builds its gradient while tracing, the
  CRF's Viterbi decoding included (it only feeds the entity F1 metric). Here the supervision
  loss and the regularization loss (L2 of the weights) are recorded on two ordinary tapes:
  the same gradients, about 7 s less tracing.

  With these two, the trained model is the one Rasa's class trains, weight for weight
  (tests/nlu/test_diet_training.py trains both and compares).
* **Length buckets** (``length_bucket_batches: N``, 0 = off). Rasa pads every batch to its
  longest message; with this project's messages (mean 6 tokens, longest 27) a random batch is
  about three times the tokens it holds, and DIET's transformer and CRF work on every padded
  token. After Rasa shuffles and class-balances an epoch, each run of ``N`` batches is sorted
  by length and the batches are shuffled again. This changes which messages share a batch,
  so the model is not the one Rasa's class trains; its scores are gated by ``make test-nlu``.

Everything else is Rasa's class: configuration, persistence, loading and prediction. Entities
keep ``"extractor": "DIETClassifier"`` and the stored model loads as Rasa's DIET model. The
private parts of Rasa and Keras used here were read in the versions below; with other versions
the component trains exactly as Rasa's DIETClassifier does.
"""

from __future__ import annotations

import warnings
from typing import Any, Dict, Type

import numpy as np
import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.shared.nlu.constants import TEXT
from rasa.utils.tensorflow.constants import RANDOM_SEED, SEQUENCE_LENGTH
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.models import RasaModel

SUPPORTED_RASA = "3.6.21"
SUPPORTED_TENSORFLOW = "2.12.0"
LENGTH_BUCKET_BATCHES = "length_bucket_batches"

# Rasa's recipe validator finds the pipeline's trainable entity extractor by its exact class
# (DIETClassifier, CRFEntityExtractor, MitieEntityExtractor), not by subclass, so with this
# component it warns at every training that no extractor learns the
# annotated entities and that nothing uses the lookup-table features. Both are false here (this
# is DIET, and RegexFeaturizer hands it the lookup-table features); only these two are muted.
FALSE_VALIDATOR_WARNINGS = (
    "You have defined training data consisting of entity examples, but your NLU configuration "
    "does not include an entity extractor",
    "You have defined training data consisting of lookup tables, but your NLU configuration "
    "does not include any components that uses the features",
)


def mute_false_validator_warnings() -> None:
    for message in FALSE_VALIDATOR_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=UserWarning)


mute_false_validator_warnings()


def versions_supported() -> bool:
    import rasa

    return rasa.__version__ == SUPPORTED_RASA and tf.__version__ == SUPPORTED_TENSORFLOW


def bucketed_order(
    lengths: np.ndarray[Any, Any],
    batch_size: int,
    chunk_batches: int,
    rng: np.random.RandomState,
) -> np.ndarray[Any, Any]:
    """An order of the examples whose batches hold messages of similar length.

    ``lengths`` are in the (shuffled, class-balanced) order Rasa prepared. Each run of
    ``chunk_batches`` full batches is sorted by length (ties keep Rasa's order), then the full
    batches are shuffled. A last, partial batch stays last: Rasa slices batch ``i`` as
    ``[i * batch_size, (i + 1) * batch_size)``.
    """
    if batch_size < 1 or chunk_batches < 1:
        raise ValueError("batch_size and chunk_batches must be at least 1")
    count = len(lengths)
    full = (count // batch_size) * batch_size
    chunk = batch_size * chunk_batches
    order = np.arange(count)
    for start in range(0, full, chunk):
        end = min(start + chunk, full)
        order[start:end] = start + np.argsort(lengths[start:end], kind="stable")
    batches = order[:full].reshape(-1, batch_size)
    shuffled = batches[rng.permutation(len(batches))].reshape(-1)
    return np.concatenate([shuffled, order[full:]])


class LengthBucketedBatches(tf.keras.utils.Sequence):
    """Rasa's batch generator, each epoch's examples reordered by ``bucketed_order``."""

    def __init__(self, batches: RasaBatchDataGenerator, chunk_batches: int, seed: int) -> None:
        super().__init__()
        self._batches = batches
        self._chunk_batches = chunk_batches
        self._rng = np.random.RandomState(seed)
        self._reorder()

    def __len__(self) -> int:
        return len(self._batches)

    def __getitem__(self, index: int) -> Any:
        return self._batches[index]

    def on_epoch_end(self) -> None:
        self._batches.on_epoch_end()
        self._reorder()

    def _reorder(self) -> None:
        # the generator's epoch data (`_data`) and batch size are what its __getitem__ slices
        generator = self._batches
        data = generator._data
        lengths = np.asarray(data[TEXT][SEQUENCE_LENGTH][0]).reshape(-1)
        order = bucketed_order(
            lengths, generator._current_batch_size, self._chunk_batches, self._rng
        )
        generator._data = generator.model_data._data_for_ids(data, order)


def _input_spec(array: Any) -> tf.TensorSpec:
    """The spec Keras' data adapter gives a batch array: rank only, floats as floatx."""
    dtype = tf.as_dtype(array.dtype)
    if dtype.is_floating:
        dtype = tf.as_dtype(tf.keras.backend.floatx())
    return tf.TensorSpec([None] * np.ndim(array), dtype)


class FastTrainingDIET(DIET):
    """Rasa's DIET model; builds its variables before Keras traces the train step."""

    @tf.autograph.experimental.do_not_convert
    def train_step(self, batch_in: Any) -> Dict[str, float]:
        """Rasa's ``RasaModel.train_step`` with two first-order tapes instead of a persistent one.

        The gradients are Rasa's: the supervision loss's, plus the regularization loss's where
        the supervision gradient is positive. Rasa records both losses on one persistent tape;
        under a persistent tape TensorFlow wraps every ``tf.cond`` / ``tf.while_loop`` of the
        forward pass in a function and builds its gradient while tracing, also for the CRF's
        Viterbi decoding, which only feeds the entity F1 metric and gets no gradient. The
        regularization loss is the L2 of the weights (Keras evaluates it from the variables
        alone), so it gets its own tape.
        """
        self._training = True

        with tf.GradientTape() as tape:
            prediction_loss = self.batch_loss(batch_in)
        with tf.GradientTape() as regularization_tape:
            regularization_loss = tf.math.add_n(self.losses)
        total_loss = prediction_loss + regularization_loss

        self.total_loss.update_state(total_loss)

        prediction_gradients = tape.gradient(prediction_loss, self.trainable_variables)
        regularization_gradients = regularization_tape.gradient(
            regularization_loss, self.trainable_variables
        )

        gradients = []
        for pred_grad, reg_grad in zip(prediction_gradients, regularization_gradients, strict=True):
            if pred_grad is not None and reg_grad is not None:
                # as Rasa: no regularization gradient where the supervision gradient is not > 0
                gradients.append(
                    pred_grad + tf.where(pred_grad > 0, reg_grad, tf.zeros_like(reg_grad))
                )
            else:
                gradients.append(pred_grad)

        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))

        self._training = None  # type: ignore[assignment]

        return self._get_metric_results()

    def fit(self, x: Any = None, *args: Any, **kwargs: Any) -> Any:
        chunk_batches = int(self.config.get(LENGTH_BUCKET_BATCHES) or 0)
        if chunk_batches > 0 and isinstance(x, RasaBatchDataGenerator):
            x = LengthBucketedBatches(x, chunk_batches, self.config[RANDOM_SEED])
        # fine-tuning starts from a loaded model: its variables exist already
        if not self.trainable_variables:
            self._build_variables(x)
        return super().fit(x, *args, **kwargs)

    def _build_variables(self, batches: Any) -> None:
        first_batch, _ = batches[0]
        specs = tuple(_input_spec(array) for array in first_batch)

        @tf.autograph.experimental.do_not_convert
        def forward(*batch_in: tf.Tensor) -> tf.Tensor:
            return self.batch_loss(batch_in)

        # train_step sets this flag around batch_loss: the layers are built as in training.
        # Tracing runs no operation: no random number is drawn, no metric is updated.
        self._training = True
        try:
            tf.function(forward).get_concrete_function(*specs)
        finally:
            # train_step leaves the flag at None (Rasa's annotation says bool)
            self._training = None  # type: ignore[assignment]
        # train_step hands Adam every trainable variable (each one gets a gradient in DIET;
        # the equality test would see a missing or extra slot in the trained weights)
        self.optimizer.build(self.trainable_variables)


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class FastTrainingDIETClassifier(DIETClassifier):
    """``DIETClassifier`` that traces its train step once and can bucket batches by length."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**DIETClassifier.get_default_config(), LENGTH_BUCKET_BATCHES: 0}

    @property
    def name(self) -> str:
        # the name entities, evaluation reports and the runtime know this extractor by
        return DIETClassifier.__name__

    @staticmethod
    def model_class() -> Type[RasaModel]:
        return FastTrainingDIET if versions_supported() else DIET
