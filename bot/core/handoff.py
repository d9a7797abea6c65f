"""Hand a conversation over to a human agent.

Why: a veteran in crisis, or one who asks for a person, must reach staff quickly and be seen
first. Requests sit in a queue ordered by priority (crisis highest) then age; an agent takes one
(status 'active'), and releases it when done ('closed'). One open request per sender: asking
again is idempotent, and a later crisis message upgrades the open request.

The first message is stored masked (``people.mask_text``) because the queue is shown on screens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.db import Base
from bot.core.people import mask_text
from bot.core.sealed import Sealed

CRISIS, HUMAN, FALLBACK = "crisis", "human", "fallback"
PRIORITY = {CRISIS: 100, HUMAN: 50, FALLBACK: 10}
WAITING, ACTIVE, CLOSED = "waiting", "active", "closed"

__all__ = [
    "HandoffRequest",
    "HandoffError",
    "request",
    "queue",
    "take",
    "release",
    "close_stale",
    "transfer",
    "get_open",
    "get",
    "CRISIS",
    "HUMAN",
    "FALLBACK",
    "WAITING",
    "ACTIVE",
    "CLOSED",
    "PRIORITY",
]


class HandoffError(Exception):
    """Codes: 'bad_reason', 'not_found', 'already_taken', 'closed', 'not_owner'."""

    def __init__(self, code: str, request: HandoffRequest | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.request = request


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        Index("ix_handoff_requests_status_priority", "status", "priority", "created_at"),
        UniqueConstraint("open_sender", name="uq_handoff_requests_open_sender"),
    )

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    reason = Column(String(16), nullable=False)
    priority = Column(Integer, nullable=False)
    # masked (numbers) and encrypted at rest: it may carry a name or a crisis in the user's words
    first_text = Column(Sealed(), nullable=False, default="")
    status = Column(String(16), nullable=False, default=WAITING)
    agent = Column(String(64), nullable=True)
    created_at = Column(DateTime, nullable=False)
    taken_at = Column(DateTime, nullable=True)
    closed_at = Column(DateTime, nullable=True)
    close_reason = Column(String(200), nullable=True)  # why it was closed without an answer
    # sender_id while the request is open, NULL once closed: a unique column that makes
    # "one open request per sender" hold even for concurrent requests (NULLs never collide).
    open_sender = Column(String(128), nullable=True)


def get(s: Session, request_id: int) -> HandoffRequest:
    found = s.get(HandoffRequest, request_id, populate_existing=True)
    if found is None:
        raise HandoffError("not_found")
    return found


def get_open(s: Session, sender_id: str) -> HandoffRequest | None:
    """The sender's waiting or active request, if any."""
    return s.execute(
        select(HandoffRequest)
        .where(HandoffRequest.open_sender == sender_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _upgrade(found: HandoffRequest, reason: str, text: str | None = None) -> HandoffRequest:
    if PRIORITY[reason] > found.priority:
        found.reason, found.priority = reason, PRIORITY[reason]
        if reason == CRISIS and text:  # the crisis words are what the agent must see first
            found.first_text = mask_text(text)[:2000]
    return found


def request(
    s: Session, sender_id: str, reason: str, text: str | None, now: datetime
) -> HandoffRequest:
    """Open (or return the already open) request for ``sender_id``; crisis upgrades priority."""
    if reason not in PRIORITY:
        raise HandoffError("bad_reason")
    found = get_open(s, sender_id)
    if found is not None:
        return _upgrade(found, reason, text)
    new = HandoffRequest(
        sender_id=sender_id,
        reason=reason,
        priority=PRIORITY[reason],
        first_text=mask_text(text or "")[:2000],
        status=WAITING,
        created_at=now,
        open_sender=sender_id,
    )
    try:
        with s.begin_nested():
            s.add(new)
            s.flush()
    except IntegrityError:  # a concurrent request for the same sender won the race
        found = get_open(s, sender_id)
        if found is None:
            raise
        return _upgrade(found, reason, text)
    return new


def _rank(item: HandoffRequest) -> tuple:
    """Crises by severity (a named plan or means first), then the newest — a fresh "药都攒好了" must
    not wait behind old test entries; other requests by priority, then the oldest first."""
    from bot.core.agent_assist import crisis_severity

    if item.reason == CRISIS:
        return (-item.priority, -crisis_severity(item.first_text), -item.created_at.timestamp())
    return (-item.priority, 0, item.created_at.timestamp())


def queue(s: Session, include_active: bool = False) -> list[HandoffRequest]:
    """Waiting requests (optionally also active ones): crises first by severity then recency, then
    the others by priority and age."""
    statuses = [WAITING, ACTIVE] if include_active else [WAITING]
    found = s.execute(
        select(HandoffRequest)
        .where(HandoffRequest.status.in_(statuses))
        .order_by(HandoffRequest.id)
        .execution_options(populate_existing=True)
    ).scalars()
    return sorted(found, key=_rank)


def transfer(
    s: Session, request_id: int, agent: str, to_agent: str, now: datetime, force: bool = False
) -> HandoffRequest:
    """Hand an active request to another agent or a supervisor (the bot stays paused). Only the
    holding agent may, unless ``force`` (a supervisor)."""
    found = get(s, request_id)
    if found.status != ACTIVE:
        raise HandoffError("closed" if found.status == CLOSED else "not_owner", found)
    if found.agent != agent and not force:
        raise HandoffError("not_owner", found)
    found.agent, found.taken_at = to_agent, now
    s.flush()
    return found


def close_stale(
    s: Session, older_than: datetime, reason: str, agent: str, now: datetime
) -> list[HandoffRequest]:
    """Close every *waiting* request created before ``older_than`` with ``reason`` (bulk clean-up
    of a queue left over from testing or abandoned chats). Crises are never closed in bulk."""
    reason = (reason or "").strip()
    if not reason:
        raise HandoffError("bad_reason")
    found = list(
        s.execute(
            select(HandoffRequest).where(
                HandoffRequest.status == WAITING,
                HandoffRequest.reason != CRISIS,
                HandoffRequest.created_at < older_than,
            )
        ).scalars()
    )
    for item in found:
        item.status, item.closed_at, item.open_sender = CLOSED, now, None
        item.agent, item.close_reason = agent, reason[:200]
    s.flush()
    return found


def take(s: Session, request_id: int, agent: str, now: datetime) -> HandoffRequest:
    """Assign a waiting request to ``agent``; a conditional UPDATE so two agents cannot both win.

    Taking a request one already holds is a no-op.
    """
    result = s.execute(
        update(HandoffRequest)
        .where(HandoffRequest.id == request_id, HandoffRequest.status == WAITING)
        .values(status=ACTIVE, agent=agent, taken_at=now)
        .execution_options(synchronize_session=False)
    )
    found = get(s, request_id)
    if result.rowcount == 1 or (found.status == ACTIVE and found.agent == agent):
        return found
    raise HandoffError("closed" if found.status == CLOSED else "already_taken", found)


def release(
    s: Session, request_id: int, agent: str, now: datetime, force: bool = False
) -> HandoffRequest:
    """Close a request (the bot resumes). Only the holding agent may close an active one unless
    ``force`` (a supervisor); a waiting one may be closed by any agent."""
    found = get(s, request_id)
    if found.status == CLOSED:
        raise HandoffError("closed", found)
    if found.status == ACTIVE and found.agent != agent and not force:
        raise HandoffError("not_owner", found)
    found.status, found.closed_at, found.open_sender = CLOSED, now, None
    if found.agent is None:
        found.agent = agent
    s.flush()
    return found
