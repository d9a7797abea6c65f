"""Intent classifier variants on the same cross-validation folds, for `make bench-nlu`.

scikit-learn variants (logistic regression and a linear SVM on char TF-IDF, on the e5 sentence
embedding, on both) and the real Rasa pipeline of config.yml, trained in this process fold by
fold on exactly the same split. The sentence embeddings come from the pipeline's own featurizer
and its process-wide cache, so every text is embedded once for all variants.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from bot.core.script import normalise

FALLBACK = "nlu_fallback"
Folds = list[tuple[np.ndarray, np.ndarray]]


def pipeline_settings(config_path: Path) -> dict:
    """Settings of the LinearIntentClassifier in ``config_path`` (its defaults if absent)."""
    from bot.nlu.linear_intent import LinearIntentClassifier

    settings = LinearIntentClassifier.get_default_config()
    for step in yaml.safe_load(config_path.read_text(encoding="utf-8"))["pipeline"]:
        if step["name"].endswith("LinearIntentClassifier"):
            settings.update(step)
    return settings


def make_folds(labels: list[str], k: int) -> Folds:
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=42)
    return list(splitter.split(np.zeros(len(labels)), labels))


def embedder():
    """The pipeline featurizer's ``embed``: same encoder, same process-wide cache."""
    from rasa.engine.graph import ExecutionContext, GraphSchema

    from bot.nlu.sentence_embedding import SentenceEmbeddingFeaturizer

    featurizer = SentenceEmbeddingFeaturizer(
        SentenceEmbeddingFeaturizer.get_default_config(),
        ExecutionContext(GraphSchema({}), node_name="bench_e5"),
    )
    return featurizer.embed


@dataclass
class Variant:
    name: str
    tfidf: bool
    dense_weight: float  # 0: no embedding
    C: float
    estimator: str = "logistic_regression"  # or "linear_svm"

    def _fit(self, texts: list[str], labels: list[str], embed):
        vectorizer = None
        if self.tfidf:
            vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
            vectorizer.fit(texts)

        def features(batch: list[str]):
            parts = [vectorizer.transform(batch)] if vectorizer is not None else []
            if self.dense_weight:
                parts.append(scipy.sparse.csr_matrix(embed(batch) * self.dense_weight))
            return scipy.sparse.hstack(parts, format="csr")

        if self.estimator == "linear_svm":
            model = LinearSVC(C=self.C, max_iter=3000, random_state=42)
        else:
            model = LogisticRegression(C=self.C, max_iter=3000, random_state=42)
        return model.fit(features(texts), labels), features

    def cross_validate(self, texts: list[str], labels: list[str], folds: Folds, embed):
        """Out-of-fold predicted intent, for every example."""
        predicted = [""] * len(texts)
        for train_index, test_index in folds:
            model, features = self._fit(
                [texts[i] for i in train_index], [labels[i] for i in train_index], embed
            )
            guesses = model.predict(features([texts[i] for i in test_index]))
            for guess, i in zip(guesses, test_index, strict=True):
                predicted[i] = str(guess)
        return predicted

    def predict_after_fit(self, texts, labels, new_texts, embed) -> list[str]:
        model, features = self._fit(texts, labels, embed)
        return [str(name) for name in model.predict(features(new_texts))]


def sklearn_variants(settings: dict) -> list[Variant]:
    """The baseline first; then each ingredient of config.yml's classifier alone (the real
    classifier is trained fold by fold by ``pipeline_cross_validation``)."""
    weight = float(settings["dense_weight"])
    svm_c, logistic_c = float(settings["C"]), float(settings["logistic_C"])
    return [
        Variant("baseline TF-IDF+LR", tfidf=True, dense_weight=0.0, C=10.0),
        Variant("TF-IDF+SVM", tfidf=True, dense_weight=0.0, C=svm_c, estimator="linear_svm"),
        Variant("e5+LR", tfidf=False, dense_weight=1.0, C=logistic_c),
        Variant("TF-IDF+e5+LR (w=1.5, previous)", tfidf=True, dense_weight=1.5, C=10.0),
        Variant(f"TF-IDF+e5+LR (w={weight:g})", tfidf=True, dense_weight=weight, C=logistic_c),
        Variant(
            f"TF-IDF+e5+SVM (w={weight:g})",
            tfidf=True,
            dense_weight=weight,
            C=svm_c,
            estimator="linear_svm",
        ),
    ]


def pipeline_cross_validation(data_dir: Path, config_path: Path, k: int):
    """Trains config.yml's NLU pipeline on each training split of ``make_folds`` and parses the
    held-out split. Returns (examples, final intents, classifier intents, classifier confidences):
    the final intent is after FallbackClassifier and CrisisGate, the classifier's is before."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.shared.nlu.training_data.training_data import TrainingData

    data = load_data(str(data_dir))
    examples = data.intent_examples
    labels = [example.get("intent") for example in examples]
    final = [""] * len(examples)
    classifier = [""] * len(examples)
    confidence = np.zeros(len(examples))

    async def parse_all(agent, indices):
        for i in indices:
            parsed = await agent.parse_message(examples[i].get("text"))
            final[i] = parsed["intent"]["name"]
            ranked = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
            classifier[i] = ranked[0]["name"] if ranked else final[i]
            confidence[i] = ranked[0]["confidence"] if ranked else 0.0

    with tempfile.TemporaryDirectory() as workdir:
        for fold, (train_index, test_index) in enumerate(make_folds(labels, k)):
            fold_data = TrainingData(
                training_examples=[examples[i] for i in train_index],
                entity_synonyms=data.entity_synonyms,
                regex_features=data.regex_features,
                lookup_tables=data.lookup_tables,
            )
            data_file = Path(workdir) / f"fold{fold}.yml"
            RasaYAMLWriter().dump(data_file, fold_data)
            model = train_nlu(
                str(config_path), str(data_file), workdir, fixed_model_name=f"fold{fold}"
            )
            asyncio.run(parse_all(Agent.load(model), test_index))
    texts = [normalise(example.get("text")) for example in examples]
    return texts, labels, final, classifier, confidence


def calibration(truth, predicted, confidence, thresholds=(0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)):
    """For each fallback threshold: share of correct answers it would send to fallback, share of
    errors it catches, and accuracy on the messages it lets through."""
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)])
    confidence = np.asarray(confidence)
    rows = []
    for threshold in thresholds:
        under = confidence < threshold
        lost = (under & correct).sum() / max(correct.sum(), 1)
        caught = (under & ~correct).sum() / max((~correct).sum(), 1)
        kept = correct[~under].mean() if (~under).any() else float("nan")
        rows.append((threshold, lost, caught, kept))
    return rows


def crisis_figures(truth, predicted) -> tuple[float, float, int]:
    """Recall and precision of `crisis`, and how many non-crisis messages were called crisis."""
    pairs = list(zip(truth, predicted, strict=True))
    hits = sum(t == p == "crisis" for t, p in pairs)
    actual = sum(t == "crisis" for t, _ in pairs)
    called = sum(p == "crisis" for _, p in pairs)
    return hits / max(actual, 1), hits / max(called, 1), called - hits
