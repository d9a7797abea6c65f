"""bot.rasa_speedups: the compiled action-response validator behaves as Rasa's own.
The ``test_rasa_still_…`` tests fail when a Rasa upgrade changes the code
a replacement stands in for.
"""

from __future__ import annotations

import inspect

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_speedups

ORIGINAL = RemoteAction._validate_action_result

VALID = {
    "events": [
        {"event": "slot", "name": "district", "value": "城阳", "timestamp": None},
        {"event": "active_loop", "name": None},
    ],
    "responses": [{"text": "您好", "buttons": [{"title": "确认", "payload": "/affirm"}]}],
}
INVALID = [
    {"events": [{"event": "slot", "value": "城阳"}]},  # a slot event without its name
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"name": "x"}]},  # no event type
    {"events": {"event": "slot"}},  # not a list
    {"responses": ["text"]},  # a response that is not an object
    ["not", "an", "object"],
]


@pytest.fixture
def installed():
    rasa_speedups.install_action_validation()
    yield RemoteAction("action_x", None)
    RemoteAction._validate_action_result = ORIGINAL


def test_rasa_still_validates_with_jsonschema_validate_per_call():
    source = inspect.getsource(ORIGINAL)
    assert "validate(result, self.action_response_format_spec())" in source
    assert "raise e" in source
    assert "_validate_action_result(response)" in inspect.getsource(RemoteAction.run)
    schema = RemoteAction.action_response_format_spec()
    assert schema["properties"]["events"]["items"]["oneOf"], "the events schema changed shape"


def test_valid_response_passes(installed):
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert installed._validate_action_result(VALID) is True
    assert ORIGINAL(installed, VALID) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_response_rejected_like_rasa(installed, response):
    with pytest.raises(jsonschema.ValidationError) as ours:
        installed._validate_action_result(response)
    with pytest.raises(jsonschema.ValidationError) as theirs:
        ORIGINAL(installed, response)
    assert ours.value.message == theirs.value.message
    assert "Failed to validate Action server response" in ours.value.message


def test_schema_checked_once(installed, monkeypatch):
    rasa_speedups._by_spec.clear()
    rasa_speedups._validators.clear()
    checks = []
    cls = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    original_check = cls.check_schema
    monkeypatch.setattr(
        cls, "check_schema", lambda schema: checks.append(1) or original_check(schema)
    )
    for _ in range(5):
        installed._validate_action_result(VALID)
    assert len(checks) == 1
