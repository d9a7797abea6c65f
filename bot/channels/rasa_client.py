"""The one client for Rasa: its REST channel for user messages and the HTTP API for the console.

    client = RasaClient("http://127.0.0.1:5005", token=settings.rasa_token())
    replies = await client.send("tg-42", "我想报到")      # list of {"text": …, "buttons": …}
    await client.pause("tg-42")                            # an agent takes the conversation
    await client.close()

Failure model — why retries are split by kind:

* connection refused/reset and HTTP 5xx mean Rasa did not (completely) handle the message: Rasa
  saves the tracker only after a turn succeeds, so sending again is safe. These are retried a few
  times with exponential backoff, then :class:`RasaUnavailable` is raised and the caller may queue
  the message for later.
* a read timeout means the outcome is unknown — Rasa may still be running a slow action such as
  booking an appointment. Re-sending could book twice, so :class:`RasaTimeout` is raised at once
  and the user is asked to resend if no answer comes. On Python 3.10 ``asyncio.TimeoutError`` is
  not the built-in ``TimeoutError``: both are caught.
* other HTTP errors (4xx) or a malformed body are not transient: :class:`RasaRejected`.

All three derive from :class:`RasaError`, so a caller that only needs "it failed" catches that.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

REST_PATH = "/webhooks/rest/webhook"


class RasaError(Exception):
    """Base class: Rasa could not handle the request."""


class RasaUnavailable(RasaError):
    """Rasa is down or failing (connection error / 5xx) after all attempts; safe to resend later."""


class RasaTimeout(RasaError):
    """Rasa did not answer in time; it may still process the message, so do not resend."""


class RasaRejected(RasaError):
    """Rasa refused the request (4xx or unreadable answer); resending would not help."""


class RasaClient:
    """Talks to one Rasa server (or the router in front of several)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        attempts: int = 3,
        backoff: float = 0.5,
        connect_timeout: float = 3.0,
        timeout: float = 30.0,
        domain_ttl: float = 300.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self.domain_ttl = domain_ttl
        self._session = session
        self._own_session = session is None
        self._domain: dict | None = None
        self._domain_at = 0.0

    @property
    def url(self) -> str:
        """The REST channel's address."""
        return self.base_url + REST_PATH

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            # Enough connections for many chats at once; Rasa serialises per conversation anyway.
            connector = aiohttp.TCPConnector(limit=100)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self.timeout)
            self._own_session = True

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            await self.start()
        assert self._session is not None
        return self._session

    # ------------------------------------------------------------------ the REST channel
    async def send(
        self,
        sender: str,
        message: str,
        metadata: dict[str, Any] | None = None,
        *,
        attempts: int | None = None,
    ) -> list[dict[str, Any]]:
        """Deliver ``message`` as ``sender``; returns Rasa's replies (``[]`` while the
        conversation is paused). ``attempts`` overrides the retry count (a background resend
        loop uses 1 so a still-down Rasa is not hammered)."""
        session = await self._http()
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        tries = self.attempts if attempts is None else max(1, attempts)
        last_error = "no attempt"
        for attempt in range(1, tries + 1):
            try:
                async with session.post(self.url, json=body, timeout=self.timeout) as resp:
                    if resp.status >= 500:
                        last_error = f"HTTP {resp.status}"
                    elif resp.status >= 400:
                        raise RasaRejected(f"HTTP {resp.status}")
                    else:
                        return _parse_items(await resp.json(content_type=None))
            except aiohttp.ServerTimeoutError as exc:
                # aiohttp 3.9 raises this both for "Connection timeout to host" (nothing was
                # sent: safe to retry) and for a socket read timeout (outcome unknown).
                if not str(exc).startswith("Connection timeout"):
                    raise RasaTimeout(str(exc)) from exc
                last_error = f"connect timeout: {exc}"
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise RasaTimeout(f"no answer within {self.timeout.total}s") from exc
            except aiohttp.ClientConnectionError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            except (aiohttp.ContentTypeError, ValueError) as exc:
                raise RasaRejected(f"unreadable answer: {exc}") from exc
            logger.warning(
                "Rasa attempt %d/%d for %s failed: %s", attempt, tries, sender, last_error
            )
            if attempt < tries:
                await asyncio.sleep(self.backoff * (2 ** (attempt - 1)))
        raise RasaUnavailable(last_error)

    # ------------------------------------------------------------------ the HTTP API (token)
    def _api_url(self, path: str) -> str:
        url = f"{self.base_url}{path}"
        if self.token:
            url += ("&" if "?" in url else "?") + "token=" + quote(self.token, safe="")
        return url

    async def _api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call, not retried (appending events twice would not be safe)."""
        session = await self._http()
        try:
            async with session.request(method, self._api_url(path), **kwargs) as resp:
                if resp.status >= 500:
                    raise RasaUnavailable(f"{method} {path}: HTTP {resp.status}")
                if resp.status >= 400:
                    body = await resp.text()
                    raise RasaRejected(f"{method} {path}: HTTP {resp.status} {body[:200]}")
                return await resp.json(content_type=None)
        except (asyncio.TimeoutError, TimeoutError) as exc:
            raise RasaTimeout(f"{method} {path}: no answer in time") from exc
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
        except ValueError as exc:
            raise RasaRejected(f"{method} {path}: unreadable answer") from exc

    @staticmethod
    def _conversation(sender_id: str) -> str:
        return "/conversations/" + quote(sender_id, safe="")

    async def append_event(self, sender_id: str, event: dict) -> dict:
        return await self._api(
            "POST", f"{self._conversation(sender_id)}/tracker/events", json=event
        )

    async def pause(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "pause"})

    async def resume(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "resume"})

    async def tracker(self, sender_id: str) -> dict:
        return await self._api("GET", f"{self._conversation(sender_id)}/tracker")

    async def predict(self, sender_id: str) -> dict:
        return await self._api("POST", f"{self._conversation(sender_id)}/predict")

    async def parse(self, text: str) -> dict:
        return await self._api("POST", "/model/parse", json={"text": text})

    async def domain(self) -> dict:
        """The model's domain as JSON, cached for ``domain_ttl`` seconds."""
        if self._domain is None or time.monotonic() - self._domain_at > self.domain_ttl:
            self._domain = await self._api("GET", "/domain", headers={"Accept": "application/json"})
            self._domain_at = time.monotonic()
        return self._domain


def _parse_items(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise RasaRejected(f"expected a JSON list, got {type(data).__name__}")
    return [item for item in data if isinstance(item, dict)]
