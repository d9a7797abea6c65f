"""Rasa's prediction graph run in order, without dask (installed by ``bot.rasa_speedups``).

Every parse and every prediction of the next action runs a graph of components (tokenizer,
featurizers, classifier; the policies and their ensemble). Rasa 3.6 hands each run to
``dask.get``: it cuts the schema down to the targets' dependencies, builds a dask graph and lets
dask's synchronous scheduler order and call the nodes — several hundred microseconds of
scheduling per run, ~7 % of the Rasa process's time under load, for graphs of a dozen nodes that
never change. The replacement orders each target set's nodes once (dependencies first, as dask
would) and calls them in that order with the same arguments dask passes: each parent's
``(name, output)`` pair, an input as ``(name, value)``, a name nobody provides as the bare name
(the node then warns, as it does under dask). Results, inputs that replace a node of the same
name, the clash check and ``GraphRunError`` are Rasa's.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


def _order(runner: DaskGraphRunner, targets: tuple[str, ...]) -> list[str]:
    """The nodes the targets depend on, each after everything it needs (computed once)."""
    orders: dict[tuple[str, ...], list[str]] = runner.__dict__.setdefault("_rj_orders", {})
    order = orders.get(targets)
    if order is None:
        nodes = runner._graph_schema.minimal_graph_schema(list(targets)).nodes
        order, placed = [], set()

        def place(name: str) -> None:
            if name in placed or name not in nodes:
                return
            placed.add(name)
            for parent in nodes[name].needs.values():
                place(parent)
            order.append(name)

        for target in targets:
            place(target)
        orders[targets] = order
    return order


def run(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """Drop-in for ``DaskGraphRunner.run`` (see the module docstring)."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    order = _order(self, run_targets)
    results: dict[str, Any] = {}
    for name, value in (inputs or {}).items():
        if isinstance(value, str) and value in order:
            raise GraphRunError(
                f"Input value '{value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        results[name] = (name, value)
    schema_nodes = self._graph_schema.nodes
    try:
        for name in order:
            if name in results:
                continue  # an input of that name stands in for the node, as in dask's graph
            node = self._instantiated_nodes[name]
            node_inputs = [
                results.get(parent, parent) for parent in schema_nodes[name].needs.values()
            ]
            results[name] = node(*node_inputs)
    except RuntimeError as error:
        raise GraphRunError("Error running runner.") from error
    return dict(results[target] for target in run_targets)
