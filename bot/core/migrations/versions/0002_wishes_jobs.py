"""荣军微心愿 (wishes, wish_events) and 荣军就业 (job_seekers, jobs).

Revision ID: 0002_wishes_jobs
Revises: 0001_core
Create Date: 2026-11-29

Hand-written to mirror the models in wishes.py and jobs.py (explicit constraint names, as in
0001_core); tests compare the migrated schema with the models on SQLite and PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_wishes_jobs"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wishes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("budget", sa.Integer(), nullable=True),
        sa.Column("district", sa.String(length=16), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("consent_publish", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("public_text", sa.Text(), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(length=128), nullable=True),
        sa.Column("claimant_kind", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('submitted', 'approved', 'rejected', 'published', 'claimed', 'fulfilled', 'withdrawn')",
            name="ck_wishes_status",
        ),
        sa.CheckConstraint(
            "claimant_kind IS NULL OR claimant_kind IN ('donor', 'merchant')",
            name="ck_wishes_claimant_kind",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code", name="uq_wishes_code"),
    )
    op.create_index("ix_wishes_sender_id", "wishes", ["sender_id"], unique=False)
    op.create_index("ix_wishes_status_created", "wishes", ["status", "created_at"], unique=False)

    op.create_table(
        "wish_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["wish_id"], ["wishes.id"], name="fk_wish_events_wish_id", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_wish_events_wish_id", "wish_events", ["wish_id"], unique=False)

    op.create_table(
        "job_seekers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("desired_job", sa.String(length=200), nullable=True),
        sa.Column("district", sa.String(length=16), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", name="uq_job_seekers_sender_id"),
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seed_key", sa.String(length=40), nullable=True),
        sa.Column("employer", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("district", sa.String(length=16), nullable=True),
        sa.Column("pay", sa.String(length=100), nullable=True),
        sa.Column("is_sample", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seed_key", name="uq_jobs_seed_key"),
    )
    op.create_index("ix_jobs_active_district", "jobs", ["active", "district"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_jobs_active_district", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("job_seekers")
    op.drop_index("ix_wish_events_wish_id", table_name="wish_events")
    op.drop_table("wish_events")
    op.drop_index("ix_wishes_status_created", table_name="wishes")
    op.drop_index("ix_wishes_sender_id", table_name="wishes")
    op.drop_table("wishes")
