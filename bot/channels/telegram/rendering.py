"""Rasa reply items → Telegram API calls.

Rasa's REST channel answers with a list of items, each possibly holding ``text``, ``buttons``,
``image``, ``attachment`` or ``custom``. Every item must reach the user, so this module knows how
to render each kind and what to do with what it does not know (log and skip — never crash).

Texts are sent as plain text (no parse mode): replies contain user data and Chinese punctuation,
and a stray ``*`` or ``_`` must never turn into a Bot API "can't parse entities" error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from bot.channels import text_split
from bot.channels.telegram.callback_store import CallbackStore
from bot.channels.telegram.texts import Texts
from bot.channels.text_split import utf16_len

logger = logging.getLogger(__name__)

MAX_MESSAGE_UNITS = 4096  # Telegram's limit for one text message, counted in UTF-16 code units
MAX_CAPTION_UNITS = 1024


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Split ``text`` into Telegram messages of at most ``limit`` UTF-16 units (see text_split)."""
    return text_split.split_text(text, limit, utf16_len)


def _button_title(button: Mapping[str, Any]) -> str:
    return str(button.get("title") or button.get("payload") or "").strip()


def build_keyboard(
    buttons: Sequence[Mapping[str, Any]], store: CallbackStore
) -> InlineKeyboardMarkup | None:
    """An inline keyboard for Rasa buttons (``title`` + ``payload``, or ``url`` for links).

    Layout: one button per row when any title is long, else two per row (three for very short
    titles) so that menus of short choices (是 / 否, districts) stay compact on a phone.
    """
    made: list[InlineKeyboardButton] = []
    for button in buttons:
        if not isinstance(button, Mapping):
            continue
        title = _button_title(button)
        if not title:
            continue
        url = button.get("url")
        payload = str(button.get("payload") or "")
        if not url and payload.startswith(("http://", "https://")):
            url = payload
        if url:
            made.append(InlineKeyboardButton(title, url=str(url)))
        else:
            made.append(
                InlineKeyboardButton(title, callback_data=store.encode(payload or title, title))
            )
    if not made:
        return None
    longest = max(len(b.text) for b in made)
    per_row = 1 if longest > 8 else (3 if longest <= 4 and len(made) >= 3 else 2)
    rows = [made[i : i + per_row] for i in range(0, len(made), per_row)]
    return InlineKeyboardMarkup(rows)


