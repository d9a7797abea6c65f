"""Rasa reply items → plain WeChat texts (≤ 2048 bytes each) and the numbered menu they offer.

WeChat text messages carry no buttons, pictures by URL or formatting, so every item becomes
text: buttons a numbered menu (see ``menu``), link buttons and pictures their address. Nothing
Rasa sends is dropped silently; unknown shapes are logged and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.channels.text_split import split_text, utf8_len
from bot.channels.wechat.menu import Choice
from bot.channels.wechat.texts import Texts

logger = logging.getLogger(__name__)

MESSAGE_BYTES = 2048
SEPARATOR = "\n\n"


@dataclass
class Rendered:
    messages: list[str] = field(default_factory=list)
    choices: list[Choice] = field(default_factory=list)


class Renderer:
    def __init__(self, texts: Texts, limit: int = MESSAGE_BYTES) -> None:
        self.texts = texts
        self.limit = limit

    def render(self, items: Iterable[Mapping[str, Any]], script: str | None = None) -> Rendered:
        out = Rendered()
        for item in items:
            parts = self._item_parts(item, out.choices, script)
            if not parts and set(item) - {"recipient_id"}:
                logger.info("reply item with nothing to render skipped (keys: %s)", sorted(item))
            text = "\n".join(parts).strip()
            if text.strip():
                out.messages.extend(split_text(text, self.limit, utf8_len))
        return out

    def plain(
        self,
        text: str,
        buttons: Sequence[Mapping[str, Any]] | None = None,
        script: str | None = None,
    ) -> Rendered:
        """A pushed text (console, action server) with optional buttons."""
        item: dict[str, Any] = {"text": text}
        if buttons:
            item["buttons"] = list(buttons)
        return self.render([item], script)

    def passive_and_rest(self, messages: list[str]) -> tuple[str | None, list[str]]:
        """A passive reply carries one message: all of them joined when that fits, else the
        first; the rest go out as customer-service messages."""
        if not messages:
            return None, []
        joined = SEPARATOR.join(messages)
        if utf8_len(joined) <= self.limit:
            return joined, []
        return messages[0], messages[1:]

    # ------------------------------------------------------------------ item kinds
    def _item_parts(
        self, item: Mapping[str, Any], choices: list[Choice], script: str | None
    ) -> list[str]:
        parts: list[str] = []
        text = item.get("text")
        if isinstance(text, str) and text.strip():
            parts.append(text.strip())
        buttons = item.get("buttons") or item.get("quick_replies")
        if isinstance(buttons, list) and buttons:
            parts.extend(self._menu(buttons, choices, script))
        image = item.get("image")
        if isinstance(image, str) and image:
            parts.append(image)
        attachment = item.get("attachment")
        if attachment:
            url = _attachment_url(attachment)
            if url:
                parts.append(url)
        custom = item.get("custom")
        if isinstance(custom, Mapping):
            parts.extend(self._custom(custom, choices, script))
        elif custom is not None:
            logger.info("custom payload of type %s ignored", type(custom).__name__)
        return parts

    def _menu(self, buttons: Sequence[Any], choices: list[Choice], script: str | None) -> list[str]:
        numbered: list[str] = []
        links: list[str] = []
        for button in buttons:
            if not isinstance(button, Mapping):
                continue
            title = str(button.get("title") or button.get("payload") or "").strip()
            payload = str(button.get("payload") or "").strip()
            url = button.get("url") or (
                payload if payload.startswith(("http://", "https://")) else None
            )
            if not title:
                continue
            if url:
                links.append(self.texts.get("link_line", script, title=title, url=url))
                continue
            choices.append(Choice(title, payload or title))
            numbered.append(self.texts.get("menu_line", script, number=len(choices), title=title))
        lines: list[str] = []
        if numbered:
            lines.append("")  # a blank line between the question and the menu
            lines.append(self.texts.get("menu_prompt", script))
            lines.extend(numbered)
        if links:
            lines.append("")
            lines.extend(links)
        return lines

    def _custom(
        self, custom: Mapping[str, Any], choices: list[Choice], script: str | None
    ) -> list[str]:
        """``text`` (+ ``buttons``), ``image``/``photo`` (+ ``caption``), ``links``."""
        parts: list[str] = []
        text = custom.get("text")
        if isinstance(text, str) and text.strip():
            parts.append(text.strip())
        buttons = list(custom.get("buttons") or [])
        links = custom.get("links")
        if isinstance(links, list):
            buttons += [
                {"title": link.get("title") or link.get("url"), "url": link.get("url")}
                for link in links
                if isinstance(link, Mapping) and link.get("url")
            ]
        if buttons:
            parts.extend(self._menu(buttons, choices, script))
        image = custom.get("image") or custom.get("photo")
        if isinstance(image, str) and image:
            caption = custom.get("caption")
            parts.append(f"{caption}\n{image}" if isinstance(caption, str) and caption else image)
        if not parts:
            logger.info("custom payload with unknown shape ignored (keys: %s)", sorted(custom))
        return parts


def _attachment_url(attachment: Any) -> str | None:
    if isinstance(attachment, str):
        return attachment
    if isinstance(attachment, Mapping):
        payload = attachment.get("payload")
        if attachment.get("url"):
            return str(attachment["url"])
        if isinstance(payload, Mapping):
            found = payload.get("src") or payload.get("url")
            return str(found) if found else None
    logger.info("attachment of unknown shape skipped")
    return None
