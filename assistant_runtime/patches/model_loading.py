"""TensorFlow models loaded without a training step.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``fastload`` -- load TensorFlow models without a training step.
    ``RasaModel.load`` (rasa/utils/tensorflow/models.py) builds the model by running one
    training step (``model.fit`` on one example: tracing the whole training graph and
    creating the optimizer), then loads the weights and traces the prediction graph. For
    this assistant's DIET that training step is most of the server's start time and about
    0.5 GB of its memory. The patch loads the weights first (TF-format checkpoints restore
    each variable when it is created) and lets the prediction on the example, which Rasa runs
    anyway, create the variables. Predictions are identical (checked on the held-out set:
    same intents, confidences and entities, ``tests/reliability/test_speedups.py``). Fine-tuning
    (``finetune_mode``) keeps Rasa's way.
"""

from __future__ import annotations

from typing import Any, Callable, Dict

from assistant_runtime.patches.book import Patcher


def install_fast_model_load(patcher: Patcher) -> None:
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    original = vars(RasaModel)["load"].__func__

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if finetune_mode or predict_data_example is None:
            return original(
                cls,
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )
        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
            run_eagerly=config.get(RUN_EAGERLY),
        )
        # TF-format checkpoints restore a variable when it is created, so the weights are
        # loaded by the first prediction, which also traces the prediction graph; the
        # optimizer's slots (only needed to train further) stay unrestored on purpose
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)
        return model

    patcher.replace(RasaModel, "load", classmethod(load))


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "fastload": install_fast_model_load,
}
