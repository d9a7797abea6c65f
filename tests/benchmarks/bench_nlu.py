"""NLU benchmark: our Rasa pipeline against a plain scikit-learn baseline, in one run.

    make bench-nlu            (python -m tests.benchmarks.bench_nlu [--folds 5])

Prints intent accuracy and macro-F1 on the held-out test file (tests/nlu) and in k-fold
cross-validation on the training data, for our pipeline and for TF-IDF char n-grams + logistic
regression; Traditional-vs-Simplified accuracy; parse latency p50/p95 through a running Rasa
server; training time; and the Rasa server's resident memory.
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
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from bot.core.script import normalise, to_traditional

REPO = Path(__file__).resolve().parents[2]
RASA = str(Path(sys.executable).with_name("rasa"))
RASA_ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
Examples = List[Tuple[str, str]]


def load_examples(folder: Path) -> Examples:
    """Intent examples of every NLU YAML file below ``folder`` (other files are skipped)."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples: Examples = []
    for path in sorted(folder.rglob("*.yml")):
        data = load_data(str(path))
        examples += [(example.get("text"), example.get("intent")) for example in data.intent_examples]
    return examples


def scores(truth: Sequence[str], predicted: Sequence[str]) -> Tuple[float, float]:
    """Accuracy (a message sent to nlu_fallback counts as wrong) and macro-F1 over the true intents."""
    labels = sorted(set(truth))
    return accuracy_score(truth, predicted), f1_score(truth, predicted, labels=labels, average="macro")


def baseline_model():
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(max_iter=2000, C=10),
    )


def baseline_scores(train: Examples, test: Examples, folds: int) -> Dict[str, Tuple[float, float]]:
    texts = [normalise(text) for text, _ in train]
    labels = [label for _, label in train]
    model = baseline_model().fit(texts, labels)
    result = {"test": scores([l for _, l in test], model.predict([normalise(t) for t, _ in test]))}
    truth: List[str] = []
    predicted: List[str] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
    for train_index, test_index in splitter.split(texts, labels):
        fold = baseline_model().fit([texts[i] for i in train_index], [labels[i] for i in train_index])
        predicted += list(fold.predict([texts[i] for i in test_index]))
        truth += [labels[i] for i in test_index]
    result["cv"] = scores(truth, predicted)
    return result


def train_nlu(out: Path) -> Tuple[Path, float]:
    start = time.monotonic()
    subprocess.run(
        [RASA, "train", "nlu", "--nlu", "nlu_data", "--config", "config.yml", "--out", str(out),
         "--fixed-model-name", "bench", "--quiet"],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL, env=RASA_ENV,
    )
    return out / "bench.tar.gz", time.monotonic() - start


def rasa_cross_validation(folds: int, out: Path) -> Tuple[float, float]:
    subprocess.run(
        [RASA, "test", "nlu", "--nlu", "nlu_data", "--config", "config.yml", "--cross-validation",
         "--folds", str(folds), "--out", str(out), "--no-plot"],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=RASA_ENV,
    )
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    return report["accuracy"], report["macro avg"]["f1-score"]


def parse(base_url: str, text: str, token: str = "") -> Tuple[str, float]:
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


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    train = load_examples(REPO / "nlu_data" / "nlu")
    test = load_examples(REPO / "tests" / "nlu")
    print(f"training examples: {len(train)}, test examples: {len(test)}, intents: {len({l for _, l in train})}")

    from tests.conftest import free_port
    from bot.run import Stack

    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        model, train_seconds = train_nlu(work / "model")
        stack = Stack(
            rasa_port=free_port(), action_port=free_port(),
            env={**os.environ, "RJ_DATA_DIR": str(work / "data"), "RJ_RATE_LIMITS": "off"},
        )
        stack.start_rasa(model)
        try:
            base = f"http://127.0.0.1:{stack.rasa_port}"
            for text, _ in test[:10]:  # warm-up
                parse(base, text, stack.rasa_token)
            simplified = [parse(base, text, stack.rasa_token) for text, _ in test]
            traditional = [parse(base, to_traditional(text), stack.rasa_token) for text, _ in test]
            memory = resident_memory_mb(stack.processes["rasa"].pid)
        finally:
            stack.stop()
        truth = [label for _, label in test]
        ours_test = scores(truth, [name for name, _ in simplified])
        ours_traditional = scores(truth, [name for name, _ in traditional])
        same = sum(a[0] == b[0] for a, b in zip(simplified, traditional)) / len(test)
        latencies = [ms for _, ms in simplified + traditional]
        print(f"running {args.folds}-fold cross-validation of our pipeline (trains {args.folds} models) …", flush=True)
        ours_cv = rasa_cross_validation(args.folds, work / "cv")
    base_scores = baseline_scores(train, test, args.folds)

    print("\n=== NLU benchmark ===")
    print(f"{'':38}{'accuracy':>10}{'macro-F1':>10}")
    rows = [
        ("ours, test file", ours_test),
        (f"ours, {args.folds}-fold CV", ours_cv),
        ("baseline TF-IDF+LR, test file", base_scores["test"]),
        (f"baseline TF-IDF+LR, {args.folds}-fold CV", base_scores["cv"]),
        ("ours, test file in Traditional", ours_traditional),
    ]
    for name, (accuracy, f1) in rows:
        print(f"{name:38}{accuracy:>10.3f}{f1:>10.3f}")
    print(f"Traditional gives the same intent as Simplified: {same:.1%} of test examples")
    print(f"parse latency over HTTP: p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms "
          f"({len(latencies)} requests; mean {statistics.mean(latencies):.1f} ms)")
    print(f"NLU training time: {train_seconds:.1f} s")
    print(f"Rasa server resident memory: {memory:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
