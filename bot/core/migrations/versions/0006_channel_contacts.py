"""Per-user last incoming message and unfollow time, for channels with a push window (WeChat).

Revision ID: 0006_channel_contacts
Revises: 0005_console_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_channel_contacts"
down_revision = "0005_console_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_contacts",
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sender_id"),
    )


def downgrade() -> None:
    op.drop_table("channel_contacts")
