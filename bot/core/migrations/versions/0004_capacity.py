"""Staff override of a centre's places per slot (console 停诊与号源).

Revision ID: 0004_capacity
Revises: 0003_console

One row per centre that staff changed; absent = ``capacity_per_slot`` from
service_centres.yml applies (see ``appointments.effective_capacity``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_capacity"
down_revision = "0003_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centre_capacity",
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("capacity > 0", name="ck_centre_capacity_capacity"),
        sa.PrimaryKeyConstraint("centre_id"),
    )


def downgrade() -> None:
    op.drop_table("centre_capacity")
