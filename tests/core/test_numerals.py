"""The one Chinese-numeral parser."""

from __future__ import annotations

import pytest

from bot.core import numerals


@pytest.mark.parametrize(
    "token, expected",
    [
        ("12", 12),
        ("１２", 12),
        ("十", 10),
        ("十二", 12),
        ("二十一", 21),
        ("三十", 30),
        ("一二", 12),
        ("零五", 5),
        ("两百", 200),
        ("两百五", 250),
        ("一千零五", 1005),
        ("一千五", 1500),
        ("三千二百", 3200),
        ("一万二千", 12000),
        ("六十八", 68),
        ("俩", 2),
        ("幺", 1),
        ("贰拾", 20),
        ("", None),
        (None, None),
        ("三个", None),
        ("abc", None),
    ],
)
def test_parse_int(token, expected):
    assert numerals.parse_int(token) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("68", 68),
        ("今年六十八了", 68),
        ("七十二岁", 72),
        ("大概两百块", 200),
        ("一千五左右", 1500),
        ("三千二百元", 3200),
        ("五级", 5),
        ("十级", 10),
        ("１５０元", 150),
        ("1.5", 1.5),
        ("没有", None),
        ("一二三", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_number(text, expected):
    assert numerals.parse_number(text) == expected


def test_digit_chars_cover_every_digit_spelling():
    assert set("零〇一二两三四五六七八九幺俩壹贰叁肆伍陆柒捌玖") == set(numerals.DIGIT_CHARS)
