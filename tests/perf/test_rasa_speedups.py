"""bot.rasa_speedups: the compiled action-response validator and the pooled action endpoint
behave as Rasa's own. The ``test_rasa_still_…`` tests fail when a Rasa upgrade changes the code
a replacement stands in for.
"""

from __future__ import annotations

import inspect
import json

import aiohttp
import jsonschema
import pytest
import yaml
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot import rasa_action_calls, rasa_speedups
from tests.conftest import REPO

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
    rasa_speedups._split_by_spec.clear()
    rasa_speedups._validators.clear()
    checks = []
    cls = jsonschema.validators.validator_for(RemoteAction.action_response_format_spec())
    original_check = cls.check_schema
    monkeypatch.setattr(
        cls, "check_schema", lambda schema: checks.append(1) or original_check(schema)
    )
    installed._validate_action_result(VALID)
    with pytest.raises(jsonschema.ValidationError):
        installed._validate_action_result(INVALID[0])
    once = len(checks)
    for _ in range(5):
        installed._validate_action_result(VALID)
        with pytest.raises(jsonschema.ValidationError):
            installed._validate_action_result(INVALID[0])
    assert len(checks) == once <= 3  # the schema, or its response and event parts, once each


def test_events_seen_valid_do_not_hide_an_invalid_one(installed):
    """Responses built from the same events, some broken: each judged as Rasa judges it."""
    import copy
    import random

    rng = random.Random(5)
    good = VALID["events"] + [
        {"event": "bot", "text": "请输入身份证号码", "data": {}, "metadata": {}},
        {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "action", "name": "action_listen", "policy": None, "confidence": 1.0},
    ]
    broken = [
        {"event": "slot", "value": "城阳"},
        {"event": "user", "text": 5},
        {"event": "action", "confidence": "high"},
        {"event": "no_such_event"},
        {"timestamp": 1.0},
    ]
    for _ in range(200):
        events = [copy.deepcopy(rng.choice(good)) for _ in range(rng.randint(0, 6))]
        if rng.random() < 0.4:
            events.insert(rng.randint(0, len(events)), copy.deepcopy(rng.choice(broken)))
        response = {"events": events, "responses": []}
        try:
            ORIGINAL(installed, copy.deepcopy(response))
            expected = None
        except jsonschema.ValidationError as error:
            expected = error.message
        try:
            assert installed._validate_action_result(response) is True
            got = None
        except jsonschema.ValidationError as error:
            got = error.message
        assert got == expected


# ---------------------------------------------------------------- pooled action endpoint
ORIGINAL_REQUEST = EndpointConfig.request
ORIGINAL_FORMAT = getattr(
    rasa_action_calls.action_call_format, "original", RemoteAction._action_call_format
)


class ActionServer:
    """A stand-in action server counting requests and the connections they came on."""

    def __init__(self, abort_on: set[int] = frozenset()) -> None:
        self.calls: list[dict] = []
        self.peers: set = set()
        self.abort_on = abort_on

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.calls.append(body)
        self.peers.add(request.transport.get_extra_info("peername"))
        if len(self.calls) in self.abort_on:  # dies before answering, connection dropped
            request.transport.close()
            return web.Response()
        if body.get("next_action") == "reject":
            return web.json_response({"action_name": "reject", "error": "no"}, status=400)
        return web.json_response(
            {"events": [], "responses": [], "auth": request.headers.get("Authorization")}
        )


@pytest.fixture
async def serve():
    runners = []

    async def start(handler: ActionServer) -> str:
        app = web.Application()
        app.router.add_post("/webhook", handler.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/webhook"

    rasa_speedups.install_pooled_endpoints()
    yield start
    EndpointConfig.request = ORIGINAL_REQUEST
    RemoteAction._action_call_format = ORIGINAL_FORMAT
    for session in list(rasa_speedups._pools.values()):
        await session.close()
    rasa_speedups._pools.clear()
    for runner in runners:
        await runner.cleanup()


def test_rasa_still_opens_a_session_per_request():
    source = inspect.getsource(ORIGINAL_REQUEST)
    assert "async with self.session() as session" in source
    assert "raise ClientResponseError(" in source


async def test_action_calls_share_one_kept_alive_connection(serve):
    server = ActionServer()
    endpoint = EndpointConfig(await serve(server), headers={"Authorization": "Bearer s"})
    for _ in range(5):
        answer = await endpoint.request(json={"next_action": "action_book_appointment"})
        assert answer["auth"] == "Bearer s"
    assert len(server.calls) == 5 and len(server.peers) == 1


async def test_dead_connection_retried_only_for_repeatable_actions(serve):
    server = ActionServer(abort_on={2, 4})
    endpoint = EndpointConfig(await serve(server))
    await endpoint.request(json={"next_action": "validate_appointment_form"})
    # call 2 is dropped; a validator is sent again (call 3) and answers
    assert await endpoint.request(json={"next_action": "validate_appointment_form"}) is not None
    assert len(server.calls) == 3
    # call 4 is dropped; a booking is not sent again
    with pytest.raises(aiohttp.ClientError):
        await endpoint.request(json={"next_action": "action_book_appointment"})
    assert len(server.calls) == 4


async def test_http_errors_still_raise_rasas_client_response_error(serve):
    endpoint = EndpointConfig(await serve(ActionServer()))
    with pytest.raises(ClientResponseError) as error:
        await endpoint.request(json={"next_action": "reject"})
    assert error.value.status == 400 and b"no" in error.value.text


def test_idempotent_actions_exist_in_the_domain():
    domain = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))
    actions = {a if isinstance(a, str) else next(iter(a)) for a in domain["actions"]}
    assert actions >= rasa_speedups.IDEMPOTENT_ACTIONS
    assert not rasa_speedups.repeatable("post", {"next_action": "action_book_appointment"})
    assert rasa_speedups.repeatable("post", {"next_action": "validate_wish_form"})


