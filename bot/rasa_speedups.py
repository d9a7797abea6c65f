"""Speed-ups for Rasa 3.6 internals, installed in the Rasa process by ``bot.rasa_server``.

Each one replaces a single attribute of Rasa and keeps its behaviour; tests/perf checks that
Rasa still has the code each replacement assumes, so an upgrade that changes it fails loudly.

* **Action responses validated with a compiled validator.** Rasa 3.6's
  ``RemoteAction._validate_action_result`` calls ``jsonschema.validate(result, schema)`` on every
  custom action's response. ``jsonschema.validate`` first checks the *schema* against the JSON
  Schema meta-schema (``check_schema``) and builds a new validator — ~90 ms per call here, for a
  schema that never changes (``action_response_format_spec`` is a constant). The replacement
  checks each schema once, keeps its validator and validates only the response (~2 ms). An
  invalid response still raises the same ``jsonschema.ValidationError`` (the best match, as
  ``validate`` picks it) with Rasa's hint appended. The events of a response are checked one
  by one against Rasa's event schema (a ``oneOf`` of 23 kinds), and an event already found
  valid (the same JSON: a form's ``requested_slot``, the same question) is not checked again.
* **Action calls over a keep-alive pool.** ``EndpointConfig.request`` opens a new
  ``aiohttp.ClientSession`` (and so a new TCP connection) for every call and closes it after.
  The replacement sends through one session per event loop whose connector keeps up to
  ``POOL_SIZE`` connections alive (Rasa serialises turns per conversation, so concurrent
  action calls are bounded by concurrent conversations). A pooled connection can be found dead
  (the action server restarted): when the call fails with a disconnect before any answer, it is
  sent again once on a fresh connection — only for calls that are safe to repeat (GET, the form
  validators, the ``action_ask_*`` questions and the read-only actions in ``IDEMPOTENT_ACTIONS``;
  a booking is never sent twice). Everything else (headers, token, ``cafile``, compression,
  error mapping to ``ClientResponseError``) is as Rasa does it.
* **Event classes looked up once per type name.** ``Event.resolve_by_type`` walks every
  subclass of ``Event`` (with ``inspect.isabstract`` on each) for every event deserialised —
  ~1.6 ms per event under load, and a tracker of a 60-turn conversation holds ~300 events, read
  on every turn: the main cause of turns slowing down as a conversation grows. The replacement
  remembers the class found for each type name (unknown names and defaults are not
  remembered, so errors and fall-backs stay Rasa's).
* **A form's repeated steps undone without copying the history.** Every prediction replays the
  conversation (``DialogueStateTracker.applied_events``), and each happy-path step of a form
  calls ``_undo_till_previous_loop_execution``, which copies the whole list of events applied so
  far (``done_events[:]``) to walk back a few of them: quadratic in the conversation's length,
  most of the rest of the slow-down of long conversations. The replacement walks back by index
  and deletes the same events (in a reversed walk, the item at the snapshot's index ``j`` is
  always the live list's index ``j``: only items after it have been deleted).
* **Action calls built for speed** (:mod:`bot.rasa_action_calls`): each past event serialised
  once, the domain encoded once, UTF-8, the conversation's last turns only.
* **Rules matched against the turns they can reach.** ``RulePolicy._get_possible_keys`` filters
  every rule against every state of the conversation, from the last back to the first, though
  a rule is applicable at every turn further back than its own length
  (``_is_rule_applicable`` returns True there). The replacement stops once it is further back
  than the longest rule still possible: same keys, without the conversation-long loop. And it
  checks the last turn only against the rules that can match it: the keys are grouped once by
  the previous action and intent their last turn requires (of this model's 569 rules and 165
  unhappy-path keys, a turn's last state reaches a few dozen).
* **The prediction graph run in order** (:mod:`bot.rasa_graph`), without dask's scheduler.
* **The history replayed incrementally** (:mod:`bot.rasa_history`): the applied events and the
  policies' past states are folds a tracker continues from where they stopped.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bot import rasa_action_calls

logger = logging.getLogger(__name__)

_validators: dict[str, Any] = {}


def _compiled(schema: dict[str, Any]) -> Any:
    """The validator of ``schema``, built (and the schema checked) once per distinct schema."""
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = _validators[key] = cls(schema)
    return validator


_by_spec: dict[Any, Any] = {}


def _validator(action: Any) -> Any:
    """The compiled validator for ``action``'s response schema (one per schema function)."""
    spec = type(action).action_response_format_spec
    validator = _by_spec.get(spec)
    if validator is None:
        validator = _by_spec[spec] = _compiled(action.action_response_format_spec())
    return validator


