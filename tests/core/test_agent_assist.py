"""Agent assist (bot.core.agent_assist): suggestions from the whole conversation and the
takeover summary."""

from __future__ import annotations

from bot.core import agent_assist as A


def turn(text, intent, entities=(), confidence=0.9):
    return {
        "text": text,
        "intent": intent,
        "confidence": confidence,
        "ranking": [(intent, confidence)],
        "entities": list(entities),
    }


def test_turns_from_rasa_events_keep_intents_and_hide_payloads():
    events = [
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "荣军卡怎么办",
            "parse_data": {
                "intent": {"name": "ask_benefit", "confidence": 0.8},
                "intent_ranking": [{"name": "ask_benefit", "confidence": 0.8}],
                "entities": [{"entity": "benefit", "value": "荣军卡"}],
            },
        },
        {"event": "bot", "text": "……"},
        {
            "event": "user",
            "text": "/request_human",
            "parse_data": {"intent": {"name": "request_human", "confidence": 1.0}},
        },
    ]
    turns = A.turns_from_events(events)
    assert [t["intent"] for t in turns] == ["ask_benefit", "request_human"]
    assert turns[1]["text"] == ""
    assert turns[0]["entities"] == [{"entity": "benefit", "value": "荣军卡"}]


def test_the_question_before_the_trigger_comes_first_not_the_trigger():
    turns = [
        turn("你好", "greet"),
        turn("荣军保怎么参保", "ask_benefit", [{"entity": "benefit", "value": "荣军保"}]),
        turn("转人工", "request_human"),
    ]
    assert A.the_question(turns) == "荣军保怎么参保"
    top = A.suggestions(turns)[0]
    assert top["source"] == "programme" and top["ref"] == "rongjun_insure"
    assert "荣军保" in top["text"] and top["text"].endswith("以官方最新公布为准。")
    assert "我已经通知人工客服" not in top["text"]
    assert top["text"].startswith("您好，我是服务中心的工作人员")


def test_a_trigger_with_a_question_in_it_is_a_question():
    turns = [turn("转人工吧，我想问问俺娘的优待金", "request_human")]
    assert A.strip_request(turns[0]["text"]) == "我想问问俺娘的优待金"
    assert A.the_question(turns) == "我想问问俺娘的优待金"
    top = A.suggestions(turns)[0]
    assert top["ref"] == "family_allowance"
    assert "义务兵家庭优待金" in top["text"]


def test_a_bare_trigger_leaves_no_question():
    assert A.strip_request("转人工") == ""
    assert A.strip_request("我要人工客服") == ""
    turns = [turn("转人工", "request_human")]
    assert A.the_question(turns) == ""
    assert A.suggestions(turns)[0]["source"] == "generic"


def test_crisis_script_comes_first_in_the_agents_voice_with_sources():
    turns = [turn("药都攒好了，不想活了", "crisis")]
    found = A.suggestions(turns)
    assert [s["source"] for s in found[:3]] == ["crisis"] * 3
    joined = "\n".join(s["text"] for s in found[:3])
    assert "12356" in joined and "120" in joined and "110" in joined
    assert "中国青年报" in joined and "以官方最新公布为准" in joined
    assert "我已经通知人工客服" not in joined
    script = A.crisis_script()
    assert any("直接问" in g for g in script["guidance"])
    summary = A.summary(turns, reason="crisis")
    assert summary["severity"] == 3 and summary["question"] == "药都攒好了，不想活了"


def test_crisis_severity_orders_plans_above_wishes_above_distress():
    assert A.crisis_severity("药都攒好了") == 3
    assert A.crisis_severity("真的不想活了") == 2
    assert A.crisis_severity("心里难受") == 1
    assert A.crisis_severity("荣军卡怎么办") == 0


def test_grade_from_text_reads_chinese_and_digits():
    assert A.grade_from_text("我是三级伤残") == 3
    assert A.grade_from_text("伤残7级") == 7
    assert A.grade_from_text("评了三级", disabled=True) == 3
    assert A.grade_from_text("评了三级") is None  # a bare grade without disability context
    assert A.grade_from_text("十二级伤残") is None


def test_summary_lists_statutory_entitlements_first_and_few():
    turns = [turn("我是三级伤残，住在李沧区", "inform"), turn("人工", "request_human")]
    s = A.summary(turns)
    assert s["facts"]["disability_grade"] == 3
    assert s["facts"]["veteran_category"] == "伤残军人"
    names = [e["name"] for e in s["entitlements"]]
    assert names[0] == "伤残抚恤金"
    assert len(names) <= A.MAX_ENTITLEMENTS
    kinds = [e["kind"] for e in s["entitlements"]]
    assert kinds == sorted(kinds, key=lambda k: A.KIND_ORDER.get(k, 9))


def test_unknown_conditions_are_marked_not_claimed():
    rows = A.applicable_entitlements({"veteran_category": "退役士兵"})
    by_name = {r["name"]: r for r in rows}
    assert by_name, rows
    for row in rows:
        assert row["status"] in ("符合条件", "条件未知")
        assert (row["status"] == "条件未知") == bool(row["missing"])
    # 农村籍退役士兵老年生活补助 needs an age we do not know
    if "农村籍退役士兵老年生活补助" in by_name:
        assert by_name["农村籍退役士兵老年生活补助"]["status"] == "条件未知"


