"""``make bench-dialogue``: plays every conversation in tests/conversations against a fresh
stack (real Rasa and action server) and prints the pass rate, the share of conversations with no
repeated question, the pass rate per failure pattern, and each failure with its transcript.

    RASA_URL=http://127.0.0.1:5005 make bench-dialogue   # against an already running stack
    python -m tests.benchmarks.bench_dialogue crisis.yml lookup-   # only cases whose file name
                                                                  # or id contains one of these
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from tests.conversations.runner import load_cases, run_case, summarise


def _quantile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    wanted = sys.argv[1:]
    cases = [
        case
        for case in load_cases()
        if not wanted or any(w in case["file"] or w in case["id"] for w in wanted)
    ]
    base = os.environ.get("RASA_URL", "").rstrip("/")
    stack = None
    with tempfile.TemporaryDirectory() as workdir:
        if not base:
            import subprocess

            from bot.run import Stack
            from tests.conftest import free_port

            env = dict(
                os.environ,
                RJ_DATA_DIR=workdir,
                DATABASE_URL=f"sqlite:///{Path(workdir) / 'rongjun.db'}",
            )
            subprocess.run([sys.executable, "-m", "bot.core.migrate"], env=env, check=True)
            stack = Stack(
                rasa_port=free_port(),
                action_port=free_port(),
                env=env,
                log_dir=Path(workdir) / "logs",
            )
        try:
            if stack is not None:
                stack.start_actions()
                stack.start_rasa()
                base = f"http://127.0.0.1:{stack.rasa_port}"
            started = time.monotonic()
            outcomes = [run_case(base, case) for case in cases]
            seconds = time.monotonic() - started
        finally:
            if stack is not None:
                stack.stop()
    summary = summarise(outcomes)
    for outcome in outcomes:
        if outcome.passed:
            continue
        print(f"\n✗ {outcome.case_id} [{', '.join(outcome.patterns)}]")
        for failure in outcome.failures:
            print(f"    - {failure}")
        for line in outcome.transcript:
            print(f"      {line[:160]}")
    print("\n=== dialogue benchmark ===")
    print(
        f"conversations passed: {summary['passed']}/{summary['total']} "
        f"({summary['pass_rate']:.1%}) in {seconds:.0f} s"
    )
    print(f"conversations with no repeated question: {summary['no_repeated_question']:.1%}")
    every_turn = sorted(t for o in outcomes for t in o.turn_seconds)
    crisis_turns = sorted(
        t for o in outcomes if "crisis_speed" in o.patterns for t in o.turn_seconds
    )
    if every_turn:
        print(
            f"turn latency: p50 {_quantile(every_turn, 0.5) * 1000:.0f} ms, "
            f"p95 {_quantile(every_turn, 0.95) * 1000:.0f} ms over {len(every_turn)} turns"
        )
    if crisis_turns:
        print(
            f"crisis-speed turns: p50 {_quantile(crisis_turns, 0.5) * 1000:.0f} ms, "
            f"max {crisis_turns[-1] * 1000:.0f} ms over {len(crisis_turns)} turns"
        )
    for pattern, (passed, total) in sorted(summary["by_pattern"].items()):
        print(f"  {pattern:24} {passed}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
