"""bot.rasa_history: the incremental history replays give exactly what Rasa's own give.

A tracker is grown one event at a time (as a turn grows it) and after every event the applied
events and the states for both policies' flags are compared with Rasa's code run afresh.
The ``test_rasa_still_…`` test fails when a Rasa upgrade changes the loops copied there.
"""

from __future__ import annotations

import contextlib
import inspect
import random

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    FollowupAction,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_history
from tests.conftest import REPO

DOMAIN = Domain.load(REPO / "domain.yml")
FORMS = sorted(DOMAIN.form_names)
SLOTS = [slot.name for slot in DOMAIN.slots if slot.influence_conversation][:8]
INTENTS = sorted(DOMAIN.intents)[:10]
RULE_ONLY = {"rule_only_slots": SLOTS[:1], "rule_only_loops": FORMS[:1]}
FLAGS = [
    {},  # RulePolicy
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},  # MemoizationPolicy
    {"omit_unset_slots": True},
]


@contextlib.contextmanager
def rasas_own():
    """Rasa's original code, whether or not the incremental one is installed."""
    applied = DialogueStateTracker.applied_events
    states = Domain.states_for_tracker_history
    DialogueStateTracker.applied_events = getattr(rasa_history.applied_events, "original", applied)
    Domain.states_for_tracker_history = getattr(
        rasa_history.states_for_tracker_history, "original", states
    )
    try:
        yield
    finally:
        DialogueStateTracker.applied_events = applied
        Domain.states_for_tracker_history = states


@pytest.fixture
def installed():
    applied = DialogueStateTracker.applied_events
    states = Domain.states_for_tracker_history
    rasa_history.install()
    yield
    DialogueStateTracker.applied_events = applied
    Domain.states_for_tracker_history = states


def expected(events, **flags):
    with rasas_own():
        tracker = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
        return [id(e) for e in tracker.applied_events()], DOMAIN.states_for_tracker_history(
            tracker, **flags
        )


def a_turn(rng: random.Random, rewinds: bool = True) -> list:
    """A plausible turn: a message, then a rule, a form step or a question, sometimes odd."""
    form = rng.choice(FORMS)
    events = [
        UserUttered(
            rng.choice(["好", "城阳", "我想预约报到", "不对"]),
            {"name": rng.choice(INTENTS), "confidence": 1.0},
        )
    ]
    if rng.random() < 0.15:
        events.append(DefinePrevUserUtteredFeaturization(rng.random() < 0.5))
    kind = rng.random()
    if kind < 0.45:  # a form step, the form activating or ending now and then
        events.append(ActionExecuted(form, hide_rule_turn=rng.random() < 0.3))
        if rng.random() < 0.3:
            events.append(ActiveLoop(form))
        events.append(SlotSet(rng.choice(SLOTS), rng.choice(["a", "b", None])))
        if rng.random() < 0.2:
            events.append(ActiveLoop(None))
        if rng.random() < 0.1:
            events.append(ActionExecutionRejected(form))
    elif kind < 0.75:  # an answer
        events.append(ActionExecuted("utter_greet", hide_rule_turn=rng.random() < 0.5))
        events.append(BotUttered("您好"))
        if rng.random() < 0.2:
            events.append(FollowupAction(form))
            events.append(ActionExecuted(form))
    elif rewinds:  # something that rewinds or restarts
        events.append(
            rng.choice(
                [
                    UserUtteranceReverted(),
                    ActionReverted(),
                    Restarted(),
                    SessionStarted(),
                    ActionExecuted("action_session_start"),
                ]
            )
        )
    events.append(ActionExecuted("action_listen", hide_rule_turn=rng.random() < 0.2))
    return events


@pytest.mark.parametrize("seed", range(12))
def test_growing_tracker_matches_rasa_after_every_event(installed, seed):
    rng = random.Random(seed)
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events.append(ActionExecuted("action_listen"))
    while len(events) < 160:
        events.extend(a_turn(rng))
    tracker = DialogueStateTracker.from_events("u", events[:1], slots=DOMAIN.slots)
    for count, event in enumerate(events[1:], start=2):
        tracker.update(event)
        if count % 3 and count < len(events) - 5:
            continue  # every third event, and every one of the last five
        for flags in FLAGS:
            applied, states = expected(events[:count], **flags)
            assert [id(e) for e in tracker.applied_events()] == applied
            ours = DOMAIN.states_for_tracker_history(tracker, **flags)
            assert ours == states, f"seed {seed}, {count} events, flags {flags}"


def test_callers_editing_the_states_do_not_change_the_next_answer(installed):
    from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer

    rng = random.Random(99)
    events = [ActionExecuted("action_listen")]
    for _ in range(30):
        events.extend(a_turn(rng, rewinds=False))
    events.append(UserUttered("城阳", {"name": INTENTS[0]}))
    tracker = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
    featurizer = MaxHistoryTrackerFeaturizer(max_history=None)
    for use_text in (True, False, True):  # Rasa's featurizer edits what it is given
        edited = featurizer.prediction_states([tracker], DOMAIN, use_text)[0]
        with rasas_own():
            fresh = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
            assert edited == featurizer.prediction_states([fresh], DOMAIN, use_text)[0]
        assert DOMAIN.states_for_tracker_history(tracker) == expected(events)[1]


