import random

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.nlu.char_tfidf import CharTfidfFeaturizer, OneMessageTfidf


def make(tmp_path, storage=None):
    storage = storage or LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="char_tfidf")
    config = {**CharTfidfFeaturizer.get_default_config()}
    return storage, config, context


def train(tmp_path):
    storage, config, context = make(tmp_path)
    resource = Resource("char_tfidf")
    featurizer = CharTfidfFeaturizer.create(config, storage, resource, context)
    data = TrainingData(
        [
            Message(data={TEXT: text, "intent": intent})
            for text, intent in [
                ("荣军卡怎么办", "ask_benefit"),
                ("抚恤金多少钱", "ask_allowance"),
                ("我要人工", "request_human"),
            ]
        ]
    )
    featurizer.train(data)
    return storage, config, context, resource, featurizer


def sentence_features(featurizer, text):
    message = Message(data={TEXT: text})
    featurizer.process([message])
    sequence, sentence = message.get_sparse_features(TEXT)
    return sequence, sentence


def test_sentence_features_are_char_ngrams_of_the_whole_message(tmp_path):
    *_, featurizer = train(tmp_path)
    sequence, sentence = sentence_features(featurizer, "荣军卡怎么办")
    assert sequence is None  # sentence-level only; token features come from the count featurizers
    assert sentence.features.shape == (1, len(featurizer.vectorizer.vocabulary_))
    assert sentence.features.nnz > 0
    # a message sharing no character n-gram with the training data gets an empty vector
    _, unrelated = sentence_features(featurizer, "xyz")
    assert unrelated.features.nnz == 0


def test_persisted_vectorizer_gives_the_same_features(tmp_path):
    storage, config, context, resource, featurizer = train(tmp_path)
    loaded = CharTfidfFeaturizer.load(config, storage, resource, context)
    _, before = sentence_features(featurizer, "荣军保怎么报销")
    _, after = sentence_features(loaded, "荣军保怎么报销")
    assert (before.features != after.features).nnz == 0


def test_the_digits_of_a_phone_or_id_number_do_not_change_the_features(tmp_path):
    storage, config, context = make(tmp_path)
    featurizer = CharTfidfFeaturizer.create(config, storage, Resource("char_tfidf"), context)
    featurizer.train(
        TrainingData(
            [
                Message(data={TEXT: "我要人工 电话15866201234", "intent": "request_human"}),
                Message(data={TEXT: "荣军卡怎么办", "intent": "ask_benefit"}),
            ]
        )
    )
    _, one = sentence_features(featurizer, "我要人工 电话13953221187")
    _, other = sentence_features(featurizer, "我要人工 电话18605324409")
    _, shorter = sentence_features(featurizer, "我要人工 电话1895")
    assert one.features.nnz > 0
    assert (one.features != other.features).nnz == 0
    assert (one.features != shorter.features).nnz > 0  # a short number (a time, an amount) counts


@pytest.mark.parametrize("sublinear", [True, False])
def test_one_message_features_are_scikit_learns(sublinear):
    """OneMessageTfidf computes what TfidfVectorizer.transform does, for every kind of text."""
    rng = random.Random(7)
    alphabet = "荣军卡怎么办预约报到俺咋滴ABCabc 123　\t\n，。？!"
    training = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(300)
    ]
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=(1, 3), sublinear_tf=sublinear, lowercase=True
    ).fit(training)
    one_message = OneMessageTfidf(vectorizer)
    assert one_message.exact
    texts = [*training[:50], "", " ", "zzz", "荣军卡荣军卡荣军卡", "ABC  abc\t\tABC"]
    texts += ["".join(rng.choice(alphabet + "xyz") for _ in range(80)) for _ in range(50)]
    for text in texts:
        ours = one_message(text)
        theirs = vectorizer.transform([text])
        assert ours.shape == theirs.shape
        assert abs(ours.tocsr() - theirs).max() < 1e-12 if theirs.nnz else ours.nnz == 0, text


def test_another_configuration_goes_through_scikit_learn():
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2)).fit(["荣军卡", "报到"])
    one_message = OneMessageTfidf(vectorizer)
    assert not one_message.exact
    assert abs(one_message("荣军").tocsr() - vectorizer.transform(["荣军"])).max() < 1e-12
