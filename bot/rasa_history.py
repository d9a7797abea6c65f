"""Dialogue history replayed incrementally (runs inside the Rasa process; issue #13).

Every prediction asks the tracker for its past states (``Domain.states_for_tracker_history``):
Rasa 3.6 works out the applied events (``DialogueStateTracker.applied_events``: undoing
reverted turns and a form's repeated steps), replays them into a fresh tracker and builds a
state before every action — the whole conversation, for each policy, for every prediction. At
~580 events (a 60-turn conversation) that is ~3.5 ms per call and ~30 ms per turn: why turns
grew slower as a conversation went on.

Both are folds over the events, so a tracker keeps where each fold got to and goes on from
there when it is asked again with more events:

* **applied events**: the fold's list so far, how many of the tracker's events it has read and
  the last of them (so a history that was replaced or cut is noticed and read again), and the
  names of the loops it has seen. Rasa decides whether a loop's action undoes its previous
  step by the names of *all* loops in the conversation, so when new events bring a loop name
  not seen before, the fold starts again from the first event;
* **states**, per (domain, flags, rule-only slots and loops): the replay tracker, the states
  before each action so far and the fold's two flags. It goes on only when the new applied
  events begin with exactly (``is``) the events it has replayed; otherwise (a form's step
  undoing the listen before it, a turn undone, a hypothetical copy) it starts again. The state
  after the last event is built anew on every call, as Rasa does, and callers get fresh
  copies of the states Rasa's featurizer edits in place (``_handed_out``).

The results are the same lists Rasa builds; tests/perf/test_rasa_history.py compares them on
recorded conversations and random histories, and fails if the Rasa code copied here changes.
"""

from __future__ import annotations

import copy
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.shared.core.constants import PREVIOUS_ACTION, SLOTS, USER
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, TEXT

APPLIED = "_rj_applied_fold"
STATES = "_rj_states_folds"


@dataclass
class AppliedFold:
    read: int  # how many of the tracker's events have been folded
    last: Event | None  # the last of them
    loop_names: frozenset[str]
    applied: list[Event]


@dataclass
class Checkpoint:
    """A ``StatesFold`` as it was before its ``read``-th applied event (an action)."""

    read: int
    replay: Any
    states: int
    last_ml_action: Any
    turn_was_hidden: bool


# Checkpoints are kept before the forms' steps of roughly the last turns: a form's step undoes
# the events after its previous step, one or two turns back.
CHECKPOINTS = 2
CHECKPOINT_WINDOW = 40


@dataclass
class StatesFold:
    replay: Any  # a tracker that has applied ``applied``
    applied: list[Event] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)
    last_ml_action: Any = None
    turn_was_hidden: bool = False
    checkpoints: deque = field(default_factory=lambda: deque(maxlen=CHECKPOINTS))

    def goes_on_to(self, applied: list[Event]) -> bool:
        """Whether the fold can go on to ``applied``: it begins with what the fold has read, or
        with what it had read at a checkpoint (then the fold goes back there)."""
        common = 0
        for old, new in zip(self.applied, applied, strict=False):
            if old is not new:
                break
            common += 1
        if common == len(self.applied):
            return True
        while self.checkpoints and self.checkpoints[-1].read > common:
            self.checkpoints.pop()
        if not self.checkpoints:
            return False
        point = self.checkpoints.pop()  # the loop takes it again when it passes there
        replay = state_copy(point.replay)
        if replay is None:
            return False
        self.replay, self.applied = replay, self.applied[: point.read]
        del self.states[point.states :]
        self.last_ml_action, self.turn_was_hidden = point.last_ml_action, point.turn_was_hidden
        return True


def _slot_copy(slot: Any) -> Any:
    """``copy.copy(slot)`` (Rasa's slots are plain objects), a few times faster."""
    new = object.__new__(type(slot))
    new.__dict__.update(slot.__dict__)
    return new


