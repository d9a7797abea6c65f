"""Client for Rasa's REST channel (``POST /webhooks/rest/webhook``).

Failure model — why retries are split by kind:

* connection refused/reset and HTTP 5xx mean Rasa did not (completely) handle the message: Rasa
  saves the tracker only after a turn succeeds, so sending again is safe. These are retried a few
  times with exponential backoff, then :class:`RasaUnavailable` is raised and the caller queues the
  message for later.
* a read timeout means the outcome is unknown — Rasa may still be running a slow action such as
  booking an appointment. Re-sending could book twice, so :class:`RasaTimeout` is raised at once
  and the user is asked to resend if no answer comes.
* other HTTP errors (4xx) or a malformed body are not transient: :class:`RasaRejected`.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

import aiohttp

log = logging.getLogger(__name__)

REST_PATH = "/webhooks/rest/webhook"


class RasaError(Exception):
    """Base class: the message could not be handled by Rasa."""


class RasaUnavailable(RasaError):
    """Rasa is down or failing (connection error / 5xx) after all attempts; safe to resend later."""


class RasaTimeout(RasaError):
    """Rasa did not answer in time; it may still process the message, so do not resend."""


class RasaRejected(RasaError):
    """Rasa refused the request (4xx or unreadable answer); resending would not help."""


class RasaClient:
    """Sends one user message to Rasa and returns its reply items (a list of dicts)."""

    def __init__(
        self,
        base_url: str,
        *,
        attempts: int = 3,
        backoff: float = 0.5,
        connect_timeout: float = 3.0,
        timeout: float = 30.0,
        session: Optional[aiohttp.ClientSession] = None,
    ) -> None:
        self.url = base_url.rstrip("/") + REST_PATH
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._session = session
        self._own_session = session is None

    async def start(self) -> None:
        if self._session is None:
            # Enough connections for many chats at once; Rasa serialises per conversation anyway.
            connector = aiohttp.TCPConnector(limit=100)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
        self._session = None

    async def send(
        self,
        sender: str,
        message: str,
        metadata: Optional[dict[str, Any]] = None,
        *,
        attempts: Optional[int] = None,
    ) -> list[dict[str, Any]]:
        """Deliver ``message`` as ``sender``; ``attempts`` overrides the retry count (the
        background resend loop uses 1 so a still-down Rasa is not hammered)."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        tries = self.attempts if attempts is None else max(1, attempts)
        last_error = "no attempt"
        for attempt in range(1, tries + 1):
            try:
                async with self._session.post(self.url, json=body, timeout=self._timeout) as resp:
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
            except asyncio.TimeoutError as exc:
                raise RasaTimeout(f"no answer within {self._timeout.total}s") from exc
            except aiohttp.ClientConnectionError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            except (aiohttp.ContentTypeError, ValueError) as exc:
                raise RasaRejected(f"unreadable answer: {exc}") from exc
            log.warning("Rasa attempt %d/%d for %s failed: %s", attempt, tries, sender, last_error)
            if attempt < tries:
                await asyncio.sleep(self.backoff * (2 ** (attempt - 1)))
        raise RasaUnavailable(last_error)


def _parse_items(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        raise RasaRejected(f"expected a JSON list, got {type(data).__name__}")
    return [item for item in data if isinstance(item, dict)]
