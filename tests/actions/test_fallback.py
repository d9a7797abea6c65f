"""The fallback offers the likeliest topics as buttons, and a human after two misses in a row."""

from sqlalchemy import select

from actions.fallback import ActionSuggestTopics
from bot.core import handoff, knowledge
from bot.core.script import to_traditional
from tests.actions.trackers import run, tracker

RANKING = [
    {"name": "nlu_fallback", "confidence": 1.0},
    {"name": "ask_allowance", "confidence": 0.31},
    {"name": "greet", "confidence": 0.2},  # no topic label: never offered
    {"name": "ask_reporting_process", "confidence": 0.18},
    {"name": "ask_contact", "confidence": 0.12},
    {"name": "ask_training", "confidence": 0.1},
]


def missed(text: str, earlier_misses: int = 0, script_text: str = ""):
    t = tracker(text, "nlu_fallback", {})
    t.latest_message["intent_ranking"] = RANKING
    miss = {"event": "user", "text": "？？", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    t.events[-1:-1] = [miss] * earlier_misses
    return t


async def test_first_miss_offers_the_three_likeliest_labelled_topics(domain, session):
    _, messages = await run(ActionSuggestTopics(), missed("那个咋整"), domain)
    (message,) = messages
    assert message["response"] == "utter_fallback_suggest"
    assert [b["payload"] for b in message["buttons"]] == [
        "/ask_allowance",
        "/ask_reporting_process",
        "/ask_contact",
    ]
    assert session.execute(select(handoff.HandoffRequest)).scalars().all() == []


async def test_traditional_user_gets_traditional_button_titles(domain, session):
    _, messages = await run(ActionSuggestTopics(), missed("那個咋整"), domain)
    labels = dict(knowledge.topic_labels())
    offered = ("ask_allowance", "ask_reporting_process", "ask_contact")
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert titles == [to_traditional(labels[intent]) for intent in offered]
    assert titles != [labels[intent] for intent in offered]


async def test_second_miss_in_a_row_offers_a_human_and_queues(domain, session):
    t = missed("还是那个", earlier_misses=1)
    _, messages = await run(ActionSuggestTopics(), t, domain)
    assert [m["response"] for m in messages] == ["utter_fallback_offer_human"]
    queued = session.execute(select(handoff.HandoffRequest)).scalars().all()
    assert [(r.sender_id, r.reason) for r in queued] == [(t.sender_id, "fallback")]
