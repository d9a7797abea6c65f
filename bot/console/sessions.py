"""Server-side console logins (table ``console_sessions``).

The encrypted cookie only carries a random token; the login is valid while its row exists and
has not expired and the account is active. Logging out deletes the row and deactivating an
account deletes all of its rows, so a copied cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.console.models import ConsoleSession, ConsoleUser


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(s: Session, user_id: int, *, now: datetime, lifetime: float) -> str:
    """Record a new login for ``user_id``; returns the token for the cookie."""
    wall = time.time()
    s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= wall))
    token = secrets.token_urlsafe(32)
    s.add(
        ConsoleSession(
            id=_digest(token), user_id=user_id, created_at=now, expires_at=wall + lifetime
        )
    )
    return token


def user_of(s: Session, token: str) -> ConsoleUser | None:
    """The active user logged in with ``token``, or None (unknown, ended or expired)."""
    if not token:
        return None
    row = s.get(ConsoleSession, _digest(token))
    if row is None:
        return None
    if row.expires_at <= time.time():
        s.delete(row)
        return None
    user = s.get(ConsoleUser, row.user_id)
    if user is None or not user.active:
        return None
    return user


def end(s: Session, token: str) -> None:
    if token:
        s.execute(delete(ConsoleSession).where(ConsoleSession.id == _digest(token)))


def end_all(s: Session, user_id: int) -> int:
    """End every login of ``user_id``; returns how many there were."""
    result = s.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))
    return result.rowcount or 0


def count(s: Session, user_id: int) -> int:
    return len(s.execute(select(ConsoleSession.id).where(ConsoleSession.user_id == user_id)).all())
