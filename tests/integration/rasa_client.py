"""A minimal synchronous client for the running Rasa server (REST channel and HTTP API)."""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Dict, List


def _post(url: str, body: Dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


class RasaClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def say(self, sender: str, message: str) -> List[Dict[str, Any]]:
        return _post(f"{self.base_url}/webhooks/rest/webhook", {"sender": sender, "message": message})

    def parse(self, text: str) -> Dict[str, Any]:
        return _post(f"{self.base_url}/model/parse", {"text": text})

    def tracker(self, sender: str) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.base_url}/conversations/{sender}/tracker", timeout=30) as r:
            return json.loads(r.read())

    def event(self, sender: str, event: Dict[str, Any]) -> Any:
        return _post(f"{self.base_url}/conversations/{sender}/tracker/events", event)


def texts(replies: List[Dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)
