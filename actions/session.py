"""A new session keeps what spares the user a question, and forgets their personal data.

Rasa's default session start carries over every slot or none. A veteran who comes back
tomorrow should not be asked again whether they are a 退役士兵 in 李沧区, but a half-finished
form must not keep their name, phone or (encrypted) ID number into the next session.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.forms_common import KEEP_ON_STOP


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        carried = [
            SlotSet(slot, value)
            for slot, value in tracker.current_slot_values().items()
            if slot in KEEP_ON_STOP and value is not None
        ]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
