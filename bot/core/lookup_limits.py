"""Guessing protection for look-ups by code: wrong code + phone attempts are counted per code.

Why per code and in the database: a booking's or a 微心愿's code is what an attacker would try
phone numbers against (or the other way round), from any chat and any process, so the counter
belongs to the code and lives where every action server sees it. After ``limit`` wrong attempts
within ``period`` seconds the code is locked until the oldest of them leaves the period; a
right answer does not reset it (the owner waits like anyone else, and is told so kindly).

Settings: ``RJ_LOOKUP_RATE_LIMIT`` ("5/3600" by default), ``RJ_RATE_LIMITS=off`` disables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Column, DateTime, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Session

from bot.core import codes, settings
from bot.core.db import Base

APPOINTMENT, WISH = "appointment", "wish"
# Outcomes of a guarded look-up.
FOUND, NOT_FOUND, LOCKED = "found", "not_found", "locked"

__all__ = [
    "APPOINTMENT",
    "WISH",
    "FOUND",
    "NOT_FOUND",
    "LOCKED",
    "LookupFailure",
    "limit",
    "is_locked",
    "record_failure",
    "guarded",
]
T = TypeVar("T")


class LookupFailure(Base):
    """One wrong code + phone attempt (no phone stored: only that it failed, and when)."""

    __tablename__ = "lookup_failures"
    __table_args__ = (Index("ix_lookup_failures_kind_code_at", "kind", "code", "at"),)

    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)
    code = Column(String(12), nullable=False)
    at = Column(DateTime, nullable=False)


def limit() -> tuple[int, float] | None:
    """(attempts, seconds) from the settings; None when look-ups are not limited."""
    return settings.current().lookup_rate_limit


def _recent(s: Session, kind: str, code: str, now: datetime, seconds: float) -> int:
    since = now - timedelta(seconds=seconds)
    return s.execute(
        select(func.count(LookupFailure.id)).where(
            LookupFailure.kind == kind,
            LookupFailure.code == codes.normalise(code),
            LookupFailure.at > since,
        )
    ).scalar_one()


def is_locked(s: Session, kind: str, code: str, now: datetime) -> bool:
    """Has ``code`` had too many wrong attempts lately? Ask before checking the phone."""
    rule = limit()
    if rule is None:
        return False
    attempts, seconds = rule
    return _recent(s, kind, code, now, seconds) >= attempts


def record_failure(s: Session, kind: str, code: str, now: datetime) -> None:
    """Count one wrong attempt; rows older than a day are dropped on the way."""
    s.add(LookupFailure(kind=kind, code=codes.normalise(code)[:12], at=now))
    rule = limit()
    keep = max(rule[1] if rule else 0, 86400)
    s.execute(delete(LookupFailure).where(LookupFailure.at < now - timedelta(seconds=keep)))


def guarded(
    s: Session, kind: str, code: str, now: datetime, find: Callable[[], T | None]
) -> tuple[str, T | None]:
    """(FOUND, thing) | (NOT_FOUND, None) | (LOCKED, None): ``find`` runs only while the code is
    not locked, and a miss counts against the code. The caller commits."""
    if is_locked(s, kind, code, now):
        return LOCKED, None
    found = find()
    if found is None:
        record_failure(s, kind, code, now)
        return NOT_FOUND, None
    return FOUND, found
