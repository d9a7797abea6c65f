"""The conversation suite against the real stack: every case is played, the pass rate is held.

Each case's own result is printed (``pytest -s`` or ``make bench-dialogue`` for the full
report). The suite fails when the pass rate drops below the floor recorded in
``pass_rate_floor.txt``: raise the floor as conversations are fixed, never lower it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conversations.runner import load_cases, run_case, summarise

pytestmark = pytest.mark.stack

FLOOR_FILE = Path(__file__).with_name("pass_rate_floor.txt")


def test_cases_are_well_formed():
    cases = load_cases()
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "conversation ids must be unique"
    for case in cases:
        assert case.get("patterns"), f"{case['id']}: say which patterns it covers"
        for turn in case["turns"]:
            assert ("user" in turn) != ("press" in turn), f"{case['id']}: user or press"


def test_conversation_suite_holds_its_pass_rate(stack):
    cases = load_cases()
    outcomes = [run_case(f"http://127.0.0.1:{stack.rasa_port}", case) for case in cases]
    summary = summarise(outcomes)
    for outcome in outcomes:
        if not outcome.passed:
            print(f"FAIL {outcome.case_id}: " + "; ".join(outcome.failures))
    floor = float(FLOOR_FILE.read_text().split()[0])
    assert summary["pass_rate"] >= floor, (
        f"{summary['passed']}/{summary['total']} conversations passed "
        f"({summary['pass_rate']:.0%}), below the floor {floor:.0%}"
    )