# ---------------------------------------------------------------- event classes by type name
def test_rasa_still_scans_every_event_subclass_per_lookup():
    from rasa.shared.core.events import Event

    function = Event.__dict__["resolve_by_type"].__func__
    function = getattr(function, "original", function)
    assert "all_subclasses(Event)" in inspect.getsource(function)


def test_cached_event_lookup_answers_as_rasa():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet
    from rasa.shared.utils.common import all_subclasses

    rasa_speedups.install_event_type_cache()
    function = Event.__dict__["resolve_by_type"].__func__
    original = function.original
    for cls in all_subclasses(Event):
        if cls.type_name != "event":
            assert Event.resolve_by_type(cls.type_name) is original(cls.type_name)
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("no_such", default=ActionExecuted) is ActionExecuted
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such")
    event = Event.from_parameters({"event": "slot", "name": "district", "value": "城阳"})
    assert event == SlotSet("district", "城阳")


# ---------------------------------------------------------------- a form's steps undone
def test_rasa_still_copies_the_applied_events_to_undo_a_form_step():
    from rasa.shared.core.trackers import DialogueStateTracker

    source = inspect.getsource(DialogueStateTracker._undo_till_previous_loop_execution)
    assert "reversed(done_events[:])" in source and "del done_events[-1 - offset]" in source
    assert "self._undo_till_previous_loop_execution(" in inspect.getsource(
        DialogueStateTracker.applied_events
    )


def test_loop_undo_removes_exactly_what_rasa_removes():
    import random

    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        BotUttered,
        DefinePrevUserUtteredFeaturization,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    ours_function = rasa_speedups.undo_till_previous_loop_execution
    original = DialogueStateTracker.__dict__["_undo_till_previous_loop_execution"].__func__
    original = getattr(ours_function, "original", original)
    assert original is not ours_function
    kinds = [
        lambda: ActionExecuted("form_a"),
        lambda: ActionExecuted("form_b"),
        lambda: ActionExecuted("action_listen"),
        lambda: UserUttered("x", {"name": "inform"}),
        lambda: SlotSet("s", "v"),
        lambda: ActiveLoop("form_a"),
        lambda: BotUttered("b"),
        lambda: DefinePrevUserUtteredFeaturization(False),
    ]
    rng = random.Random(7)
    for _ in range(500):
        events = [rng.choice(kinds)() for _ in range(rng.randint(0, 30))]
        ours, rasas = list(events), list(events)
        rasa_speedups.undo_till_previous_loop_execution("form_a", ours)
        original("form_a", rasas)
        assert [id(e) for e in ours] == [id(e) for e in rasas]
        # and whole conversations replay to the same applied events
        tracker = DialogueStateTracker.from_events("u", events)
        DialogueStateTracker._undo_till_previous_loop_execution = staticmethod(original)
        try:
            expected = [id(e) for e in tracker.applied_events()]
        finally:
            rasa_speedups.install_loop_undo()
        assert [id(e) for e in tracker.applied_events()] == expected


# ---------------------------------------------------------------- the action call's events
def test_rasa_still_sends_every_event_as_dicts_in_the_action_call():
    source = inspect.getsource(ORIGINAL_FORMAT)
    assert "tracker.current_state(EventVerbosity.ALL)" in source
    for key in ('"next_action": self._name', '"sender_id": tracker.sender_id', '"version"'):
        assert key in source
    assert 'result["domain"] = domain.as_dict()' in source


def a_conversation():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        EntitiesAdded,
        SessionStarted,
        SlotSet,
        UserUttered,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(REPO / "domain.yml")
    tracker = DialogueStateTracker.from_events(
        "u1",
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
        slots=domain.slots,
    )
    for number in range(6):
        tracker.update(
            UserUttered(
                f'城阳区 第{number}句 "引号" 😀',
                {"name": "inform", "confidence": 0.9},
                [{"entity": "district", "value": "城阳区", "start": 0, "end": 3}],
                message_id=f"m{number}",
            )
        )
        tracker.update(SlotSet("district", "城阳区"))
        tracker.update(BotUttered("好的", {"buttons": [{"title": "确认", "payload": "/affirm"}]}))
        tracker.update(ActionExecuted("action_listen"))
    return domain, tracker, EntitiesAdded


