"""Configuration from the environment, the texts file, and the no-token start."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.telegram.config import GatewayConfig
from bot.channels.telegram.texts import REQUIRED_KEYS, Texts, default_texts, load_texts

PACKAGE = Path(__file__).resolve().parents[3] / "bot" / "channels" / "telegram"
CJK = re.compile(r"[\u3400-\u9fff]")  # ideographs: sentences, not punctuation marks


def test_from_env_without_token_is_none():
    assert GatewayConfig.from_env({}) is None
    assert GatewayConfig.from_env({"TELEGRAM_TOKEN": "  "}) is None


def test_from_env_reads_everything():
    config = GatewayConfig.from_env(
        {
            "TELEGRAM_TOKEN": "1:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9999/bot",
            "RASA_URL": "http://rasa:5005/",
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hooks/tg",
            "TELEGRAM_WEBHOOK_SECRET": "abc_DEF-1",
            "TELEGRAM_GATEWAY_PORT": "9090",
        }
    )
    assert config.token == "1:abc"
    assert config.api_base_url == "http://127.0.0.1:9999/bot"
    assert config.file_url == "http://127.0.0.1:9999/file/bot"
    assert config.rasa_url == "http://rasa:5005"
    assert config.webhook_mode and config.webhook_path == "/hooks/tg"
    assert config.webhook_secret == "abc_DEF-1"
    assert (config.host, config.port) == ("127.0.0.1", 9090)


def test_defaults():
    config = GatewayConfig.from_env({"TELEGRAM_TOKEN": "1:abc"})
    assert config.api_base_url == "https://api.telegram.org/bot"
    assert config.file_url == "https://api.telegram.org/file/bot"
    assert config.rasa_url == "http://127.0.0.1:5005"
    assert not config.webhook_mode and config.webhook_path == "/telegram/webhook"
    assert config.port == 8081


def test_main_without_token_prints_help_and_exits_0():
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_TOKEN"}
    root = PACKAGE.parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "bot.channels.telegram"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "TELEGRAM_TOKEN" in result.stdout
    assert "未设置" in result.stdout and "is not set" in result.stdout


def test_messages_file_has_every_key():
    texts = default_texts()
    for key in REQUIRED_KEYS:
        assert key in texts._data
    assert texts.get("too_long", length=1200, limit=1000).count("1000") == 1
    assert texts.get("button_expired") == "按钮已过期，请重新输入。"
    assert set(texts.command_descriptions()) == {"start", "help", "human", "cancel"}


def test_missing_key_fails_at_load(tmp_path):
    bad = tmp_path / "m.yml"
    bad.write_text("rate_limited: x\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_texts(bad)
    with pytest.raises(ValueError):
        Texts(dict.fromkeys(REQUIRED_KEYS, "x"))  # `commands` must be a mapping


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_no_user_facing_chinese_in_python():
    """All Chinese the channel says lives in messages.yml (docstrings/comments may explain)."""
    offenders = []
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstring_nodes(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and CJK.search(node.value)
            ):
                offenders.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert offenders == []


@pytest.mark.asyncio
async def test_gateway_waits_for_telegram_at_boot(fake_rasa):
    """Telegram unreachable at start-up (network not up yet): the gateway retries, not exits."""
    import asyncio
    import dataclasses
    import socket

    from bot.channels.telegram.app import Gateway
    from tests.channels.telegram.fake_bot_api import FakeBotApi
    from tests.channels.telegram.harness import TEST_TUNING

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api = FakeBotApi()
    config = GatewayConfig(
        token=api.token, rasa_url=fake_rasa.url, api_base_url=f"http://127.0.0.1:{port}/bot"
    )
    gateway = Gateway(dataclasses.replace(config, **TEST_TUNING))
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    await asyncio.sleep(0.3)
    assert not task.done()
    await api.start(port=port)
    try:
        await api.wait_for("setMyCommands", 1, timeout=10)
        await api.inject(
            {
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 9001, "type": "private"},
                    "from": {"id": 9001, "is_bot": False, "first_name": "x"},
                    "text": "在吗",
                }
            }
        )
        await api.wait_for("sendMessage", 1, chat_id=9001, timeout=10)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await api.stop()
