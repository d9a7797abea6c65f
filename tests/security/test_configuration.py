"""Findings 1, 2, 3 (file modes) and 12: secrets, bindings, endpoints and telemetry.

Before: RASA_AUTH_TOKEN was optional (Rasa ran without one), Rasa got ``--cors "*"``, the action
server was started with ``python -m rasa_sdk`` (0.0.0.0, no secret), endpoints.effective.yml was
0644 and no Rasa command disabled telemetry — each assertion below fails on that code.
"""

from __future__ import annotations

import stat
from pathlib import Path

import yaml
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_server, run
from bot.core import settings

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_generated_private_and_stable(private_data_dir):
    token = settings.rasa_auth_token()
    assert len(token) >= 40 and settings.rasa_auth_token() == token
    assert settings.current().rasa_token == token  # the console and gateways find it
    assert settings.action_secret() not in (token, "")
    assert mode(private_data_dir) == 0o700
    for name in ("rasa.token", "action.secret"):
        assert mode(private_data_dir / name) == 0o600


def test_environment_secrets_win(monkeypatch):
    monkeypatch.setenv("RASA_AUTH_TOKEN", "given-token")
    monkeypatch.setenv("RJ_ACTION_SECRET", "given-secret")
    assert settings.rasa_auth_token() == "given-token" == settings.current().rasa_token
    assert settings.action_secret() == "given-secret"


def test_effective_endpoints_carry_the_secret_and_are_private(private_data_dir):
    env = run.service_env({"RJ_DATA_DIR": str(private_data_dir)})
    path = run.write_effective_endpoints(env)
    assert mode(path) == 0o600
    endpoints = yaml.safe_load(path.read_text())
    assert endpoints["action_endpoint"]["headers"] == {
        "Authorization": f"Bearer {env['RJ_ACTION_SECRET']}"
    }
    assert endpoints["tracker_store"]["type"] == "bot.rasa_stores.PrivateSQLTrackerStore"
    # Rasa accepts the headers key for the action endpoint
    config = EndpointConfig.from_dict(endpoints["action_endpoint"])
    assert config.headers["Authorization"].startswith("Bearer ")


def test_every_process_is_started_locked_down(private_data_dir, monkeypatch):
    started: dict[str, list[str]] = {}

    class Done:
        def poll(self):
            return None

    def spawn(name: str, args: list[str]) -> Done:
        started[name] = args
        return Done()

    stack = run.Stack(env={"RJ_DATA_DIR": str(private_data_dir), "PATH": "/usr/bin"})
    monkeypatch.setattr(stack, "_spawn", spawn)
    monkeypatch.setattr(run, "wait_http", lambda *args, **kwargs: None)
    stack.start_actions()
    stack.start_rasa(model=Path("model.tar.gz"))
    assert started["actions"][1:3] == ["-m", "actions.server"]
    rasa = started["rasa"]
    assert rasa[1:4] == ["-m", "bot.rasa_server", "run"] and "--enable-api" in rasa
    assert "--cors" not in rasa and "--auth-token" not in rasa  # the token is not in `ps`
    assert rasa[rasa.index("-i") + 1] == "127.0.0.1"
    assert stack.env["RASA_TELEMETRY_ENABLED"] == "false"
    assert stack.env["RASA_AUTH_TOKEN"] == settings.rasa_auth_token()


def test_bind_host_is_configurable(private_data_dir):
    stack = run.Stack(env={"RJ_DATA_DIR": str(private_data_dir), "RJ_BIND_HOST": "0.0.0.0"})
    assert stack.host == "0.0.0.0" and stack.local == "127.0.0.1"


def test_rasa_gets_the_token_in_process():
    config = settings.current({"RASA_AUTH_TOKEN": "t0k"})
    assert rasa_server.rasa_argv(["run", "--enable-api"], config)[-1] == "--auth-token=t0k"
    assert rasa_server.rasa_argv(["shell"], config) == ["shell"]


def test_telemetry_is_off_for_every_rasa_command():
    makefile = (REPO / "Makefile").read_text()
    assert "export RASA_TELEMETRY_ENABLED = false" in makefile
    launcher = Path(rasa_server.__file__).read_text()
    assert 'os.environ["RASA_TELEMETRY_ENABLED"] = "false"' in launcher
    assert run.service_env({})["RASA_TELEMETRY_ENABLED"] == "false"
    bench = (REPO / "tests" / "benchmarks" / "bench_nlu.py").read_text()
    assert '"RASA_TELEMETRY_ENABLED": "false"' in bench


async def test_rasa_still_reads_the_action_timeout_we_bound():
    """bot.rasa_server patches module globals; this fails if Rasa stops reading them."""
    assert "DEFAULT_REQUEST_TIMEOUT" in RemoteAction.run.__code__.co_names
    assert "DEFAULT_REQUEST_TIMEOUT" in EndpointConfig.session.__code__.co_names
    # a new session per call: no pooled keep-alive connection can go stale between calls
    assert "session" in EndpointConfig.request.__code__.co_names
    import rasa.core.actions.action as action_module
    import rasa.utils.endpoints as endpoints_module

    before = action_module.DEFAULT_REQUEST_TIMEOUT, endpoints_module.DEFAULT_REQUEST_TIMEOUT
    try:
        rasa_server.bound_action_timeout(12.5)
        assert action_module.DEFAULT_REQUEST_TIMEOUT == 12.5
        session = EndpointConfig("http://x").session()
        assert session.timeout.total == 12.5
        await session.close()
    finally:
        action_module.DEFAULT_REQUEST_TIMEOUT, endpoints_module.DEFAULT_REQUEST_TIMEOUT = before


def test_credentials_use_the_limited_rest_channel():
    credentials = yaml.safe_load((REPO / "credentials.yml").read_text())
    assert list(credentials) == ["bot.rasa_channel.LimitedRestInput"]


def test_a_token_beginning_with_a_dash_reaches_rasa():
    """secrets.token_urlsafe begins with "-" once in 64 tokens; Rasa's own parser must read it."""
    import argparse

    from rasa.cli.arguments.run import add_server_arguments

    config = settings.current({"RASA_AUTH_TOKEN": "-Ab3_x"})
    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    parsed = parser.parse_args(rasa_server.rasa_argv(["run", "--enable-api"], config)[1:])
    assert parsed.auth_token == "-Ab3_x"
