"""NLU benchmark: our Rasa pipeline against plain scikit-learn variants, in one run.

    make bench-nlu            (python -m tests.benchmarks.bench_nlu [--folds 5])

Prints, on the same k folds: intent accuracy and macro-F1 in cross-validation and on the held-out
test file (tests/nlu) for the TF-IDF char n-gram + logistic regression baseline, e5 sentence
embedding + LR, TF-IDF + e5 + LR, and the Rasa pipeline of config.yml (trained fold by fold); how
the fallback threshold trades correct answers for caught errors; crisis recall and false alarms;
Traditional-vs-Simplified agreement; parse latency p50/p95 through a running Rasa server;
training time; the Rasa server's resident memory and the encoder's share of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

from bot.core.script import normalise, to_traditional

REPO = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).with_name("rasa"))
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
Examples = list[tuple[str, str]]


def load_examples(folder: Path) -> Examples:
    """Intent examples of every NLU YAML file below ``folder`` (other files are skipped)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples: Examples = []
    for path in sorted(folder.rglob("*.yml")):
        data = load_data(str(path))
        examples += [
            (example.get("text"), example.get("intent")) for example in data.intent_examples
        ]
    return examples


def scores(truth: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """Accuracy (a message sent to nlu_fallback counts as wrong) and macro-F1 over true intents."""
    labels = sorted(set(truth))
    return (
        accuracy_score(truth, predicted),
        f1_score(truth, predicted, labels=labels, average="macro"),
    )


def train_nlu(out: Path) -> tuple[Path, float]:
    start = time.monotonic()
    subprocess.run(
        [
            RASA,
            "train",
            "nlu",
            "--nlu",
            "nlu_data",
            "--config",
            "config.yml",
            "--out",
            str(out),
            "--fixed-model-name",
            "bench",
            "--quiet",
        ],
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
        env=RASA_ENV,
    )
    return out / "bench.tar.gz", time.monotonic() - start


def parse(base_url: str, text: str, token: str = "") -> tuple[str, float]:
    request = urllib.request.Request(
        f"{base_url}/model/parse?token={urllib.parse.quote(token)}",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    return body["intent"]["name"], (time.perf_counter() - start) * 1000


def resident_memory_mb(pid: int) -> float:
    """VmRSS of the Rasa process and its children (the CLI may fork), in MiB."""
    total = 0
    pids = [str(pid)] + subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True
    ).stdout.split()
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


ENCODER_MEMORY_SCRIPT = """
def rss():
    return int(next(x for x in open('/proc/self/status') if x.startswith('VmRSS')).split()[1])
before = rss()
from bot.nlu.sentence_encoders import shared_encoder
shared_encoder().encode(['俺想办荣军卡'])
print((rss() - before) / 1024)
"""


def encoder_memory_mb() -> float:
    """Resident memory the sentence encoder adds to a Python process (loaded, one text embedded)."""
    result = subprocess.run(
        [sys.executable, "-c", ENCODER_MEMORY_SCRIPT],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def print_table(rows) -> None:
    print(f"{'':44}{'CV acc':>8}{'CV F1':>8}{'test acc':>10}")
    for name, cv, test in rows:
        test_text = f"{test:>10.3f}" if test is not None else f"{'—':>10}"
        print(f"{name:44}{cv[0]:>8.3f}{cv[1]:>8.3f}{test_text}")


def serve_and_parse(test: Examples, work: Path):
    """Trains the NLU model in a fresh process, serves it and parses the test file over HTTP in
    Simplified and in Traditional."""
    from bot.run import Stack
    from tests.conftest import free_port

    model, train_seconds = train_nlu(work / "model")
    stack = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        env={**os.environ, "RJ_DATA_DIR": str(work / "data"), "RJ_RATE_LIMITS": "off"},
    )
    stack.start_rasa(model)
    try:
        base = f"http://127.0.0.1:{stack.rasa_port}"
        loaded = resident_memory_mb(stack.processes["rasa"].pid)
        for text, _ in test[:10]:  # warm-up
            parse(base, text, stack.rasa_token)
        simplified = [parse(base, text, stack.rasa_token) for text, _ in test]
        traditional = [parse(base, to_traditional(text), stack.rasa_token) for text, _ in test]
        after = resident_memory_mb(stack.processes["rasa"].pid)
    finally:
        stack.stop()
    return simplified, traditional, train_seconds, loaded, after


def main() -> int:
    from tests.benchmarks import nlu_variants as variants

    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    config = REPO / "config.yml"
    test = load_examples(REPO / "tests" / "nlu")
    test_texts, test_truth = [normalise(t) for t, _ in test], [label for _, label in test]

    print(f"{args.folds}-fold cross-validation of the pipeline in config.yml …", flush=True)
    started = time.monotonic()
    texts, labels, final, chosen, confidence = variants.pipeline_cross_validation(
        REPO / "nlu_data" / "nlu", config, args.folds
    )
    cv_seconds = time.monotonic() - started
    print(
        f"training examples: {len(texts)}, test examples: {len(test)}, intents: {len(set(labels))}",
        flush=True,
    )

    embed = variants.embedder()
    folds = variants.make_folds(labels, args.folds)
    rows = []
    for variant in variants.sklearn_variants(variants.pipeline_settings(config)):
        predicted = variant.cross_validate(texts, labels, folds, embed)
        on_test = variant.predict_after_fit(texts, labels, test_texts, embed)
        rows.append((variant.name, scores(labels, predicted), scores(test_truth, on_test)[0]))
        print(f"  {variant.name}: done", flush=True)

    with tempfile.TemporaryDirectory() as workdir:
        simplified, traditional, train_seconds, loaded, after = serve_and_parse(test, Path(workdir))
    ours_test = scores(test_truth, [name for name, _ in simplified])
    ours_traditional = scores(test_truth, [name for name, _ in traditional])
    same = sum(a[0] == b[0] for a, b in zip(simplified, traditional, strict=True)) / len(test)
    latencies = [ms for _, ms in simplified + traditional]

    print("\n=== NLU benchmark (same folds for every row) ===")
    rows.append(("ours (config.yml: SVM+LR mean), classifier", scores(labels, chosen), None))
    rows.append(("ours, + fallback & crisis gate", scores(labels, final), ours_test[0]))
    print_table(rows)
    baseline_cv = rows[0][1][0]
    print(
        f"ours vs baseline in CV: classifier {100 * (scores(labels, chosen)[0] - baseline_cv):+.1f}"
        f" points; with fallback (counted wrong) and crisis gate "
        f"{100 * (scores(labels, final)[0] - baseline_cv):+.1f} points"
    )
    print(
        f"test file in Traditional: accuracy {ours_traditional[0]:.3f} (Simplified "
        f"{ours_test[0]:.3f}); same intent as Simplified for {same:.1%} of test examples"
    )
    print("fallback threshold on out-of-fold classifier confidence:")
    print(f"  {'threshold':>9}{'correct lost':>14}{'errors caught':>15}{'acc. kept':>11}")
    for threshold, lost, caught, kept in variants.calibration(labels, chosen, confidence):
        print(f"  {threshold:>9.2f}{lost:>14.1%}{caught:>15.1%}{kept:>11.3f}")
    recall, precision, false_alarms = variants.crisis_figures(labels, final)
    print(
        f"crisis in CV (with gate): recall {recall:.3f}, precision {precision:.3f}, "
        f"{false_alarms} non-crisis messages called crisis"
    )
    print(
        f"parse latency over HTTP: p50 {percentile(latencies, 0.5):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms ({len(latencies)} requests; "
        f"mean {statistics.mean(latencies):.1f} ms)"
    )
    print(
        f"NLU training time (fresh process, every text embedded): {train_seconds:.1f} s; "
        f"pipeline CV {cv_seconds:.0f} s"
    )
    print(
        f"Rasa server resident memory: {loaded:.0f} MiB loaded, {after:.0f} MiB after "
        f"{len(latencies) + 10} parses; the encoder alone adds {encoder_memory_mb():.0f} MiB"
    )
    print(f"machine load average (1, 5, 15 min): {Path('/proc/loadavg').read_text().split()[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
