"""A column type for personal values kept encrypted at rest (names, mobiles, free text).

Why: the core tables hold veterans' names and mobile numbers for staff and reminders; a copied
database file or backup must not give them away. ``Sealed`` encrypts on write and decrypts on
read with the same Fernet key and scheme as the ID number (``people.encrypt_value``,
``RJ_ID_KEY``), so services and staff pages read plain values from the model as before.

A sealed column cannot be compared in SQL (each write has a fresh IV): where a value is matched,
the model also keeps a keyed hash (``people.mobile_fingerprint`` in ``mobile_hash``).
"""

from __future__ import annotations

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from bot.core import people

__all__ = ["Sealed"]


class Sealed(TypeDecorator):
    """Text stored as a Fernet token; ``None`` stays NULL."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else people.encrypt_value(str(value))

    def process_result_value(self, value, dialect):
        return None if value is None else people.decrypt_value(value)
