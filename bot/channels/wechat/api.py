"""WeChat's server API, asynchronously: the access token and customer-service (客服) messages.

wechatpy's own client is synchronous (requests); the gateway is aiohttp, so these two calls are
made here with aiohttp against ``WECHAT_API_BASE_URL`` (a fake server in tests).

Access token. ``GET /cgi-bin/token`` returns a token valid ``expires_in`` seconds (7200). It is
cached and fetched again ``refresh_margin`` seconds before it expires; an ``asyncio.Lock`` makes
concurrent callers share one fetch (WeChat limits fetches per day, and every fetch starts a
five-minute grace period for the previous token). When WeChat still answers 40001/42001/40014
(token invalid or expired — e.g. another process fetched a new one), the token is dropped,
fetched again once, and the call retried once.

Errors. 45015 (the user has not written for 48 hours) and 43004 (the user does not follow the
account) are :class:`Unreachable`: no retry can help until the user writes again. Other error
codes and network trouble are :class:`WeChatApiError` (``retryable`` for network trouble and
WeChat's -1 "system busy"). The token is part of the URL: URLs are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

TOKEN_INVALID = {40001, 40014, 42001}
OUTSIDE_WINDOW = 45015
NOT_FOLLOWING = 43004
SYSTEM_BUSY = -1


class WeChatApiError(Exception):
    def __init__(self, message: str, errcode: int | None = None, *, retryable: bool = False):
        super().__init__(message)
        self.errcode = errcode
        self.retryable = retryable


class Unreachable(WeChatApiError):
    """WeChat refuses pushes to this user for now; ``reason`` is shown to staff."""

    def __init__(self, reason: str, errcode: int | None = None) -> None:
        super().__init__(reason, errcode)
        self.reason = reason


class WeChatApi:
    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: str,
        *,
        refresh_margin: float = 300.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self.secret = secret
        self.refresh_margin = refresh_margin
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None
        self.token_fetches = 0

    async def start(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=50), timeout=self.timeout
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        await self.start()
        assert self._session is not None
        try:
            async with self._session.request(method, self.base_url + path, **kwargs) as resp:
                if resp.status >= 400:
                    raise WeChatApiError(f"HTTP {resp.status}", retryable=resp.status >= 500)
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise WeChatApiError(f"network: {type(exc).__name__}", retryable=True) from exc
        except ValueError as exc:
            raise WeChatApiError("unreadable answer", retryable=True) from exc
        if not isinstance(data, dict):
            raise WeChatApiError("unreadable answer", retryable=True)
        return data

    # ------------------------------------------------------------------ access token
    def _valid(self) -> bool:
        return self._token is not None and self._clock() < self._expires_at - self.refresh_margin

    async def access_token(self) -> str:
        """The cached token, fetched (by one caller at a time) when missing or about to expire."""
        if self._valid():
            assert self._token is not None
            return self._token
        async with self._lock:
            if self._valid():  # fetched by another caller while this one waited
                assert self._token is not None
                return self._token
            data = await self._call(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
            token = data.get("access_token")
            if not token:
                code = data.get("errcode")
                # 40164: the server's IP is not on the account's whitelist (see the README).
                raise WeChatApiError(
                    f"token refused: {code} {data.get('errmsg', '')}",
                    code,
                    retryable=code == SYSTEM_BUSY,
                )
            self.token_fetches += 1
            self._token = str(token)
            self._expires_at = self._clock() + float(data.get("expires_in") or 7200)
            logger.info("WeChat access token fetched (valid %s s)", data.get("expires_in"))
            return self._token

    def _drop(self, token: str) -> None:
        """Forget ``token`` unless a newer one has already replaced it."""
        if self._token == token:
            self._token = None

    # ------------------------------------------------------------------ customer-service API
    async def send_text(self, openid: str, text: str) -> None:
        """One 客服 text message to ``openid`` (the caller keeps it within 2048 bytes)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._post_with_token("/cgi-bin/message/custom/send", body)

    async def _post_with_token(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.access_token()
            # UTF-8 as is: WeChat shows \uXXXX escapes literally in some APIs (wechatpy does
            # the same), and its byte limits count the characters as sent.
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            data = await self._call(
                "POST",
                path,
                params={"access_token": token},
                data=payload,
                headers={"Content-Type": "application/json; charset=utf-8"},
            )
            code = int(data.get("errcode") or 0)
            if code == 0:
                return data
            if code in TOKEN_INVALID and attempt == 1:
                logger.info(
                    "WeChat says the access token is invalid (%s); fetching a new one", code
                )
                self._drop(token)
                continue
            if code == OUTSIDE_WINDOW:
                raise Unreachable("outside_window", code)
            if code == NOT_FOLLOWING:
                raise Unreachable("unsubscribed", code)
            raise WeChatApiError(
                f"errcode {code}: {data.get('errmsg', '')}", code, retryable=code == SYSTEM_BUSY
            )
        raise AssertionError("unreachable")  # pragma: no cover
