"""报到 appointments at the district 退役军人服务中心.

Why it is built this way:

* **Capacity lives in the database.** Each (centre, slot start) has a row in
  ``appointment_slots`` with ``capacity`` and ``booked`` and a CHECK (0 ≤ booked ≤ capacity).
  Taking a place is one conditional statement, ``UPDATE … SET booked = booked + 1 WHERE
  booked < capacity``; if it changes no row the slot is full. That is atomic on SQLite (writers
  are serialised by BEGIN IMMEDIATE) and on PostgreSQL (the row lock makes a second writer
  re-check the WHERE clause), so concurrent bookings can never exceed capacity.
* **One active booking per person**, also enforced in the database: ``active_fingerprint``
  holds the ID fingerprint while a booking is active and NULL afterwards, under a UNIQUE index.
* **ID numbers are encrypted** (Fernet) and fingerprinted (HMAC) — see ``people``; only the
  masked form is kept in clear for staff screens.
* **Confirmation codes** come from ``bot.core.codes`` (6 characters, no 0/O, 1/I/L).
* **Reminders** go through the outbox (``reminders``): one per appointment, due at 18:00 the
  day before; none when the booking is made after that moment, none without a push channel.
* **Centres** (``centres``): identity from service_centres.yml, addresses, phones, hours and
  capacity from the operator's deployment.yml — unconfigured values are None and users see the
  file's truthful fallback wording; booking uses the file's defaults meanwhile.
* **Staff can change the capacity** of a centre (console 停诊与号源): ``set_capacity`` stores an
  override in ``centre_capacity`` (else ``capacity_per_slot`` applies, see
  ``effective_capacity``) and moves the capacity of the centre's FUTURE slot rows in one
  UPDATE, never below their ``booked`` count — bookings already made are kept, never cancelled.
  On PostgreSQL a change takes a per-centre advisory lock that every booking transaction shares
  (``capacity.capacity_lock``), so a slot row created concurrently cannot keep the old capacity.
* Failures the user can act on are ``BookingError`` / ``AppointmentError`` with a machine
  ``code`` and, where useful, up to three nearest free ``alternatives``; wording is in the NLG.

Modules: ``centres`` (centre config, slot grid), ``models`` (tables, result types), ``capacity``,
``slots`` (free slots, resolving a request), ``booking`` (writes), ``reminders``, ``queries``
(reads), ``deadlines`` (报到时限). This package re-exports their public API.

Services take a Session; the caller commits. Datetimes are naive local (Asia/Shanghai) times.
"""

from __future__ import annotations

from bot.core import codes
from bot.core.appointments.booking import (
    book,
    cancel,
    mark_checked_in,
    mark_no_show,
    reschedule,
)
from bot.core.appointments.capacity import (
    MAX_CAPACITY,
    MIN_CAPACITY,
    capacity_overrides,
    clear_capacity,
    effective_capacity,
    set_capacity,
)
from bot.core.appointments.centres import (
    DEPLOYMENT_FIELDS,
    Centre,
    centres_path,
    find_centre_by_district,
    get_centre,
    horizon_end,
    load_centres,
    slot_containing,
    slot_starts,
)
from bot.core.appointments.deadlines import (
    days_left,
    days_left_for,
    deadline_can_apply,
    reporting_deadline_days,
    reporting_path,
)
from bot.core.appointments.errors import (
    ALREADY_BOOKED,
    CLOSED_DAY,
    FULL,
    OUTSIDE_HOURS,
    PAST,
    TOO_FAR,
    AppointmentError,
    BookingError,
)
from bot.core.appointments.models import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    NO_SHOW,
    Appointment,
    AppointmentEvent,
    CapacityChange,
    CentreCapacity,
    FreeSlot,
    Resolution,
    Slot,
)
from bot.core.appointments.queries import (
    find_by_code_and_mobile,
    get_by_code,
    get_for_sender,
    history,
    list_for_centre_day,
    lookup_by_code_and_mobile,
)
from bot.core.appointments.reminders import (
    PUSH_PREFIXES,
    REMINDER_AT,
    reminder_due,
    reminder_key,
)
from bot.core.appointments.slots import (
    MAX_ALTERNATIVES,
    list_free_slots,
    nearest_free,
    resolve_request,
    soonest_free,
)

CODE_ALPHABET, CODE_LENGTH = codes.ALPHABET, codes.LENGTH
normalise_code = codes.normalise

__all__ = [
    "Centre",
    "Slot",
    "Appointment",
    "AppointmentEvent",
    "CentreCapacity",
    "FreeSlot",
    "Resolution",
    "CapacityChange",
    "AppointmentError",
    "BookingError",
    "effective_capacity",
    "capacity_overrides",
    "set_capacity",
    "clear_capacity",
    "load_centres",
    "get_centre",
    "horizon_end",
    "find_centre_by_district",
    "centres_path",
    "slot_starts",
    "slot_containing",
    "list_free_slots",
    "nearest_free",
    "soonest_free",
    "resolve_request",
    "book",
    "get_for_sender",
    "find_by_code_and_mobile",
    "lookup_by_code_and_mobile",
    "get_by_code",
    "cancel",
    "reschedule",
    "list_for_centre_day",
    "mark_checked_in",
    "mark_no_show",
    "history",
    "reporting_path",
    "reporting_deadline_days",
    "deadline_can_apply",
    "days_left",
    "days_left_for",
    "normalise_code",
    "reminder_key",
    "reminder_due",
    "BOOKED",
    "CANCELLED",
    "CHECKED_IN",
    "NO_SHOW",
    "PAST",
    "CLOSED_DAY",
    "OUTSIDE_HOURS",
    "FULL",
    "TOO_FAR",
    "ALREADY_BOOKED",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MAX_ALTERNATIVES",
    "MIN_CAPACITY",
    "MAX_CAPACITY",
    "REMINDER_AT",
    "PUSH_PREFIXES",
    "DEPLOYMENT_FIELDS",
]
