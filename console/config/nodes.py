"""Reading a composed YAML node tree: typed values, problems with positions, field paths.

The reader never stops at the first problem. Where a value is broken it hands back a
placeholder (unique per reader, so it can never collide with real data or with another
placeholder) and remembers the field path as broken: the semantic checks that run later on
the half-built estate skip whatever a structural problem has already explained.
"""

from __future__ import annotations

import difflib
import math
import secrets
from collections.abc import Collection, Sequence
from enum import Enum
from typing import TypeVar

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from console.config.errors import ConfigProblem

_YAML = "tag:yaml.org,2002:"
STR_TAG = _YAML + "str"
INT_TAG = _YAML + "int"
BOOL_TAG = _YAML + "bool"
NULL_TAG = _YAML + "null"
FLOAT_TAG = _YAML + "float"

_KINDS = {
    STR_TAG: "a string",
    INT_TAG: "an integer",
    BOOL_TAG: "a boolean",
    NULL_TAG: "an empty value",
    _YAML + "float": "a number",
    _YAML + "timestamp": "a date",
    _YAML + "binary": "binary data",
    _YAML + "seq": "a list",
    _YAML + "map": "a mapping",
}

_HINTS = {
    INT_TAG: "YAML reads it as a number",
    BOOL_TAG: "YAML 1.1 reads yes/no/on/off/true/false as booleans",
    _YAML + "float": "YAML reads it as a number",
    _YAML + "timestamp": "YAML reads it as a date",
}

E = TypeVar("E", bound=Enum)


def position(node: Node) -> tuple[int, int]:
    """The 1-based line and column where a node starts."""
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def child(path: str, name: str) -> str:
    """The path of a field inside the value at ``path``."""
    return f"{path}.{name}" if path else name


def parent(path: str) -> str:
    """The path one level up: ``a[1].b`` -> ``a[1]`` -> ``a`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path[: path.rindex(".")] if "." in path else ""


def describe(node: Node) -> str:
    """What a node is, in words, with its text when it is a short scalar."""
    kind = _KINDS.get(node.tag, f"a value tagged {node.tag}")
    if not isinstance(node, ScalarNode) or node.tag == NULL_TAG or len(node.value) > 40:
        return kind
    return f"{kind} ({node.value!r})" if node.tag == STR_TAG else f"{kind} ({node.value})"


def suggest(value: str, allowed: Collection[str]) -> str:
    """A ``did you mean`` hint for the closest allowed value, or nothing."""
    folded = {a.lower(): a for a in allowed}
    if value.lower() in folded:
        return f"; did you mean {folded[value.lower()]!r}?"
    close = difflib.get_close_matches(value, sorted(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def is_null(node: Node) -> bool:
    """Whether a node is YAML's null (``~``, ``null`` or nothing at all)."""
    return isinstance(node, ScalarNode) and node.tag == NULL_TAG


