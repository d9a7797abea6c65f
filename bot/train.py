"""``python -m bot.train <rasa train arguments>``: training with only its progress on screen.

``rasa train`` prints dozens of dependency warnings (DeprecationWarning, UserWarning for unused
utterances …) around its progress bars. This runs it through ``bot.rasa_server`` (telemetry
off) and shows only Rasa's progress bars and its result lines; the complete output, warnings
included, goes to ``<data dir>/logs/train.log``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

from bot.core import settings

# What is worth showing: tqdm bars ("Epochs: 45%|…"), stage lines and the result.
SHOWN = re.compile(
    rb"%\||Epochs:|it/s\]|Training|trained|Your Rasa model|Nothing changed|No training|Error|error:"
)


def show(segment: bytes, terminal) -> None:
    text = segment.strip()
    if text and SHOWN.search(text) and b"Warning" not in text:
        bar = b"%|" in text  # a progress bar redraws itself on one line
        terminal.write(b"\r    " + (text[:110] if bar else text + b"\n"))
        terminal.flush()


def main(argv: list[str] | None = None) -> int:
    log_dir = settings.current().ensure_data_dir() / "logs"
    log_dir.mkdir(mode=0o700, exist_ok=True)
    log_path = log_dir / "train.log"
    print(f"    (full output and warnings: {log_path})", flush=True)
    args = sys.argv[1:] if argv is None else argv
    terminal = sys.stdout.buffer
    with open(log_path, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} rasa train\n".encode())
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.rasa_server", "train", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert process.stdout is not None
        pending = b""
        while chunk := process.stdout.read1(4096):
            log.write(chunk)
            pending += chunk
            *segments, pending = re.split(rb"[\r\n]", pending)
            for segment in segments:
                show(segment, terminal)
        show(pending, terminal)
        code = process.wait()
    terminal.write(b"\n")
    terminal.flush()
    if code:
        print(f"训练失败 / training failed: see {log_path}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
