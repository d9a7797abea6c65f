"""Sentence features from TF-IDF character n-grams over the whole normalised message.

Rasa's count featurizers see Chinese through jieba's segmentation: n-grams inside tokens, or
across tokens joined with spaces, as raw counts. Veterans' messages are short, colloquial and full
of typos that jieba splits unpredictably, and a TF-IDF over contiguous characters of the whole
message (what the scikit-learn baseline uses) is robust to that. This component gives DIET exactly
those features as sentence features, next to the token-level ones.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.normaliser import classifier_text

VECTORIZER_FILE = "char_tfidf.joblib"
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's char analyzer folds runs of whitespace


class OneMessageTfidf:
    """``vectorizer.transform([text])`` for one message, as a 1×V COO matrix, ~6× faster.

    scikit-learn's transform is built for batches: for one short message its fixed costs
    (validation, CSR assembly, a sparse matrix product for the idf, a sparse normalisation) were
    ~1.1 ms of every parse, 9 % of Rasa's time per turn under load. The same arithmetic on a
    dict of counts gives the same matrix (tests/nlu/test_char_tfidf.py compares them). Only for
    the configuration this component trains; anything else goes through ``transform``.
    """

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vectorizer = vectorizer
        self.vocabulary = vectorizer.vocabulary_
        self.idf = vectorizer.idf_.tolist()
        self.ngrams = range(vectorizer.ngram_range[0], vectorizer.ngram_range[1] + 1)
        self.sublinear = vectorizer.sublinear_tf
        self.exact = (
            vectorizer.analyzer == "char"
            and vectorizer.lowercase
            and vectorizer.preprocessor is None
            and vectorizer.strip_accents is None
            and vectorizer.norm == "l2"
            and vectorizer.use_idf
            and vectorizer.dtype == np.float64
        )

    def __call__(self, text: str) -> scipy.sparse.coo_matrix:
        if not self.exact:
            return scipy.sparse.coo_matrix(self.vectorizer.transform([text]))
        text = _WHITE_SPACES.sub(" ", text.lower())
        counts: dict[int, int] = {}
        for n in self.ngrams:
            for start in range(len(text) - n + 1):
                column = self.vocabulary.get(text[start : start + n])
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
        columns = sorted(counts)
        tf = (math.log(counts[c]) + 1.0 if self.sublinear else counts[c] for c in columns)
        weights = [value * self.idf[c] for value, c in zip(tf, columns, strict=True)]
        norm = math.sqrt(sum(w * w for w in weights)) or 1.0
        return scipy.sparse.coo_matrix(
            (
                np.array([w / norm for w in weights], dtype=np.float64),
                (np.zeros(len(columns), dtype=np.int32), np.array(columns, dtype=np.int32)),
            ),
            shape=(1, len(self.vocabulary)),
        )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class CharTfidfFeaturizer(SparseFeaturizer, GraphComponent):
    """TF-IDF over character n-grams of the message text (after ChineseNormaliser)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **SparseFeaturizer.get_default_config(),
            "min_ngram": 1,
            "max_ngram": 3,
            "sublinear_tf": True,
            "max_features": None,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        vectorizer: TfidfVectorizer | None = None,
    ) -> None:
        SparseFeaturizer.__init__(self, execution_context.node_name, config)
        self._model_storage = model_storage
        self._resource = resource
        self.vectorizer = vectorizer
        self._one_message = OneMessageTfidf(vectorizer) if vectorizer is not None else None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharTfidfFeaturizer:
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not 1 <= config["min_ngram"] <= config["max_ngram"]:
            raise ValueError("CharTfidfFeaturizer needs 1 <= min_ngram <= max_ngram")

    def train(self, training_data: TrainingData) -> Resource:
        texts = [
            classifier_text(example.get(TEXT))
            for example in training_data.training_examples
            if example.get(TEXT)
        ]
        self.vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=(self._config["min_ngram"], self._config["max_ngram"]),
            sublinear_tf=self._config["sublinear_tf"],
            max_features=self._config["max_features"],
            lowercase=True,
        ).fit(texts)
        self._one_message = OneMessageTfidf(self.vectorizer)
        with self._model_storage.write_to(self._resource) as model_dir:
            joblib.dump(self.vectorizer, Path(model_dir) / VECTORIZER_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharTfidfFeaturizer:
        vectorizer = None
        try:
            with model_storage.read_from(resource) as model_dir:
                vectorizer = joblib.load(Path(model_dir) / VECTORIZER_FILE)
        except (ValueError, FileNotFoundError):
            pass  # not trained (e.g. no NLU data): the component adds no features
        return cls(config, model_storage, resource, execution_context, vectorizer)

    def _featurize(self, message: Message) -> None:
        text = message.get(TEXT)
        if self._one_message is None or not text:
            return
        sentence = self._one_message(classifier_text(text))
        self.add_features_to_message(None, sentence, TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._featurize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._featurize(message)
        return messages