def state_copy(tracker: Any) -> Any:
    """What ``tracker.copy()`` gives (a fresh tracker with every event replayed), without the
    replay: Rasa changes a tracker only by applying events, so a tracker's state *is* the
    replay of its events, and the copy takes that state over. Returns None when that cannot be
    relied on (a bounded event history forgets events it has applied)."""
    if tracker._max_event_history is not None or type(tracker.slots) is not dict:
        return None
    # The attributes ``init_copy`` (``DialogueStateTracker.__init__``) sets, without its work:
    # it copies and resets every slot (38 in our domain), only for them to be replaced here
    # (302 → 50 µs a copy). tests/perf/test_rasa_history.py checks the set of attributes.
    new = object.__new__(DialogueStateTracker)
    new.__dict__.update(
        _max_event_history=None,
        events=deque(tracker.events),
        sender_id=tracker.sender_id or DEFAULT_SENDER_ID,
        slots={name: _slot_copy(slot) for name, slot in tracker.slots.items()},
        sender_source=None,
        is_rule_tracker=tracker.is_rule_tracker,
        _paused=tracker._paused,
        followup_action=tracker.followup_action,
        latest_action=tracker.latest_action,
        latest_message=tracker.latest_message,
        latest_bot_utterance=tracker.latest_bot_utterance,
        active_loop=copy.copy(tracker.active_loop),
        model_id=None,
        assistant_id=None,
    )
    return new


def tracker_copy(self: Any) -> Any:
    """Drop-in for ``DialogueStateTracker.copy`` (``state_copy``, else Rasa's replay)."""
    return state_copy(self) or self.travel_back_in_time(float("inf"))


def temporary_tracker(self: Any, current_tracker: Any, additional_events: list, domain: Any) -> Any:
    """Drop-in for ``FormAction._temporary_tracker``: the same events on a ``state_copy``
    instead of a replay, when nothing was restarted and the slots are the domain's."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import SlotSet

    events = current_tracker.events
    same_slots = [(n, type(s)) for n, s in current_tracker.slots.items()] == [
        (s.name, type(s)) for s in domain.slots
    ]
    tracker = None
    if same_slots and not any(isinstance(event, Restarted) for event in events):
        tracker = state_copy(current_tracker)
    if tracker is None:
        return temporary_tracker.original(self, current_tracker, additional_events, domain)  # type: ignore[attr-defined]
    for event in [
        SlotSet(REQUESTED_SLOT, self.get_slot_to_fill(current_tracker)),
        ActionExecuted(self.name()),
        *additional_events,
    ]:
        tracker.update(event)
    return tracker


def _fold_applied(tracker: Any, events: Any, loop_names: frozenset[str], applied: list) -> None:
    """Rasa's ``applied_events`` loop over ``events``, continuing ``applied`` in place."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _loop_names(events: Any) -> frozenset[str]:
    return frozenset(e.name for e in events if isinstance(e, ActiveLoop) and e.name)


def _continued(fold: AppliedFold | None, events: Any) -> list[Event] | None:
    """The events after those ``fold`` has read, when it can go on with them; else None."""
    if fold is None or fold.read > len(events):
        return None
    if fold.read and events[fold.read - 1] is not fold.last:
        return None  # the history was replaced or cut
    new = list(itertools.islice(events, fold.read, None))
    return new if _loop_names(new) <= fold.loop_names else None


def applied_events(self: Any) -> list[Event]:
    """Drop-in for ``DialogueStateTracker.applied_events`` (see the module docstring)."""
    events = self.events
    fold: AppliedFold | None = self.__dict__.get(APPLIED)
    new = _continued(fold, events)
    if new is None:
        loop_names, applied, new = _loop_names(events), [], events
    else:
        loop_names, applied = fold.loop_names, list(fold.applied)
    _fold_applied(self, new, loop_names, applied)
    last = events[-1] if events else None
    self.__dict__[APPLIED] = AppliedFold(len(events), last, loop_names, applied)
    return list(applied)


