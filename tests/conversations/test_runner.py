"""The runner's whole-conversation rules, checked without a stack."""

from __future__ import annotations

from bot.core import people
from tests.conversations.runner import _fresh_phone, _questions, load_cases


def test_a_question_followed_by_a_note_is_still_a_question():
    text = (
        "请问报到人的姓名？（只用于服务中心核对，预约完成后会从对话中清除）\n"
        "想约哪天、什么时间去市南区退役军人服务中心？可以直接说“明天下午”。\n"
        "好的。还有什么可以帮您？"
    )
    assert _questions(text) == [
        "请问报到人的姓名？",
        "想约哪天、什么时间去市南区退役军人服务中心？",
        "好的。还有什么可以帮您？",
    ]


def test_statements_and_links_are_not_questions():
    text = "预约成功！\n确认码：K7QX3M\n详情见 https://example.cn/a?code=K7QX3M 。\n好？"
    assert _questions(text) == []


def test_fresh_phones_are_numbers_the_bot_accepts():
    for _ in range(200):
        number = _fresh_phone()
        assert people.validate_mobile(number) == number


def test_every_expectation_is_text():
    """An unquoted "a|09:" in a flow list is a mapping in YAML, never matched as meant."""
    for case in load_cases():
        for turn in case["turns"]:
            for entry in (turn.get("expect") or []) + (turn.get("forbid") or []):
                assert isinstance(entry, str), f"{case['id']}: quote {entry!r}"