def replace(owner: Any, name: str, replacement: Any) -> None:
    """Make ``replacement`` the function ``owner.name``, keeping Rasa's as
    ``replacement.original`` (for the tests that compare the two); idempotent."""
    current = getattr(owner, name)
    if current is not replacement:
        replacement.original = current
        setattr(owner, name, replacement)


class _SplitValidator:
    """A response schema whose ``events`` are an array of one event schema (Rasa's) checked in
    two parts: the response with any events, then each event — an event already found valid
    (the same JSON) is not checked again. Rasa's event schema is a ``oneOf`` of 23 kinds, tried
    in full for every event of every response."""

    KEEP = 4096

    def __init__(self, schema: dict[str, Any]):
        events = schema["properties"]["events"]
        self.response = _compiled(
            {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
        )
        self.event = _compiled(events["items"])
        self.valid_events: set[str] = set()

    @staticmethod
    def applies(schema: dict[str, Any]) -> bool:
        events = (schema.get("properties") or {}).get("events")
        return (
            isinstance(events, dict)
            and set(events) == {"type", "items"}
            and events["type"] == "array"
            and isinstance(events["items"], dict)
        )

    def is_valid(self, result: Any) -> bool:
        if not self.response.is_valid(result):
            return False
        events = result.get("events") if isinstance(result, dict) else None
        for event in events or ():
            key = json.dumps(event, sort_keys=True, default=repr)
            if key in self.valid_events:
                continue
            if not self.event.is_valid(event):
                return False
            if len(self.valid_events) >= self.KEEP:
                self.valid_events.clear()
            self.valid_events.add(key)
        return True


_split_by_spec: dict[Any, Any] = {}


def _split_validator(action: Any) -> _SplitValidator | None:
    spec = type(action).action_response_format_spec
    if spec not in _split_by_spec:
        schema = action.action_response_format_spec()
        _split_by_spec[spec] = _SplitValidator(schema) if _SplitValidator.applies(schema) else None
    return _split_by_spec[spec]


def validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    """Drop-in for ``RemoteAction._validate_action_result`` (same errors, same hint)."""
    from jsonschema import exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    split = _split_validator(self)
    if split is not None and split.is_valid(result):
        return True
    validator = _validator(self)
    if validator.is_valid(result):
        return True
    error = exceptions.best_match(validator.iter_errors(result))
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


POOL_SIZE = 64
# Actions that only read (or only set slots from what they read): repeating one is harmless.
IDEMPOTENT_PREFIXES = ("validate_", "action_ask_")
IDEMPOTENT_ACTIONS = frozenset(
    {
        "action_session_start",
        "action_answer_question",
        "action_explain_benefit",
        "action_suggest_topics",
        "action_lookup_appointment",
        "action_check_wish",
        "action_job_details",
        "action_finder_result",
        "action_programme_details",
    }
)
_pools: dict[int, Any] = {}


def repeatable(method: str, body: Any) -> bool:
    """Whether a call may be sent twice: GET/HEAD, or an action call of a read-only action."""
    if method.upper() in ("GET", "HEAD"):
        return True
    action = body.get("next_action") if isinstance(body, dict) else None
    return isinstance(action, str) and (
        action.startswith(IDEMPOTENT_PREFIXES) or action in IDEMPOTENT_ACTIONS
    )


def _pool() -> Any:
    """This event loop's pooled session (one per loop: sessions cannot cross loops)."""
    import asyncio

    import aiohttp

    loop = asyncio.get_running_loop()
    session = _pools.get(id(loop))
    if session is None or session.closed or session._loop is not loop:
        connector = aiohttp.TCPConnector(limit=POOL_SIZE, keepalive_timeout=15)
        session = _pools[id(loop)] = aiohttp.ClientSession(connector=connector)
    return session


async def pooled_request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """Drop-in for ``EndpointConfig.request`` over the pooled session (see the module doc)."""
    import os
    import ssl

    import aiohttp
    import rasa.utils.endpoints as endpoints_module
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError

    headers = {"Content-Type": content_type} if content_type else {}
    headers.update(kwargs.pop("headers", None) or {})
    headers.update(self.headers or {})
    url = endpoints_module.concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e
    auth = None
    if self.basic_auth:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
    timeout = kwargs.pop("timeout", None)
    if not isinstance(timeout, aiohttp.ClientTimeout):
        timeout = aiohttp.ClientTimeout(total=timeout or endpoints_module.DEFAULT_REQUEST_TIMEOUT)
    params = self.combine_parameters(kwargs)
    tries = 2 if repeatable(method, kwargs.get("json")) else 1
    if isinstance(kwargs.get("json"), dict) and rasa_action_calls.has_encoded(kwargs["json"]):
        kwargs["data"] = rasa_action_calls.encoded_action_call(kwargs.pop("json"))
    for attempt in range(1, tries + 1):
        try:
            async with _pool().request(
                method,
                url,
                headers=headers,
                params=params,
                compress=compress,
                ssl=sslcontext,
                auth=auth,
                timeout=timeout,
                **kwargs,
            ) as response:
                if response.status >= 400:
                    raise ClientResponseError(
                        response.status, response.reason, await response.content.read()
                    )
                try:
                    return await response.json()
                except ContentTypeError:
                    return None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
            if attempt == tries or isinstance(error, aiohttp.ClientConnectorError):
                raise
            logger.info("action server connection was dead (%s); sending again", error)
    return None  # not reached


def install_pooled_endpoints() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.request = pooled_request
    # Only with the pooled request: it is what turns Encoded parts into the body's bytes.
    replace(RemoteAction, "_action_call_format", rasa_action_calls.action_call_format)


_PREVIOUS_ACTION = "prev_action"
_NOT_SET = "should_not_be_set"


def _last_turn_bucket(rule_key: str, states: list[dict]) -> tuple | None:
    """Where a rule waits in its last turn: (a previous-action item, the user's intent or None)
    that a conversation's last state must hold for the rule to match it; None when the rule
    must be checked against every state (a conversation start, or nothing plain to key on)."""
    last = states[-1]
    wanted = [
        (name, value)
        for name, value in (last.get(_PREVIOUS_ACTION) or {}).items()
        if isinstance(value, str) and value and value != _NOT_SET
    ]
    if not wanted:
        return None
    intent = (last.get("user") or {}).get("intent")
    return (wanted[0], intent if isinstance(intent, str) and intent != _NOT_SET else None)


class _RuleIndex:
    """A rule lookup's keys grouped by what their last turn requires (``_last_turn_bucket``)."""

    def __init__(self, policy: Any, lookup: dict[str, str]):
        self.lookup = lookup
        self.size = len(lookup)
        self.always: list[str] = []
        self.buckets: dict[tuple, list[str]] = {}
        for key in lookup:
            bucket = _last_turn_bucket(key, policy._rule_key_to_state(key))
            if bucket is None:
                self.always.append(key)
            else:
                self.buckets.setdefault(bucket, []).append(key)

    def candidates(self, state: dict) -> list[str]:
        """The keys that can match ``state`` as their last turn (a superset of those that do)."""
        intent = (state.get("user") or {}).get("intent")
        found = list(self.always)
        for item in (state.get(_PREVIOUS_ACTION) or {}).items():
            if not isinstance(item[1], str):
                continue
            found += self.buckets.get((item, None), ())
            if intent is not None:
                found += self.buckets.get((item, intent), ())
        return found


def _rule_index(policy: Any, lookup: dict[str, str]) -> _RuleIndex:
    indexes = policy.__dict__.setdefault("_rj_rule_indexes", {})
    index = indexes.get(id(lookup))
    if index is None or index.lookup is not lookup or index.size != len(lookup):
        index = indexes[id(lookup)] = _RuleIndex(policy, lookup)
    return index


def possible_rule_keys(self: Any, lookup: dict[str, str], states: list[dict]) -> set[str]:
    """Drop-in for ``RulePolicy._get_possible_keys`` (see the module docstring)."""
    if not states:
        return set(lookup.keys())
    last = states[-1]
    possible = {
        key
        for key in _rule_index(self, lookup).candidates(last)
        if self._is_rule_applicable(key, 0, last)
    }
    for index, state in enumerate(reversed(states[:-1]), start=1):
        if not possible or index >= max(len(self._rule_key_to_state(k)) for k in possible):
            break  # every key left is applicable at every earlier turn
        possible = {key for key in possible if self._is_rule_applicable(key, index, state)}
    return possible


class FormattedStates:
    """``Policy.format_tracker_states(states)``, formatted only when shown: RulePolicy formats
    the whole conversation for a debug log line on every prediction (~1 ms at 60 turns) and the
    line is not written unless debug logging is on."""

    def __init__(self, states: list[dict]):
        self.states = states

    def __str__(self) -> str:
        from rasa.core.policies.policy import Policy

        return Policy.format_tracker_states(self.states)

    __repr__ = __str__

    def __deepcopy__(self, memo: dict) -> FormattedStates:
        return self  # Rasa deep-copies it for the log call


def install_rule_keys() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    replace(RulePolicy, "_get_possible_keys", possible_rule_keys)
    if RulePolicy.__dict__.get("format_tracker_states") is None:
        RulePolicy.format_tracker_states = staticmethod(FormattedStates)


def install_action_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = validate_action_result


_event_classes: dict[str, Any] = {}


def install_event_type_cache() -> None:
    from rasa.shared.core.events import Event

    original = Event.__dict__["resolve_by_type"].__func__
    if getattr(original, "_rj_cached", False):
        return

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = _event_classes.get(type_name)
        if found is None:
            found = original(type_name, default)
            if found is not None and getattr(found, "type_name", None) == type_name:
                _event_classes[type_name] = found
        return found

    resolve_by_type._rj_cached = True  # type: ignore[attr-defined]
    resolve_by_type.original = original  # type: ignore[attr-defined]
    Event.resolve_by_type = staticmethod(resolve_by_type)


def undo_till_previous_loop_execution(loop_action_name: str, done_events: list[Any]) -> None:
    """Drop-in for ``DialogueStateTracker._undo_till_previous_loop_execution`` (same result)."""
    from rasa.shared.core.events import (
        ActionExecuted,
        DefinePrevUserUtteredFeaturization,
        UserUttered,
    )

    for index in range(len(done_events) - 1, -1, -1):
        event = done_events[index]
        if isinstance(event, ActionExecuted) and event.action_name == loop_action_name:
            break
        if isinstance(event, (ActionExecuted, UserUttered, DefinePrevUserUtteredFeaturization)):
            del done_events[index]


def install_loop_undo() -> None:
    from rasa.shared.core.trackers import DialogueStateTracker

    current = DialogueStateTracker.__dict__["_undo_till_previous_loop_execution"].__func__
    if current is undo_till_previous_loop_execution:
        return
    undo_till_previous_loop_execution.original = current  # type: ignore[attr-defined]
    DialogueStateTracker._undo_till_previous_loop_execution = staticmethod(
        undo_till_previous_loop_execution
    )


def install_graph_runner() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    from bot import rasa_graph

    replace(DaskGraphRunner, "run", rasa_graph.run)


def install() -> None:
    """Every speed-up of this module (idempotent)."""
    from bot import rasa_history

    install_graph_runner()
    install_event_type_cache()
    install_loop_undo()
    install_rule_keys()
    rasa_history.install()
    install_action_validation()
    install_pooled_endpoints()
