"""A fake Telegram Bot API server (aiohttp) for offline tests and the benchmark.

The REAL python-telegram-bot client talks to it (``ApplicationBuilder().base_url(api.base_url)``),
so the tests exercise PTB's request encoding, polling and object parsing, not a mock of them.
Every call is recorded as :class:`ApiCall`; ``inject()`` queues an update for ``getUpdates``
(long polling is honoured: a waiting poll returns as soon as an update arrives).

Builders at the bottom (``text_update``, ``callback_update``, ...) produce update dicts shaped
like Telegram's.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

#: Parameters PTB sends as plain strings (everything else is JSON-encoded by PTB).
STRING_PARAMS = {
    "text",
    "caption",
    "callback_query_id",
    "secret_token",
    "url",
    "photo",
    "title",
    "address",
    "inline_message_id",
    "parse_mode",
    "language_code",
    "document",
    "description",
    "name",
}

# Methods that return a Message, and the message field they fill.
_MESSAGE_METHODS = {
    "sendMessage",
    "sendPhoto",
    "sendLocation",
    "sendVenue",
    "sendDocument",
}


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeBotApi:
    """In-process Bot API: ``await api.start()``; ``api.base_url`` goes to PTB's ``base_url``."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_id: int = 777000111,
        username: str = "rongjun_test_bot",
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.calls: list[ApiCall] = []
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        #: chat_id → (error_code, description): sends to these chats fail like Telegram does.
        self.fail_chats: dict[int, tuple[int, str]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._polls = 0
        self.port: int | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self.port

    async def stop(self) -> None:
        async with self._changed:  # release long polls still waiting (client already gone)
            self._closing = True
            self._changed.notify_all()
        for _ in range(100):
            if not self._polls:
                break
            await asyncio.sleep(0.01)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "荣军助手",
            "username": self.username,
        }

    # ---- test helpers ------------------------------------------------------------------------

    async def inject(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigns ``update_id``)."""
        update = dict(update)
        update["update_id"] = next(self._update_ids)
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def calls_of(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def texts_to(self, chat_id: int) -> list[str]:
        """Texts of every sendMessage to ``chat_id``, in order."""
        return [c.params.get("text", "") for c in self.calls_of("sendMessage", chat_id)]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        where: Callable[[ApiCall], bool] | None = None,
    ) -> list[ApiCall]:
        """Wait until at least ``count`` matching calls were made; returns them."""

        def matching() -> list[ApiCall]:
            found = self.calls_of(method, chat_id)
            return [c for c in found if where(c)] if where else found

        async def waiter() -> list[ApiCall]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(matching()) >= count)
            return matching()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"expected {count} {method} call(s) to {chat_id}, got {len(matching())}: "
                f"{[c.params for c in self.calls_of(method, chat_id)]}"
            ) from None

    # ---- the API -----------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                raw.update(await request.json())
            else:
                post = await request.post()
                for key, value in post.items():
                    raw[key] = (
                        value if isinstance(value, str) else getattr(value, "filename", "file")
                    )
        params: dict[str, Any] = {}
        for key, value in raw.items():
            if isinstance(value, str) and key not in STRING_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            params[key] = value
        return params

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": code, "description": description}, status=code
        )

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        if method == "getUpdates":
            self._polls += 1
            try:
                return self._ok(await self._get_updates(params))
            finally:
                self._polls -= 1
        async with self._changed:
            self.calls.append(ApiCall(method, params))
            self._changed.notify_all()
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self.fail_chats:
            return self._error(*self.fail_chats[chat_id])
        handler = getattr(self, f"_m_{method}", None)
        if handler is not None:
            return self._ok(handler(params))
        if method in _MESSAGE_METHODS:
            return self._ok(self._message(params))
        return self._ok(True)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout > 0:
                try:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: bool(self._updates) or self._closing),
                        timeout,
                    )
                except asyncio.TimeoutError:
                    pass
            return [u for u in self._updates if u["update_id"] >= offset][:limit]

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat(chat_id),
            "from": self.bot_user,
        }
        if "text" in params:
            message["text"] = params["text"]
        if "photo" in params:
            message["photo"] = [
                {"file_id": "photo1", "file_unique_id": "u1", "width": 10, "height": 10}
            ]
            if params.get("caption"):
                message["caption"] = params["caption"]
        if "latitude" in params:
            message["location"] = {"latitude": params["latitude"], "longitude": params["longitude"]}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands = list(params.get("commands") or [])
        return True

    def _m_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        message = self.messages.get(key)
        if message is None:
            return True
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message


# ---- update builders ---------------------------------------------------------------------------

_ids = itertools.count(1)


def _chat(chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
    kind = chat_type or ("private" if chat_id > 0 else "supergroup")
    chat: dict[str, Any] = {"id": chat_id, "type": kind}
    if kind == "private":
        chat["first_name"] = "老兵"
    else:
        chat["title"] = "荣军群"
    return chat


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "老兵", "language_code": "zh-hans"}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _message(
    chat_id: int, user_id: int | None, chat_type: str | None, **fields: Any
) -> dict[str, Any]:
    return {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id, chat_type),
        "from": _user(user_id if user_id is not None else chat_id),
        **fields,
    }


def text_update(
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    chat_type: str | None = None,
    mention: str | None = None,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A message update. ``mention="@bot"`` adds a mention entity for that text inside ``text``;
    commands (text starting with /) get a bot_command entity as Telegram adds one."""
    entities = []
    if text.startswith("/"):
        word = text.split()[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(word)})
    if mention:
        at = text.index(mention)
        entities.append(
            {"type": "mention", "offset": utf16_len(text[:at]), "length": utf16_len(mention)}
        )
    fields: dict[str, Any] = {"text": text}
    if entities:
        fields["entities"] = entities
    if reply_to is not None:
        fields["reply_to_message"] = reply_to
    return {"message": _message(chat_id, user_id, chat_type, **fields)}


def media_update(
    chat_id: int, kind: str, *, user_id: int | None = None, chat_type: str | None = None
) -> dict[str, Any]:
    """sticker / photo / voice / video / document / location message."""
    samples: dict[str, Any] = {
        "sticker": {
            "sticker": {
                "file_id": "st1",
                "file_unique_id": "su1",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        "photo": {
            "photo": [{"file_id": "ph1", "file_unique_id": "pu1", "width": 90, "height": 90}]
        },
        "voice": {"voice": {"file_id": "vo1", "file_unique_id": "vu1", "duration": 3}},
        "video": {
            "video": {
                "file_id": "vi1",
                "file_unique_id": "viu1",
                "width": 1,
                "height": 1,
                "duration": 1,
            }
        },
        "document": {"document": {"file_id": "do1", "file_unique_id": "du1", "file_name": "a.pdf"}},
        "location": {"location": {"latitude": 36.07, "longitude": 120.38}},
    }
    return {"message": _message(chat_id, user_id, chat_type, **samples[kind])}


def service_update(chat_id: int) -> dict[str, Any]:
    """A member joined a group: a service message that must get no answer."""
    return {"message": _message(chat_id, None, None, new_chat_members=[_user(4242)])}


def callback_update(
    message: dict[str, Any], data: str, *, user_id: int | None = None
) -> dict[str, Any]:
    """A press of the button with ``data`` on a message the bot sent (as returned by the fake)."""
    chat_id = message["chat"]["id"]
    return {
        "callback_query": {
            "id": str(next(_ids)),
            "from": _user(user_id if user_id is not None else chat_id),
            "chat_instance": f"ci{chat_id}",
            "message": message,
            "data": data,
        }
    }
