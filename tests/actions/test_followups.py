"""Answers in context: follow-ups, no repeats, money, direct questions, two requests, short
replies — played turn by turn against the real actions (events carried from turn to turn)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.answers import ActionAnswerQuestion, ActionExplainBenefit
from actions.entitlements import ActionFinderIntro, ActionFinderResult, ValidateEntitlementForm
from actions.fallback import ActionSuggestTopics
from actions.followups import (
    ActionAckInContext,
    ActionAnswerAside,
    ActionAnswerFollowup,
    ActionAnswerOutOfScope,
)
from tests.actions.trackers import SENDER, run, slot_events, user_event

NOTICE = "以官方最新公布为准"


class Chat:
    """One conversation: each turn appends the user event, the action's events and what the bot
    said (rendered from the domain for responses), as Rasa's tracker would."""

    def __init__(self, domain: dict[str, Any]):
        self.domain = domain
        self.events: list[dict[str, Any]] = []
        self.slots: dict[str, Any] = {}

    def tracker(self, text: str, intent: str, entities=None) -> Tracker:
        return Tracker(
            sender_id=SENDER,
            slots=dict(self.slots),
            latest_message={
                "text": text,
                "intent": {"name": intent, "confidence": 0.9},
                "entities": entities or [],
            },
            events=list(self.events),
            paused=False,
            followup_action=None,
            active_loop={},
            latest_action_name="action_listen",
        )

    def render(self, message: dict[str, Any]) -> str:
        if message.get("text"):
            return message["text"]
        response = self.domain["responses"][message["response"]][0]["text"]
        values = {k: v for k, v in message.items() if isinstance(v, str)}
        try:
            return response.format(**values)
        except (KeyError, IndexError):
            return response

    async def turn(self, action, text: str, intent: str, entities=None) -> str:
        self.events.append(user_event(text, intent, entities))
        events, messages = await run(action, self.tracker(text, intent, entities), self.domain)
        said = [self.render(m) for m in messages]
        # as Rasa records a custom action: its messages first, then the events it returned
        self.events.extend({"event": "bot", "text": line} for line in said)
        self.events.extend(events)
        self.slots.update(slot_events(events))
        followup = next((e["name"] for e in events if e.get("event") == "followup"), None)
        if followup is not None:  # Rasa runs a FollowupAction next, without a new user message
            nxt = {a.name(): a for a in (ActionSuggestTopics(), ActionAckInContext())}[followup]
            events, messages = await run(nxt, self.tracker(text, intent, entities), self.domain)
            more = [self.render(m) for m in messages]
            self.events.extend({"event": "bot", "text": line} for line in more)
            self.events.extend(events)
            self.slots.update(slot_events(events))
            said += more
        return "\n".join(said)


async def test_where_and_documents_follow_up_then_no_repeat(domain, session):
    chat = Chat(domain)
    first = await chat.turn(
        ActionExplainBenefit(),
        "荣军卡咋办",
        "ask_benefit",
        [{"entity": "benefit", "value": "荣军卡"}],
    )
    assert "荣军卡" in first
    second = await chat.turn(ActionAnswerQuestion(), "我问的是去哪个窗口 要带啥", "ask_contact")
    assert "服务站" in second and "材料" in second and "退役报到这样办" not in second
    third = await chat.turn(ActionSuggestTopics(), "那到底在哪儿", "nlu_fallback")
    assert third != second
    assert "转人工" in third and "12345" in third


async def test_money_follow_up_after_the_allowance_answer(domain, session):
    chat = Chat(domain)
    first = await chat.turn(ActionAnswerQuestion(), "抚恤金咋领", "ask_allowance")
    assert "抚恤补助主要有这几类" in first
    second = await chat.turn(ActionAnswerQuestion(), "那一个月到底给多少钱", "ask_allowance")
    assert "抚恤补助主要有这几类" not in second
    assert "官方网站" in second and "12345" in second and NOTICE in second


async def test_the_same_knowledge_answer_twice_is_escalated(domain, session):
    chat = Chat(domain)
    first = await chat.turn(ActionAnswerQuestion(), "那个平台怎么用", "ask_platform_usage")
    again = await chat.turn(ActionAnswerQuestion(), "到底怎么用啊", "ask_platform_usage")
    assert first != again and "转人工" in again


