"""Outbox: messages the bot must push later (reminders, agent replies, wish updates).

Why: a reminder is decided inside a booking transaction but sent by another process (the
Telegram gateway or the web chat) hours later. Writing it to a table in the same transaction
means it exists exactly when the booking does; senders then *claim* due rows so that two
gateway processes never send the same message.

Delivery model: a claim is a lease (``LEASE``). A sender that crashes after claiming loses the
lease and the message is handed out again after it expires (at-least-once on crashes, exactly
once otherwise). Failures are retried with exponential backoff up to ``MAX_ATTEMPTS``.

The caller owns the transaction: commit right after ``claim_due`` so other senders see the claim.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import clock
from bot.core.db import Base
from bot.core.people import mask_text

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"
MAX_ATTEMPTS = 5
UNDELIVERABLE_PREFIX = "undeliverable: "  # last_error of rows no retry can deliver
LEASE = timedelta(minutes=10)
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)

__all__ = [
    "OutboxMessage",
    "enqueue",
    "upsert",
    "cancel",
    "claim_due",
    "mark_sent",
    "mark_failed",
    "get_by_dedupe_key",
    "backoff",
    "mark_undeliverable",
    "UNDELIVERABLE_PREFIX",
    "PENDING",
    "SENT",
    "FAILED",
    "CANCELLED",
    "MAX_ATTEMPTS",
    "LEASE",
]


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
    )

    id = Column(Integer, primary_key=True)
    recipient = Column(String(128), nullable=False, index=True)  # Rasa sender_id: tg-…, web-…
    kind = Column(String(32), nullable=False, default="message")
    text = Column(Text, nullable=False)
    due_at = Column(DateTime, nullable=False)
    next_attempt_at = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default=PENDING)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    claimed_at = Column(DateTime, nullable=True)
    claim_token = Column(String(32), nullable=True, index=True)
    sent_at = Column(DateTime, nullable=True)
    dedupe_key = Column(String(128), nullable=True)
    created_at = Column(DateTime, nullable=False)


def get_by_dedupe_key(s: Session, dedupe_key: str) -> OutboxMessage | None:
    return s.execute(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key)
    ).scalar_one_or_none()


def enqueue(
    s: Session,
    recipient: str,
    text: str,
    *,
    due_at: datetime,
    kind: str = "message",
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message; with ``dedupe_key`` a second call returns the first row unchanged.

    Concurrent callers with the same key are resolved by the unique index (savepoint + re-read).
    """
    if dedupe_key:
        existing = get_by_dedupe_key(s, dedupe_key)
        if existing is not None:
            return existing
    message = OutboxMessage(
        recipient=recipient,
        text=text,
        kind=kind,
        due_at=due_at,
        next_attempt_at=due_at,
        status=PENDING,
        attempts=0,
        dedupe_key=dedupe_key,
        created_at=now or clock.now(),
    )
    try:
        with s.begin_nested():
            s.add(message)
            s.flush()
    except IntegrityError:
        if not dedupe_key:
            raise
        return get_by_dedupe_key(s, dedupe_key)
    return message


def upsert(
    s: Session,
    recipient: str,
    text: str,
    *,
    due_at: datetime,
    kind: str,
    dedupe_key: str,
    now: datetime | None = None,
) -> OutboxMessage:
    """Create or replace the message for ``dedupe_key`` and make it pending again.

    Used when an appointment moves: its single reminder row gets the new text and due time.
    """
    message = enqueue(s, recipient, text, due_at=due_at, kind=kind, dedupe_key=dedupe_key, now=now)
    message.recipient, message.text, message.kind = recipient, text, kind
    message.due_at = message.next_attempt_at = due_at
    message.status, message.attempts, message.last_error = PENDING, 0, None
    message.claimed_at = message.claim_token = message.sent_at = None
    s.flush()
    return message


def cancel(s: Session, dedupe_key: str) -> bool:
    """Withdraw a message that has not been sent yet (e.g. the appointment was cancelled)."""
    result = s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.dedupe_key == dedupe_key, OutboxMessage.status == PENDING)
        .values(status=CANCELLED, claimed_at=None, claim_token=None)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


def claim_due(
    s: Session, prefix: str, now: datetime, limit: int = 50, lease: timedelta = LEASE
) -> list[OutboxMessage]:
    """Hand out pending messages due by ``now`` for recipients starting with ``prefix``.

    Atomic across processes: candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE), and the claim itself is a
    conditional UPDATE that only succeeds on rows nobody holds a live lease on.
    """
    token = secrets.token_hex(16)
    free = or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - lease)
    candidates = (
        s.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status == PENDING,
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.recipient.startswith(prefix, autoescape=True),
                free,
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    if not candidates:
        return []
    s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), OutboxMessage.status == PENDING, free)
        .values(claimed_at=now, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    return list(
        s.execute(
            select(OutboxMessage)
            .where(OutboxMessage.claim_token == token)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def _get(s: Session, message_id: int) -> OutboxMessage:
    message = s.get(OutboxMessage, message_id, populate_existing=True)
    if message is None:
        raise KeyError(message_id)
    return message


def mark_sent(s: Session, message_id: int, now: datetime) -> OutboxMessage:
    message = _get(s, message_id)
    message.status, message.sent_at = SENT, now
    message.claimed_at = message.claim_token = None
    s.flush()
    return message


def backoff(attempts: int) -> timedelta:
    """1, 5, 25, 125 minutes … capped at 6 hours (attempts counts failures so far, ≥ 1)."""
    return min(BACKOFF_BASE * (5 ** max(attempts - 1, 0)), BACKOFF_CAP)


def mark_failed(s: Session, message_id: int, error: str, now: datetime) -> OutboxMessage:
    """Record a failed delivery; retry later with backoff, give up after ``MAX_ATTEMPTS``."""
    message = _get(s, message_id)
    message.attempts = (message.attempts or 0) + 1
    message.last_error = mask_text(str(error))[:2000]
    message.claimed_at = message.claim_token = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = FAILED
    else:
        message.next_attempt_at = now + backoff(message.attempts)
    s.flush()
    return message


def mark_undeliverable(s: Session, message_id: int, reason: str, now: datetime) -> OutboxMessage:
    """Close a message no retry can deliver (e.g. a WeChat user outside the 48-hour window):
    FAILED at once, ``last_error`` starting with ``UNDELIVERABLE_PREFIX`` for the console."""
    message = _get(s, message_id)
    message.attempts = (message.attempts or 0) + 1
    message.last_error = UNDELIVERABLE_PREFIX + mask_text(str(reason))[:1900]
    message.status = FAILED
    message.claimed_at = message.claim_token = None
    s.flush()
    return message
