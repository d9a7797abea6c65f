"""The sentence-embedding featurizer: real bundled encoder, batching, cache, configuration."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_embedding import SentenceEmbeddingFeaturizer
from bot.nlu.sentence_encoders import SentenceTransformersEncoder, shared_encoder


class CountingEncoder:
    """The real bundled encoder, recording the size of every batch it is given."""

    def __init__(self):
        self._real = shared_encoder()
        self.name, self.dim = self._real.name, self._real.dim
        self.batches = []

    def encode(self, texts):
        self.batches.append(len(texts))
        return self._real.encode(texts)


def featurizer(encoder=None, **config):
    return SentenceEmbeddingFeaturizer(
        {**SentenceEmbeddingFeaturizer.get_default_config(), **config},
        ExecutionContext(GraphSchema({}), node_name="e5"),
        encoder,
    )


def dense_sentence(message):
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None  # sentence-level only
    return sentence.features


def test_every_message_gets_a_unit_length_384_dim_sentence_feature():
    component = featurizer(CountingEncoder())
    messages = [Message(data={TEXT: "俺想办荣军卡"}), Message(data={TEXT: "抚恤金啥时候发"})]
    component.process(messages)
    vectors = [dense_sentence(message) for message in messages]
    assert [v.shape for v in vectors] == [(1, 384), (1, 384)]
    assert np.allclose([np.linalg.norm(v) for v in vectors], 1.0, atol=1e-3)
    assert not np.allclose(vectors[0], vectors[1])


def test_training_embeds_each_distinct_text_once_in_batches():
    encoder = CountingEncoder()
    component = featurizer(encoder, batch_size=2)
    texts = ["你好", "谢谢", "再见"]
    data = TrainingData([Message(data={TEXT: text, "intent": "x"}) for text in texts])
    component.process_training_data(data)
    assert encoder.batches == [2, 1]  # 3 texts, at most 2 per call
    assert all(dense_sentence(example).shape == (1, 384) for example in data.training_examples)


def test_duplicates_in_one_call_are_embedded_once():
    encoder = CountingEncoder()
    component = featurizer(encoder)
    messages = [Message(data={TEXT: text}) for text in ["好的", "不用了", "好的"]]
    component.process(messages)
    assert encoder.batches == [2]
    assert component.encoder_calls == 2
    assert np.array_equal(dense_sentence(messages[0]), dense_sentence(messages[2]))


def test_a_repeated_message_is_answered_from_the_cache():
    encoder = CountingEncoder()
    component = featurizer(encoder)
    component.process([Message(data={TEXT: "在吗"})])
    component.process([Message(data={TEXT: "在吗"})])
    assert encoder.batches == [1]


def test_the_cache_is_bounded_and_forgets_the_oldest_text():
    encoder = CountingEncoder()
    component = featurizer(encoder, cache_size=2)
    for text in ["一", "二", "三", "一"]:
        component.process([Message(data={TEXT: text})])
    assert component.encoder_calls == 4  # "一" was evicted by "三" and encoded again


def test_embeddings_are_deterministic_and_independent_of_batching():
    encoder = shared_encoder()
    alone = encoder.encode(["腿脚不利索 有啥照顾"])[0]
    batched = encoder.encode(["你好", "腿脚不利索 有啥照顾", "谢谢"])[1]
    assert np.allclose(alone, batched, atol=1e-5)
    assert np.array_equal(alone, encoder.encode(["腿脚不利索 有啥照顾"])[0])


def test_messages_without_text_are_left_alone():
    component = featurizer(CountingEncoder())
    message = Message(data={TEXT: ""})
    component.process([message])
    assert message.features == []


@pytest.mark.parametrize(
    "config",
    [
        {"backend": "openai"},
        {"backend": "sentence-transformers", "model": None},
        {"batch_size": 0},
    ],
)
def test_bad_configuration_is_refused(config):
    with pytest.raises(ValueError):
        SentenceEmbeddingFeaturizer.validate_config(
            {**SentenceEmbeddingFeaturizer.get_default_config(), **config}
        )


def test_a_missing_local_model_directory_is_reported_not_downloaded(tmp_path):
    with pytest.raises(FileNotFoundError):
        SentenceTransformersEncoder(str(tmp_path / "no-such-model"))


def test_two_encoders_at_once_give_exactly_the_vectors_of_one():
    from bot.nlu.sentence_encoders import encode_in_batches, encode_in_parallel, new_encoder

    texts = [f"俺想问问第{i}个事 荣军卡咋办" for i in range(70)]
    first, second = new_encoder(), new_encoder()
    calls = []
    original = second.encode

    def counted(batch):
        calls.append(len(batch))
        return original(batch)

    second.encode = counted
    together = encode_in_parallel([first, second], texts, batch_size=16)
    assert calls == [16, 16]  # the second encoder took every other batch
    assert np.array_equal(together, encode_in_batches(first, texts, batch_size=16))
