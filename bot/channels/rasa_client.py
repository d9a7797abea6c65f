"""The one client for Rasa: its REST channel for user messages and the HTTP API for the console.

    client = RasaClient("http://127.0.0.1:5005", token=settings.rasa_token())
    replies = await client.send("tg-42", "我想报到")      # list of {"text": …, "buttons": …}
    await client.pause("tg-42")                            # an agent takes the conversation
    await client.close()

Failure model — why retries are split by kind:

* connection refused/reset and HTTP 5xx mean Rasa did not (completely) handle the message, or
  handled it and died before answering. Every message carries a message id (the channel's own,
  else one made per ``send``) and every retry sends the same id: a Rasa server that finds the id
  already stored answers with the stored replies instead of handling it again
  (``bot/rasa_replay.py``), so sending again is safe. These are retried a few times with
  exponential backoff, then :class:`RasaUnavailable` is raised and the caller may queue the
  message for later (with its id, so a later resend is deduplicated too).
* a read timeout means the outcome is unknown — Rasa may still be running a slow action such as
  booking an appointment. Re-sending could book twice, so :class:`RasaTimeout` is raised at once
  and the user is asked to resend if no answer comes. On Python 3.10 ``asyncio.TimeoutError`` is
  not the built-in ``TimeoutError``: both are caught.
* other HTTP errors (4xx) or a malformed body are not transient: :class:`RasaRejected`.

All three derive from :class:`RasaError`, so a caller that only needs "it failed" catches that.

Several Rasa servers (``make run-cluster``): ``base_url`` may list them, comma-separated
(``RASA_URL=http://10.0.0.1:5005,http://10.0.0.2:5005``). Each sender is kept on one server by
rendezvous hashing (every client with the same list picks the same server, and removing a
server moves only its own senders). When the sender's server is unreachable or answers 5xx the
next attempt goes straight to the sender's next server, which is marked down for
``down_seconds`` so the following messages skip it. The servers share the tracker store (and a
Redis lock store), so the conversation continues there with its state.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
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
    """Talks to one Rasa server, or to several with each sender kept on one of them."""

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
        down_seconds: float = 10.0,
    ) -> None:
        self.servers = [url.strip().rstrip("/") for url in base_url.split(",") if url.strip()]
        self.base_url = self.servers[0]
        self.down_seconds = down_seconds
        self._down: dict[str, float] = {}
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
        """The REST channel's address (of the first server)."""
        return self.base_url + REST_PATH

    def servers_for(self, sender: str) -> list[str]:
        """The servers in the order ``sender`` tries them: rendezvous hashing, servers marked
        down last."""
        if len(self.servers) == 1:
            return self.servers

        def weight(server: str) -> bytes:
            return hashlib.blake2b(f"{server}|{sender}".encode(), digest_size=8).digest()

        ranked = sorted(self.servers, key=weight, reverse=True)
        now = time.monotonic()
        return sorted(ranked, key=lambda server: self._down.get(server, 0.0) > now)

    def _mark_down(self, server: str) -> None:
        if len(self.servers) > 1:
            self._down[server] = time.monotonic() + self.down_seconds

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
        message_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Deliver ``message`` as ``sender``; returns Rasa's replies (``[]`` while the
        conversation is paused). ``attempts`` overrides the retry count (a background resend
        loop uses 1 so a still-down Rasa is not hammered). ``message_id`` is the channel's id
        of the message (at most 64 of ``A-Za-z0-9_.:-``, unique per sender); without one a
        new id is made, the same for every attempt of this call."""
        session = await self._http()
        body = {
            "sender": sender,
            "message": message,
            "metadata": metadata or {},
            "message_id": message_id or uuid.uuid4().hex,
        }
        tries = self.attempts if attempts is None else max(1, attempts)
        last_error = "no attempt"
        servers = self.servers_for(sender)
        for attempt in range(1, tries + 1):
            server = servers[(attempt - 1) % len(servers)]
            try:
                async with session.post(
                    server + REST_PATH, json=body, timeout=self.timeout
                ) as resp:
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
                "Rasa attempt %d/%d for %s at %s failed: %s",
                attempt,
                tries,
                sender,
                server,
                last_error,
            )
            self._mark_down(server)
            # Straight on to the next server; wait only before trying one a second time.
            if attempt < tries and attempt % len(servers) == 0:
                await asyncio.sleep(self.backoff * (2 ** (attempt // len(servers) - 1)))
        raise RasaUnavailable(last_error)

    # ------------------------------------------------------------------ the HTTP API (token)
    def _api_url(self, path: str, server: str | None = None) -> str:
        url = f"{server or self.base_url}{path}"
        if self.token:
            url += ("&" if "?" in url else "?") + "token=" + quote(self.token, safe="")
        return url

    async def _api(self, method: str, path: str, sender: str | None = None, **kwargs: Any) -> Any:
        """One API call, not retried (appending events twice would not be safe); a call about
        one conversation goes to the sender's server, or to its next one when the connection
        cannot even be opened (nothing was sent)."""
        session = await self._http()
        servers = self.servers_for(sender) if sender is not None else self.servers
        for number, server in enumerate(servers, start=1):
            try:
                async with session.request(method, self._api_url(path, server), **kwargs) as resp:
                    if resp.status >= 500:
                        raise RasaUnavailable(f"{method} {path}: HTTP {resp.status}")
                    if resp.status >= 400:
                        body = await resp.text()
                        raise RasaRejected(f"{method} {path}: HTTP {resp.status} {body[:200]}")
                    return await resp.json(content_type=None)
            except aiohttp.ClientConnectorError as exc:
                self._mark_down(server)
                if number == len(servers):
                    raise RasaUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
            except (asyncio.TimeoutError, TimeoutError) as exc:
                raise RasaTimeout(f"{method} {path}: no answer in time") from exc
            except aiohttp.ClientError as exc:
                raise RasaUnavailable(f"{method} {path}: {exc.__class__.__name__}") from exc
            except ValueError as exc:
                raise RasaRejected(f"{method} {path}: unreadable answer") from exc
        raise RasaUnavailable(f"{method} {path}: no server")

    @staticmethod
    def _conversation(sender_id: str) -> str:
        return "/conversations/" + quote(sender_id, safe="")

    async def append_event(self, sender_id: str, event: dict) -> dict:
        return await self._api(
            "POST", f"{self._conversation(sender_id)}/tracker/events", sender_id, json=event
        )

    async def pause(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "pause"})

    async def resume(self, sender_id: str) -> dict:
        return await self.append_event(sender_id, {"event": "resume"})

    async def tracker(self, sender_id: str) -> dict:
        return await self._api("GET", f"{self._conversation(sender_id)}/tracker", sender_id)

    async def predict(self, sender_id: str) -> dict:
        return await self._api("POST", f"{self._conversation(sender_id)}/predict", sender_id)

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
