"""Small graph algorithms over service dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle (as the list of nodes on it) in a directed graph, or None; self-loops ignored."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in sorted(graph):
        if colour[root] != white:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = grey
        while stack:
            node, idx = stack[-1]
            edges = [e for e in graph.get(node, ()) if e != node and e in colour]
            if idx < len(edges):
                stack[-1] = (node, idx + 1)
                nxt = edges[idx]
                if colour[nxt] == grey:
                    return path[path.index(nxt) :]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def dependents(graph: Mapping[str, Sequence[str]], key: str) -> set[str]:
    """Every node that depends, directly or not, on ``key``."""
    reverse: dict[str, set[str]] = {}
    for node, edges in graph.items():
        for e in edges:
            reverse.setdefault(e, set()).add(node)
    seen: set[str] = set()
    todo = [key]
    while todo:
        for parent in reverse.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen
