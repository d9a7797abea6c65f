"""What every form action shares: reading the user's answer, replying, stopping a form.

The pattern (see nlu_data/rules/forms.yml):

* A form's from_text mappings ignore PROTECTED_INTENTS (bot/dialogue_rules.py writes them into
  the ``not_intent`` of every form mapping in domain.yml), so a question, "cancel", "a human
  please" or a crisis is never swallowed as an answer: the form rejects and a rule handles it.
* Validators read the *latest message* (button payload entities, intent, text) rather than
  trusting the mapped value, because one answer may come as a button (/affirm,
  /inform{"choice":"unknown"}) or as typed text ("是的", "不清楚").
* Wording lives in domain responses; actions send responses by name with variables. Where an
  action must assemble text (lists, dates), the pieces are read from domain responses too
  (``domain_text``) and sent with ``replies.say``, which converts to Traditional when needed.

Nothing here knows about appointments, wishes or programmes: that is in the capabilities.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import user_script
from bot.core import clock, people
from bot.core.script import normalise, to_script
from bot.dialogue_rules import protected_intents

logger = logging.getLogger(__name__)

# Intents that a form never takes as an answer: the one table in bot/dialogue_rules.py, which
# also writes domain.yml's not_intent lists and the digression rules (nlu_data/rules/forms.yml).
PROTECTED_INTENTS = protected_intents()
# The finder answers ask_entitlements itself, so there it is not a digression.
FINDER_PROTECTED_INTENTS = protected_intents("entitlement_form")

UNKNOWN = "unknown"  # the user does not know / does not want to say
PII_SLOTS = ("person_name", "mobile", "id_number")
# Facts about the user that outlive a stopped form (nothing is stored, they only spare a question).
KEEP_ON_STOP = frozenset({"veteran_category", "district"})
# Slots that belong to a form without being one of its questions.
FORM_EXTRA_SLOTS = {
    "appointment_form": ("centre_id", "appointment_change"),
    "appointment_lookup_form": ("appointment_operation", "appointment_ref"),
    "appointment_cancel_form": ("appointment_ref",),
    "reschedule_form": ("appointment_ref",),
    "entitlement_form": (),
}

# Parsing vocabulary (not replies): how people say "I don't know", "yes" and "no".
_DECLINE = re.compile(
    r"不知道|不清楚|不确定|不记得|记不清|记不得|忘了|说不清|说不好|不方便|不想说|跳过|不晓得|不好说"
)
_NO = re.compile(
    r"^(不是|不对|不用|不要|不行|没有|没|否|非|不|算了|先不)|不是|没有|不属于|不同意|不公开|不愿意"
    r"|留着|不取消|不用了|算了吧"
)
# Said like a "no" but meaning yes (checked before _NO).
_SURE = re.compile(r"^(没问题|没错|没毛病|不错)")
_YES = re.compile(
    r"^(是|对|有|嗯|好|行|可以|同意|确认|没错|没问题|属于|愿意|公开|中|要)|同意|确认|没问题|是的|对的"
)


# --------------------------------------------------------------------------- time


def local_now() -> datetime:
    """The service clock (naive local time); tests patch this one function."""
    return clock.now()


# --------------------------------------------------------------------------- reading answers


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent_name(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity's value in the latest message only (not the slot of the same name)."""
    for item in (tracker.latest_message or {}).get("entities") or []:
        if item.get("entity") == entity and item.get("value") not in (None, ""):
            return str(item["value"])
    return None


def is_payload(tracker: Tracker) -> bool:
    return latest_text(tracker).startswith("/")


def plain_text(tracker: Tracker) -> str:
    """What the user typed, normalised (full-width → ASCII, Traditional → Simplified); '' for a
    button payload."""
    return "" if is_payload(tracker) else normalise(latest_text(tracker))


def answering(tracker: Tracker, slot: str) -> bool:
    """Is the latest message the answer to ``slot``'s question? Otherwise a validator is looking
    at a value filled earlier (a pre-filled slot at activation, a re-validation) and must not read
    the latest message as if it were the answer."""
    return tracker.get_slot("requested_slot") == slot


def changed_by_latest_message(tracker: Tracker, slots: Iterable[str]) -> set[str]:
    """Of ``slots``, those that held a value before the latest message and that Rasa's own slot
    mappings (an entity in the message) changed since: a form that did not set them itself must
    still tell the user what changed."""
    wanted = set(slots)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for event in tracker.events:
        if event.get("event") == "user":
            before.update(after)
            after = {}
        elif event.get("event") == "slot" and event.get("name") in wanted:
            after[event["name"]] = event.get("value")
    return {
        slot
        for slot, value in after.items()
        if before.get(slot) not in (None, "") and value not in (None, "") and value != before[slot]
    }


def is_protected(tracker: Tracker, protected: Iterable[str] = PROTECTED_INTENTS) -> bool:
    return latest_intent_name(tracker) in set(protected)


def choice(tracker: Tracker) -> str | None:
    """The value of a button's ``choice`` entity (/inform{"choice":"unknown"})."""
    return latest_entity(tracker, "choice")


def declined(tracker: Tracker) -> bool:
    """The user said they do not know / would rather not say (button or words)."""
    if choice(tracker) == UNKNOWN:
        return True
    return bool(_DECLINE.search(plain_text(tracker)))


def yes_no(tracker: Tracker) -> bool | None:
    """True / False for a yes-or-no answer, None when it is neither (or a decline)."""
    if declined(tracker):
        return None
    intent = latest_intent_name(tracker)
    text = plain_text(tracker).strip(" 。.!！~～")
    if text:
        if _SURE.search(text):
            return True
        if _NO.search(text):
            return False
        if _YES.search(text):
            return True
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


