"""A minimal synchronous client for the running Rasa server (REST channel and HTTP API)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


class RasaClient:
    """``token`` is Rasa's API token (the REST channel needs none; the API does)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.query = f"?token={urllib.parse.quote(token)}" if token else ""

    def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": message}
        return _post(f"{self.base_url}/webhooks/rest/webhook", body)

    def parse(self, text: str) -> dict[str, Any]:
        return _post(f"{self.base_url}/model/parse{self.query}", {"text": text})

    def tracker(self, sender: str) -> dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.base_url}/conversations/{sender}/tracker{self.query}", timeout=30
        ) as r:
            return json.loads(r.read())

    def event(self, sender: str, event: dict[str, Any]) -> Any:
        return _post(f"{self.base_url}/conversations/{sender}/tracker/events{self.query}", event)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)
