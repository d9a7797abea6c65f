"""Find a caller on the phone: their 报到 bookings and 微心愿 by mobile number or by 确认码 / wish
code, so the agent can act for them (the phone assist page).

A caller has no chat, so what an agent does for them on the phone is recorded under a stable id
made from the number, never the number itself: ``tel-`` + 16 hex digits of its keyed fingerprint
(``people.id_fingerprint``, the service's secret key)."""

from __future__ import annotations


def caller_id(mobile: str) -> str:
    """The sender id of records an agent makes for a caller (wish, job seeker, booking)."""
    from bot.core import people

    return "tel-" + people.id_fingerprint("TEL" + mobile)[:16]


def lookup_caller(s, query: str) -> dict:
    """A caller's bookings and wishes by mobile number or 确认码 / wish code (phone assist).

    Returns ``{"appointments": [Appointment], "wishes": [Wish], "senders": [sender_id]}``;
    bookings still booked first. The caller of this function masks what it shows."""
    from sqlalchemy import select

    from bot.core import appointments as ap
    from bot.core import codes, people, wishes

    query = str(query or "").strip()
    found_appointments: list = []
    found_wishes: list = []
    try:
        mobile = people.validate_phone(query)
    except people.InvalidMobile:
        mobile = None
    if mobile:
        # Numbers are stored encrypted; their keyed hash is what SQL can match.
        digest = people.mobile_fingerprint(mobile)
        found_appointments = list(
            s.execute(
                select(ap.Appointment)
                .where(ap.Appointment.mobile_hash == digest)
                .order_by(ap.Appointment.start.desc())
            ).scalars()
        )
        found_wishes = list(
            s.execute(
                select(wishes.Wish)
                .where(wishes.Wish.mobile_hash == digest)
                .order_by(wishes.Wish.created_at.desc())
            ).scalars()
        )
    elif codes.normalise(query):
        appointment = ap.get_by_code(s, query)
        found_appointments = [appointment] if appointment is not None else []
        wish = wishes.get_by_code(s, query)
        found_wishes = [wish] if wish is not None else []
    found_appointments.sort(key=lambda a: a.status != ap.BOOKED)
    senders = list(
        dict.fromkeys(
            [a.sender_id for a in found_appointments] + [w.sender_id for w in found_wishes]
        )
    )
    return {"appointments": found_appointments, "wishes": found_wishes, "senders": senders}
