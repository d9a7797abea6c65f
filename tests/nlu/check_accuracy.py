"""Fails (exit 1) when intent accuracy in a `rasa test nlu` report is below a minimum.

python -m tests.nlu.check_accuracy results/nlu/intent_report.json --minimum 0.90
"""

from __future__ import annotations

import argparse
import json
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--minimum", type=float, required=True)
    args = parser.parse_args()
    with open(args.report, encoding="utf-8") as handle:
        report = json.load(handle)
    accuracy = report["accuracy"]
    macro_f1 = report["macro avg"]["f1-score"]
    worst = sorted(
        (name, values["f1-score"])
        for name, values in report.items()
        if isinstance(values, dict)
        and "support" in values
        and name not in ("macro avg", "weighted avg", "micro avg")
    )
    worst = sorted(worst, key=lambda item: item[1])[:5]
    print(
        f"NLU test set: intent accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f} "
        f"(minimum {args.minimum:.2f})"
    )
    print("  lowest F1: " + ", ".join(f"{name} {f1:.2f}" for name, f1 in worst))
    return 0 if accuracy >= args.minimum else 1


if __name__ == "__main__":
    sys.exit(main())
