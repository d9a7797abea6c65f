"""bot.core.facts: every fact one message gives (name, phone, ID, district, category, time) and
the corrections it makes. The sentences are our own, written the way veterans type."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core import facts, people

TODAY = date(2026, 12, 1)
ID_17 = "37028119750612003"
ID_NUMBER = ID_17 + people.id_check_digit(ID_17)


def test_a_run_on_message_gives_every_fact():
    found = facts.find("俺叫孔繁荣，退伍兵，手机15965321234，家在即墨，想大后天下午去报个到", TODAY)
    assert found.name == "孔繁荣"
    assert found.phone == "15965321234"
    assert found.district == "即墨区"
    assert found.category == "退役士兵"
    assert found.when == "大后天下午"
    assert found.corrected == frozenset()


def test_traditional_voice_typed_message():
    found = facts.find(
        "您好 我是軍休幹部 名字叫錢福來 電話 138 6542 7788 住在黃島 下週一上午十點", TODAY
    )
    assert (found.name, found.phone, found.district, found.category) == (
        "钱福来",
        "13865427788",
        "黄岛区",
        "军休干部",
    )
    assert found.when == "下周一上午十点"


def test_a_bare_name_among_facts_needs_a_surname():
    assert facts.find("我是复员军人，鲁长江，15166881234，城阳区", TODAY).name == "鲁长江"
    # a clause that is a word, not a name
    assert facts.find("我是复员军人，想问问，城阳区", TODAY).name is None


def test_id_number_anywhere_and_not_read_as_phone_or_time():
    found = facts.find(f"预约报到 身份证{ID_NUMBER} 我是烈属", TODAY)
    assert found.id_number == ID_NUMBER
    assert found.phone is None
    assert found.when is None
    assert found.category == "烈士遗属"


def test_a_wrong_id_is_reported_with_its_code():
    wrong = ID_17 + ("0" if people.id_check_digit(ID_17) != "0" else "1")
    found = facts.find(f"身份证是{wrong}", TODAY)
    assert found.id_number is None
    assert found.id_error == "bad_check_digit"


@pytest.mark.parametrize(
    "text, phone",
    [
        ("一五九 六三二一 四四五五", "15963214455"),
        ("幺三七 零五三二 八八九九", "13705328899"),
        ("电话 152-6666-0101", "15266660101"),
        ("+86 150 1234 5678", "15012345678"),
        ("座机 0532-87654321", "053287654321"),
        ("家里电话87654321", "053287654321"),
        ("我的手机是１３９６４２３１１８８", "13964231188"),
    ],
)
def test_phones_as_people_type_or_say_them(text, phone):
    assert facts.find_phone(text) == phone


def test_not_a_phone():
    assert facts.find_phone("我没有手机") is None
    assert facts.find_phone("12345") is None
    assert facts.find_phone("一二三") is None


@pytest.mark.parametrize(
    "text, name",
    [
        ("嗯 刘洋", "刘洋"),
        ("呃，那个，林海", "林海"),
        ("我叫孙立平吧", "孙立平"),
        ("俺叫侯德旺", "侯德旺"),
        ("司马文博", "司马文博"),
        ("诸葛明亮", "诸葛明亮"),
        ("热依拉·艾买提", "热依拉·艾买提"),
        ("谭卫东", "谭卫东"),
        ("Peter Wang", "Peter Wang"),
    ],
)
def test_names_at_the_name_question(text, name):
    assert facts.answer_name(text) == name


@pytest.mark.parametrize(
    "text", ["等会", "稍等一下", "不知道", "aaaasss", "qwer", "好的", "李", "你们几点下班", "123"]
)
def test_non_names_are_refused(text):
    assert facts.answer_name(text) is None


def test_waiting_words():
    assert facts.asks_to_wait("等会")
    assert facts.asks_to_wait("嗯 稍等 我找找")
    assert not facts.asks_to_wait("王大山")


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("不好意思电话输错了，应该是15012348888", facts.PHONE, "15012348888"),
        ("名字写错了 应该是赵淑芬", facts.NAME, "赵淑芬"),
        ("姓名打错了，改成周红梅", facts.NAME, "周红梅"),
        ("时间改成下午", facts.WHEN, "下午"),
        ("改到周五上午吧", facts.WHEN, "周五上午"),
    ],
)
def test_corrections_name_the_field_and_the_new_value(text, field, value):
    found = facts.find(text, TODAY)
    assert field in found.corrected
    assert {
        facts.PHONE: found.phone,
        facts.NAME: found.name,
        facts.WHEN: found.when,
    }[field] == value


def test_the_field_nearest_the_correction_word_is_the_one_corrected():
    found = facts.find("姓名弄错了 是马丽华 手机15012348888", TODAY)
    assert found.corrected == frozenset({facts.NAME})
    assert (found.name, found.phone) == ("马丽华", "15012348888")


def test_a_denied_district_is_not_the_district():
    assert facts.find("搞错了，不是市北，俺住市南", TODAY).district == "市南区"
    assert facts.find("我户口在城阳 不是即墨", TODAY).district == "城阳区"


def test_colloquial_categories():
    assert facts.find_category("俺是当兵退下来的") == "退役士兵"
    assert facts.find_category("部队转业回来的") == "转业军官"
    assert facts.find_category("我是問撫卹金的") is None


def test_time_expressions_are_found_without_phone_digits():
    assert facts.find_when("电话13912341234 明天上午") == "明天上午"
    assert facts.find_when("下下周二下午三点半可以吗") == "下下周二下午三点半"
    assert facts.names_day("下周四") and not facts.names_day("十点半")
