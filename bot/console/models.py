"""Console tables (migrations ``0003_console``, ``0005_console_sessions``,
``0009_assist_queue``). Plain SQLAlchemy on the shared ``Base``."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, String, Text, UniqueConstraint

from bot.core.db import Base


class ConsoleUser(Base):
    """A hotline agent or supervisor. Passwords are stored as salted scrypt hashes only."""

    __tablename__ = "console_users"
    __table_args__ = (UniqueConstraint("username", name="uq_console_users_username"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="agent")  # agent | supervisor
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False)
    created_by = Column(String(64), nullable=True)
    last_login_at = Column(DateTime, nullable=True)


class AgentMessage(Base):
    """What an agent sent to a user during a handoff (the bot's messages live in Rasa's tracker)."""

    __tablename__ = "console_agent_messages"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    agent = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    status = Column(String(16), nullable=False)  # delivered | queued | pushed | failed
    handoff_id = Column(Integer, nullable=True)
    created_at = Column(DateTime, nullable=False)


class AgentNote(Base):
    __tablename__ = "console_notes"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    agent = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False)


class WrapUp(Base):
    """Structured summary an agent files when a conversation is done."""

    __tablename__ = "console_wrapups"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(128), nullable=False, index=True)
    handoff_id = Column(Integer, nullable=True)
    agent = Column(String(64), nullable=False)
    category = Column(String(32), nullable=False)  # 诉求类别
    summary = Column(Text, nullable=False)  # what was done
    resolved = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False)


class SuggestionEvent(Base):
    """One row per suggestion shown to an agent, and one when it was sent as-is or edited."""

    __tablename__ = "console_suggestion_events"

    id = Column(Integer, primary_key=True)
    suggestion_id = Column(String(36), nullable=False, index=True)
    sender_id = Column(String(128), nullable=False, index=True)
    agent = Column(String(64), nullable=False)
    source = Column(String(16), nullable=False)  # bot | knowledge
    ref = Column(String(100), nullable=False)  # utter_ action or intent name
    event = Column(String(8), nullable=False)  # shown | used | edited
    created_at = Column(DateTime, nullable=False)


class PiiRevealLog(Base):
    """Who revealed which personal datum of whom, and when."""

    __tablename__ = "pii_reveal_log"

    id = Column(Integer, primary_key=True)
    agent = Column(String(64), nullable=False)  # who
    field = Column(String(32), nullable=False)  # what: phone | id_number
    subject = Column(String(128), nullable=False, index=True)  # whose (sender_id)
    created_at = Column(DateTime, nullable=False)  # when


class ConsoleSession(Base):
    """A logged-in browser. The cookie carries a random token; only its SHA-256 is stored, so
    deleting the row (logout, account deactivated) ends the login at once."""

    __tablename__ = "console_sessions"

    id = Column(String(64), primary_key=True)  # sha256 hex of the cookie's token
    user_id = Column(Integer, nullable=False, index=True)
    created_at = Column(DateTime, nullable=False)  # service clock, for people to read
    # Unix time: a login lasts real hours even when tests move the service clock.
    expires_at = Column(Float, nullable=False)


CONSOLE_TABLES = [  # migration 0003_console
    ConsoleUser.__table__,
    AgentMessage.__table__,
    AgentNote.__table__,
    WrapUp.__table__,
    SuggestionEvent.__table__,
    PiiRevealLog.__table__,
]

SESSION_TABLES = [ConsoleSession.__table__]  # migration 0005_console_sessions


class CannedReply(Base):
    """A reply agents insert with one click; supervisors edit the list (常用语)."""

    __tablename__ = "console_canned_replies"

    id = Column(Integer, primary_key=True)
    title = Column(String(40), nullable=False)
    text = Column(Text, nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    updated_by = Column(String(64), nullable=False)
    updated_at = Column(DateTime, nullable=False)