# --------------------------------------------------------------------------- replying


def domain_text(domain: dict[str, Any], response: str, **values: Any) -> str:
    """The (first) text of a domain response, formatted with ``values`` (Simplified)."""
    variations = (domain.get("responses") or {}).get(response) or [{}]
    template = variations[0].get("text") or ""
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        logger.warning("response %s could not be formatted", response)
        return template


def converted_buttons(tracker: Tracker, buttons: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Buttons an action adds to a response bypass the NLG: convert their titles here."""
    script = user_script(tracker)
    return [{**button, "title": to_script(button["title"], script)} for button in buttons]


def utter(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    response: str,
    buttons: Sequence[dict[str, Any]] | None = None,
    **values: Any,
) -> None:
    """Send a domain response (the NLG fills ``values`` and converts the script)."""
    if buttons:
        dispatcher.utter_message(
            response=response, buttons=converted_buttons(tracker, buttons), **values
        )
    else:
        dispatcher.utter_message(response=response, **values)


def last_response(tracker: Tracker) -> str | None:
    """The domain response the bot's last message came from (Rasa keeps it in the metadata)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


def previous_user_message(tracker: Tracker) -> dict[str, Any]:
    """The user's message before the latest one (its event), or {} when there is none."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    return users[-2] if len(users) > 1 else {}


def said(dispatcher: CollectingDispatcher, response: str) -> bool:
    """Whether ``response`` was already sent in this call (a form's extraction runs before its
    validators, with the same dispatcher)."""
    return any(message.get("response") == response for message in dispatcher.messages)


def weekday_name(domain: dict[str, Any], day: date) -> str:
    names = domain_text(domain, "utter_fmt_weekdays").split(",")
    return names[day.weekday()] if len(names) == 7 else ""


def fmt_when(domain: dict[str, Any], moment: datetime) -> str:
    """'12月5日（周五）09:30' from the domain's format."""
    return domain_text(
        domain,
        "utter_fmt_datetime",
        month=moment.month,
        day=moment.day,
        weekday=weekday_name(domain, moment.date()),
        time=moment.strftime("%H:%M"),
    )


def fmt_date(domain: dict[str, Any], day: date) -> str:
    return domain_text(domain, "utter_fmt_date", year=day.year, month=day.month, day=day.day)


def iso_minutes(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def parse_iso(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def parse_iso_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def reset(slots: Iterable[str]) -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in dict.fromkeys(slots)]


def form_slots(domain: dict[str, Any], form: str) -> list[str]:
    return list(((domain.get("forms") or {}).get(form) or {}).get("required_slots") or [])


# --------------------------------------------------------------------------- showing answers

# A recorded free text longer than this is shortened when shown back (a wish's description).
SHOWN_TEXT_CHARS = 16
# The slots shown back to the user (a recap, "记下了"), and how: what the user gave, never a
# clear ID or phone number.
# Yes/no answers, confirmations and consents are left out: they are not facts the user typed.
Display = Callable[[dict[str, Any], Any], str]


def _text(domain: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= SHOWN_TEXT_CHARS else text[:SHOWN_TEXT_CHARS] + "…"


def _when(domain: dict[str, Any], value: Any) -> str:
    moment = parse_iso(value)
    return fmt_when(domain, moment) if moment else ""


def _day(domain: dict[str, Any], value: Any) -> str:
    day = parse_iso_date(value)
    return fmt_date(domain, day) if day else ""


def _phone(domain: dict[str, Any], value: Any) -> str:
    return people.mask_phone(str(value))


def id_from_token(token: Any) -> str:
    """The ID number behind the id_number slot's Fernet token; '' when there is none or it
    cannot be read (a token from an older key: say nothing rather than something wrong)."""
    if not token:
        return ""
    try:
        return people.decrypt_id(str(token))
    except Exception:
        return ""


def masked_id(token: Any) -> str:
    """The ID number behind the token as the user may see it (3702**********1232), or ''."""
    clear = id_from_token(token)
    return people.mask_id(clear) if clear else ""


def _id_number(domain: dict[str, Any], value: Any) -> str:
    return masked_id(value)


SHOWN: dict[str, Display] = {
    "veteran_category": _text,
    "district": _text,
    "appointment_time": _when,
    "person_name": _text,
    "mobile": _phone,
    "id_number": _id_number,
    "discharge_date": _day,
    "lookup_code": _text,
    "wish_category": _text,
    "wish_description": _text,
    "job_skills": _text,
    "job_desired": _text,
}


def shown_values(domain: dict[str, Any], pairs: Iterable[tuple[str, Any]]) -> list[str]:
    """The answers among ``pairs`` (slot, value) that are shown back, as shown."""
    shown = []
    for slot, value in pairs:
        display = SHOWN.get(slot)
        if display is None or value in (None, "", UNKNOWN):
            continue
        text = display(domain, value)
        if text:
            shown.append(text)
    return shown


# --------------------------------------------------------------------------- stopping a form


class ActionStopForm(Action):
    """Stops the active form (cancel or a human requested): nothing is saved, PII is cleared.

    Used by the rules in forms.yml after ``cancel`` (then utter_cancelled) and after
    ``action_request_human``.
    """

    def name(self) -> str:
        return "action_stop_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        form = (tracker.active_loop or {}).get("name")
        slots = (
            [slot for slot in form_slots(domain, form) if slot not in KEEP_ON_STOP] if form else []
        )
        slots += list(FORM_EXTRA_SLOTS.get(form, ()))
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + reset(slots + list(PII_SLOTS))