def _state_step(
    domain: Any,
    fold: StatesFold,
    hide_rule_turn: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict | None,
) -> None:
    """One iteration of Rasa's ``states_for_tracker_history`` loop, on ``fold`` (its replay
    tracker is where the loop's tracker has got to)."""
    tracker = fold.replay
    if ignore_rule_only_turns:
        if not fold.turn_was_hidden:
            fold.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
            fold.turn_was_hidden = hide_rule_turn
        if fold.turn_was_hidden:
            return
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if fold.states:
            domain._substitute_rule_only_user_input(state, fold.states[-1])
        if fold.last_ml_action:
            state[PREVIOUS_ACTION] = fold.last_ml_action
    state = domain._clean_state(state)
    # Consecutive states mostly hold the same slots: one dict between them (nobody edits the
    # slots part of a state; ``_handed_out``), so a long conversation's states stay small.
    previous = fold.states[-1].get(SLOTS) if fold.states else None
    if previous is not None and state.get(SLOTS) == previous:
        state[SLOTS] = previous
    fold.states.append(state)


def _frozen(rule_only_data: dict | None) -> tuple:
    """``rule_only_data`` as a key (RulePolicy builds a new, equal dict for every call)."""
    return tuple(sorted((k, tuple(v)) for k, v in (rule_only_data or {}).items()))


def _copied(state: dict) -> dict:
    return {key: dict(sub) if isinstance(sub, dict) else sub for key, sub in state.items()}


def _handed_out(state: dict) -> dict:
    """``state`` for a caller. Rasa's featurizer edits the states it is given in one place only:
    the ``user`` part (the last state's, and any holding both an intent and a text), so those
    are copied and the rest shared."""
    user = state.get(USER)
    if isinstance(user, dict) and user.get(INTENT) and user.get(TEXT):
        return _copied(state)
    return state


def states_for_tracker_history(
    self: Any,
    tracker: Any,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict | None = None,
) -> list[dict]:
    """Drop-in for ``Domain.states_for_tracker_history`` (see the module docstring)."""
    applied = tracker.applied_events()
    folds: dict = tracker.__dict__.setdefault(STATES, {})
    key = (id(self), omit_unset_slots, ignore_rule_only_turns, _frozen(rule_only_data))
    cached = folds.get(key)
    fold = cached[1] if cached is not None and cached[0] is self else None
    if fold is None or not fold.goes_on_to(applied):
        fold = StatesFold(replay=tracker.init_copy())
    flags = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for index in range(len(fold.applied), len(applied)):
        event = applied[index]
        if isinstance(event, ActionExecuted):
            # Before a form's step: what its next step may undo comes after it.
            if event.action_name in self.form_names and len(applied) - index <= CHECKPOINT_WINDOW:
                snapshot = state_copy(fold.replay)
                if snapshot is not None:
                    fold.checkpoints.append(
                        Checkpoint(
                            index,
                            snapshot,
                            len(fold.states),
                            fold.last_ml_action,
                            fold.turn_was_hidden,
                        )
                    )
            _state_step(self, fold, event.hide_rule_turn, *flags)
        fold.replay.update(event)
    fold.applied = applied
    folds[key] = (self, fold)  # the domain kept alive with its id
    final = StatesFold(
        replay=fold.replay,
        states=[_handed_out(state) for state in fold.states],
        last_ml_action=fold.last_ml_action,
        turn_was_hidden=fold.turn_was_hidden,
    )
    _state_step(self, final, False, *flags)
    if final.states:  # the one the featurizer edits (and it may share the replay's dicts)
        final.states[-1] = _copied(final.states[-1])
    return final.states


def install() -> None:
    """Replace Rasa's history replays, tracker copies and forms' temporary trackers (idempotent)."""
    from rasa.core.actions.forms import FormAction
    from rasa.shared.core.domain import Domain

    from bot.rasa_speedups import replace

    replace(DialogueStateTracker, "applied_events", applied_events)
    replace(DialogueStateTracker, "copy", tracker_copy)
    replace(FormAction, "_temporary_tracker", temporary_tracker)
    replace(Domain, "states_for_tracker_history", states_for_tracker_history)
