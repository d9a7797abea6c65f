"""Direct questions, follow-ups, money and two requests are planned from the data file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.core import followups

REPO = Path(__file__).resolve().parents[2]
NOTICE = "以官方最新公布为准。"


@pytest.mark.parametrize(
    ("text", "topics", "aspects"),
    [
        ("当兵的坐地铁花钱不", ["transport"], []),
        ("退伍軍人坐公車免費嗎", ["transport"], []),
        ("三级伤残的抚恤金一年发多少", ["disability_pension"], ["amount"]),
        ("烈属每月的抚恤有多少", ["survivor_pension"], ["amount"]),
        ("老年补助一个月给几块", ["rural_vet_subsidy"], ["amount"]),
        ("补助的事该找谁", ["allowance"], ["phone"]),
        ("报到得拿些什么材料", ["reporting"], ["documents"]),
        ("退伍证弄丢了怎么办", ["reporting"], ["lost"]),
        ("服务中心电话多少", ["contact"], ["phone", "amount"]),
        ("约个报到，顺便问下荣军卡", ["task:book_appointment", "rongjun_card"], []),
        ("找个活干 另外许个心愿", ["task:ask_employment", "task:submit_wish"], []),
        ("那到底在哪儿办", [], ["where"]),
        ("手机上能弄不 俺走不动", [], ["online"]),
        ("那我能享受哪些优待", [], []),
    ],
)
def test_topics_and_aspects_are_found_in_any_script(text, topics, aspects):
    assert followups.find_topics(text) == topics
    assert followups.find_aspects(text)[: len(aspects)] == aspects


def test_a_specific_money_topic_drops_the_generic_allowance():
    assert followups.find_topics("遗属定期抚恤金多少钱") == ["survivor_pension"]
    assert followups.find_topics("抚恤金多少钱") == ["allowance"]


def test_money_answers_give_the_rule_and_where_to_ask_never_an_amount():
    data = yaml.safe_load((REPO / "bot/core/data/knowledge_followups.yml").read_text("utf-8"))
    money_topics = [t for t, entry in data["topics"].items() if entry.get("money")]
    assert len(money_topics) >= 6
    for topic in money_topics:
        reply = followups.answer_topic(topic, "amount", "一年多少钱")
        assert reply is not None and reply.kind == "text", topic
        assert reply.text.endswith(NOTICE), topic
        assert "来源：" in reply.text, topic
        assert "12345" in reply.text, topic
        # no invented figure: no number of yuan at all
        assert not re.search(r"\d+\s*(元|块)", reply.text), topic


def test_disability_money_names_the_grade_the_user_gave():
    reply = followups.answer_topic("disability_pension", "amount", "俺是因公七级伤残 一年拿多少")
    assert "七级" in reply.text
    assert "上一年度" in reply.text


def test_follow_up_aspect_resolves_against_the_recent_topic():
    plan = followups.plan("这个在哪儿办", recent_topic="rongjun_home")
    (reply,) = plan.replies
    assert reply.key == "rongjun_home:where"
    assert "荣军居" in reply.text and "服务站" in reply.text
    assert reply.text.endswith(NOTICE)


def test_a_follow_up_without_aspect_or_topic_plans_nothing():
    assert not followups.plan("那我能享受哪些优待", recent_topic="youdai_card")


def test_documents_unknown_says_so_and_who_knows():
    (reply,) = followups.plan("要带啥", recent_topic="youdai_card").replies
    assert "没有查到公开的统一清单" in reply.text and "材料" in reply.text


def test_the_same_question_again_is_escalated_not_repeated():
    first = followups.plan("到哪个窗口办", recent_topic="rongjun_card")
    again = followups.plan(
        "那到底在哪", recent_topic="rongjun_card", last_keys=[r.key for r in first.replies]
    )
    (reply,) = again.replies
    assert reply.escalated and reply.offer_human
    assert reply.text != first.replies[0].text
    assert "转人工" in reply.text and "12345" in reply.text


def test_coverage_then_amount_of_the_insurance():
    first = followups.plan("保啥病 住院能报多少", recent_topic="rongjun_insure")
    assert [r.key for r in first.replies] == ["rongjun_insure:coverage"]
    again = followups.plan(
        "具体能报多少钱", recent_topic="rongjun_insure", last_keys=["rongjun_insure:coverage"]
    )
    (reply,) = again.replies
    assert reply.escalated and "没有" in reply.text


def test_discount_only_for_the_card_and_the_union():
    (card,) = followups.plan("能打几折", recent_topic="rongjun_card").replies
    assert "折" in card.text and "商家" in card.text
    (home,) = followups.plan("能打几折", recent_topic="rongjun_home").replies
    assert home.escalated and "荣军居" in home.text


def test_direct_question_offers_the_finder_and_two_requests_are_both_seen():
    plan = followups.plan("坐公交免费吗？还有我想约个报到")
    (reply,) = plan.replies
    assert reply.topic == "transport" and reply.offer_finder
    assert "公交" in reply.text and reply.text.endswith(NOTICE)
    assert plan.tasks == ["book_appointment"]


def test_two_topics_in_one_message_get_two_answers():
    plan = followups.plan("荣军保咋办理 还有优待证在哪领")
    assert [r.topic for r in plan.replies] == ["rongjun_insure", "youdai_card"]


def test_category_note_for_a_disabled_veteran_after_the_bus_answer():
    reply = followups.category_note("transport", "伤残军人")
    assert "残疾军人证" in reply.text and reply.text.endswith(NOTICE)
    assert followups.category_note("youdai_card", "伤残军人") is None


def test_offered_human_reads_both_offers():
    assert followups.offered_human("抱歉，我还是没能理解。要不要我为您转人工客服？")
    assert followups.offered_human(followups.escalate("rongjun_card", "where").text)
    assert not followups.offered_human("好的。还有什么可以帮您？")


def test_topic_lookup_lists_every_plain_word_of_the_data_file():
    data = yaml.safe_load((REPO / "bot/core/data/knowledge_followups.yml").read_text("utf-8"))
    plain = {
        str(p)
        for entry in data["topics"].values()
        for p in entry.get("patterns") or ()
        if re.fullmatch(r"[\u4e00-\u9fff]+", str(p))
        and entry.get("intent") not in {"ask_reporting_process", "ask_contact"}
    }
    nlu = yaml.safe_load((REPO / "nlu_data/nlu/answers_topics.yml").read_text("utf-8"))
    lookup = next(item for item in nlu["nlu"] if item.get("lookup") == "topic")
    words = {line.strip("- ").strip() for line in lookup["examples"].splitlines() if line.strip()}
    assert plain - words == set()


HOTLINES = {"12345", "12356", "12348", "12333", "110", "120", "119"}


def test_every_topic_and_aspect_renders_sourced_without_invented_numbers():
    data = yaml.safe_load((REPO / "bot/core/data/knowledge_followups.yml").read_text("utf-8"))
    aspects = list(followups.ASPECT_ORDER) + [""]
    rendered = 0
    for topic in data["topics"]:
        for aspect in aspects:
            reply = followups.answer_topic(topic, aspect, "一年多少钱 七级")
            for r in [reply, followups.escalate(topic, aspect or "details")]:
                if r is None or r.kind != "text":
                    continue
                rendered += 1
                assert "{" not in r.text and "}" not in r.text, (topic, aspect)
                assert r.text.endswith(NOTICE) and "来源：" in r.text, (topic, aspect)
                numbers = set(re.findall(r"\d{3,}", r.text))
                assert numbers <= HOTLINES | {"1954", "2021", "2022", "2023", "2024"}, numbers
    assert rendered > 50


@pytest.mark.parametrize("script", ["simplified", "traditional"])
def test_every_reply_passes_the_content_truth_checks(script):
    from bot.core.script import to_script
    from tests.core.test_content_truth import answer_problems

    data = yaml.safe_load((REPO / "bot/core/data/knowledge_followups.yml").read_text("utf-8"))
    problems = []
    for topic in list(data["topics"]) + ["rongjun_card", "rongjun_insure", "rongjun_home"]:
        for aspect in list(followups.ASPECT_ORDER) + [""]:
            for reply in (
                followups.answer_topic(topic, aspect, "七级"),
                followups.escalate(topic, aspect or "details"),
            ):
                if reply is not None and reply.kind == "text":
                    problems += answer_problems(to_script(reply.text, script), f"{topic}:{aspect}")
    assert problems == []


def test_the_second_request_says_which_task_comes_first():
    text = followups.task_offer("ask_employment", "submit_wish")
    assert text.startswith("好的，先帮您许微心愿") and "找工作" in text
    assert "先帮您" not in followups.task_offer("ask_employment")


def test_documents_follow_up_uses_the_category_already_known():
    known = followups.plan("要带啥", recent_topic="reporting", category="退役士兵").replies
    unknown = followups.plan("要带啥", recent_topic="reporting").replies
    assert known and "退役士兵报到" in known[0].text and "哪一类" not in known[0].text
    assert unknown and "哪一类" in unknown[0].text
