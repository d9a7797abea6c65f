"""First component of the NLU pipeline: make every message look like the training data.

Veterans write Traditional and Simplified, type on phones with full-width digits and letters,
and paste text with odd spaces. The classifier should see one canonical form, so that a
Traditional message parses exactly as its Simplified twin.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.core import settings
from bot.core.inbound import clean_text
from bot.core.script import normalise, to_simplified

# A phone or ID number says nothing about what the user wants, but its random digits moved the
# classifier ("我要报到，身份证…，我是伤残军人，胶州的" was a booking for 7 random IDs in 20): the
# featurizers see every digit of a long number as 0, so only "a number of this length" is left.
# Entities, slots and actions still read the real digits (the message text is not changed).
_LONG_NUMBER = re.compile(r"\d{7,}[Xx]?")


def classifier_text(text: str) -> str:
    """``text`` as the intent featurizers see it: long numbers' digits all 0."""
    return _LONG_NUMBER.sub(lambda found: re.sub(r"\d", "0", found.group()), text)


def _normalise_keeping_offsets(text: str) -> str:
    """Character-for-character normalisation, so annotated entity offsets stay valid."""
    converted = to_simplified(text)
    if len(converted) != len(text):
        converted = "".join(to_simplified(char) for char in text)
    out = []
    for char in converted:
        if char.isspace():
            out.append(" ")
            continue
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded if len(folded) == 1 else char)
    return "".join(out)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class ChineseNormaliser(GraphComponent):
    """Traditional → Simplified (OpenCC), full-width → half-width (NFKC), tidy whitespace."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChineseNormaliser:
        return cls()

    @staticmethod
    def _normalise_message(message: Message, max_chars: int | None = None) -> None:
        text = message.get(TEXT)
        if not text:
            return
        # A lone surrogate would crash OpenCC; control characters mean nothing to the model.
        text = clean_text(text)
        if max_chars is not None and len(text) > max_chars:
            # The REST channel refuses longer messages; this guards every other way in (the
            # /model/parse API): DIET's attention grows with the square of the length.
            text = text[:max_chars]
        if message.get(ENTITIES):
            message.set(TEXT, _normalise_keeping_offsets(text))
        else:
            message.set(TEXT, normalise(text))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalise_message(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        max_chars = settings.current().max_message_chars
        for message in messages:
            self._normalise_message(message, max_chars)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""

    @staticmethod
    def required_packages() -> list[str] | None:
        return ["opencc"]
