"""Wrong code + phone look-ups per confirmation code (bot.core.lookup_limits).

Revision ID: 0008_lookup_failures
Revises: 0007_sealed_personal_data
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_lookup_failures"
down_revision = "0007_sealed_personal_data"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_lookup_failures_kind_code_at", "lookup_failures", ["kind", "code", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lookup_failures_kind_code_at", table_name="lookup_failures")
    op.drop_table("lookup_failures")
