"""The few Rasa HTTP API calls the console needs (Rasa runs with ``--enable-api``)."""
from __future__ import annotations

import time
from typing import Any, Optional
from urllib.parse import quote

import aiohttp


class RasaError(RuntimeError):
    """Rasa could not be reached or answered with an error."""


class RasaClient:
    def __init__(self, base_url: str, token: Optional[str] = None, *, timeout: float = 15.0, domain_ttl: float = 300.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.domain_ttl = domain_ttl
        self._session: Optional[aiohttp.ClientSession] = None
        self._domain: Optional[dict] = None
        self._domain_at = 0.0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    def _url(self, path: str, *, api: bool = True) -> str:
        url = f"{self.base_url}{path}"
        if api and self.token:
            url += ("&" if "?" in url else "?") + "token=" + quote(self.token, safe="")
        return url

    async def _request(self, method: str, path: str, *, api: bool = True, **kwargs) -> Any:
        try:
            async with self._http().request(method, self._url(path, api=api), **kwargs) as resp:
                if resp.status >= 400:
                    body = await resp.text()
                    raise RasaError(f"{method} {path}: HTTP {resp.status} {body[:200]}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RasaError(f"{method} {path}: {exc.__class__.__name__}") from exc

    @staticmethod
    def _conv(sender_id: str) -> str:
        return quote(sender_id, safe="")

    # -- channel
    async def send_message(self, sender_id: str, text: str, metadata: Optional[dict] = None) -> list[dict]:
        """POST to the REST channel; returns Rasa's replies (``[]`` while the conversation is paused)."""
        body = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        replies = await self._request("POST", "/webhooks/rest/webhook", api=False, json=body)
        return replies if isinstance(replies, list) else []

    # -- conversations API
    async def append_event(self, sender_id: str, event: dict) -> dict:
        return await self._request("POST", f"/conversations/{self._conv(sender_id)}/tracker/events", json=event)

    async def pause(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "pause"})

    async def resume(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "resume"})

    async def tracker(self, sender_id: str) -> dict:
        return await self._request("GET", f"/conversations/{self._conv(sender_id)}/tracker")

    async def predict(self, sender_id: str) -> dict:
        return await self._request("POST", f"/conversations/{self._conv(sender_id)}/predict")

    async def parse(self, text: str) -> dict:
        return await self._request("POST", "/model/parse", json={"text": text})

    async def domain(self) -> dict:
        """The model's domain as JSON, cached for ``domain_ttl`` seconds."""
        if self._domain is None or time.monotonic() - self._domain_at > self.domain_ttl:
            self._domain = await self._request("GET", "/domain", headers={"Accept": "application/json"})
            self._domain_at = time.monotonic()
        return self._domain
