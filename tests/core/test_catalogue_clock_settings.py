"""The one message catalogue, the one clock and the one settings object."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest

from bot.core import clock, settings
from bot.core.catalogue import Catalogue


def test_catalogue_dotted_lookup_fill_and_attribute_access():
    texts = Catalogue({"errors": {"csrf": "请刷新页面"}, "too_long": "最多{limit}字"})
    assert texts.get("errors.csrf") == "请刷新页面"
    assert texts.get("too_long", limit=500) == "最多500字"
    assert texts.tree.errors.csrf == "请刷新页面"
    assert "errors.csrf" in texts and "errors.nope" not in texts
    assert texts.lookup("errors.nope", "默认") == "默认"
    with pytest.raises(KeyError):
        texts.get("errors.nope")
    with pytest.raises(TypeError):
        texts.get("errors")  # a section, not a text


def test_catalogue_refuses_missing_required_keys():
    with pytest.raises(ValueError, match="b.c"):
        Catalogue({"a": "x", "b": {}}, required=("a", "b.c"))


def test_clock_is_local_time_not_host_time(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("RJ_TZ", raising=False)
    beijing = datetime.now(timezone(timedelta(hours=8))).replace(tzinfo=None)
    assert abs(clock.now() - beijing) < timedelta(seconds=5)
    monkeypatch.setenv("RJ_TZ", "UTC")
    utc = datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs(clock.now() - utc) < timedelta(seconds=5)


def test_clock_converts_rasa_timestamps(monkeypatch):
    monkeypatch.delenv("RJ_TZ", raising=False)
    assert clock.from_timestamp(0) == datetime(1970, 1, 1, 8, 0)
    assert clock.to_local(datetime(2026, 1, 1, 0, 0)) == datetime(2026, 1, 1, 8, 0)


def test_settings_read_the_given_environment(tmp_path):
    env = {
        "RJ_DATA_DIR": str(tmp_path),
        "RJ_BIND_HOST": "0.0.0.0",
        "CONSOLE_PORT": "9000",
        "RASA_URL": "http://r:1/",
    }
    current = settings.current(env)
    assert current.data_dir == tmp_path
    assert current.database_url == f"sqlite:///{tmp_path / 'rongjun.db'}"
    assert current.console_host == "0.0.0.0" and current.console_port == 9000
    assert current.rasa_url == "http://r:1"
    assert settings.current({}).bind_host == "127.0.0.1"


def test_generated_secrets_are_private_and_stable(tmp_path, monkeypatch):
    monkeypatch.setenv("RJ_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GATEWAY_PUSH_TOKEN", raising=False)
    first = settings.push_token()
    assert first == settings.push_token()
    assert stat.S_IMODE(os.stat(tmp_path / "push.token").st_mode) == 0o600
    monkeypatch.setenv("GATEWAY_PUSH_TOKEN", "given")
    assert settings.push_token() == "given"
