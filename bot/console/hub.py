"""In-process hub: turns Rasa events into live conversations and fans them out over websockets.

* ``handle_event(event, live)`` is the event source's handler. It keeps the recent messages of
  each conversation (bounded), tells connected agents (``/ws``) and detects handoff triggers on
  live user turns: intent ``crisis`` with the crisis gate's ``crisis_kind`` entity → "crisis",
  ``request_human`` → "human", two fallback turns
  in a row → "fallback". Triggers go to ``on_trigger(sender_id, reason, text)``.
* Web-chat users' sockets (``/chat/ws``) are registered here too, so agent replies and pushes
  reach the right browser tab(s).
Raw texts stay in memory; everything sent to agents is masked by ``serialise_*``.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bot.console.texts import t
from bot.core import people

logger = logging.getLogger(__name__)

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = {"action_default_fallback", "action_two_stage_fallback", "utter_default"}
TRIGGER_INTENTS = {"crisis": "crisis", "request_human": "human"}


def channel_of(sender_id: str) -> str:
    if sender_id.startswith("tg-"):
        return "tg"
    if sender_id.startswith("web-"):
        return "web"
    if sender_id.startswith("wx-"):
        return "wx"
    return "other"


@dataclass
class Message:
    kind: str  # user | bot | agent | system
    text: str
    ts: float
    intent: str | None = None
    confidence: float | None = None
    buttons: list = field(default_factory=list)
    agent: str | None = None
    entities: list = field(default_factory=list)


@dataclass
class Conversation:
    sender_id: str
    messages: deque[Message]
    last_activity: float = 0.0
    paused: bool = False
    fallback_streak: int = 0
    turn_fell_back: bool = False
    latest_intent: str | None = None
    latest_user_text: str = ""
    input_channel: str | None = None

    @property
    def channel(self) -> str:
        return channel_of(self.sender_id)


def clock_text(ts: float) -> str:
    from bot.console.kit import local_tz

    return datetime.fromtimestamp(ts, local_tz()).strftime("%m-%d %H:%M:%S")


def serialise_message(sender_id: str, msg: Message) -> dict:
    return {
        "sender_id": sender_id,
        "kind": msg.kind,
        "text": people.mask_text(msg.text),
        "ts": msg.ts,
        "time": clock_text(msg.ts),
        "intent": msg.intent,
        "confidence": None if msg.confidence is None else round(float(msg.confidence), 3),
        "buttons": [
            {"title": b.get("title", ""), "payload": b.get("payload", "")} for b in msg.buttons
        ],
        "agent": msg.agent,
    }


def serialise_conversation(conv: Conversation, *, with_messages: bool = False) -> dict:
    last = conv.messages[-1] if conv.messages else None
    data = {
        "sender_id": conv.sender_id,
        "channel": conv.channel,
        "channel_label": t(f"channels.{conv.channel}"),
        "last_activity": conv.last_activity,
        "time": clock_text(conv.last_activity) if conv.last_activity else "",
        "paused": conv.paused,
        "latest_intent": conv.latest_intent,
        "preview": people.mask_text(last.text)[:60] if last else "",
        "count": len(conv.messages),
    }
    if with_messages:
        data["messages"] = [serialise_message(conv.sender_id, m) for m in conv.messages]
    return data


Trigger = Callable[[str, str, str], Awaitable[None]]


class Hub:
    def __init__(
        self,
        *,
        max_conversations: int = 500,
        max_messages: int = 300,
        on_trigger: Trigger | None = None,
    ):
        self.max_conversations = max_conversations
        self.max_messages = max_messages
        self.on_trigger = on_trigger
        self.conversations: OrderedDict[str, Conversation] = OrderedDict()
        self.agent_sockets: set[web.WebSocketResponse] = set()
        self.web_sockets: dict[str, set[web.WebSocketResponse]] = {}
        self.events_seen = 0

    # ------------------------------------------------------------ conversations
    def conversation(self, sender_id: str, *, create: bool = False) -> Conversation | None:
        conv = self.conversations.get(sender_id)
        if conv is None and create:
            conv = Conversation(sender_id, deque(maxlen=self.max_messages))
            self.conversations[sender_id] = conv
            while len(self.conversations) > self.max_conversations:
                self.conversations.popitem(last=False)
        return conv

    def _touch(self, conv: Conversation, ts: float) -> None:
        conv.last_activity = max(conv.last_activity, ts)
        self.conversations.move_to_end(conv.sender_id)

    def summaries(self, limit: int = 200) -> list[dict]:
        convs = sorted(self.conversations.values(), key=lambda c: c.last_activity, reverse=True)
        return [serialise_conversation(c) for c in convs[:limit]]

    def load_history(
        self, sender_id: str, events: list[dict], agent_messages: list[tuple] = ()
    ) -> Conversation:
        """Fill a conversation from a Rasa tracker dump plus the agents' stored replies
        (``(ts, agent, text)``), used when it is not in memory (e.g. after a console restart)."""
        conv = self.conversation(sender_id, create=True)
        if not conv.messages:
            for event in events:
                self._apply(sender_id, conv, event, live=False)
            if agent_messages:
                merged = list(conv.messages) + [
                    Message("agent", text, ts, agent=agent) for ts, agent, text in agent_messages
                ]
                conv.messages.clear()
                conv.messages.extend(sorted(merged, key=lambda m: m.ts)[-self.max_messages :])
                self._touch(conv, conv.messages[-1].ts)
        return conv

    # ------------------------------------------------------------ events
    async def handle_event(self, event: dict, live: bool = True) -> None:
        sender_id = event.get("sender_id")
        if not sender_id:
            return
        self.events_seen += 1
        conv = self.conversation(sender_id, create=True)
        message, trigger = self._apply(sender_id, conv, event, live=live)
        if message is not None:
            await self.broadcast(
                {
                    "type": "message",
                    "message": serialise_message(sender_id, message),
                    "conversation": serialise_conversation(conv),
                }
            )
        elif event.get("event") in ("pause", "resume"):
            await self.broadcast(
                {"type": "conversation", "conversation": serialise_conversation(conv)}
            )
        if trigger and live and self.on_trigger is not None:
            try:
                await self.on_trigger(sender_id, trigger, conv.latest_user_text)
            except Exception:
                logger.exception("console: handoff trigger failed")

    def _apply(self, sender_id: str, conv: Conversation, event: dict, *, live: bool):
        kind = event.get("event")
        ts = float(event.get("timestamp") or time.time())
        message: Message | None = None
        trigger: str | None = None
        if kind == "user" and (event.get("metadata") or {}).get("replayed"):
            # the crisis follow-up re-sends a message once the person changes topic: shown once
            return None, None
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = (parse.get("intent") or {}).get("name")
            confidence = (parse.get("intent") or {}).get("confidence")
            text = event.get("text") or ""
            message = Message(
                "user",
                text,
                ts,
                intent=intent,
                confidence=confidence,
                entities=list(parse.get("entities") or []),
            )
            conv.latest_intent = intent
            conv.latest_user_text = text
            conv.input_channel = event.get("input_channel") or conv.input_channel
            if not conv.turn_fell_back:  # the previous turn was understood: start counting again
                conv.fallback_streak = 0
            conv.turn_fell_back = False
            if intent == FALLBACK_INTENT:
                conv.fallback_streak += 1
                conv.turn_fell_back = True
            if intent == "crisis" and not any(
                e.get("entity") == "crisis_kind" for e in message.entities
            ):
                # the classifier's guess alone: the bot asks a gentle check question first and
                # the action server queues the handoff on a yes
                trigger = None
            elif intent in TRIGGER_INTENTS:
                trigger = TRIGGER_INTENTS[intent]
            elif conv.fallback_streak >= 2:
                trigger = "fallback"
        elif kind == "action" and event.get("name") in FALLBACK_ACTIONS:
            if not conv.turn_fell_back:
                conv.turn_fell_back = True
                conv.fallback_streak += 1
                if conv.fallback_streak >= 2:
                    trigger = "fallback"
        elif kind == "bot":
            data = event.get("data") or {}
            text = event.get("text") or ""
            buttons = list(data.get("buttons") or [])
            metadata = event.get("metadata") or {}
            if text or buttons:
                message = Message("bot", text, ts, buttons=buttons, agent=metadata.get("agent"))
        elif kind == "pause":
            conv.paused = True
            message = Message("system", t("hub.paused"), ts)
        elif kind == "resume":
            conv.paused = False
            conv.fallback_streak = 0
            message = Message("system", t("hub.resumed"), ts)
        elif kind == "restart":
            conv.paused = False
            conv.fallback_streak = 0
            message = Message("system", t("hub.restarted"), ts)
        if message is not None:
            conv.messages.append(message)
        if kind in ("user", "bot", "pause", "resume", "restart", "session_started"):
            self._touch(conv, ts)
        if trigger == "fallback":
            conv.fallback_streak = 0  # one request per two misses
        return message, trigger

    async def add_agent_message(
        self, sender_id: str, agent: str, text: str, status: str, ts: float | None = None
    ) -> dict:
        conv = self.conversation(sender_id, create=True)
        msg = Message("agent", text, ts or time.time(), agent=agent)
        conv.messages.append(msg)
        self._touch(conv, msg.ts)
        data = serialise_message(sender_id, msg)
        data["status"] = status
        await self.broadcast(
            {"type": "message", "message": data, "conversation": serialise_conversation(conv)}
        )
        return data

    # ------------------------------------------------------------ sockets
    async def broadcast(self, payload: dict) -> None:
        for ws in list(self.agent_sockets):
            if ws.closed:
                self.agent_sockets.discard(ws)
                continue
            try:
                await ws.send_json(payload)
            except (ConnectionError, RuntimeError):
                self.agent_sockets.discard(ws)

    def add_web_socket(self, sender_id: str, ws: web.WebSocketResponse) -> None:
        self.web_sockets.setdefault(sender_id, set()).add(ws)

    def remove_web_socket(self, sender_id: str, ws: web.WebSocketResponse) -> None:
        sockets = self.web_sockets.get(sender_id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                self.web_sockets.pop(sender_id, None)

    def web_connected(self, sender_id: str) -> bool:
        return any(not ws.closed for ws in self.web_sockets.get(sender_id, ()))

    def connected_web_ids(self) -> list[str]:
        return [sid for sid in list(self.web_sockets) if self.web_connected(sid)]

    async def send_web(self, sender_id: str, payload: dict) -> bool:
        """Send to every open tab of a web-chat user; True if at least one got it."""
        delivered = False
        for ws in list(self.web_sockets.get(sender_id, ())):
            if ws.closed:
                continue
            try:
                await ws.send_json(payload)
                delivered = True
            except (ConnectionError, RuntimeError):
                continue
        return delivered

    async def close_all(self) -> None:
        for ws in list(self.agent_sockets) + [w for s in self.web_sockets.values() for w in s]:
            await ws.close(code=1001, message=b"server shutdown")
