"""Configuration from the environment, the channel's texts, and the process entry point."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.channels.wechat.config import ConfigError, WeChatConfig
from bot.channels.wechat.menu import Choice, MenuStore
from bot.channels.wechat.texts import REQUIRED_KEYS, Texts, default_texts
from bot.core.script import TRADITIONAL
from bot.core.settings import REPO_ROOT

KEY = "a" * 43


def test_no_token_means_no_gateway():
    assert WeChatConfig.from_env({}) is None


def test_defaults_and_overrides():
    config = WeChatConfig.from_env(
        {"WECHAT_TOKEN": "t", "WECHAT_APPID": "wx1", "WECHAT_SECRET": "s"}
    )
    assert (config.host, config.port, config.path) == ("127.0.0.1", 8090, "/wechat")
    assert config.encrypt_mode == "plain" and config.api_base_url == "https://api.weixin.qq.com"
    config = WeChatConfig.from_env(
        {
            "WECHAT_TOKEN": "t",
            "WECHAT_APPID": "wx1",
            "WECHAT_SECRET": "s",
            "WECHAT_AES_KEY": KEY,
            "WECHAT_PORT": "9001",
            "WECHAT_PATH": "wx/callback/",
            "RJ_BIND_HOST": "0.0.0.0",
            "WECHAT_API_BASE_URL": "http://127.0.0.1:1/",
        }
    )
    assert (config.host, config.port, config.path) == ("0.0.0.0", 9001, "/wx/callback")
    assert config.encrypt_mode == "safe" and config.api_base_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    "env, problem",
    [
        ({"WECHAT_APPID": "wx1"}, "WECHAT_SECRET"),
        ({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "WECHAT_ENCRYPT_MODE": "safe"}, "AES"),
        ({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "WECHAT_AES_KEY": "short"}, "AES"),
        ({"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s", "WECHAT_ENCRYPT_MODE": "secret"}, "MODE"),
    ],
)
def test_unusable_configurations_are_explained(env, problem):
    with pytest.raises(ConfigError, match=problem):
        WeChatConfig.from_env({"WECHAT_TOKEN": "t", **env})


def test_texts_are_complete_and_follow_the_script():
    texts = default_texts()
    assert all(texts.get(key) for key in REQUIRED_KEYS if key not in ("menu_line", "link_line"))
    assert texts.get("menu_line", number=2, title="军属") == "2. 军属"
    assert "語音" in texts.get("voice_unrecognised", TRADITIONAL)
    with pytest.raises(ValueError, match="menu_prompt"):
        Texts({key: "x" for key in REQUIRED_KEYS if key != "menu_prompt"})


def test_menu_store_bounds_and_expiry():
    now = [0.0]
    store = MenuStore(ttl=10, max_users=2, clock=lambda: now[0])
    for user in ("a", "b", "c"):
        store.offer(user, [Choice("是", "/affirm"), Choice("否", "/deny")])
    assert len(store) == 2 and store.choose("a", "1") is None  # the oldest was evicted
    assert store.choose("b", "3") is None and store.choose("b", "否") == Choice("否", "/deny")
    now[0] = 11
    assert store.choose("c", "1") is None


def test_process_without_token_explains_and_exits_0():
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.channels.wechat"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "WECHAT_TOKEN" in result.stdout


def test_process_with_token_but_no_appid_exits_2():
    env = {**os.environ, "WECHAT_TOKEN": "t"}
    env.pop("WECHAT_APPID", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.channels.wechat"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "WECHAT_APPID" in result.stderr
