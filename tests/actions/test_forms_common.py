"""The shared form pattern: answers parsing, the protected-intent list and stopping a form."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import forms_common as fc
from bot.dialogue_rules import protected_intents
from tests.actions.trackers import MOBILE, run, slot_events, state, tracker

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("是的", "affirm", True),
        ("是青岛户口", "inform", True),
        ("不是", "deny", False),
        ("没有", "deny", False),
        ("/affirm", "affirm", True),
        ("/deny", "deny", False),
        ("不清楚", "deny", None),
        ('/inform{"choice":"unknown"}', "inform", None),
        ("嗯嗯好的", "affirm", True),
        ("昨天下午", "inform", None),
    ],
)
def test_yes_no(text, intent, expected):
    assert fc.yes_no(tracker(text, intent)) is expected


def test_decline_by_button_or_words():
    assert fc.declined(tracker('/inform{"choice":"unknown"}'))
    assert fc.declined(tracker("這個我不清楚"))  # Traditional too
    assert not fc.declined(tracker("68"))


def test_the_validators_ignore_the_intents_of_the_one_table():
    assert protected_intents() == fc.PROTECTED_INTENTS
    assert protected_intents("entitlement_form") == fc.FINDER_PROTECTED_INTENTS
    assert "ask_entitlements" not in fc.FINDER_PROTECTED_INTENTS
    assert {"crisis", "cancel", "request_human", "ask_benefit"} <= fc.FINDER_PROTECTED_INTENTS
    question = tracker("低保怎么申请", "ask_allowance", form="wish_form")
    assert fc.is_protected(question)
    assert not fc.is_protected(tracker("是的", "affirm", form="wish_form"))


async def test_stop_form_clears_the_form_and_pii_but_keeps_known_facts(domain):
    slots = state("booking_ready")
    t = tracker(
        "不办了", "cancel", slots, form="appointment_form", requested_slot="appointment_confirmed"
    )
    events, messages = await run(fc.ActionStopForm(), t, domain)
    assert any(e["event"] == "active_loop" and e["name"] is None for e in events)
    cleared = slot_events(events)
    for slot in (
        "person_name",
        "mobile",
        "id_number",
        "appointment_time",
        "appointment_confirmed",
        "centre_id",
        "requested_slot",
    ):
        assert slot in cleared and cleared[slot] is None
    assert "veteran_category" not in cleared and "district" not in cleared
    assert messages == []


def test_domain_text_and_dates(domain):
    from datetime import datetime

    assert fc.fmt_when(domain, datetime(2026, 12, 4, 9, 30)) == "12月4日（周五）09:30"
    assert MOBILE not in fc.domain_text(domain, "utter_ok")


def test_every_response_the_actions_send_exists(domain):
    """Literal response names in the actions (and the code → response maps) are in domain.yml."""
    import re

    from actions import appointment_changes as C
    from actions import appointment_times as T
    from actions import appointments as A
    from actions import entitlements as E
    from actions import validators as V
    from actions import wishes as W

    names = set()
    for path in (REPO / "actions").glob("*.py"):
        names |= set(re.findall(r"[\"'](utter_[a-z0-9_]+)[\"']", path.read_text("utf-8")))
    for mapping in (
        V.INVALID_MOBILE,
        A.INVALID_ID,
        T.CLOSED_DAY,
        C.STATUS,
        W.STATUS,
        E.FIELD_LABEL,
    ):
        names |= set(mapping.values())
    names.discard("utter_action")  # the key Rasa keeps a bot message's response name under
    missing = sorted(name for name in names if name not in domain["responses"])
    assert not missing, missing
    # every capability code has its wording
    from bot.core import appointments, people, wishes

    assert set(C.STATUS) == {
        appointments.BOOKED,
        appointments.CANCELLED,
        appointments.CHECKED_IN,
        appointments.NO_SHOW,
    }
    assert set(W.STATUS) == set(wishes.STATUSES)
    for code in ("empty", "bad_format", "not_mobile"):
        assert code in V.INVALID_MOBILE and code in (people.InvalidMobile.__doc__ or "")
    for code in A.INVALID_ID:
        assert code in (people.InvalidIdNumber.__doc__ or "")