def test_a_replaced_history_is_read_again(installed):
    rng = random.Random(5)
    events = [ActionExecuted("action_listen")]
    for _ in range(20):
        events.extend(a_turn(rng))
    tracker = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
    DOMAIN.states_for_tracker_history(tracker)
    other = [ActionExecuted("action_listen")] + a_turn(random.Random(6))
    tracker.events.clear()
    for event in other:
        tracker.events.append(event)
    assert DOMAIN.states_for_tracker_history(tracker) == expected(other)[1]
    assert [id(e) for e in tracker.applied_events()] == expected(other)[0]


def test_rasa_still_replays_as_copied():
    """The loops in bot/rasa_history.py are Rasa 3.6's; this fails if Rasa's change."""
    with rasas_own():
        applied = inspect.getsource(DialogueStateTracker.applied_events)
        states = inspect.getsource(Domain.states_for_tracker_history)
        prior = inspect.getsource(DialogueStateTracker.generate_all_prior_trackers)
    for line in (
        "if isinstance(event, (Restarted, SessionStarted)):",
        "self._undo_till_previous(ActionExecuted, applied_events)",
        "self._undo_till_previous(UserUttered, applied_events)",
        "and event.action_name in loop_names",
        "self._undo_till_previous_loop_execution(",
    ):
        assert line in applied, line
    for line in (
        "last_ml_action_sub_state = self._get_prev_action_sub_state(tr)",
        "turn_was_hidden = hide_rule_turn",
        "self._remove_rule_only_features(state, rule_only_data)",
        "self._substitute_rule_only_user_input(state, states[-1])",
        "states.append(self._clean_state(state))",
    ):
        assert line in states, line
    assert "yield tracker, event.hide_rule_turn" in prior and "yield tracker, False" in prior


def _state(tracker) -> dict:
    from rasa.shared.core.trackers import EventVerbosity

    state = tracker.current_state(EventVerbosity.ALL)
    # (an empty bot message made by a reset carries the time it was made)
    state["bot"] = {**tracker.latest_bot_utterance.as_dict(), "timestamp": None}
    state["set"] = {name: slot.has_been_set for name, slot in tracker.slots.items()}
    # (events the form adds are made anew in each call)
    state["events"] = [{**event, "timestamp": None} for event in state["events"]]
    state["latest_event_time"] = None
    return state


@pytest.mark.parametrize("seed", range(6))
def test_a_state_copy_is_the_replayed_copy(seed):
    rng = random.Random(seed)
    events = [ActionExecuted("action_listen")]
    tracker = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
    for _ in range(40):
        for event in [*a_turn(rng), ActiveLoop(rng.choice([FORMS[0], None]))]:
            tracker.update(event)
        ours = rasa_history.state_copy(tracker)
        replayed = tracker.travel_back_in_time(float("inf"))
        assert _state(ours) == _state(replayed)
        # and it is a copy: changing it leaves the original alone
        before = _state(tracker)
        for event in [ActionExecutionRejected(tracker.active_loop_name or FORMS[0]), *a_turn(rng)]:
            ours.update(event)
        assert _state(tracker) == before
        assert not (tracker.active_loop and tracker.active_loop.rejected)


def test_a_state_copy_has_the_attributes_of_rasas_copy():
    """state_copy sets a tracker's attributes itself: a new one in Rasa's would be missing."""
    tracker = DialogueStateTracker.from_events(
        "u", [ActionExecuted("action_listen")], slots=DOMAIN.slots
    )
    ours = rasa_history.state_copy(tracker)
    rasas = tracker.init_copy()
    assert ours.__dict__.keys() == rasas.__dict__.keys()
    assert type(ours) is type(rasas)
    bounded = DialogueStateTracker("u", DOMAIN.slots, max_event_history=5)
    assert rasa_history.state_copy(bounded) is None


def test_a_forms_temporary_tracker_is_the_replayed_one(installed):
    from rasa.core.actions.forms import FormAction

    rng = random.Random(3)
    events = [ActionExecuted("action_listen")]
    for _ in range(15):
        events.extend(a_turn(rng))
    events += [ActionExecuted(FORMS[0]), ActiveLoop(FORMS[0]), SlotSet("requested_slot", SLOTS[0])]
    events += [ActionExecuted("action_listen"), UserUttered("城阳", {"name": INTENTS[0]})]
    tracker = DialogueStateTracker.from_events("u", events, slots=DOMAIN.slots)
    form = FormAction(FORMS[0], None)
    extra = [SlotSet(SLOTS[1], "x")]
    ours = form._temporary_tracker(tracker, extra, DOMAIN)
    rasas = rasa_history.temporary_tracker.original(form, tracker, extra, DOMAIN)
    assert _state(ours) == _state(rasas)
    assert len(tracker.events) == len(events)  # the form's tracker is left alone
