"""The hotline-agent benchmark cases (tests/benchmarks/assist_cases.yml) are well formed.

Each case's reference answer must satisfy its own key facts, and no number in an answer or a key
fact may be invented: every digit run must occur in the project's data files (the operator's
demo data excluded) or be a national hotline.

``pytest tests`` skips this folder (norecursedirs); run it by path:
    .venv/bin/python -m pytest tests/benchmarks/test_assist_cases.py -q
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import opencc
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CASES_FILE = Path(__file__).with_name("assist_cases.yml")
DATA_FILES = [ROOT / "domain.yml", *sorted((ROOT / "bot" / "core" / "data").glob("*.yml"))]
NATIONAL_HOTLINES = {"110", "119", "120", "12345", "12356", "96110"}
TOPICS = {
    "荣军卡",
    "荣军保",
    "抚恤金",
    "优待金",
    "优待证",
    "报到",
    "微心愿",
    "就业",
    "危机",
    "诈骗",
    "投诉",
}
CHANNELS = {"telegram", "web", "wechat"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
DIGITS = re.compile(r"\d+")
PHONE_LIKE = re.compile(r"(?<!\d)(?:1[1-9]\d|9\d{3,}|1\d{4,}|\d{7,})(?!\d)")

_t2s = opencc.OpenCC("t2s")


def _load() -> list[dict]:
    data = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and set(data) == {"cases"}, "top level must be `cases:` only"
    return data["cases"]


CASES = _load()


def _data_numbers() -> set[str]:
    found: set[str] = set()
    for path in DATA_FILES:
        found.update(DIGITS.findall(path.read_text(encoding="utf-8")))
    return found


ALLOWED_NUMBERS = _data_numbers() | NATIONAL_HOTLINES


def _alternatives(fact: str) -> list[str]:
    return [alt.strip() for alt in fact.split("|")]


def _is_traditional(case: dict) -> bool:
    return any(_t2s.convert(turn) != turn for turn in case["turns"])


def test_enough_cases_with_unique_ids():
    assert len(CASES) >= 40
    ids = [case.get("id") for case in CASES]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate ids: {duplicates}"


def test_every_topic_is_covered():
    counts = Counter(case.get("topic") for case in CASES)
    missing = {topic for topic in TOPICS if counts[topic] < 3}
    assert not missing, f"topics with fewer than 3 cases: {sorted(missing)}"


def test_hard_conversations_are_represented():
    assert sum(_is_traditional(case) for case in CASES) >= 5, "too few Traditional cases"
    crisis_numbers = {"12356", "120", "110"}
    for case in CASES:
        if case["topic"] == "危机":
            facts = "|".join(case["key_facts"])
            assert any(n in facts for n in crisis_numbers), case["id"]
        if case["topic"] == "诈骗":
            facts = "|".join(case["key_facts"])
            assert "110" in facts, case["id"]


@pytest.mark.parametrize("case", CASES, ids=[str(c.get("id")) for c in CASES])
def test_case_is_well_formed(case):
    assert set(case) == {"id", "topic", "channel", "turns", "agent_answer", "key_facts"}
    assert ID_PATTERN.match(case["id"]), case["id"]
    assert case["topic"] in TOPICS
    assert case["channel"] in CHANNELS
    turns = case["turns"]
    assert isinstance(turns, list) and turns
    assert all(isinstance(t, str) and t.strip() for t in turns)
    assert isinstance(case["agent_answer"], str) and len(case["agent_answer"].strip()) >= 20
    facts = case["key_facts"]
    assert isinstance(facts, list) and 1 <= len(facts) <= 3
    for fact in facts:
        assert isinstance(fact, str), f"{fact!r} must be a string (quote numbers)"
        assert all(len(alt) >= 2 for alt in _alternatives(fact)), fact


@pytest.mark.parametrize("case", CASES, ids=[str(c.get("id")) for c in CASES])
def test_reference_answer_has_its_key_facts(case):
    answer = case["agent_answer"]
    answers = [answer]
    if _is_traditional(case):
        # A Traditional question may get a Simplified or a Traditional suggestion: both must pass.
        answers.append(_t2s.convert(answer))
    for text in answers:
        for fact in case["key_facts"]:
            assert any(alt in text for alt in _alternatives(fact)), f"{fact!r} not in {text}"


@pytest.mark.parametrize("case", CASES, ids=[str(c.get("id")) for c in CASES])
def test_no_invented_numbers(case):
    for fact in case["key_facts"]:
        for phone in PHONE_LIKE.findall(fact):
            assert phone in ALLOWED_NUMBERS, f"phone {phone} is in no data file"
    texts = [*case["key_facts"], case["agent_answer"]]
    for number in DIGITS.findall(" ".join(texts)):
        assert number in ALLOWED_NUMBERS, f"{number} is in no data file nor a national hotline"


def test_number_check_catches_an_invented_phone():
    assert "85912345" not in ALLOWED_NUMBERS
    assert PHONE_LIKE.findall("请拨打 85912345 或 12356") == ["85912345", "12356"]
