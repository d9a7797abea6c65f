"""When a user last wrote to the bot on a channel that limits pushes, and whether they left.

Why: WeChat lets an Official Account push (customer-service messages) to a user only within 48
hours of that user's last message or event, and never after they unfollow. The gateway sees every
incoming message; it records the time here so that reminders from the outbox — sent by another
loop, possibly in another process, hours later — can be checked before a pointless API call,
and so staff can see why a reminder did not reach the user.

Rows are keyed by the Rasa sender id (``wx-<openid>``); no message content is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.db import Base
from bot.core.outbox import FAILED, UNDELIVERABLE_PREFIX, OutboxMessage

__all__ = [
    "ChannelContact",
    "Reachability",
    "record_inbound",
    "record_unsubscribed",
    "reachability",
    "undeliverable_for",
]


class ChannelContact(Base):
    __tablename__ = "channel_contacts"

    sender_id = Column(String(128), primary_key=True)
    last_inbound_at = Column(DateTime, nullable=True)
    unsubscribed_at = Column(DateTime, nullable=True)
    updated_at = Column(DateTime, nullable=False)


@dataclass(frozen=True)
class Reachability:
    reachable: bool
    reason: str | None = None  # "unsubscribed" | "outside_window" | "never_seen"
    last_inbound_at: datetime | None = None


def _upsert(s: Session, sender_id: str, now: datetime, **values: object) -> ChannelContact:
    row = s.get(ChannelContact, sender_id, populate_existing=True)
    if row is None:
        try:
            with s.begin_nested():
                row = ChannelContact(sender_id=sender_id, updated_at=now, **values)
                s.add(row)
                s.flush()
            return row
        except IntegrityError:  # created concurrently by another process: update it instead
            row = s.get(ChannelContact, sender_id, populate_existing=True)
            assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    s.flush()
    return row


def record_inbound(s: Session, sender_id: str, now: datetime) -> None:
    """The user wrote (or followed the account): the push window opens again from ``now``."""
    _upsert(s, sender_id, now, last_inbound_at=now, unsubscribed_at=None)


def record_unsubscribed(s: Session, sender_id: str, now: datetime) -> None:
    """The user unfollowed: no pushes until they follow again."""
    _upsert(s, sender_id, now, unsubscribed_at=now)


def reachability(s: Session, sender_id: str, now: datetime, window: timedelta) -> Reachability:
    """Whether a push to ``sender_id`` at ``now`` is allowed by a ``window`` after their last
    message (pass the platform's window minus a safety margin)."""
    row = s.get(ChannelContact, sender_id)
    if row is None or row.last_inbound_at is None:
        return Reachability(False, "never_seen")
    if row.unsubscribed_at is not None:
        return Reachability(False, "unsubscribed", row.last_inbound_at)
    if now - row.last_inbound_at > window:
        return Reachability(False, "outside_window", row.last_inbound_at)
    return Reachability(True, None, row.last_inbound_at)


def undeliverable_for(s: Session, sender_id: str, limit: int = 20) -> list[OutboxMessage]:
    """Outbox messages to ``sender_id`` closed as undeliverable, newest first (for the console)."""
    return list(
        s.execute(
            select(OutboxMessage)
            .where(
                OutboxMessage.recipient == sender_id,
                OutboxMessage.status == FAILED,
                OutboxMessage.last_error.startswith(UNDELIVERABLE_PREFIX, autoescape=True),
            )
            .order_by(OutboxMessage.due_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        ).scalars()
    )
