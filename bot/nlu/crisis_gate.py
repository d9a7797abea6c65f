"""Crisis gate: a keyword/regex backstop behind the intent classifier.

A statistical classifier can miss "安眠药攒了一瓶" on a bad day; a veteran in danger must still
get 12356 and 110/120/119 at once. The gate runs after the classifiers and, when an unmistakable
phrase matches (bot/core/data/crisis_patterns.yml, idioms such as 热得要死 excluded), forces intent
`crisis` with confidence 1.0 and adds the entity ``crisis_kind`` (mind / medical / danger).

The entity is what tells the dialogue an unmistakable crisis (answered at once by a domain
response, nlu_data/rules/safety.yml) from a classifier-only `crisis` guess, which is asked a
gentle check question first (action_crisis_followup).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.core import crisis

CRISIS_INTENT = "crisis"
KIND_ENTITY = "crisis_kind"


def crisis_phrase(text: str | None) -> str | None:
    """The crisis phrase found in ``text`` (any script or width), or None."""
    found = crisis.find(text)
    return found.phrase if found else None


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
        crisis.load()  # fail at start-up, not on a veteran's message, if the file is broken
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            found = crisis.find(message.get(TEXT))
            if not found:
                continue
            forced = {"name": CRISIS_INTENT, "confidence": 1.0}
            ranking = [forced] + [
                item
                for item in (message.get(INTENT_RANKING_KEY) or [])
                if item.get("name") != CRISIS_INTENT
            ]
            message.set(INTENT, forced, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            entities = [e for e in (message.get(ENTITIES) or []) if e.get("entity") != KIND_ENTITY]
            entities.append(
                {
                    "entity": KIND_ENTITY,
                    "value": found.kind,
                    "start": 0,
                    "end": len(message.get(TEXT) or ""),
                    "extractor": "CrisisGate",
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
            message.set(
                "crisis_gate", {"phrase": found.phrase, "kind": found.kind}, add_to_output=True
            )
        return messages

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure."""
