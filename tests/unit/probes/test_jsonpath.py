"""JSON paths and the numbers found at them."""

from __future__ import annotations

import math

import pytest
from console.probes.jsonpath import JsonPath, NotANumber, PathNotFound, as_number
from hypothesis import given
from hypothesis import strategies as st


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("a", ("a",)),
        ("data.items[0].value", ("data", "items", 0, "value")),
        ("[2]", (2,)),
        ("[0][-1].x", (0, -1, "x")),
        ("with space.k-e_y", ("with space", "k-e_y")),
    ],
)
def test_paths(text: str, steps: tuple[str | int, ...]) -> None:
    assert JsonPath.parse(text).steps == steps


@pytest.mark.parametrize("text", ["", ".a", "a.", "a..b", "a[x]", "a[0]b", "a[", "a]", "a.[0]"])
def test_bad_paths(text: str) -> None:
    with pytest.raises(ValueError):
        JsonPath.parse(text)


DOCUMENT = {"a": [{"b": 1}, {"b": [10, 20]}], "n": None}


@pytest.mark.parametrize(
    ("path", "value"),
    [("a[0].b", 1), ("a[1].b[1]", 20), ("a[-1].b[-2]", 10), ("n", None), ("a[0]", {"b": 1})],
)
def test_find(path: str, value: object) -> None:
    assert JsonPath.parse(path).find(DOCUMENT) == value


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("x", "the top level has no key 'x'"),
        ("a.b", "a is a list, not an object"),
        ("a[2]", "a has 2 elements, no [2]"),
        ("a[-3]", "a has 2 elements, no [-3]"),
        ("a[0].b[0]", "a[0].b is 1, not a list"),
        ("n.x", "n is null, not an object"),
    ],
)
def test_not_found(path: str, message: str) -> None:
    with pytest.raises(PathNotFound, match=message.replace("[", r"\[").replace("]", r"\]")):
        JsonPath.parse(path).find(DOCUMENT)


@pytest.mark.parametrize(
    ("value", "number"), [(True, 1.0), (False, 0.0), (3, 3.0), (2.5, 2.5), (" -4e2 ", -400.0)]
)
def test_numbers(value: object, number: float) -> None:
    assert as_number(value) == number


@pytest.mark.parametrize("value", [None, "abc", "1,5", [], {}, math.inf, math.nan, 10**400, ""])
def test_not_numbers(value: object) -> None:
    with pytest.raises(NotANumber):
        as_number(value)


keys = st.text(st.characters(exclude_characters=".[]", exclude_categories=["Cs"]), min_size=1)


@given(st.lists(keys | st.integers(-5, 5), min_size=1, max_size=6))
def test_a_written_path_finds_its_value(steps: list[str | int]) -> None:
    """Build a document holding a marker at the path, then find it again."""
    text = "".join(
        f"[{s}]" if isinstance(s, int) else (s if i == 0 else f".{s}") for i, s in enumerate(steps)
    )
    marker = object()
    document: object = marker
    for step in reversed(steps):
        if isinstance(step, int):
            size = step + 1 if step >= 0 else -step
            items: list[object] = [None] * size
            items[step] = document
            document = items
        else:
            document = {step: document}
    path = JsonPath.parse(text)
    assert path.steps == tuple(steps)
    assert path.find(document) is marker
