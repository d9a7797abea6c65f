"""Messages from the inside to a WeChat user: customer-service (客服) messages.

Used for the rest of a turn that did not fit in the passive reply, for replies Rasa gave after
the 5-second window, for agent replies from the console (``POST /push``) and for reminders from
the outbox. Pushes that are not answers to a message just received are checked against the
48-hour window first (:class:`ContactWindow`); WeChat's own refusal (45015) counts the same.
"""

from __future__ import annotations

import logging
import re

from bot.channels.wechat.api import Unreachable, WeChatApi, WeChatApiError
from bot.channels.wechat.contact_window import ContactWindow
from bot.core.outbox_delivery import DeliveryFailed

logger = logging.getLogger(__name__)

SENDER_PREFIX = "wx-"
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")


def sender_id(openid: str) -> str:
    return SENDER_PREFIX + openid


def parse_recipient(recipient: object) -> str | None:
    """``wx-<openid>`` → openid; None for anything else."""
    if not isinstance(recipient, str) or not recipient.startswith(SENDER_PREFIX):
        return None
    openid = recipient[len(SENDER_PREFIX) :]
    return openid if _OPENID.match(openid) else None


class Pusher:
    def __init__(self, api: WeChatApi, window: ContactWindow) -> None:
        self.api = api
        self.window = window

    async def send(self, openid: str, messages: list[str], *, check_window: bool = True) -> int:
        """Send ``messages`` in order; raises Unreachable (window closed, unfollowed) or
        WeChatApiError. ``check_window=False`` for answers to a message just received."""
        if check_window:
            reason = await self.window.closed_reason(sender_id(openid))
            if reason is not None:
                raise Unreachable(reason)
        sent = 0
        for message in messages:
            await self.api.send_text(openid, message)
            sent += 1
        return sent

    async def send_quietly(self, openid: str, messages: list[str]) -> None:
        """Follow-ups of an answer: failures are logged (the user may simply write again)."""
        try:
            await self.send(openid, messages, check_window=False)
        except WeChatApiError as exc:
            logger.warning("follow-up to %s not delivered: %s", sender_id(openid), exc)

    async def deliver_outbox(self, recipient: str, messages: list[str]) -> None:
        """One outbox row (rendered into ``messages``); raises DeliveryFailed on failure."""
        openid = parse_recipient(recipient)
        if openid is None:
            raise DeliveryFailed(f"recipient {recipient!r} is not wx-<openid>", final=True)
        try:
            await self.send(openid, messages)
        except Unreachable as exc:
            raise DeliveryFailed(exc.reason, final=True) from exc
        except WeChatApiError as exc:
            raise DeliveryFailed(str(exc)) from exc
