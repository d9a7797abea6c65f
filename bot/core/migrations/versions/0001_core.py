"""Core tables: centre closures, appointments (slots, bookings, history), outbox, handoff.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-29

Written from an autogenerate draft and reviewed by hand. Constraint names are explicit so that
SQLite and PostgreSQL end up with the same names and later migrations can refer to them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centre_closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("centre_id", "date", name="uq_centre_closures_centre_date"),
    )
    op.create_index("ix_centre_closures_date", "centre_closures", ["date"], unique=False)

    # One counter row per (centre, slot start); the CHECK makes overbooking impossible even
    # for code that bypasses appointments.book().
    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity", name="ck_appointment_slots_booked"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("centre_id", "start", name="uq_appointment_slots_centre_start"),
    )

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=16), nullable=False),
        sa.Column("id_cipher", sa.Text(), nullable=False),
        sa.Column("id_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("id_masked", sa.String(length=18), nullable=False),
        sa.Column("active_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("centre_id", sa.String(length=32), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("discharge_date", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["slot_id"], ["appointment_slots.id"], name="fk_appointments_slot_id"
        ),
        sa.PrimaryKeyConstraint("id"),
        # NULLs never collide, so this allows one *active* booking per person only.
        sa.UniqueConstraint("active_fingerprint", name="uq_appointments_active_fingerprint"),
        sa.UniqueConstraint("code", name="uq_appointments_code"),
    )
    op.create_index(
        "ix_appointments_centre_start", "appointments", ["centre_id", "start"], unique=False
    )
    op.create_index(
        "ix_appointments_id_fingerprint", "appointments", ["id_fingerprint"], unique=False
    )
    op.create_index("ix_appointments_sender_id", "appointments", ["sender_id"], unique=False)

    op.create_table(
        "appointment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"], ["appointments.id"], name="fk_appointment_events_appointment_id"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_appointment_events_appointment_id",
        "appointment_events",
        ["appointment_id"],
        unique=False,
    )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
    )
    op.create_index(
        "ix_outbox_messages_claim_token", "outbox_messages", ["claim_token"], unique=False
    )
    op.create_index("ix_outbox_messages_recipient", "outbox_messages", ["recipient"], unique=False)
    op.create_index(
        "ix_outbox_messages_status_next",
        "outbox_messages",
        ["status", "next_attempt_at"],
        unique=False,
    )

    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("first_text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("open_sender", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_sender", name="uq_handoff_requests_open_sender"),
    )
    op.create_index(
        "ix_handoff_requests_sender_id", "handoff_requests", ["sender_id"], unique=False
    )
    op.create_index(
        "ix_handoff_requests_status_priority",
        "handoff_requests",
        ["status", "priority", "created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("handoff_requests")
    op.drop_table("outbox_messages")
    op.drop_table("appointment_events")
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
    op.drop_table("centre_closures")
