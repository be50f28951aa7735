"""Label matchers as text, the way configuration files and the command line write them.

The syntax is Alertmanager's: ``severity=critical``, ``env!=test``, ``service=~pay.*`` and
``alertname!~Test.*``; a regular expression must match the whole value. A value may be put in
double or single quotes (needed when it is empty, starts with ``~`` or has spaces at its ends).
``services: [a, b]`` in a silence is shorthand for the first matcher ``service=~a|b``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from console.core.routing import Matcher, MatchOp

_SYNTAX = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=~|!~|!=|=)\s*(.*?)\s*")
SERVICE_LABEL = "service"
SYNTAX_HELP = "LABEL=VALUE, LABEL!=VALUE, LABEL=~REGEX or LABEL!~REGEX"


class MatcherSyntaxError(ValueError):
    """A matcher that cannot be read; ``offset`` is where in the text the trouble is (0-based)."""

    def __init__(self, message: str, offset: int) -> None:
        """Keep the message and the offset."""
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse_matcher(text: str) -> Matcher:
    """Read one matcher.

    Raises:
        MatcherSyntaxError: No operator, a bad label name, or a regular expression that does
            not compile (its offset then points at the character the error names).
    """
    found = _SYNTAX.fullmatch(text)
    if found is None:
        raise MatcherSyntaxError(f"expected {SYNTAX_HELP}, got {text!r}", 0)
    value, start = found[3], found.start(3)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value, start = value[1:-1], start + 1
    op = MatchOp(found[2])
    if op.is_regex:
        try:
            re.compile(value)
        except re.error as exc:
            where = exc.pos or 0
            raise MatcherSyntaxError(
                f"invalid regular expression {value!r}: {exc.msg} at character {where + 1}",
                start + where,
            ) from None
    return Matcher(found[1], op, value)


def format_matcher(m: Matcher) -> str:
    """The text `parse_matcher` reads back as the same matcher (quotes only where needed)."""
    value = m.value
    quoted = (
        not value
        or value != value.strip()
        or value.startswith("~")
        or (len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'")
    )
    return f'{m.name}{m.op.value}"{value}"' if quoted else f"{m.name}{m.op.value}{value}"


def services_matcher(services: Sequence[str]) -> Matcher:
    """The matcher ``services: [...]`` stands for: ``service=a``, or ``service=~a|b`` for several.

    Service ids are slugs (letters, digits and ``-``), so joining them is a safe expression.
    """
    if len(services) == 1:
        return Matcher(SERVICE_LABEL, MatchOp.EQUAL, services[0])
    return Matcher(SERVICE_LABEL, MatchOp.REGEX, "|".join(services))


def split_services(
    matchers: Sequence[Matcher], known: Collection[str]
) -> tuple[tuple[str, ...], tuple[Matcher, ...]]:
    """Undo `services_matcher`: the services a first matcher names, and the other matchers.

    Only a first matcher that `services_matcher` would write for known, distinct services
    counts, so that writing the result back out and reading it in gives the same matchers.
    """
    if not matchers or matchers[0].name != SERVICE_LABEL:
        return (), tuple(matchers)
    first = matchers[0]
    names: tuple[str, ...] = ()
    if first.op is MatchOp.EQUAL:
        names = (first.value,)
    elif first.op is MatchOp.REGEX and "|" in first.value:
        names = tuple(first.value.split("|"))
    if names and len(set(names)) == len(names) and all(n in known for n in names):
        return names, tuple(matchers[1:])
    return (), tuple(matchers)