def _is_plain(node: Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style


class Reader:
    """Collects problems, the node at every field path, and the paths found broken."""

    def __init__(self, source: str) -> None:
        """Start reading a document that came from ``source``."""
        self.source = source
        self.problems: list[ConfigProblem] = []
        self.nodes: dict[str, Node] = {}
        self.broken: set[str] = set()
        self._seen: set[int] = set()
        self._token = "\x00" + secrets.token_hex(8)
        self._constructor = SafeConstructor()

    # -- bookkeeping ---------------------------------------------------------------

    def report(self, node: Node, path: str, message: str) -> None:
        """Record a problem at a node's position."""
        line, column = position(node)
        self.problems.append(ConfigProblem(self.source, line, column, path, message))

    def fail(self, node: Node, path: str, message: str) -> None:
        """Record a problem and mark ``path`` as broken."""
        self.report(node, path, message)
        self.broken.add(path)

    def placeholder(self, path: str) -> str:
        """A stand-in value for a broken field, unique to this reader and path."""
        self.broken.add(path)
        return f"{self._token}:{path}"

    def mentions_placeholder(self, text: str) -> bool:
        """Whether a message is about a placeholder rather than about real input."""
        return self._token in text or repr(self._token)[1:-1] in text

    def fresh(self, node: Node, path: str) -> bool:
        """False for a collection already read: an alias, refused elsewhere, is not re-read."""
        if id(node) in self._seen:
            self.broken.add(path)
            return False
        self._seen.add(id(node))
        return True

    # -- collections -----------------------------------------------------------------

    def pairs(self, node: MappingNode, path: str) -> list[tuple[str, Node, Node]]:
        """The (name, key node, value node) of a mapping; duplicates and odd keys reported."""
        out: list[tuple[str, Node, Node]] = []
        first: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or is_null(key):
                self.report(key, path, f"a key must be plain text, got {describe(key)}")
                continue
            name = str(key.value)
            if name in first:
                self.report(
                    key,
                    child(path, name),
                    f"duplicate key {name!r} (first at line {first[name]}); YAML would "
                    "silently keep only the last one, so remove or rename one of them",
                )
                continue
            first[name] = position(key)[0]
            self.nodes[child(path, name)] = value
            out.append((name, key, value))
        return out

    def fields(
        self, node: MappingNode, path: str, what: str, allowed: Sequence[str]
    ) -> dict[str, Node]:
        """A record's fields by name; unknown ones reported with the allowed set."""
        out: dict[str, Node] = {}
        for name, key, value in self.pairs(node, path):
            if name in allowed:
                out[name] = value
            else:
                self.report(
                    key,
                    child(path, name),
                    f"unknown field {name!r} in {what}; allowed: {', '.join(allowed)}"
                    + suggest(name, allowed),
                )
        return out

    def mapping(self, node: Node, path: str, expected: str) -> MappingNode | None:
        """The node as a mapping, or None (reported with what was expected; path broken)."""
        self.nodes[path] = node
        if not isinstance(node, MappingNode):
            self.fail(node, path, f"expected {expected}, got {describe(node)}")
            return None
        return node if self.fresh(node, path) else None

    def sequence(self, node: Node, path: str, what: str) -> list[Node]:
        """The items of a list (an empty value is an empty list); wrong types reported."""
        self.nodes[path] = node
        if is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.fail(node, path, f"expected a list of {what}, got {describe(node)}")
            return []
        if not self.fresh(node, path):
            return []
        items: list[Node] = node.value
        for i, item in enumerate(items):
            self.nodes[f"{path}[{i}]"] = item
        return items

    # -- scalars -----------------------------------------------------------------------

    def string(self, node: Node, path: str) -> str | None:
        """A string value, or None (reported; non-strings must be quoted to be text)."""
        if isinstance(node, ScalarNode) and node.tag == STR_TAG:
            return str(node.value)
        message = f"expected a string, got {describe(node)}"
        if node.tag in _HINTS and _is_plain(node):
            message += f'; {_HINTS[node.tag]}, so put it in quotes: "{node.value}"'
        self.fail(node, path, message)
        return None

    def integer(
        self, node: Node, path: str, allowed: range | None = None, what: str = "value"
    ) -> int | None:
        """An integer (in ``allowed`` when given), or None (reported)."""
        expected = "an integer" if allowed is None else f"an integer {allowed[0]}..{allowed[-1]}"
        if not (isinstance(node, ScalarNode) and node.tag == INT_TAG):
            message = f"expected {expected}, got {describe(node)}"
            if isinstance(node, ScalarNode) and node.tag == STR_TAG and node.style:
                message += "; write the number without quotes"
            self.fail(node, path, message)
            return None
        value = self._constructor.construct_yaml_int(node)
        if allowed is not None and value not in allowed:
            listed = ", ".join(str(v) for v in allowed)
            self.fail(node, path, f"invalid {what} {value}; allowed: {listed}")
            return None
        return value

    def number(self, node: Node, path: str) -> float | None:
        """A finite number (integer or decimal), or None (reported)."""
        if isinstance(node, ScalarNode) and node.tag in (INT_TAG, FLOAT_TAG):
            if node.tag == INT_TAG:
                return float(self._constructor.construct_yaml_int(node))
            value = float(self._constructor.construct_yaml_float(node))
            if math.isfinite(value):
                return value
            self.fail(node, path, f"expected a finite number, got {node.value}")
            return None
        message = f"expected a number, got {describe(node)}"
        if isinstance(node, ScalarNode) and node.tag == STR_TAG and node.style:
            message += "; write the number without quotes"
        self.fail(node, path, message)
        return None

    def boolean(self, node: Node, path: str) -> bool | None:
        """A boolean, or None (reported)."""
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            return self._constructor.construct_yaml_bool(node)
        message = f"expected true or false, got {describe(node)}"
        if isinstance(node, ScalarNode) and node.tag == STR_TAG and node.style:
            message += "; write it without quotes"
        self.fail(node, path, message)
        return None

    def choice(self, node: Node, path: str, enum: type[E], what: str) -> E | None:
        """One of an enum's values, or None (reported with the allowed values)."""
        allowed = [str(e.value) for e in enum]
        if not (isinstance(node, ScalarNode) and node.tag == STR_TAG):
            self.fail(node, path, f"expected a {what} ({', '.join(allowed)}), got {describe(node)}")
            return None
        text = str(node.value)
        if text not in allowed:
            self.fail(
                node,
                path,
                f"invalid {what} {text!r}; allowed: {', '.join(allowed)}" + suggest(text, allowed),
            )
            return None
        return enum(text)

    def entry(
        self,
        node: Node,
        path: str,
        what: str,
        required: Sequence[str],
        optional: Sequence[str] = (),
    ) -> Entry | None:
        """Start reading a record (a mapping with known fields); None when it is not one."""
        mapping = self.mapping(node, path, f"{what} (a mapping of its fields)")
        return None if mapping is None else Entry(self, mapping, path, what, required, optional)


class Entry:
    """One mapping read as a record: its fields, typed getters, placeholders where broken."""

    def __init__(
        self,
        reader: Reader,
        node: MappingNode,
        path: str,
        what: str,
        required: Sequence[str],
        optional: Sequence[str],
    ) -> None:
        """Check the mapping's keys and report every required field that is missing."""
        self.reader = reader
        self.path = path
        self.values = reader.fields(node, path, what, [*required, *optional])
        for name in required:
            value = self.values.get(name)
            if value is None:
                reader.report(node, path, f"missing required field {name!r} in {what}")
                reader.broken.add(child(path, name))
            elif is_null(value):
                reader.fail(value, child(path, name), f"required field {name!r} has no value")

    def node(self, name: str) -> Node | None:
        """A field's node when it is present and not empty."""
        value = self.values.get(name)
        return None if value is None or is_null(value) else value

    def text(self, name: str) -> str:
        """A required string field (a placeholder when missing or broken)."""
        path = child(self.path, name)
        node = self.node(name)
        value = None if node is None else self.reader.string(node, path)
        return self.reader.placeholder(path) if value is None else value

    def optional_text(self, name: str) -> str | None:
        """An optional string field."""
        node = self.node(name)
        return None if node is None else self.reader.string(node, child(self.path, name))

    def integer(self, name: str, allowed: range | None = None) -> int | None:
        """An integer field; None when absent or broken."""
        node = self.node(name)
        path = child(self.path, name)
        return None if node is None else self.reader.integer(node, path, allowed, name)

    def number(self, name: str) -> float | None:
        """A number field; None when absent or broken."""
        node = self.node(name)
        return None if node is None else self.reader.number(node, child(self.path, name))

    def boolean(self, name: str) -> bool | None:
        """A boolean field; None when absent or broken."""
        node = self.node(name)
        return None if node is None else self.reader.boolean(node, child(self.path, name))

    def choice(self, name: str, enum: type[E], what: str) -> E | None:
        """An enum field; None when absent or broken."""
        node = self.node(name)
        path = child(self.path, name)
        return None if node is None else self.reader.choice(node, path, enum, what)

    def texts(self, name: str, what: str) -> tuple[str, ...]:
        """An optional list of strings (placeholders for broken items)."""
        node = self.node(name)
        if node is None:
            return ()
        path = child(self.path, name)
        out: list[str] = []
        for i, item in enumerate(self.reader.sequence(node, path, what)):
            value = self.reader.string(item, f"{path}[{i}]")
            out.append(self.reader.placeholder(f"{path}[{i}]") if value is None else value)
        return tuple(out)

    def items(self, name: str, what: str) -> list[tuple[str, Node]]:
        """The (path, node) of each item of an optional list field."""
        node = self.node(name)
        if node is None:
            return []
        path = child(self.path, name)
        return [(f"{path}[{i}]", n) for i, n in enumerate(self.reader.sequence(node, path, what))]