def test_action_call_body_decodes_to_what_rasa_sends():
    domain, tracker, entities_added = a_conversation()
    action = RemoteAction("action_answer_question", EndpointConfig("http://127.0.0.1:1/webhook"))

    def both():
        ours = rasa_action_calls.encoded_action_call(
            rasa_action_calls.action_call_format(action, tracker, domain)
        )
        rasas = json.dumps(ORIGINAL_FORMAT(action, tracker, domain))
        return json.loads(ours), json.loads(rasas)

    ours, rasas = both()
    assert ours == rasas and len(ours["tracker"]["events"]) == len(tracker.events)
    # Rasa adds entities to the latest message in place
    tracker.update(entities_added([{"entity": "category", "value": "伤残"}]))
    ours, rasas = both()
    assert ours == rasas
    assert "伤残" in json.dumps(ours["tracker"]["latest_message"], ensure_ascii=False)
    # anything else of the current turn changed in place is sent as it is now
    tracker.latest_message.parse_data["intent"]["confidence"] = 0.5
    ours, rasas = both()
    assert (
        ours == rasas and ours["tracker"]["events"][-5]["parse_data"]["intent"]["confidence"] == 0.5
    )
    with pytest.raises(TypeError):  # never sent as an empty list by mistake
        json.dumps(rasa_action_calls.action_call_format(action, tracker, domain))


async def test_action_server_receives_rasas_body(serve):
    domain, tracker, _ = a_conversation()
    server = ActionServer()
    action = RemoteAction("action_answer_question", EndpointConfig(await serve(server)))
    await action.run(None, None, tracker, domain)
    await action.run(None, None, tracker, domain)
    expected = json.loads(json.dumps(ORIGINAL_FORMAT(action, tracker, domain)))
    assert server.calls == [expected, expected]


# ---------------------------------------------------------------- rule keys
def test_rasa_still_finds_every_rule_applicable_beyond_its_length():
    from rasa.core.policies.rule_policy import RulePolicy

    source = inspect.getsource(RulePolicy._is_rule_applicable)
    assert "if turn_index >= len(reversed_rule_states):\n            return True" in source
    original = getattr(rasa_speedups.possible_rule_keys, "original", RulePolicy._get_possible_keys)
    assert "for i, state in enumerate(reversed(states)):" in inspect.getsource(original)


def test_possible_rule_keys_are_rasas():
    import random

    from rasa.core.policies.rule_policy import RulePolicy

    original = getattr(rasa_speedups.possible_rule_keys, "original", RulePolicy._get_possible_keys)
    policy = RulePolicy.__new__(RulePolicy)
    rng = random.Random(11)

    def a_state(start: bool = False) -> dict:
        state = {"user": {"intent": rng.choice(["greet", "inform", "deny", "should_not_be_set"])}}
        if rng.random() < 0.2:
            state["user"] = {"text": "hi"} if rng.random() < 0.5 else {}
        if not start:
            state["prev_action"] = (
                {"action_name": rng.choice(["action_listen", "f", "utter_x", "should_not_be_set"])}
                if rng.random() < 0.9
                else {"action_text": rng.choice(["hi", "yo"])}
            )
        if rng.random() < 0.5:
            state["slots"] = {"s": rng.choice([(1.0,), (0.0,)])}
        if rng.random() < 0.3:
            state["active_loop"] = {"name": rng.choice(["f", "should_not_be_set"])}
        return state

    for _ in range(300):
        lookup = {
            json.dumps([a_state(start=i == 0 and rng.random() < 0.3) for i in range(length)]): "a"
            for length in (rng.randint(1, 5) for _ in range(rng.randint(1, 12)))
        }
        for _ in range(3):  # the same lookup again: its index is kept
            states = [a_state(start=i == 0) for i in range(rng.randint(0, 30))]
            assert rasa_speedups.possible_rule_keys(policy, lookup, states) == original(
                policy, lookup, states
            )


def test_rule_policy_formats_its_states_only_for_the_debug_log():
    from rasa.core.policies.policy import Policy
    from rasa.core.policies.rule_policy import RulePolicy

    rasa_speedups.install_rule_keys()
    source = inspect.getsource(RulePolicy._find_action_from_rules)
    assert source.count("current_states") == 3  # formatted, then only logged (key=value)
    assert "current_states=copy.deepcopy(current_states)" in source
    states = [
        {},
        {"user": {"intent": "greet"}, "prev_action": {"action_name": "action_listen"}},
        {"prev_action": {"action_name": "utter_greet"}, "active_loop": {"name": "f"}},
    ]
    lazy = RulePolicy.format_tracker_states(states)
    assert str(lazy) == repr(lazy) == Policy.format_tracker_states(states)
    assert "user intent: greet" in str(lazy)
