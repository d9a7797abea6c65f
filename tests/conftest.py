"""Session-wide fixtures: a real Rasa server and action server for integration tests.

The stack is started lazily, once, by the first test that asks for ``stack``; it runs on free
ports against a throw-away data directory, with the model `make test` trained.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack_env(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("stack-data")
    env = dict(os.environ)
    env.update(
        RJ_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'rongjun.db'}",
        GATEWAY_PUSH_TOKEN="test-push-token",
        PYTHONDONTWRITEBYTECODE="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


@pytest.fixture(scope="session")
def stack(stack_env) -> Iterator[object]:
    """Rasa (API behind its token) + the action server (behind its secret), real processes.

    ``bot.run.Stack`` generates the token and secret into the data directory, exactly as
    ``make run`` does; tests reach the API with ``stack.rasa_token``.
    """
    from bot.run import Stack

    subprocess.run([sys.executable, "-m", "bot.core.migrate"], cwd=REPO, env=stack_env, check=True)
    running = Stack(
        rasa_port=free_port(),
        action_port=free_port(),
        console_port=free_port(),
        telegram_port=free_port(),
        env=dict(stack_env),
        log_dir=Path(stack_env["RJ_DATA_DIR"]) / "logs",
    )
    running.env["RASA_URL"] = f"http://127.0.0.1:{running.rasa_port}"
    try:
        running.start_actions()
        running.start_rasa()
        yield running
    finally:
        running.stop()


@pytest.fixture
def sender_id() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"
