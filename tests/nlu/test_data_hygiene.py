"""The NLU data the model is judged by must stay honest: held-out means held-out."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest
import yaml

from bot.core.script import normalise
from tests.benchmarks.bench_nlu import REPO, load_examples

DOMAIN_INTENTS = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))["intents"]


def comparable(text: str) -> str:
    return re.sub(r"[\s,，。!！?？~～、.…]", "", normalise(text))


@pytest.fixture(scope="module")
def train():
    return load_examples(REPO / "nlu_data" / "nlu")


@pytest.fixture(scope="module")
def test_set():
    return load_examples(REPO / "tests" / "nlu")


def test_no_test_example_is_in_the_training_data_in_any_script(train, test_set):
    seen = {comparable(text) for text, _ in train}
    leaked = [text for text, _ in test_set if comparable(text) in seen]
    assert leaked == []


def test_every_intent_has_enough_training_and_test_examples(train, test_set):
    train_counts = Counter(label for _, label in train)
    test_counts = Counter(label for _, label in test_set)
    for intent in DOMAIN_INTENTS:
        assert train_counts[intent] >= 40, intent
        assert test_counts[intent] >= 20, intent


def test_no_example_belongs_to_two_intents(train):
    intents = defaultdict(set)
    for text, label in train:
        intents[comparable(text)].add(label)
    assert {text: labels for text, labels in intents.items() if len(labels) > 1} == {}


def test_no_conversation_turn_is_in_the_training_data(train):
    """The conversation suite judges the whole bot; a user turn copied into the training data
    would make it judge memory instead (short replies such as "好的" or "确认" are common words,
    not leaks)."""
    from tests.conversations.runner import load_cases

    seen = {comparable(text) for text, _ in train}
    turns = {
        str(turn["user"])
        for case in load_cases()
        for turn in case["turns"]
        if "user" in turn and "{" not in str(turn["user"])
    }
    leaked = sorted(t for t in turns if len(comparable(t)) >= 8 and comparable(t) in seen)
    assert leaked == []
