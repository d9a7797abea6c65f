"""Finding 2: the action server answered anyone, on every interface, in any format.

Before: ``python -m rasa_sdk`` listened on 0.0.0.0:5055; an unsigned ``POST /webhook`` ran any
action for any sender, ``text/plain`` bodies were accepted and ``Content-Encoding: deflate``
bodies were inflated without a limit. Every assertion here fails against that server.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from tests.conftest import free_port

MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def action_server(tmp_path_factory):
    import os

    from bot.run import Stack

    data = tmp_path_factory.mktemp("actions-data")
    env = {
        **os.environ,
        "RJ_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'core.db'}",
        "RJ_ACTION_MAX_BODY": str(MAX_BODY),
    }
    for variable in ("RJ_ACTION_SECRET", "RASA_AUTH_TOKEN", "RJ_BIND_HOST"):
        env.pop(variable, None)
    stack = Stack(action_port=free_port(), env=env, log_dir=Path(data) / "logs")
    stack.start_actions()
    try:
        yield stack
    finally:
        stack.stop()


def call(stack, body: bytes, headers: dict, path: str = "/webhook", method: str = "POST"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.action_port}{path}",
        data=body if method == "POST" else None,
        headers=headers,
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def signed(stack, **extra) -> dict:
    return {
        "Authorization": f"Bearer {stack.env['RJ_ACTION_SECRET']}",
        "Content-Type": "application/json",
        **extra,
    }


ACTION_CALL = json.dumps(
    {
        "next_action": "action_check_appointment",
        "sender_id": "tg-victim",
        "version": "3.6.21",
        "tracker": {"sender_id": "tg-victim", "slots": {}, "events": [], "latest_message": {}},
        "domain": {},
    }
).encode()


def test_unsigned_and_wrongly_signed_calls_are_refused(action_server):
    assert call(action_server, ACTION_CALL, {"Content-Type": "application/json"})[0] == 401
    wrong = {"Authorization": "Bearer guess", "Content-Type": "application/json"}
    assert call(action_server, ACTION_CALL, wrong)[0] == 401
    assert call(action_server, b"", {}, path="/actions", method="GET")[0] == 401
    assert call(action_server, b"", {}, path="/health", method="GET")[0] == 200


def test_signed_calls_reach_rasa_sdk(action_server):
    status, body = call(action_server, b"", signed(action_server), path="/actions", method="GET")
    assert status == 200 and {"name": "validate_appointment_form"} in json.loads(body)
    status, body = call(
        action_server,
        json.dumps({"next_action": "no_such_action", "tracker": {}}).encode(),
        signed(action_server),
    )
    assert status == 404


def test_only_json_is_accepted(action_server):
    headers = signed(action_server, **{"Content-Type": "text/plain"})
    assert call(action_server, ACTION_CALL, headers)[0] == 415
    headers = signed(action_server, **{"Content-Encoding": "gzip"})
    assert call(action_server, ACTION_CALL, headers)[0] == 415


def test_bodies_are_capped_also_after_decompression(action_server):
    big = json.dumps({"next_action": "x", "pad": "0" * (MAX_BODY * 2)}).encode()
    assert call(action_server, big, signed(action_server))[0] == 413
    bomb = zlib.compress(b" " * (MAX_BODY * 100))
    assert len(bomb) < MAX_BODY
    headers = signed(action_server, **{"Content-Encoding": "deflate"})
    assert call(action_server, bomb, headers)[0] == 413
    status, _ = call(action_server, zlib.compress(b'{"next_action": "no_such_action"}'), headers)
    assert status == 404  # a small compressed call still works (Rasa may compress)


def test_errors_do_not_echo_the_request(action_server):
    status, body = call(
        action_server,
        b'{"next_action": "action_check_appointment", "tracker": "13812345678"}',
        signed(action_server),
    )
    assert status >= 400 and b"13812345678" not in body


def test_listens_on_loopback_only(action_server):
    port = f"{action_server.action_port:04X}"
    listening = [
        line.split()[1]
        for name in ("/proc/net/tcp", "/proc/net/tcp6")
        if Path(name).exists()
        for line in Path(name).read_text().splitlines()[1:]
        if line.split()[1].endswith(":" + port) and line.split()[3] == "0A"
    ]
    assert listening == ["0100007F:" + port]