class Renderer:
    """Sends reply items to one chat through a PTB ``Bot`` (whose rate limiter paces them)."""

    def __init__(self, bot: Any, store: CallbackStore, texts: Texts) -> None:
        self.bot = bot
        self.store = store
        self.texts = texts

    async def send_text(
        self, chat_id: int, text: str, buttons: Sequence[Mapping[str, Any]] | None = None
    ) -> int:
        """Send ``text`` (split as needed) with the keyboard on the last part; returns messages
        sent."""
        keyboard = build_keyboard(buttons, self.store) if buttons else None
        chunks = split_text(text) if text and text.strip() else []
        if not chunks and keyboard is not None:
            chunks = [self.texts.get("buttons_prompt")]
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self.bot.send_message(
                chat_id=chat_id,
                text=chunk,
                reply_markup=keyboard if last else None,
                disable_web_page_preview=True,
            )
        return len(chunks)

    async def send_photo(self, chat_id: int, url: str, caption: str | None = None) -> int:
        """Send a picture by URL; if Telegram cannot fetch it, send the link so nothing is lost."""
        cap = caption if caption and utf16_len(caption) <= MAX_CAPTION_UNITS else None
        try:
            await self.bot.send_photo(chat_id=chat_id, photo=url, caption=cap)
        except BadRequest as exc:
            logger.warning("send_photo to %s failed (%s); sending the link instead", chat_id, exc)
            return await self.send_text(chat_id, f"{caption}\n{url}" if caption else url)
        sent = 1
        if caption and cap is None:
            sent += await self.send_text(chat_id, caption)
        return sent

    async def send_item(self, chat_id: int, item: Mapping[str, Any]) -> int:
        """Render one Rasa reply item; returns how many Telegram messages it produced."""
        sent = 0
        text = item.get("text")
        buttons = item.get("buttons") or item.get("quick_replies")
        if (isinstance(text, str) and text.strip()) or buttons:
            sent += await self.send_text(chat_id, text if isinstance(text, str) else "", buttons)
        image = item.get("image")
        if isinstance(image, str) and image:
            sent += await self.send_photo(chat_id, image)
        attachment = item.get("attachment")
        if attachment:
            sent += await self._send_attachment(chat_id, attachment)
        custom = item.get("custom")
        if custom is not None:
            sent += await self._send_custom(chat_id, custom)
        if not sent and set(item) - {"recipient_id"}:
            logger.info("reply item with nothing to render skipped (keys: %s)", sorted(item))
        return sent

    async def send_items(
        self, chat_id: int, items: Iterable[Mapping[str, Any]], *, raise_errors: bool = False
    ) -> int:
        """Render every item in order. Interactive replies log Telegram errors and go on with the
        next item; push / outbox delivery passes ``raise_errors`` so the caller can report it."""
        total = 0
        for item in items:
            try:
                total += await self.send_item(chat_id, item)
            except TelegramError as exc:
                if raise_errors:
                    raise
                logger.warning("could not deliver a reply item to %s: %s", chat_id, exc)
        return total

    async def _send_attachment(self, chat_id: int, attachment: Any) -> int:
        url: str | None = None
        if isinstance(attachment, str):
            url = attachment
        elif isinstance(attachment, Mapping):
            payload = attachment.get("payload")
            url = attachment.get("url") or (
                payload.get("src") or payload.get("url") if isinstance(payload, Mapping) else None
            )
        if url:
            return await self.send_text(chat_id, str(url))
        logger.info("attachment of unknown shape skipped")
        return 0

    async def _send_custom(self, chat_id: int, custom: Any) -> int:
        """Custom payloads: ``text`` (+ ``buttons``), ``image``/``photo`` (+ ``caption``),
        ``location`` {latitude, longitude[, title, address]}, ``links`` [{title, url}]."""
        if not isinstance(custom, Mapping):
            logger.info("custom payload of type %s ignored", type(custom).__name__)
            return 0
        sent = 0
        text = custom.get("text")
        links = custom.get("links")
        link_buttons = (
            [
                {"title": link.get("title") or link.get("url"), "url": link.get("url")}
                for link in links
                if isinstance(link, Mapping) and link.get("url")
            ]
            if isinstance(links, list)
            else []
        )
        buttons = list(custom.get("buttons") or []) + link_buttons
        if (isinstance(text, str) and text.strip()) or buttons:
            sent += await self.send_text(chat_id, text if isinstance(text, str) else "", buttons)
        image = custom.get("image") or custom.get("photo")
        if isinstance(image, str) and image:
            sent += await self.send_photo(chat_id, image, custom.get("caption"))
        location = custom.get("location")
        if isinstance(location, Mapping):
            sent += await self._send_location(chat_id, location)
        if not sent:
            logger.info("custom payload with unknown shape ignored (keys: %s)", sorted(custom))
        return sent

    async def _send_location(self, chat_id: int, location: Mapping[str, Any]) -> int:
        try:
            lat, lon = float(location["latitude"]), float(location["longitude"])
        except (KeyError, TypeError, ValueError):
            logger.info("custom location without coordinates ignored")
            return 0
        title, address = location.get("title"), location.get("address")
        if title and address:
            await self.bot.send_venue(
                chat_id=chat_id, latitude=lat, longitude=lon, title=str(title), address=str(address)
            )
        else:
            await self.bot.send_location(chat_id=chat_id, latitude=lat, longitude=lon)
        return 1
