"""Waiting for what the stack writes after it answers (a crisis handoff is recorded on a worker
thread, off the reply path: bot design, actions/safety.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(read: Callable[[], T], done: Callable[[T], bool], seconds: float = 10.0) -> T:
    """``read()`` again until ``done`` holds for it or ``seconds`` pass; the last value read."""
    deadline = time.monotonic() + seconds
    value = read()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value
