"""Cycle finding and reverse dependency closure over service dependencies."""

from __future__ import annotations

from console.core.graph import dependents, find_cycle


def test_no_cycle_in_a_dag() -> None:
    graph = {"web": ["api"], "api": ["db", "cache"], "cache": ["db"], "db": []}
    assert find_cycle(graph) is None


def test_a_cycle_is_returned_as_the_nodes_on_it() -> None:
    graph = {"web": ["api"], "api": ["db"], "db": ["cache"], "cache": ["api"]}
    assert find_cycle(graph) == ["api", "db", "cache"]


def test_the_cycle_excludes_the_path_that_leads_to_it() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["d"], "d": ["c"]}
    assert find_cycle(graph) == ["c", "d"]


def test_self_loops_and_unknown_nodes_are_ignored() -> None:
    assert find_cycle({"a": ["a", "zzz"], "b": ["a"]}) is None


def test_two_node_cycle_and_search_order_is_deterministic() -> None:
    graph = {"z": ["y"], "y": ["z"], "b": ["a"], "a": ["b"]}
    assert find_cycle(graph) == ["a", "b"]
    assert find_cycle(dict(reversed(list(graph.items())))) == ["a", "b"]


def test_a_long_chain_does_not_recurse() -> None:
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(5000)}
    assert find_cycle(chain) is None
    chain["n5000"] = ["n0"]
    cycle = find_cycle(chain)
    assert cycle is not None and len(cycle) == 5001


def test_dependents_are_direct_and_indirect() -> None:
    graph = {"web": ["api"], "api": ["db"], "report": ["db"], "shop": ["web"], "db": []}
    assert dependents(graph, "db") == {"api", "report", "web", "shop"}
    assert dependents(graph, "web") == {"shop"}
    assert dependents(graph, "shop") == set()
    assert dependents(graph, "unknown") == set()


def test_dependents_terminate_on_a_cycle() -> None:
    assert dependents({"a": ["b"], "b": ["a"]}, "a") == {"a", "b"}
