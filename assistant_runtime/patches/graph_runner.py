"""The model's graph run in a fixed order instead of through dask.

Speed only, same answers (docs/benchmarks.md); selected by ``ASSISTANT_SPEEDUPS``.

``graphrun`` -- run the model's graph in a fixed order instead of through dask.
    Rasa runs its model graph for every message twice or three times (NLU, then each dialogue
    prediction) with ``dask.get`` (rasa/engine/runner/dask.py): each call rebuilds the
    minimal graph, lets dask order it and schedules every node through dask's local
    executor -- about 7 % of the server's CPU, for a graph of a dozen nodes that always runs
    the same way. The patch computes, per set of targets, the same minimal graph once and a
    topological order of it, then calls the same ``GraphNode`` objects one after the other
    with the same arguments (a node's output, or the name of a node that has none, as dask
    passes it; inputs that replace a node replace it). Errors are raised as Rasa raises them
    (``RuntimeError`` becomes ``GraphRunError``). Training (``rasa train``) is untouched.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from assistant_runtime.patches.book import Patcher


def _run_order(graph: Dict[str, Any]) -> List[Tuple[str, Any, Tuple[str, ...]]]:
    """(name, node, dependency names) of every task of a dask-style graph, dependencies
    first (the order of ``graph`` among independent nodes)."""
    order: List[Tuple[str, Any, Tuple[str, ...]]] = []
    state: Dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        if state.get(name) == 2 or name not in graph:
            return
        if state.get(name) == 1:
            raise ValueError(f"the graph has a cycle through '{name}'")
        state[name] = 1
        node, *dependencies = graph[name]
        for dependency in dependencies:
            visit(dependency)
        state[name] = 2
        order.append((name, node, tuple(dependencies)))

    for name in graph:
        visit(name)
    return order


def install_sequential_graph_runner(patcher: Patcher) -> None:
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner

    def run(
        self: Any, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
    ) -> Dict[str, Any]:
        run_targets = targets if targets else self._graph_schema.target_names
        plans = self.__dict__.setdefault("_patch_run_plans", {})
        plan = plans.get(tuple(run_targets))
        if plan is None:
            minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
            plan = _run_order(self._build_dask_graph(minimal_schema))
            plans[tuple(run_targets)] = plan
        results: Dict[str, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            # Rasa's check (_add_inputs_to_graph): an input value naming a node is refused
            if isinstance(input_value, str) and (
                input_value in results or any(input_value == name for name, _, _ in plan)
            ):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            results[input_name] = (input_name, input_value)
        try:
            for name, node, dependencies in plan:
                if name in results:  # an input replaces the node, as in the dask graph
                    continue
                results[name] = node(*(results.get(d, d) for d in dependencies))
            return dict(results.get(target, target) for target in run_targets)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e

    patcher.replace(DaskGraphRunner, "run", run)


INSTALLERS: Dict[str, Callable[[Patcher], None]] = {
    "graphrun": install_sequential_graph_runner,
}
