"""The entitlement finder: only questions that matter, declined ones never again; the result."""

from __future__ import annotations

from actions import entitlements as E
from actions.answers import ActionAnswerQuestion
from bot.core import entitlements
from tests.actions.trackers import responses, run, slot_events, tracker

FORM = "entitlement_form"


async def required(slots):
    form = E.ValidateEntitlementForm()
    return await form.required_slots(
        form.domain_slots({"forms": {FORM: {"required_slots": list(E.FIELDS)}}}),
        None,
        tracker(slots=slots),
        {},
    )


async def test_asks_only_what_the_finder_needs():
    first = await required({})
    assert first[-1] == entitlements.find({}).next_question
    # a question answered is never asked again, and the next one is the finder's choice
    slots = {"veteran_category": "退役士兵"}
    assert (await required(slots))[-1] == entitlements.find(slots).next_question
    assert (await required(slots))[0] == "veteran_category"


async def test_declined_questions_are_not_asked_again():
    slots = {"finder_declined": ["veteran_category"]}
    asked = await required(slots)
    assert "veteran_category" not in asked
    everything = {
        "veteran_category": "伤残军人",
        "qingdao_hukou": True,
        "age": 70,
        "disability_grade": 3,
        "income_difficulty": False,
    }
    assert await required(everything) == [
        f for f in E.FIELDS if f in everything
    ]  # settled: no question


def finder_turn(requested, text, intent="inform", slots=None, **kwargs):
    return tracker(
        text,
        intent,
        slots or {},
        form=FORM,
        requested_slot=requested,
        candidates={requested: text},
        **kwargs,
    )


async def test_answers(domain):
    form = E.ValidateEntitlementForm()
    events, _ = await run(form, finder_turn("age", "今年六十八了"), domain)
    assert slot_events(events)["age"] == 68
    events, _ = await run(form, finder_turn("qingdao_hukou", "户口在老家"), domain)
    assert slot_events(events)["qingdao_hukou"] is False
    events, _ = await run(form, finder_turn("qingdao_hukou", "/affirm", "affirm"), domain)
    assert slot_events(events)["qingdao_hukou"] is True
    events, _ = await run(form, finder_turn("income_difficulty", "家里挺困难的 是低保户"), domain)
    assert slot_events(events)["income_difficulty"] is True
    events, _ = await run(
        form,
        finder_turn("disability_grade", "五级", slots={"veteran_category": "伤残军人"}),
        domain,
    )
    assert slot_events(events)["disability_grade"] == 5
    events, messages = await run(form, finder_turn("age", "很老了"), domain)
    assert slot_events(events)["age"] is None and responses(messages) == ["utter_invalid_age"]


async def test_i_dont_know(domain):
    form = E.ValidateEntitlementForm()
    events, messages = await run(
        form, finder_turn("qingdao_hukou", '/inform{"choice":"unknown"}'), domain
    )
    values = slot_events(events)
    assert values["qingdao_hukou"] is None and values["finder_declined"] == ["qingdao_hukou"]
    assert messages == []
    assert values.get("requested_slot") != "qingdao_hukou"
    events, _ = await run(
        form,
        finder_turn(
            "veteran_category", "不清楚", "deny", slots={"finder_declined": ["qingdao_hukou"]}
        ),
        domain,
    )
    assert slot_events(events)["finder_declined"] == ["veteran_category", "qingdao_hukou"]


async def test_result_buttons(domain):
    slots = {
        "veteran_category": "退役士兵",
        "qingdao_hukou": True,
        "age": 45,
        "income_difficulty": False,
    }
    _, messages = await run(E.ActionFinderResult(), tracker("/deny", "deny", slots), domain)
    assert responses(messages)[0] == "utter_finder_qualifies"
    assert responses(messages)[-1] == "utter_finder_notice"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/ask_benefit{"benefit": "荣军卡"}' in payloads
    statutory = [p for p in payloads if p.startswith("/inform")]
    assert statutory and all(p.startswith('/inform{"programme": ') for p in statutory)


async def test_result_with_maybes_names_what_is_missing(domain):
    slots = {"finder_declined": ["veteran_category", "qingdao_hukou", "age", "income_difficulty"]}
    _, messages = await run(E.ActionFinderResult(), tracker("不清楚", "inform", slots), domain)
    maybe = next(m for m in messages if m.get("response") == "utter_finder_maybe")
    assert "还需确认" in maybe["items"] and "是否青岛户籍" in maybe["items"]


async def test_programme_details(domain):
    programme = next(p for p in entitlements.load_catalogue() if p.kind != E.MATRIX)
    t = tracker(f'/inform{{"programme":"{programme.id}"}}', "inform")
    _, messages = await run(E.ActionProgrammeDetails(), t, domain)
    assert (
        messages[0]["response"] == "utter_benefit_details" and messages[0]["name"] == programme.name
    )


async def test_contact_lists_the_users_centre(domain):
    t = tracker(
        "李沧区服务中心电话", "ask_contact", entities=[{"entity": "district", "value": "李沧区"}]
    )
    _, messages = await run(ActionAnswerQuestion(), t, domain)
    centres = messages[-1]["text"]
    assert "李沧区退役军人服务中心" in centres and "市南区" not in centres and "示例" not in centres
    assert "12345" in centres  # the fallback wording while deployment.yml has no phone
    _, messages = await run(
        ActionAnswerQuestion(), tracker("服務中心電話多少", "ask_contact"), domain
    )
    centres = messages[-1]["text"]
    assert centres.count("退役軍人服務中心") >= 10  # all of them, in Traditional


async def test_a_second_search_asks_nothing_again(domain):
    known = {
        "veteran_category": "退役士兵",
        "qingdao_hukou": True,
        "age": 68,
        "income_difficulty": False,
        "finder_declined": ["disability_grade"],
    }
    candidates = {k: v for k, v in known.items() if k in E.FIELDS}
    t = tracker(
        "我能享受哪些优待",
        "ask_entitlements",
        {"finder_declined": ["disability_grade"]},
        form=FORM,
        requested_slot=None,
        candidates=candidates,
    )
    events, messages = await run(E.ValidateEntitlementForm(), t, domain)
    values = slot_events(events)
    assert messages == []
    assert values["qingdao_hukou"] is True and values["age"] == 68
    assert values["requested_slot"] is None  # settled: the form ends at once
