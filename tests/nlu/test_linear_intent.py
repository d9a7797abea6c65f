"""The linear intent classifier: ranking shape, persistence, determinism, calibration."""

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.char_tfidf import CharTfidfFeaturizer
from bot.nlu.linear_intent import LinearIntentClassifier
from bot.nlu.sentence_embedding import SentenceEmbeddingFeaturizer

EXAMPLES = {
    "ask_benefit": ["荣军卡怎么办", "荣军保能报多少", "荣军驿站在哪"],
    "ask_allowance": ["抚恤金多少钱", "补助啥时候发", "抚恤金涨了没"],
    "request_human": ["我要人工", "转人工", "找个真人"],
    "greet": ["你好", "在吗", "早上好"],
    "thank": ["谢谢", "多谢", "麻烦你了"],
    "goodbye": ["再见", "拜拜", "回见"],
    "affirm": ["是的", "对", "没错"],
    "deny": ["不是", "不对", "没有"],
    "cancel": ["不弄了", "算了", "退出"],
    "crisis": ["不想活了", "活着没意思", "想一了百了"],
    "out_of_scope": ["明天天气", "讲个笑话", "唱首歌"],
}


def featurizers(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    tfidf = CharTfidfFeaturizer.create(
        {**CharTfidfFeaturizer.get_default_config(), "alias": "char_tfidf"},
        storage,
        Resource("char_tfidf"),
        ExecutionContext(GraphSchema({}), node_name="char_tfidf"),
    )
    e5 = SentenceEmbeddingFeaturizer(
        {**SentenceEmbeddingFeaturizer.get_default_config(), "alias": "e5"},
        ExecutionContext(GraphSchema({}), node_name="e5"),
    )
    return storage, tfidf, e5


def training_data():
    return TrainingData(
        [
            Message(data={TEXT: text, INTENT: intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )


def train(tmp_path, name="linear_intent", **settings):
    storage, tfidf, e5 = featurizers(tmp_path)
    data = training_data()
    tfidf.train(data)
    tfidf.process_training_data(data)
    e5.process_training_data(data)
    config = {
        **LinearIntentClassifier.get_default_config(),
        "featurizers": ["char_tfidf", "e5"],
        **settings,
    }
    resource = Resource(name)
    context = ExecutionContext(GraphSchema({}), node_name=name)
    classifier = LinearIntentClassifier.create(config, storage, resource, context)
    classifier.train(data)
    return storage, config, resource, context, classifier, (tfidf, e5)


def parse(classifier, components, text):
    message = Message(data={TEXT: text})
    for component in components:
        component.process([message])
    classifier.process([message])
    return message


def test_intent_and_a_top_10_ranking_like_rasa_classifiers(tmp_path):
    *_, classifier, components = train(tmp_path)
    message = parse(classifier, components, "荣军卡在哪办")
    ranking = message.get(INTENT_RANKING_KEY)
    assert len(ranking) == 10  # 11 intents, ranking_length 10
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert 0 < sum(confidences) <= 1.0 + 1e-9
    assert message.get(INTENT) == ranking[0]
    assert message.get(INTENT)["name"] == "ask_benefit"
    assert set(message.as_dict(only_output_properties=True)) >= {INTENT, INTENT_RANKING_KEY}


def test_persisted_model_ranks_exactly_as_the_trained_one(tmp_path):
    storage, config, resource, context, classifier, components = train(tmp_path)
    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    for text in ["抚恤金这个月咋没到", "转个人工", "烦死了"]:
        before = parse(classifier, components, text).get(INTENT_RANKING_KEY)
        after = parse(loaded, components, text).get(INTENT_RANKING_KEY)
        assert before == after


def test_training_twice_gives_identical_probabilities(tmp_path):
    *_, first, components = train(tmp_path / "a")
    *_, second, _ = train(tmp_path / "b")
    for text in ["谢谢你啊", "不想活了", "天气咋样"]:
        a = parse(first, components, text).get(INTENT_RANKING_KEY)
        b = parse(second, components, text).get(INTENT_RANKING_KEY)
        assert a == b


def test_dense_weight_scales_only_the_embedding(tmp_path):
    *_, classifier, components = train(tmp_path)
    message = parse(classifier, components, "你好")
    classifier._config["dense_weight"] = 2.0
    doubled = classifier.features([message]).toarray()[0]
    classifier._config["dense_weight"] = 1.0
    single = classifier.features([message]).toarray()[0]
    tfidf_width = len(components[0].vectorizer.vocabulary_)
    assert np.array_equal(doubled[:tfidf_width], single[:tfidf_width])
    assert np.allclose(doubled[tfidf_width:], 2 * single[tfidf_width:])


def test_an_untrained_classifier_leaves_messages_without_intent(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="linear_intent")
    config = LinearIntentClassifier.get_default_config()
    loaded = LinearIntentClassifier.load(config, storage, Resource("never_trained"), context)
    message = Message(data={TEXT: "你好"})
    loaded.process([message])
    assert message.get(INTENT) is None


def test_the_fitted_temperature_is_the_one_that_made_the_labels():
    from scipy.special import softmax

    from bot.nlu.linear_intent import fit_temperature

    rng = np.random.default_rng(7)
    scores = rng.normal(size=(4000, 5))
    truth = np.array([rng.choice(5, p=row) for row in softmax(scores / 0.4, axis=1)])
    assert abs(fit_temperature(scores, truth) - 0.4) < 0.05


def test_svm_confidences_are_probabilities_and_rank_the_right_intent_first(tmp_path):
    *_, classifier, components = train(tmp_path, estimator="linear_svm")
    assert len(classifier.models) == 1
    assert classifier.temperature != 1.0  # fitted on out-of-fold scores, not left at its default
    message = parse(classifier, components, "我要找人工客服")
    ranking = message.get(INTENT_RANKING_KEY)
    assert ranking[0]["name"] == "request_human"
    confidences = [item["confidence"] for item in ranking]
    assert confidences == sorted(confidences, reverse=True)
    full = classifier.probabilities(classifier.features([message]))[0]
    assert abs(full.sum() - 1) < 1e-6


def test_logistic_regression_stays_available(tmp_path):
    storage, config, resource, context, classifier, components = train(
        tmp_path, estimator="logistic_regression", C=10.0
    )
    assert classifier.temperature == 1.0
    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    assert parse(loaded, components, "转人工").get(INTENT)["name"] == "request_human"


def test_the_default_averages_the_svm_and_logistic_regression(tmp_path):
    storage, config, resource, context, both, components = train(tmp_path / "both")
    *_, svm, _ = train(tmp_path / "svm", estimator="linear_svm")
    *_, logistic, _ = train(tmp_path / "lr", estimator="logistic_regression")
    assert both._config["estimator"] == "svm_and_logistic"
    for text in ["我要找人工客服", "那个啥 你懂的"]:
        rows = [c.probabilities(c.features([parse(c, components, text)])) for c in (svm, logistic)]
        mean = (rows[0] + rows[1]) / 2
        assert np.allclose(both.probabilities(both.features([parse(both, components, text)])), mean)
    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    assert len(loaded.models) == 2 and loaded.temperature == both.temperature


def test_the_fast_probabilities_equal_scikit_learns(tmp_path):
    from scipy.special import softmax

    *_, classifier, components = train(tmp_path)
    features = classifier.features([parse(classifier, components, "荣军卡坐公交要带啥")])
    svm, logistic = classifier.models
    expected = (
        softmax(svm.decision_function(features) / classifier.temperature, axis=1)
        + logistic.predict_proba(features)
    ) / 2
    assert np.allclose(classifier.probabilities(features), expected, atol=1e-9)


def _stacked(classifier, messages):
    """The feature matrix as scipy's hstack/vstack build it (what ``features`` replaced)."""
    import scipy.sparse

    rows = []
    for message in messages:
        _, sparse = message.get_sparse_features(TEXT, ["char_tfidf", "e5"])
        _, dense = message.get_dense_features(TEXT, ["char_tfidf", "e5"])
        parts = [scipy.sparse.csr_matrix(sparse.features)] if sparse is not None else []
        if dense is not None:
            weight = float(classifier._config["dense_weight"])
            parts.append(scipy.sparse.csr_matrix(np.asarray(dense.features) * weight))
        rows.append(scipy.sparse.hstack(parts, format="csr"))
    return scipy.sparse.vstack(rows, format="csr")


def test_the_assembled_features_are_the_stacked_ones(tmp_path):
    *_, classifier, components = train(tmp_path)
    texts = ["荣军卡坐公交要带啥", "谢谢你啊", "xyz", "俺想约个时间去报到 电话13953221187"]
    messages = [parse(classifier, components, text) for text in texts]
    ours, stacked = classifier.features(messages), _stacked(classifier, messages)
    assert ours.shape == stacked.shape
    assert np.array_equal(ours.indptr, stacked.indptr)
    assert np.array_equal(ours.indices, stacked.indices)
    assert np.array_equal(ours.data, stacked.data)
    # one message, dense features only
    only_dense = Message(data={TEXT: "你好"})
    components[1].process([only_dense])
    assert np.array_equal(
        classifier.features([only_dense]).toarray(), _stacked(classifier, [only_dense]).toarray()
    )


def test_a_sparse_row_out_of_order_or_repeated_is_made_canonical():
    import scipy.sparse

    from bot.nlu.linear_intent import _sparse_row

    messy = scipy.sparse.coo_matrix(([1.0, 2.0, 3.0], ([0, 0, 0], [5, 2, 5])), shape=(1, 8))
    values, columns, width = _sparse_row(messy)
    assert columns.tolist() == [2, 5] and values.tolist() == [2.0, 4.0] and width == 8
    tidy = scipy.sparse.coo_matrix(([1.0, 2.0], ([0, 0], [1, 6])), shape=(1, 8))
    values, columns, _ = _sparse_row(tidy)
    assert columns.tolist() == [1, 6] and values.tolist() == [1.0, 2.0]
