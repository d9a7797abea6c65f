"""A minimal synchronous client for the running Rasa server (REST channel and HTTP API)."""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional


def _post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


class RasaClient:
    """``token`` is Rasa's API token (the REST channel needs none; the API does)."""

    def __init__(self, base_url: str, token: Optional[str] = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.query = f"?token={urllib.parse.quote(token)}" if token else ""

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        return _post(f"{self.base_url}/webhooks/rest/webhook", {"sender": sender, "message": message})

    def parse(self, text: str) -> Dict[str, Any]:
        return _post(f"{self.base_url}/model/parse{self.query}", {"text": text})

    def tracker(self, sender: str) -> Dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.base_url}/conversations/{sender}/tracker{self.query}", timeout=30
        ) as r:
            return json.loads(r.read())

    def event(self, sender: str, event: Dict[str, Any]) -> Any:
        return _post(f"{self.base_url}/conversations/{sender}/tracker/events{self.query}", event)


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)
