"""Names, mobiles and free texts encrypted at rest; a keyed hash where a mobile is matched.

Revision ID: 0007_sealed_personal_data
Revises: 0006_channel_contacts

``appointments.name/mobile``, ``job_seekers.name/mobile`` and ``wishes.mobile`` move to
``*_cipher`` columns (Fernet, the ID number's key ``RJ_ID_KEY``: ``people.encrypt_value``), with
``mobile_hash`` (``people.mobile_fingerprint``) beside each mobile; ``wishes.description`` and
``handoff_requests.first_text`` (it may name the user) are encrypted in place. Existing rows are
converted; the plain columns are dropped. Downgrade decrypts back into plain columns (the same
key must be configured).

The plain values linger in free pages until the file is rewritten: ``migrate.upgrade`` vacuums a
SQLite database after an upgrade; on PostgreSQL run ``VACUUM FULL appointments, wishes,
job_seekers, handoff_requests`` once after upgrading.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.core import people

revision = "0007_sealed_personal_data"
down_revision = "0006_channel_contacts"
branch_labels = None
depends_on = None

# table → the plain columns that become "<column>_cipher"
MOVED = {
    "appointments": ("name", "mobile"),
    "job_seekers": ("name", "mobile"),
    "wishes": ("mobile",),
}
# Text columns encrypted where they are (same type, no schema change)
SEALED_IN_PLACE = (("wishes", "description"), ("handoff_requests", "first_text"))
PLAIN_TYPES = {
    ("appointments", "name"): sa.String(length=64),
    ("appointments", "mobile"): sa.String(length=16),
    ("job_seekers", "name"): sa.String(length=64),
    ("job_seekers", "mobile"): sa.String(length=20),
    ("wishes", "mobile"): sa.String(length=20),
}


def _seal(value):
    return None if value is None else people.encrypt_value(str(value))


def _open(value):
    return None if value is None else people.decrypt_value(value)


def _rows(table: str, columns: list[str]):
    listed = ", ".join(["id", *columns])
    return op.get_bind().execute(sa.text(f"SELECT {listed} FROM {table}")).fetchall()


def _update(table: str, row_id: int, values: dict) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    op.get_bind().execute(
        sa.text(f"UPDATE {table} SET {assignments} WHERE id = :row_id"),
        {**values, "row_id": row_id},
    )


def upgrade() -> None:
    for table, columns in MOVED.items():
        for column in columns:
            op.add_column(table, sa.Column(f"{column}_cipher", sa.Text(), nullable=True))
        op.add_column(table, sa.Column("mobile_hash", sa.String(length=64), nullable=True))
        for row in _rows(table, list(columns)):
            values = {f"{c}_cipher": _seal(v) for c, v in zip(columns, row[1:], strict=True)}
            mobile = dict(zip(columns, row[1:], strict=True)).get("mobile")
            values["mobile_hash"] = people.mobile_fingerprint(mobile) if mobile else None
            _update(table, row[0], values)
        for column in columns:
            op.drop_column(table, column)
    for table, column in SEALED_IN_PLACE:
        for row_id, value in _rows(table, [column]):
            _update(table, row_id, {column: _seal(value)})


def downgrade() -> None:
    for table, column in SEALED_IN_PLACE:
        for row_id, value in _rows(table, [column]):
            _update(table, row_id, {column: _open(value)})
    for table, columns in MOVED.items():
        for column in columns:
            op.add_column(table, sa.Column(column, PLAIN_TYPES[(table, column)], nullable=True))
        ciphers = [f"{column}_cipher" for column in columns]
        for row in _rows(table, ciphers):
            _update(table, row[0], {c: _open(v) for c, v in zip(columns, row[1:], strict=True)})
        for cipher in ciphers:
            op.drop_column(table, cipher)
        op.drop_column(table, "mobile_hash")
