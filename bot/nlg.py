"""Response generation that answers in the script the user wrote.

Responses are authored once, in Simplified Chinese, in domain.yml. A veteran who writes 榮軍卡
should read Traditional; converting at generation time keeps a single source text.
The user's original words are in the tracker (the normaliser only changes what NLU sees).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.core.script import conversation_script, to_script


def user_texts_newest_first(tracker: DialogueStateTracker) -> Iterator[str | None]:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            yield event.text


def convert_reply(reply: dict[str, Any], script: str) -> dict[str, Any]:
    """Convert the human-readable parts of a reply; payloads stay as they are."""
    converted = dict(reply)
    if converted.get("text"):
        converted["text"] = to_script(converted["text"], script)
    if converted.get("buttons"):
        converted["buttons"] = [
            {**button, "title": to_script(button.get("title"), script)}
            for button in converted["buttons"]
        ]
    return converted


class ScriptAwareNLG(TemplatedNaturalLanguageGenerator):
    """Domain responses, converted to Traditional when the conversation is in Traditional."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        reply = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if reply is None:
            return None
        return convert_reply(reply, conversation_script(user_texts_newest_first(tracker)))
