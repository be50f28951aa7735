"""Editing one escalation policy or schedule as its YAML item, checked against the stored estate.

The editor holds the same text the configuration file has for one list item (``- id: ...``).
:func:`check_item` places that text at the end of a document holding the stored estate (the
section's other items included, so duplicate ids and services claimed by two policies are
found), reads it with the configuration loader, and maps every problem back to the snippet's
own lines. Problems the document has outside the snippet are reported as ``elsewhere``: the
edit broke something that refers to it, or the stored estate has a problem of its own.
Pure: no widgets, no store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import Enum

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from console.config.emitter import dump
from console.config.errors import ConfigError, ConfigProblem
from console.config.escalation_schema import duration_text
from console.config.loader import load_text
from console.core.enums import EntityKind
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.escalation_rules import escalation_warnings
from console.core.models import Estate
from console.core.schedules import Absences, Layer, Schedule, ShiftUnit
from console.core.silences import Weekday
from console.ui.models.oncall import HORIZON_DAYS, CoverageReading, coverage

SOURCE = "<editor>"
Item = Policy | Schedule
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Section(Enum):
    """The configuration sections edited as YAML items."""

    POLICIES = "escalation_policies"
    SCHEDULES = "schedules"

    @property
    def kind(self) -> EntityKind:
        """The entity kind the store keeps the section's items as."""
        return EntityKind.ESCALATION_POLICY if self is Section.POLICIES else EntityKind.SCHEDULE

    @property
    def noun(self) -> str:
        """One item, in words."""
        return "policy" if self is Section.POLICIES else "schedule"

    @property
    def plural(self) -> str:
        """Several items, in words."""
        return "policies" if self is Section.POLICIES else "schedules"


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """A problem with the edited item, at the snippet's own line and column.

    Attributes:
        line: 1-based line in the snippet; 0 when the problem is elsewhere (outside it).
        column: 1-based column; 0 when it is elsewhere.
        path: Inside the item (``levels[1].targets``); a full document path when elsewhere.
        message: What is wrong.
    """

    line: int
    column: int
    path: str
    message: str

    @property
    def elsewhere(self) -> bool:
        """Whether the problem is outside the edited text."""
        return self.line == 0

    def __str__(self) -> str:
        where = "elsewhere" if self.elsewhere else f"line {self.line}, column {self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """The outcome of checking an edited item.

    Attributes:
        record: The item read from the text; None while there are problems.
        problems: Errors: the item cannot be saved while there is one.
        warnings: Worth knowing but no obstacle (a level that can come up empty).
    """

    record: Item | None
    problems: tuple[ItemProblem, ...]
    warnings: tuple[ItemProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the item can be saved."""
        return self.record is not None and not self.problems


def items_of(section: Section, estate: Estate) -> tuple[Item, ...]:
    """The stored items of ``section``."""
    found: tuple[Item, ...] = getattr(estate, section.value)
    return found


def _with_items(section: Section, estate: Estate, items: Sequence[Item]) -> Estate:
    if section is Section.POLICIES:
        return replace(estate, escalation_policies=tuple(i for i in items if isinstance(i, Policy)))
    return replace(estate, schedules=tuple(i for i in items if isinstance(i, Schedule)))


def items_text(section: Section, items: Sequence[Item]) -> str:
    """Canonical YAML of several items as list items at column 1 (empty for none)."""
    if not items:
        return ""
    text = dump(_with_items(section, Estate(), items))
    lines = text.splitlines(keepends=True)
    start = lines.index(f"{section.value}:\n") + 1
    out: list[str] = []
    for line in lines[start:]:
        if line[:1] not in (" ", "\n"):  # the next top-level key
            break
        out.append(line[2:] if line.startswith("  ") else line)
    return "".join(out)


def item_text(section: Section, record: Item) -> str:
    """The canonical YAML of one item, as the editor shows it (``- id: ...``)."""
    return items_text(section, (record,))


# -- checking -------------------------------------------------------------------------------


def _context(estate: Estate) -> Estate:
    """What the section's rules can refer to; the rest only adds parsing and noise."""
    return replace(
        estate, runbooks=(), resources=(), endpoints=(), alerting=None, silences=(), delivery=None
    )