async def test_direct_question_is_answered_and_the_form_asks_nothing(domain, session):
    chat = Chat(domain)
    said = await chat.turn(ActionFinderIntro(), "老兵坐地铁要钱吗", "ask_entitlements")
    assert "公交" in said and NOTICE in said and "查我的优待" not in said  # button, not text
    assert chat.slots["finder_direct"] is True
    form = ValidateEntitlementForm()
    required = await form.required_slots([], None, chat.tracker("", "ask_entitlements"), domain)
    assert required == []
    events, messages = await run(ActionFinderResult(), chat.tracker("", "inform"), domain)
    assert messages == [] and slot_events(events) == {"finder_direct": None}


async def test_general_question_starts_the_finder(domain, session):
    chat = Chat(domain)
    await chat.turn(ActionFinderIntro(), "我能享受啥优待", "ask_entitlements")
    assert chat.slots == {"finder_direct": None}


async def test_category_after_the_bus_answer(domain, session):
    chat = Chat(domain)
    await chat.turn(ActionFinderIntro(), "坐公交免费不", "ask_entitlements")
    said = await chat.turn(
        ActionAnswerFollowup(),
        "我是伤残军人 三级",
        "inform",
        [{"entity": "veteran_category", "value": "伤残军人"}],
    )
    assert "残疾军人证" in said and NOTICE in said


async def test_district_after_the_contact_answer(domain, session):
    chat = Chat(domain)
    await chat.turn(
        ActionAnswerQuestion(),
        "李沧区服务中心电话",
        "ask_contact",
        [{"entity": "district", "value": "李沧区"}],
    )
    said = await chat.turn(
        ActionAnswerFollowup(), "那崂山呢", "inform", [{"entity": "district", "value": "崂山区"}]
    )
    assert "崂山区退役军人服务中心" in said and "李沧" not in said


async def test_two_requests_question_then_task_offer(domain, session):
    chat = Chat(domain)
    said = await chat.turn(
        ActionExplainBenefit(),
        "我要报到，顺便问下荣军卡",
        "ask_benefit",
        [{"entity": "benefit", "value": "荣军卡"}],
    )
    assert "荣军卡" in said and "预约报到" in said


async def test_aside_before_a_booking_answers_the_question_only(domain, session):
    chat = Chat(domain)
    said = await chat.turn(ActionAnswerAside(), "坐公交免费吗 还有我想约个报到", "book_appointment")
    assert "公交" in said and NOTICE in said
    assert "等这边办完" not in said  # the booking itself is what starts next


async def test_job_request_beside_a_wish_is_offered(domain, session):
    chat = Chat(domain)
    said = await chat.turn(ActionAnswerAside(), "想许个心愿 另外想找个工作", "submit_wish")
    assert "找工作" in said


async def test_short_replies_in_context(domain, session):
    chat = Chat(domain)
    await chat.turn(ActionSuggestTopics(), "那个事你懂的", "nlu_fallback")
    offer = await chat.turn(ActionAckInContext(), "就那个嘛", "affirm")  # not a real yes
    assert "转人工" in offer
    yes = await chat.turn(ActionAckInContext(), "行", "affirm")
    assert "已为您登记转人工" in yes
    thumbs = await chat.turn(ActionSuggestTopics(), "👍", "nlu_fallback")
    assert "好的" in thumbs and "没有完全理解" not in thumbs


async def test_traditional_follow_up_is_answered_in_traditional(domain, session):
    chat = Chat(domain)
    await chat.turn(
        ActionExplainBenefit(),
        "榮軍卡有啥用",
        "ask_benefit",
        [{"entity": "benefit", "value": "荣军卡"}],
    )
    said = await chat.turn(ActionAnswerFollowup(), "我是問能打幾折", "out_of_scope")
    assert "折" in said and "商家" in said and "以官方最新公佈為準" in said


async def test_out_of_scope_that_names_a_topic_is_answered(domain, session):
    chat = Chat(domain)
    said = await chat.turn(ActionAnswerOutOfScope(), "去景区门票能免吗", "out_of_scope")
    assert "公园" in said and NOTICE in said and "超出了我的服务范围" not in said
    again = await chat.turn(ActionAnswerOutOfScope(), "景区门票到底免不免", "out_of_scope")
    assert again != said  # never the same block twice in a row


async def test_out_of_scope_without_a_topic_says_what_the_assistant_does(domain, session):
    said = await Chat(domain).turn(ActionAnswerOutOfScope(), "明天会下雨吗", "out_of_scope")
    assert "超出了我的服务范围" in said
