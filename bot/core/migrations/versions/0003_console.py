"""Console tables: accounts, agent messages, notes, wrap-ups, suggestion events, PII reveal log.

Revision ID: 0003_console
Revises: 0002_wishes_jobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_console"
down_revision = "0002_wishes_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("last_login_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("username", name="uq_console_users_username"),
    )
    op.create_table(
        "console_agent_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("handoff_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_console_agent_messages_sender_id", "console_agent_messages", ["sender_id"])
    op.create_table(
        "console_notes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_console_notes_sender_id", "console_notes", ["sender_id"])
    op.create_table(
        "console_wrapups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("handoff_id", sa.Integer, nullable=True),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("resolved", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_console_wrapups_sender_id", "console_wrapups", ["sender_id"])
    op.create_table(
        "console_suggestion_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("suggestion_id", sa.String(36), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(100), nullable=False),
        sa.Column("event", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_console_suggestion_events_suggestion_id", "console_suggestion_events", ["suggestion_id"]
    )
    op.create_index(
        "ix_console_suggestion_events_sender_id", "console_suggestion_events", ["sender_id"]
    )
    op.create_table(
        "pii_reveal_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("field", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_pii_reveal_log_subject", "pii_reveal_log", ["subject"])


def downgrade() -> None:
    op.drop_table("pii_reveal_log")
    op.drop_table("console_suggestion_events")
    op.drop_table("console_wrapups")
    op.drop_table("console_notes")
    op.drop_table("console_agent_messages")
    op.drop_table("console_users")
