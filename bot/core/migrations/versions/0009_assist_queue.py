"""Agent assist: a reason on closed handoff requests (bulk close of stale ones), each agent's
online/away status and the staff-editable canned replies.

Revision ID: 0009_assist_queue
Revises: 0008_lookup_failures
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_assist_queue"
down_revision = "0008_lookup_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_requests") as batch:
        batch.add_column(sa.Column("close_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "agent_presence",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "console_canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("console_canned_replies")
    op.drop_table("agent_presence")
    with op.batch_alter_table("handoff_requests") as batch:
        batch.drop_column("close_reason")
