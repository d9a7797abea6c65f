"""Console accounts: salted scrypt password hashes and users (login limits: ratelimit.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console import sessions
from bot.console.models import ConsoleUser

ROLES = ("agent", "supervisor")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,32}$")
MIN_PASSWORD = 10

# scrypt cost: n=2**14, r=8, p=1 needs 16 MiB and ~50 ms; stored with the hash so it can grow later.
_N, _R, _P = 2**14, 8, 1


class AccountError(ValueError):
    """Raised with a messages.yml key (``errors.<code>``)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash to compare against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def validate_new(username: str, password: str) -> None:
    if not USERNAME_RE.match(username or ""):
        raise AccountError("username_invalid")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError("password_weak")


def create_user(
    s: Session,
    username: str,
    password: str,
    role: str,
    *,
    now: datetime,
    created_by: str | None = None,
) -> ConsoleUser:
    username = (username or "").strip()
    validate_new(username, password)
    if role not in ROLES:
        raise AccountError("bad_request")
    if s.execute(select(ConsoleUser.id).where(ConsoleUser.username == username)).first():
        raise AccountError("username_taken")
    user = ConsoleUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        created_at=now,
        created_by=created_by,
    )
    s.add(user)
    s.flush()
    return user


def authenticate(s: Session, username: str, password: str, *, now: datetime) -> ConsoleUser | None:
    user = s.execute(
        select(ConsoleUser).where(ConsoleUser.username == (username or "").strip())
    ).scalar_one_or_none()
    if user is None:
        verify_password(password or "", _DUMMY_HASH)
        return None
    if not verify_password(password or "", user.password_hash) or not user.active:
        return None
    user.last_login_at = now
    return user


def get_user(s: Session, user_id: int) -> ConsoleUser | None:
    return s.get(ConsoleUser, user_id)


def list_users(s: Session) -> list[ConsoleUser]:
    return list(s.execute(select(ConsoleUser).order_by(ConsoleUser.username)).scalars())


def set_active(s: Session, user_id: int, active: bool) -> ConsoleUser:
    user = s.get(ConsoleUser, user_id)
    if user is None:
        raise AccountError("not_found")
    user.active = active
    if not active:
        sessions.end_all(s, user_id)  # a deactivated account's open logins end now
    return user
