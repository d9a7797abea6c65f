"""A small stand-in for the Rasa server (unit level only; the e2e suite uses the real Rasa).

Implements what the console calls — REST channel webhook, tracker events (pause/resume),
tracker, predict, /model/parse, /domain — with a keyword "NLU", and publishes every tracker
event like Rasa's SQL event broker does: a row ``events(id, sender_id, data JSON)`` in a SQLite
file. Run standalone for manual/e2e debugging::

    python -m tests.console.fake_rasa --port 5999 --events-db /tmp/rasa_events.db
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from aiohttp import web

RULES = [  # (keyword, intent, reply, entities)
    ("人工", "request_human", "好的，正在为您转接人工客服，请稍候。", []),
    (
        "不想活",
        "crisis",
        "您的安全最重要。请立即拨打 110 或心理援助热线 12356，我们正在为您转接人工。",
        [],
    ),
    ("你好", "greet", "您好！我是荣军助手，请问有什么可以帮您？", []),
    (
        "荣军卡",
        "ask_benefit",
        "荣军卡是青岛市为退役军人提供的优待服务卡。",
        [{"entity": "benefit", "value": "荣军卡"}],
    ),
    ("补助", "ask_allowance", "抚恤补助按《军人抚恤优待条例》执行。", []),
    ("报到", "ask_reporting_process", "退役士兵应在退出现役之日起 30 日内报到。", []),
]
FALLBACK_TEXT = "抱歉，我没有听懂。您可以换个说法，或说“我要人工”。"
DOMAIN = {
    "responses": {
        "utter_greet": [{"text": "您好！我是荣军助手，请问有什么可以帮您？"}],
        "utter_ask_category": [
            {"text": "请问您是哪一类优抚对象？（当前已知：{veteran_category}）"}
        ],
        "utter_default": [{"text": FALLBACK_TEXT}],
    }
}
GREET_BUTTONS = [
    {"title": "荣军卡", "payload": '/ask_benefit{"benefit":"荣军卡"}'},
    {"title": "我要人工", "payload": "/request_human"},
]


def parse(text: str) -> dict:
    for keyword, intent, _reply, entities in RULES:
        if keyword in text:
            ranking = [
                {"name": intent, "confidence": 0.93},
                {"name": "ask_allowance", "confidence": 0.04},
            ]
            return {
                "text": text,
                "intent": ranking[0],
                "entities": entities,
                "intent_ranking": ranking,
            }
    if text.startswith("/"):
        intent = text[1:].split("{")[0]
        return {
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [],
            "intent_ranking": [{"name": intent, "confidence": 1.0}],
        }
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_allowance", "confidence": 0.25},
    ]
    return {"text": text, "intent": ranking[0], "entities": [], "intent_ranking": ranking}


class FakeRasa:
    def __init__(self, events_db: Path | None = None, token: str | None = None):
        self.events_db = events_db
        self.token = token
        self.trackers: dict[str, dict] = {}
        self.calls: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.down = False  # answer 503 to everything
        self.next_action: str | None = None  # override predict
        if events_db is not None:
            with sqlite3.connect(events_db) as conn:  # same table Rasa's SQLEventBroker creates
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL PRIMARY KEY, "
                    "sender_id VARCHAR(255), data TEXT)"
                )

    # ------------------------------------------------------------------ state
    def tracker(self, sender: str) -> dict:
        return self.trackers.setdefault(
            sender,
            {"sender_id": sender, "slots": {}, "events": [], "paused": False, "latest_message": {}},
        )

    def publish(self, sender: str, event: dict) -> None:
        event = dict(event, timestamp=event.get("timestamp", time.time()))
        self.tracker(sender)["events"].append(event)
        if self.events_db is not None:
            body = {"sender_id": sender, **event}
            with sqlite3.connect(self.events_db) as conn:
                conn.execute(
                    "INSERT INTO events (sender_id, data) VALUES (?, ?)", (sender, json.dumps(body))
                )

    def calls_to(self, suffix: str) -> list:
        return [c for c in self.calls if c[1].endswith(suffix)]

    # ------------------------------------------------------------------ http
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_post("/conversations/{sid}/tracker/events", self.append_events)
        app.router.add_get("/conversations/{sid}/tracker", self.get_tracker)
        app.router.add_post("/conversations/{sid}/predict", self.predict)
        app.router.add_post("/model/parse", self.model_parse)
        app.router.add_get("/domain", self.domain)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        body = await request.json() if request.can_read_body else None
        self.calls.append((request.method, request.path, body))
        if self.down:
            return web.json_response({"error": "down"}, status=503)
        if (
            self.token
            and request.path != "/webhooks/rest/webhook"
            and request.query.get("token") != self.token
        ):
            return web.json_response({"error": "auth"}, status=401)
        return await handler(request)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        tracker = self.tracker(sender)
        parsed = parse(text)
        tracker["latest_message"] = parsed
        self.publish(
            sender,
            {
                "event": "user",
                "text": text,
                "parse_data": parsed,
                "input_channel": "rest",
                "metadata": body.get("metadata") or {},
            },
        )
        if tracker["paused"]:
            return web.json_response([])
        intent = parsed["intent"]["name"]
        reply = next((r for _k, i, r, _e in RULES if i == intent), FALLBACK_TEXT)
        if intent == "nlu_fallback":
            self.publish(sender, {"event": "action", "name": "action_default_fallback"})
        buttons = GREET_BUTTONS if intent == "greet" else []
        self.publish(
            sender, {"event": "bot", "text": reply, "data": {"buttons": buttons} if buttons else {}}
        )
        self.publish(sender, {"event": "action", "name": "action_listen"})
        out = {"recipient_id": sender, "text": reply}
        if buttons:
            out["buttons"] = buttons
        return web.json_response([out])

    async def append_events(self, request: web.Request) -> web.Response:
        sender = request.match_info["sid"]
        body = await request.json()
        for event in body if isinstance(body, list) else [body]:
            if event.get("event") == "pause":
                self.tracker(sender)["paused"] = True
            elif event.get("event") == "resume":
                self.tracker(sender)["paused"] = False
            self.publish(sender, event)
        return web.json_response(self.tracker(sender))

    async def get_tracker(self, request: web.Request) -> web.Response:
        return web.json_response(self.tracker(request.match_info["sid"]))

    async def predict(self, request: web.Request) -> web.Response:
        tracker = self.tracker(request.match_info["sid"])
        intent = (tracker.get("latest_message") or {}).get("intent", {}).get("name")
        action = self.next_action or {"greet": "utter_greet", "nlu_fallback": "utter_default"}.get(
            intent, "action_listen"
        )
        scores = [{"action": action, "score": 0.9}, {"action": "action_listen", "score": 0.05}]
        return web.json_response(
            {"scores": scores, "policy": "RulePolicy", "confidence": 0.9, "tracker": tracker}
        )

    async def model_parse(self, request: web.Request) -> web.Response:
        return web.json_response(parse((await request.json())["text"]))

    async def domain(self, request: web.Request) -> web.Response:
        if not request.headers.get("Accept", "").endswith("json"):
            return web.json_response({"error": "NotAcceptable"}, status=406)
        return web.json_response(DOMAIN)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5999)
    parser.add_argument("--events-db", type=Path, required=True)
    args = parser.parse_args()
    web.run_app(FakeRasa(args.events_db).app(), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
