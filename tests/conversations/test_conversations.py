"""The conversation suite's cases are well formed; ``make bench-dialogue`` plays them.

Playing all of them against the real stack takes minutes and measures the dialogue work still
open, so it is a benchmark (``make bench-dialogue`` prints the pass rate, the share with no
repeated question, the rate per pattern and every failure with its transcript), not a gate.
"""

from __future__ import annotations

from tests.conversations.runner import load_cases


def test_cases_are_well_formed():
    cases = load_cases()
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "conversation ids must be unique"
    assert len(cases) >= 80
    for case in cases:
        assert case.get("patterns"), f"{case['id']}: say which patterns it covers"
        for turn in case["turns"]:
            assert ("user" in turn) != ("press" in turn), f"{case['id']}: user or press"
            unknown = set(turn) - {"user", "press", "expect", "forbid", "silent", "new_chat"}
            assert not unknown, f"{case['id']}: unknown turn keys {unknown}"
