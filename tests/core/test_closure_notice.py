"""A new closure tells the people booked that day (bot.core.closure_notice)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.core import appointments as ap
from bot.core import outbox, people
from bot.core.closure_notice import notify_closure


def _book(s, sender, start, now, n):
    first17 = f"3702021960010100{n}"
    return ap.book(
        s,
        sender_id=sender,
        category="退役士兵",
        name="王建国",
        mobile=f"138123400{n:02d}",
        id_number=first17 + people.id_check_digit(first17),
        centre_id="licang",
        start=start,
        now=now,
    )


def test_booked_people_are_told_once(session, now):
    slot = ap.nearest_free(session, "licang", now + timedelta(days=2), now, limit=1)[0]
    kept = _book(session, "tg-1", slot, now, 1)
    gone = _book(session, "wx-2", slot + timedelta(minutes=30), now, 2)
    ap.cancel(session, gone, "wx-2", now)
    assert notify_closure(session, ["licang"], slot.date(), "设备检修", now) == 1
    assert notify_closure(session, ["licang"], slot.date(), "设备检修", now) == 1  # deduped
    rows = session.execute(select(outbox.OutboxMessage)).scalars().all()
    texts = [r.text for r in rows if r.recipient == "tg-1" and "暂停接待" in r.text]
    assert len(texts) == 1
    assert kept.code in texts[0] and "设备检修" in texts[0] and "12345" in texts[0]
    assert not [r for r in rows if r.recipient == "wx-2" and "暂停接待" in r.text]