def _shape_problem(text: str) -> ItemProblem | None:
    """The snippet must be one list item; say so before YAML says something obscure."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line.startswith("- ") or line == "-":
            return None
        return ItemProblem(
            number, 1, "", "the item starts with '- ' at the start of a line, like '- id: name'"
        )
    return ItemProblem(1, 1, "", "write the item here, starting with '- id: ...'")


def check_item(
    section: Section, text: str, estate: Estate, original: str | None = None
) -> ItemCheck:
    """Check an edited item against the stored estate.

    Args:
        section: Which section the item belongs to.
        text: The item's YAML, a list item starting with ``- ``.
        estate: The stored estate (the section's other items are checked with it).
        original: The key of the stored item being edited (None for a new one): it is the one
            the edit replaces, and its id cannot change.

    Returns:
        The record (when the text holds a valid item), problems and warnings, each at the
        snippet's own line and column.
    """
    shape = _shape_problem(text)
    if shape is not None:
        return ItemCheck(None, (shape,))
    others = tuple(i for i in items_of(section, estate) if _key(i) != original)
    prefix = dump(_with_items(section, _context(estate), ())) + f"{section.value}:\n"
    prefix += items_text(section, others)
    snippet = text if text.endswith("\n") else text + "\n"
    document = _Document(section, prefix, snippet, tuple(_key(i) for i in others))
    try:
        loaded = load_text(document.text, SOURCE)
    except ConfigError as exc:
        return ItemCheck(None, tuple(document.problem(p) for p in exc.problems))
    items = items_of(section, loaded)
    if len(items) != len(others) + 1:
        count = len(items) - len(others)
        return ItemCheck(None, (ItemProblem(1, 1, "", _count_message(count)),))
    record = items[len(others)]
    problems = _rename_problems(document, record, original)
    warnings = _warnings(section, document, loaded)
    return ItemCheck(None if problems else record, problems, warnings)


def _count_message(count: int) -> str:
    return f"the editor holds exactly one item; this text has {count}"


def _key(item: Item) -> str:
    return item.key


def _rename_problems(
    document: _Document, record: Item, original: str | None
) -> tuple[ItemProblem, ...]:
    if original is None or record.key == original:
        return ()
    message = (
        f"the id was {original!r}; an id cannot be changed here (create the item anew with "
        "New, then delete this one)"
    )
    return (document.at("id", message),)


def _warnings(section: Section, document: _Document, loaded: Estate) -> tuple[ItemProblem, ...]:
    if section is not Section.POLICIES:
        return ()
    found = [w for w in escalation_warnings(loaded) if document.owns(w.path)]
    return tuple(document.at(document.relative(w.path), w.message) for w in found)


class _Document:
    """The whole document checked: the stored estate, then the edited snippet at its end."""

    def __init__(self, section: Section, prefix: str, snippet: str, others: Sequence[str]) -> None:
        self.text = prefix + snippet
        self.offset = prefix.count("\n")
        self.lines = snippet.count("\n")
        self.item = f"{section.value}[{len(others)}]"
        self._section = section
        self._others = others
        self._root: Node | None = None

    def _named(self, message: str) -> str:
        """``(also escalation_policies[1])`` names a position only this document has."""

        def name(match: re.Match[str]) -> str:
            index = int(match[1])
            if index < len(self._others):
                return f"the stored {self._section.noun} {self._others[index]!r}"
            return "this one"

        return re.sub(rf"\b{self._section.value}\[(\d+)\]", name, message)

    def owns(self, path: str) -> bool:
        """Whether a document path is inside the edited item."""
        return path == self.item or path.startswith((f"{self.item}.", f"{self.item}["))

    def relative(self, path: str) -> str:
        """A path inside the item, without the item's own part."""
        return path.removeprefix(self.item).removeprefix(".") if self.owns(path) else path

    def problem(self, p: ConfigProblem) -> ItemProblem:
        """A loader problem at the snippet's own line, or elsewhere."""
        message = self._named(p.message)
        if p.line <= self.offset:
            return ItemProblem(0, 0, p.path, message)
        # YAML reports an unclosed bracket past the last line: point at the last one.
        line = min(p.line - self.offset, max(1, self.lines))
        return ItemProblem(line, p.column, self.relative(p.path), message)

    def at(self, path: str, message: str) -> ItemProblem:
        """A problem at the node of ``path`` inside the item (or its nearest parent)."""
        if self._root is None:
            # Only asked of text the loader accepted, so it composes.
            self._root = yaml.compose(self.text, Loader=yaml.SafeLoader)
        assert self._root is not None
        node = _walk(self._root, f"{self.item}.{path}" if path else self.item)
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        return ItemProblem(max(1, line - self.offset), column, path, message)


def _walk(root: Node, path: str) -> Node:
    """The node a path names, or the deepest one on the way there."""
    node = root
    for name, index in _STEP.findall(path):
        found = _child(node, name, index)
        if found is None:
            break
        node = found
    return node


def _child(node: Node, name: str, index: str) -> Node | None:
    if index and isinstance(node, SequenceNode):
        items: list[Node] = node.value
        position = int(index)
        return items[position] if position < len(items) else None
    if name and isinstance(node, MappingNode):
        pairs: list[tuple[Node, Node]] = node.value
        return next((v for k, v in pairs if isinstance(k, ScalarNode) and k.value == name), None)
    return None


# -- templates and previews -------------------------------------------------------------------


def _free_key(stem: str, taken: set[str]) -> str:
    if stem not in taken:
        return stem
    return next(f"{stem}-{n}" for n in range(2, len(taken) + 3) if f"{stem}-{n}" not in taken)


def template(section: Section, estate: Estate, today: date) -> str:
    """The text "New" starts from: a valid item using what the estate already has."""
    taken = {_key(i) for i in items_of(section, estate)}
    if section is Section.POLICIES:
        return item_text(section, _policy_template(estate, _free_key("new-policy", taken)))
    members = tuple(sorted(m.email for m in estate.members))[:2] or ("someone@example.com",)
    zone = next((m.timezone for m in estate.members if m.email == members[0]), "UTC")
    layer = Layer("Primary", members, 1, ShiftUnit.WEEKS, today, handoff_day=Weekday.MON)
    schedule = Schedule(_free_key("new-schedule", taken), "New schedule", zone, (layer,))
    return item_text(section, schedule)


def _policy_template(estate: Estate, key: str) -> Policy:
    if estate.schedules:
        first = Target(TargetKind.SCHEDULE, min(s.key for s in estate.schedules))
    elif estate.teams:
        first = Target(TargetKind.TEAM, min(t.key for t in estate.teams))
    else:
        first = Target(TargetKind.MEMBER, "someone@example.com")
    levels = (Level(timedelta(0), (first,)), Level(timedelta(minutes=15), (first,), urgent=True))
    return Policy(key, "New policy", levels)


def schedule_preview(
    schedule: Schedule, estate: Estate, start: datetime, days: int = HORIZON_DAYS
) -> CoverageReading:
    """The edited schedule's coverage over the coming days, with the stored absences."""
    names = {m.email: m.name for m in estate.members}
    return coverage((schedule,), Absences(estate.unavailability), names, start, days)


def _target_words(target: Target, names: Mapping[str, str], estate: Estate) -> str:
    if target.kind is TargetKind.MEMBER:
        return names.get(target.ref, target.ref)
    if target.kind is TargetKind.TEAM:
        return f"everyone in team {target.ref}"
    if target.kind is TargetKind.SCHEDULE:
        schedule = next((s for s in estate.schedules if s.key == target.ref), None)
        return f"whoever {schedule.name if schedule else target.ref} has on call"
    pool = ", ".join(names.get(m, m) for m in target.members) or f"team {target.ref}"
    return f"one of {pool}, in turn"


def _level_line(number: int, level: Level, names: Mapping[str, str], estate: Estate) -> str:
    when = "at once" if not level.delay else f"after {duration_text(level.delay)}"
    who = "; ".join(_target_words(t, names, estate) for t in level.targets) or "nobody"
    return f"Level {number}, {when}: {who}" + (" (urgent)" if level.urgent else "")


def describe_policy(policy: Policy, estate: Estate) -> list[str]:
    """The policy in words, one line each: its levels, repeats, timeout, and who uses it."""
    names = {m.email: m.name for m in estate.members}
    lines = [_level_line(i, lv, names, estate) for i, lv in enumerate(policy.levels, start=1)]
    if policy.repeat:
        wait = duration_text(policy.loop_wait)
        lines.append(f"Repeats {policy.repeat} more time(s), {wait} after the last level starts")
    else:
        lines.append("Runs once (no repeat)")
    if policy.ack_timeout is not None:
        lines.append(
            f"Acknowledged but unresolved after {duration_text(policy.ack_timeout)}: "
            "escalates again"
        )
    lines.append(_users(policy, estate))
    return lines


def _users(policy: Policy, estate: Estate) -> str:
    own = set(policy.services)
    by_team = [
        s.key
        for s in estate.services
        if s.team in policy.teams
        and s.key not in own
        and not _has_own_policy(s.key, policy, estate)
    ]
    used = sorted(own) + sorted(by_team)
    if not used:
        return "Used by: no service (name services: or teams: to make it a default)"
    return "Used by: " + ", ".join(used)


def _has_own_policy(service: str, policy: Policy, estate: Estate) -> bool:
    # The stored version of the policy being edited does not count: the edit replaces it.
    return any(service in p.services for p in estate.escalation_policies if p.key != policy.key)