def test_no_profile_no_entitlement_list_and_crisis_gets_no_perks():
    assert A.applicable_entitlements({}) == []
    rows = A.applicable_entitlements({"veteran_category": "退役士兵"}, crisis=True)
    assert rows and all(r["kind"] == "法定优待" for r in rows)


def test_booking_and_wish_state_drive_the_suggestions():
    appointments = [
        {"code": "AB12CD", "centre": "李沧区退役军人服务中心", "start": "2026-12-01 09:00"}
    ]
    turns = [
        turn("我那个预约能改到下周吗", "reschedule_appointment"),
        turn("人工", "request_human"),
    ]
    top = A.suggestions(turns, appointments=appointments)[0]
    assert top["source"] == "appointment" and "AB12CD" in top["text"]
    wishes = [{"code": "W123", "category": "生活用品", "status": "published"}]
    top = A.suggestions([turn("我的心愿怎么样了", "check_wish")], wishes=wishes)[0]
    assert "W123" in top["text"] and "已发布" in top["text"]
    top = A.suggestions([turn("想许个微心愿要个轮椅", "submit_wish")])[0]
    assert top["source"] == "wish" and "许微心愿" in top["text"] and "审核" in top["text"]
    top = A.suggestions([turn("俺许的那个心愿咋还没信儿", "check_wish")])[0]
    assert "编号" in top["text"] and "认领" in top["text"]
    top = A.suggestions([turn("确认码找不着了 想改个日子", "reschedule_appointment")])[0]
    assert "手机号" in top["text"] and "改约" in top["text"]


def test_a_complaint_gets_an_apology_and_where_to_complain():
    turns = [
        turn("去服务站办优待证 跑了三趟了还没办下来", "ask_benefit"),
        turn("我要投诉", "request_human"),
    ]
    found = A.suggestions(turns)
    assert found[0]["text"].startswith("实在抱歉") and "12345" in found[0]["text"]


def test_the_question_part_of_a_trigger_uses_its_own_parse():
    turns = [turn("转人工，我想问问报到要带啥", "request_human")]
    assert A.residual_questions(turns) == [(0, "我想问问报到要带啥")]
    parsed = {
        "intent_ranking": [
            {"name": "ask_reporting_process", "confidence": 0.8},
            {"name": "request_human", "confidence": 0.1},
        ],
        "entities": [],
    }
    turns[0] = A.with_question_parse(turns[0], parsed)
    top = A.suggestions(turns)[0]
    assert top["source"] == "knowledge" and top["ref"] == "ask_reporting_process"


def test_a_fall_gets_the_emergency_script_before_anything_else():
    turns = [
        turn("俺爹在家摔倒了 起不来 腿动不了", "crisis"),
        turn("快给俺找个人", "request_human"),
    ]
    top = A.suggestions(turns)[0]
    assert top["source"] == "script" and top["ref"].startswith("medical")
    assert "120" in top["text"] and "不要挪动" in top["text"] and "长春疾控" in top["text"]


def test_a_scam_gets_the_fraud_script_with_the_numbers():
    turns = [
        turn("有人说俺的优待证要年审升级，让俺把手机上的验证码念给他", "ask_benefit"),
        turn("转人工", "request_human"),
    ]
    top = A.suggestions(turns)[0]
    assert top["ref"].startswith("fraud")
    for fact in ("不要转账", "验证码不要告诉", "110", "96110", "以官方最新公布为准"):
        assert fact in top["text"]
    assert A.matching_scripts("收到簡訊說要點連結填銀行卡號和密碼")[0]["ref"].startswith("fraud")
    assert A.matching_scripts("荣军卡怎么办") == []


def test_the_first_crisis_message_already_gives_the_numbers():
    top = A.suggestions([turn("活着没啥意思了 俺不想活了", "crisis")])[0]
    assert top["source"] == "crisis"
    assert "12356" in top["text"] and "120" in top["text"] and "安全吗" in top["text"]


def test_a_last_message_asking_for_a_person_is_a_trigger_whatever_the_nlu_said():
    turns = [
        turn("刚退伍，评了七级伤残，抚恤金咋转到地方", "ask_allowance"),
        turn("有点复杂，转人工吧", "ask_employment"),
    ]
    assert A.the_question(turns) == "刚退伍，评了七级伤残，抚恤金咋转到地方"
    assert A.suggestions(turns)[0]["ref"] == "ask_allowance"
    # its own NLU result decides whether the rest is a question
    last = A.with_question_parse(
        turn("在哪补？能不能找个人工问问", "ask_benefit"),
        {"intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4}]},
    )
    turns = [turn("我爸的荣军卡丢了，补办要钱吗", "ask_benefit"), last]
    assert A.the_question(turns) == "我爸的荣军卡丢了，补办要钱吗"


def test_a_message_read_as_facts_still_gets_an_answer():
    turns = [
        turn("我妈是烈士遗属，耳朵背了，想要个助听器，你们那个微心愿能帮忙吗", "inform"),
        turn("给我转个人工", "request_human"),
    ]
    top = A.suggestions(turns)[0]
    assert top["source"] in ("programme", "wish") and "微心愿" in top["text"]
