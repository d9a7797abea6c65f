"""python-telegram-bot callbacks: decide what of an update goes to Rasa, and as what.

Thin by design: no business logic here. A handler only decides whether the bot is addressed,
applies the channel's limits (rate, size), maps commands to Rasa intents and button presses to
their payloads, and hands the text to :class:`~bot.channels.telegram.relay.Relay`.

Message text is never logged (it may contain ID or phone numbers); only chat ids and lengths.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import Any

from telegram import Chat, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes, filters

from bot.channels.rate_limit import RateLimiter
from bot.channels.telegram.callback_store import CallbackStore
from bot.channels.telegram.relay import Relay
from bot.channels.telegram.texts import Texts

logger = logging.getLogger(__name__)

#: Telegram command → the message sent to Rasa ("/intent" is parsed by Rasa as that intent).
COMMAND_INTENTS = {
    "start": "/greet",
    "help": "/ask_capabilities",
    "human": "/request_human",
    "cancel": "/cancel",
}

#: Updates that are not text but come from a person: answered with ``unsupported_media``.
#: Service messages (members joining, pinned messages...) are deliberately not in this list.
MEDIA = (
    filters.Sticker.ALL
    | filters.PHOTO
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
)

_GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?(?:\s|$)")


class Handlers:
    """Callbacks bound to the gateway's shared services."""

    def __init__(
        self,
        relay: Relay,
        texts: Texts,
        limiter: RateLimiter,
        store: CallbackStore,
        *,
        max_message_chars: int = 1000,
        pressed_memory: int = 10000,
    ) -> None:
        self.relay = relay
        self.texts = texts
        self.limiter = limiter
        self.store = store
        self.max_message_chars = max_message_chars
        self.pressed_memory = pressed_memory
        self._pressed: OrderedDict[tuple[int, int], None] = OrderedDict()

    # ---- helpers -------------------------------------------------------------------------

    @staticmethod
    def metadata(chat: Chat, user_id: int | None, **extra: Any) -> dict[str, Any]:
        data: dict[str, Any] = {"channel": "telegram", "user_id": user_id, "chat_type": chat.type}
        data.update(extra)
        return data

    async def _reply(self, chat_id: int, key: str, **fields: Any) -> None:
        await self.relay.notify(chat_id, key, **fields)

    async def _allowed(self, chat_id: int, user_id: int) -> bool:
        decision = self.limiter.check(user_id)
        if decision.allowed:
            return True
        logger.info("rate limit hit by user %s in chat %s", user_id, chat_id)
        if decision.notify:
            await self._reply(chat_id, "rate_limited")
        return False

    @staticmethod
    def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
        """The text meant for the bot, or None when a group message is not addressed to it.

        Private chats: always the whole text. Groups: only when the bot is @mentioned (or
        mentioned by a text link) or the message replies to one of the bot's messages; the
        @mention itself is removed before forwarding.
        """
        text = message.text if message.text is not None else (message.caption or "")
        if message.chat.type not in _GROUP_TYPES:
            return text
        me = "@" + bot_username.lower() if bot_username else None
        mentioned = False
        spans: list[tuple[int, int]] = []
        parsed = (
            message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
            if message.text is not None
            else message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION])
        )
        for entity, value in parsed.items():
            if entity.type == MessageEntity.MENTION and me and value.lower() == me:
                mentioned = True
                spans.append((entity.offset, entity.length))
            elif (
                entity.type == MessageEntity.TEXT_MENTION
                and entity.user
                and entity.user.id == bot_id
            ):
                mentioned = True
        reply = message.reply_to_message
        replied = bool(reply and reply.from_user and reply.from_user.id == bot_id)
        if not (mentioned or replied):
            return None
        if spans:
            text = re.sub(r"[ \t]{2,}", " ", _remove_spans(text, spans))
        return text.strip()

    # ---- callbacks -----------------------------------------------------------------------

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start /help /human /cancel → the matching Rasa intent."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or not message.text:
            return
        match = _COMMAND_RE.match(message.text)
        intent = COMMAND_INTENTS.get(match.group(1).lower()) if match else None
        if intent is None:
            return
        user_id = user.id if user else chat.id
        if not await self._allowed(chat.id, user_id):
            return
        await self.relay.forward(
            chat.id,
            intent,
            self.metadata(chat, user_id, command=match.group(1).lower()),
            message_id=f"tg:{update.update_id}",
        )

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Free text (and unknown commands) from a person."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or chat.type == ChatType.CHANNEL:
            return
        bot = context.bot
        raw = message.text or ""
        command = _COMMAND_RE.match(raw)
        if command:
            target = command.group(2)
            if target and target.lower() != (bot.username or "").lower():
                return  # a command for another bot in the group
            if chat.type in _GROUP_TYPES and not target:
                return  # bare unknown command in a group: not necessarily for us
            user_id = user.id if user else chat.id
            if await self._allowed(chat.id, user_id):
                await self._reply(chat.id, "unknown_command")
            return
        text = self.addressed_text(message, bot.username or "", bot.id)
        if text is None:
            return
        user_id = user.id if user else chat.id
        if not await self._allowed(chat.id, user_id):
            return
        if not text:
            text = self.texts.get("empty_mention_message")
        if len(text) > self.max_message_chars:
            logger.info("message of %d chars from chat %s refused (too long)", len(text), chat.id)
            await self._reply(chat.id, "too_long", length=len(text), limit=self.max_message_chars)
            return
        await self.relay.forward(
            chat.id, text, self.metadata(chat, user_id), message_id=f"tg:{update.update_id}"
        )

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice... → explain that only text and buttons are understood."""
        message, chat, user = update.effective_message, update.effective_chat, update.effective_user
        if message is None or chat is None or chat.type == ChatType.CHANNEL:
            return
        if self.addressed_text(message, context.bot.username or "", context.bot.id) is None:
            return
        user_id = user.id if user else chat.id
        if await self._allowed(chat.id, user_id):
            await self._reply(chat.id, "unsupported_media")

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: acknowledge, remove the keyboard, send its payload to Rasa."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        chat = message.chat if message else None
        if chat is None:  # message too old to be shown to bots; we cannot know the chat
            await self._answer(query, self.texts.get("button_expired"))
            return
        user_id = query.from_user.id
        decision = self.limiter.check(user_id)
        if not decision.allowed:
            await self._answer(query, self.texts.get("rate_limited"))
            return
        key = (chat.id, message.message_id)
        if key in self._pressed:
            await self._answer(query, self.texts.get("button_used"))
            return
        choice = self.store.decode(query.data)
        if choice is None:
            await self._answer(query)
            await self._remove_keyboard(query)
            await self._reply(chat.id, "button_expired")
            return
        self._pressed[key] = None
        while len(self._pressed) > self.pressed_memory:
            self._pressed.popitem(last=False)
        title = choice.title or _title_on_message(message, query.data)
        await self._answer(query, self.texts.get("button_chosen", title=title) if title else None)
        await self._remove_keyboard(query)
        await self.relay.forward(
            chat.id,
            choice.payload,
            self.metadata(chat, user_id, button_title=title or None),
            message_id=f"tg:{update.update_id}",
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Last resort: log and carry on (PTB keeps running; the gateway must never crash)."""
        logger.error("error while handling an update", exc_info=context.error)

    @staticmethod
    async def _answer(query: Any, text: str | None = None) -> None:
        try:
            await query.answer(text=text)
        except TelegramError as exc:
            logger.info("answerCallbackQuery failed: %s", exc)

    @staticmethod
    async def _remove_keyboard(query: Any) -> None:
        try:
            await query.edit_message_reply_markup(reply_markup=None)
        except TelegramError as exc:  # e.g. "message is not modified", message deleted
            logger.info("editMessageReplyMarkup failed: %s", exc)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out entity spans given, as Telegram does, in UTF-16 code units."""
    data = text.encode("utf-16-le")
    for offset, length in sorted(spans, reverse=True):
        data = data[: offset * 2] + " ".encode("utf-16-le") + data[(offset + length) * 2 :]
    return data.decode("utf-16-le")


def _title_on_message(message: Message, data: str | None) -> str:
    """The title of the pressed button, read back from the keyboard it was on."""
    markup = message.reply_markup
    if markup is None or not data:
        return ""
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return ""
