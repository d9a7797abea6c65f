"""Whether a human agent is there: each agent's online/away status and when it was last seen.

Why: the bot must never promise a quick human answer when nobody is on duty. An agent is
*available* when their status is ``online`` and the console saw them (an open console page)
within ``FRESH``; and, when the operator filled in ``handoff.hours`` in deployment.yml, only inside
those hours. The console writes the rows; the action server reads ``available``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, String, select
from sqlalchemy.orm import Session

from bot.core import deployment
from bot.core.db import Base

ONLINE, AWAY = "online", "away"
STATUSES = (ONLINE, AWAY)
FRESH = timedelta(minutes=3)

__all__ = [
    "AgentPresence",
    "ONLINE",
    "AWAY",
    "STATUSES",
    "set_status",
    "seen",
    "status_of",
    "online_agents",
    "within_hours",
    "available",
]


class AgentPresence(Base):
    __tablename__ = "agent_presence"

    username = Column(String(64), primary_key=True)
    status = Column(String(8), nullable=False, default=AWAY)
    updated_at = Column(DateTime, nullable=False)  # status set or agent last seen


def set_status(s: Session, username: str, status: str, now: datetime) -> AgentPresence:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    row = s.get(AgentPresence, username)
    if row is None:
        row = AgentPresence(username=username, status=status, updated_at=now)
        s.add(row)
    else:
        row.status, row.updated_at = status, now
    s.flush()
    return row


def seen(s: Session, usernames: list[str], now: datetime) -> None:
    """Mark agents with an open console page as seen now (their status is kept)."""
    for name in usernames:
        row = s.get(AgentPresence, name)
        if row is not None:
            row.updated_at = now


def status_of(s: Session, username: str) -> str:
    row = s.get(AgentPresence, username)
    return row.status if row is not None else AWAY


def online_agents(s: Session, now: datetime) -> list[str]:
    rows = s.execute(
        select(AgentPresence.username).where(
            AgentPresence.status == ONLINE, AgentPresence.updated_at >= now - FRESH
        )
    ).scalars()
    return sorted(rows)


def within_hours(now: datetime, hours: deployment.Hours | None = None) -> bool:
    """Inside the agents' published hours (always True while the operator has set none)."""
    hours = deployment.load().handoff_hours if hours is None else hours
    if not hours:
        return True
    moment = now.time()
    return any(start <= moment < end for start, end in hours)


def available(s: Session, now: datetime) -> bool:
    """An agent is online now (and it is within the agents' hours, when those are set)."""
    return within_hours(now) and bool(online_agents(s, now))
