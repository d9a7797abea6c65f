"""bot.rasa_graph runs the trained model's graph exactly as Rasa's dask runner does.

Loads models/rongjun.tar.gz (``make test`` trains it first) and runs the same parses and the
same next-action predictions through Rasa's ``DaskGraphRunner.run`` and the replacement.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from rasa.core.channels import UserMessage
from rasa.engine import loader
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

from bot import rasa_graph

MODEL = Path(__file__).resolve().parents[2] / "models" / "rongjun.tar.gz"
DASK_RUN = getattr(rasa_graph.run, "original", DaskGraphRunner.run)
MESSAGE, TRACKER = "__message__", "__tracker__"
TEXTS = [
    "你好",
    "我想预约报到",
    "俺是退伍老兵 想问问有啥优待",
    "荣军卡咋办",
    "我真的不想活了",
    "转人工",
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    metadata, runner = loader.load_predict_graph_runner(
        tmp_path_factory.mktemp("model"), MODEL, LocalModelStorage, DaskGraphRunner
    )
    return metadata, runner


def both(runner, **kwargs):
    return DASK_RUN(runner, **kwargs), rasa_graph.run(runner, **kwargs)


def test_rasa_still_runs_the_graph_with_dask_get():
    source = inspect.getsource(DASK_RUN)
    assert (
        "minimal_graph_schema(run_targets)" in source
        and "dask.get(run_graph, run_targets)" in source
    )
    assert "graph[input_name] = (input_name, input_value)" in inspect.getsource(
        DaskGraphRunner._add_inputs_to_graph
    )


def test_parses_are_rasas(model):
    metadata, runner = model
    for text in TEXTS:
        message = UserMessage(text, sender_id="graph-test")
        tracker = DialogueStateTracker("graph-test", metadata.domain.slots)
        theirs, ours = both(
            runner, inputs={MESSAGE: [message], TRACKER: tracker}, targets=[metadata.nlu_target]
        )
        assert list(ours) == list(theirs) == [metadata.nlu_target]
        parsed = [m.as_dict(only_output_properties=True) for m in ours[metadata.nlu_target]]
        expected = [m.as_dict(only_output_properties=True) for m in theirs[metadata.nlu_target]]
        assert parsed == expected and parsed[0][TEXT] == text


def test_predictions_are_rasas(model):
    metadata, runner = model
    domain = metadata.domain
    for text in TEXTS:
        parsed = rasa_graph.run(
            runner,
            inputs={
                MESSAGE: [UserMessage(text, sender_id="graph-test")],
                TRACKER: DialogueStateTracker("graph-test", domain.slots),
            },
            targets=[metadata.nlu_target],
        )[metadata.nlu_target][0]
        parse_data = parsed.as_dict(only_output_properties=True)
        tracker = DialogueStateTracker.from_events(
            "graph-test",
            [
                ActionExecuted(ACTION_LISTEN_NAME),
                UserUttered(text, parse_data["intent"], parse_data.get("entities", [])),
                SlotSet("veteran_category", "退役士兵"),
            ],
            domain.slots,
        )
        theirs, ours = both(runner, inputs={TRACKER: tracker}, targets=[metadata.core_target])
        ours, theirs = ours[metadata.core_target], theirs[metadata.core_target]
        assert ours.probabilities == theirs.probabilities and ours.policy_name == theirs.policy_name
        assert max(ours.probabilities) > 0  # something was predicted


def test_an_input_named_like_a_node_is_refused_as_rasa_does(model):
    metadata, runner = model
    with pytest.raises(GraphRunError):
        DASK_RUN(runner, inputs={TRACKER: metadata.core_target}, targets=[metadata.core_target])
    with pytest.raises(GraphRunError):
        rasa_graph.run(
            runner, inputs={TRACKER: metadata.core_target}, targets=[metadata.core_target]
        )


def test_the_order_is_worked_out_once_per_target_set(model):
    metadata, runner = model
    first = rasa_graph._order(runner, (metadata.core_target,))
    assert rasa_graph._order(runner, (metadata.core_target,)) is first
    position = {name: index for index, name in enumerate(first)}
    nodes = runner._graph_schema.nodes
    for name in first:
        for parent in nodes[name].needs.values():
            if parent in position:
                assert position[parent] < position[name]
