"""荣军就业: job_seeker_form → bot.core.jobs.register_seeker, then the top matches."""

from __future__ import annotations

import json
import logging
import re

from rasa_sdk import Action, FormValidationAction
from rasa_sdk.events import FollowupAction, SlotSet

from actions import forms_common as fc
from actions import validators
from bot.core import job_words, jobs, people
from bot.core.db import session_scope

logger = logging.getLogger(__name__)

JOB_SLOTS = ("job_skills", "job_desired", "mobile")
MATCHES = 3
ANY_JOB = "any"
# "都行 / 不限" (parsing vocabulary)
_ANY_WORDS = ("都行", "都可以", "不限", "随便", "无所谓", "什么都行", "啥都行", "都中")


# "会电焊" / "有电工证" / "当过汽车兵": a skill, not a wish (parsing vocabulary)
_SKILL_WORDS = re.compile(r"会|有.{0,6}证|当过|干过|做过|学过")


def job_payload(job_id: int) -> str:
    return "/inform" + json.dumps({"job_id": str(job_id)})


class ValidateJobSeekerForm(FormValidationAction):
    def name(self) -> str:
        return "validate_job_seeker_form"

    def validate_job_skills(self, value, dispatcher, tracker, domain):
        text = " ".join(str(value or "").split())
        if fc.is_payload(tracker) or not (2 <= len(text) <= 200):
            fc.utter(dispatcher, tracker, "utter_invalid_job_skills")
            return {"job_skills": None}
        return {"job_skills": text}

    def validate_job_desired(self, value, dispatcher, tracker, domain):
        if not fc.answering(tracker, "job_desired"):
            return {"job_desired": value}
        text = fc.plain_text(tracker)
        if (
            fc.choice(tracker) == ANY_JOB
            or fc.declined(tracker)
            or any(w in text for w in _ANY_WORDS)
        ):
            return {"job_desired": ANY_JOB}
        text = " ".join(str(value or "").split())
        if fc.is_payload(tracker) or not text:
            return {"job_desired": None}
        return {"job_desired": text[:200]}

    def validate_district(self, value, dispatcher, tracker, domain):
        return validators.validate_district_value(value, dispatcher, tracker)

    def validate_mobile(self, value, dispatcher, tracker, domain):
        return validators.validate_mobile_value(value, dispatcher, tracker)


class ActionRegisterJobSeeker(Action):
    def name(self) -> str:
        return "action_register_job_seeker"

    async def run(self, dispatcher, tracker, domain):
        desired = tracker.get_slot("job_desired")
        try:
            with session_scope() as session:
                seeker = jobs.register_seeker(
                    session,
                    sender_id=tracker.sender_id,
                    skills=tracker.get_slot("job_skills") or "",
                    desired_job=None if desired == ANY_JOB else desired,
                    district=tracker.get_slot("district"),
                    mobile=tracker.get_slot("mobile"),
                    now=fc.local_now(),
                )
                matches = [
                    {
                        "id": m.job.id,
                        "title": m.job.title,
                        "employer": m.job.employer,
                        "district": m.job.district,
                        "pay": m.job.pay,
                        "reason": m.reason,
                    }
                    for m in jobs.match_jobs(
                        session,
                        seeker,
                        limit=MATCHES,
                        jobs=jobs.list_jobs(session, include_samples=False),
                    )
                ]
                mobile = seeker.mobile
        except Exception:
            logger.exception("job seeker registration failed for %s", tracker.sender_id)
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return fc.reset(JOB_SLOTS)
        fc.utter(
            dispatcher, tracker, "utter_job_registered", mobile=people.mask_phone(mobile or "")
        )
        if not matches:
            fc.utter(dispatcher, tracker, "utter_job_no_match")
            return fc.reset(JOB_SLOTS)
        unknown = fc.domain_text(domain, "utter_job_unknown")
        fc.utter(dispatcher, tracker, "utter_job_matches")
        for match in matches:
            fc.utter(
                dispatcher,
                tracker,
                "utter_job_match",
                title=match["title"],
                employer=match["employer"],
                district=match["district"] or unknown,
                pay=match["pay"] or unknown,
                reason=match["reason"] or unknown,
                buttons=[{"title": match["title"], "payload": job_payload(match["id"])}],
            )
        return fc.reset(JOB_SLOTS)


class ActionJobDetails(Action):
    def name(self) -> str:
        return "action_job_details"

    async def run(self, dispatcher, tracker, domain):
        job_id = fc.latest_entity(tracker, "job_id")
        try:
            with session_scope() as session:
                job = jobs.get_job(session, int(job_id)) if job_id and job_id.isdigit() else None
                # demo (is_sample) rows stay in the console
                shown = job is not None and job.active and not job.is_sample
                found = jobs.job_dict(job) if shown else None
        except Exception:
            logger.exception("job look-up failed")
            fc.utter(dispatcher, tracker, "utter_service_unavailable")
            return []
        if found is None:
            fc.utter(dispatcher, tracker, "utter_job_not_found")
            return []
        unknown = fc.domain_text(domain, "utter_job_unknown")
        fc.utter(
            dispatcher,
            tracker,
            "utter_job_details",
            title=found["title"],
            employer=found["employer"],
            district=found["district"] or unknown,
            pay=found["pay"] or unknown,
            requirements=found["requirements"] or unknown,
            skills=found["skills"] or unknown,
        )
        return []


class ActionJobOfferReply(Action):
    """A typed reply to the registration offer that the NLU could not place ("开大车的也行
    保安也中"): when it names work, it is a "yes" and the answer it gives is kept (a skill or the
    job wanted), with a skill said in the question before the offer ("想找个活干 会开车"); the
    form then asks only the rest. Anything else gets the usual fallback."""

    def name(self) -> str:
        return "action_job_offer_reply"

    async def run(self, dispatcher, tracker, domain):
        text = fc.plain_text(tracker)
        if fc.is_payload(tracker) or not job_words.job_terms(text):
            return [FollowupAction("action_default_fallback")]
        slot = "job_skills" if _SKILL_WORDS.search(text) else "job_desired"
        events = [SlotSet(slot, " ".join(text.split())[:200])]
        asked = fc.previous_user_message(tracker).get("text") or ""  # what led to the offer
        if slot != "job_skills" and _SKILL_WORDS.search(asked) and job_words.job_terms(asked):
            events.append(SlotSet("job_skills", " ".join(asked.split())[:200]))
        fc.utter(dispatcher, tracker, "utter_job_registration_started")
        return events + [FollowupAction("job_seeker_form")]
