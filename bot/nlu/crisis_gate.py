"""Crisis gate: a keyword/regex backstop behind the intent classifier.

A statistical classifier can miss "安眠药攒了一瓶" on a bad day; a veteran in danger must still
get 12356 and 110/120/119 at once. The gate runs after the classifiers and forces intent
`crisis` with confidence 1.0 when an unmistakable phrase (crisis_patterns.yml) matches.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from re import Pattern
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core.script import normalise

CRISIS_INTENT = "crisis"
PATTERNS_FILE = Path(__file__).with_name("crisis_patterns.yml")


@cache
def load_patterns(path: Path = PATTERNS_FILE) -> Pattern:
    """All phrases of the patterns file as one compiled alternation."""
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))
    phrases = [phrase for group in groups.values() for phrase in group]
    return re.compile("|".join(f"(?:{phrase})" for phrase in phrases))


def crisis_phrase(text: str | None) -> str | None:
    """The crisis phrase found in ``text`` (any script or width), or None."""
    if not text:
        return None
    match = load_patterns().search(normalise(text))
    return match.group(0) if match else None


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisGate(GraphComponent):
    """Overrides the predicted intent with `crisis` when a crisis phrase matches."""

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
    ) -> CrisisGate:
        load_patterns()  # fail at start-up, not on a veteran's message, if the file is broken
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            phrase = crisis_phrase(message.get(TEXT))
            if not phrase:
                continue
            forced = {"name": CRISIS_INTENT, "confidence": 1.0}
            ranking = [forced] + [
                item
                for item in (message.get(INTENT_RANKING_KEY) or [])
                if item.get("name") != CRISIS_INTENT
            ]
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            message.set("crisis_gate", {"phrase": phrase}, add_to_output=True)
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""
