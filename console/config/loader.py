"""Loading a configuration file: every problem found, each with its file, line and column.

The order of checks: the raw text (size, tabs), YAML events (anchors and aliases), the node
tree (syntax, duplicate keys, unknown fields, types, enums, required fields), then the
domain's rules (``validate_estate``) mapped back from field paths to positions.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import yaml
from yaml.nodes import CollectionNode, Node, ScalarNode, SequenceNode

from console.config.errors import ConfigError, ConfigProblem
from console.config.nodes import Reader, parent, position
from console.config.schema import read_document
from console.core.models import Estate
from console.core.validation import validate_estate

MAX_BYTES = 5 * 1024 * 1024
_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(
    yaml, "CSafeLoader", yaml.SafeLoader
)
# libyaml reports reader errors at a UTF-8 byte offset, the pure-Python reader at a character.
_BYTE_OFFSETS = _LOADER is not yaml.SafeLoader
# YAML's line breaks (1.1 also counts NEL and the Unicode line/paragraph separators).
_LINE_BREAK = re.compile("\r\n|\r|\n|\x85|\u2028|\u2029")


def load_text(text: str, source: str = "<string>") -> Estate:
    """Parse and validate configuration text.

    Args:
        text: The YAML document.
        source: The name used in problems (usually the file's path).

    Returns:
        The declared estate.

    Raises:
        ConfigError: With every problem found, sorted by line and column.
    """
    estate, problems = _check_text(text, source)
    if problems or estate is None:
        raise ConfigError(problems)
    return estate


def load_file(path: Path) -> Estate:
    """Read, parse and validate a configuration file.

    Raises:
        ConfigError: With every problem found; a file that cannot be read (missing, not
            UTF-8, larger than 5 MiB) gives one problem at line 0, column 0.
    """
    return load_text(_read(Path(path)), str(path))


def check_file(path: Path) -> list[ConfigProblem]:
    """Every problem in a configuration file; an empty list means it is valid."""
    try:
        load_file(path)
    except ConfigError as exc:
        return exc.problems
    return []


def _whole_file(source: str, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(source, 0, 0, "", message)])


def _too_large(size: int) -> str:
    return (
        f"the file is {size / 1024 / 1024:.1f} MiB; configuration files over "
        f"{MAX_BYTES // 1024 // 1024} MiB are refused"
    )


def _read(path: Path) -> str:
    source = str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise _whole_file(source, "not a regular file")
        if info.st_size > MAX_BYTES:
            raise _whole_file(source, _too_large(info.st_size))
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _whole_file(source, "no such file") from None
    except PermissionError:
        raise _whole_file(source, "cannot be read: permission denied") from None
    except OSError as exc:
        raise _whole_file(source, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:  # it grew after stat
        raise _whole_file(source, _too_large(len(data)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _whole_file(
            source,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8",
        ) from None


def _check_text(text: str, source: str) -> tuple[Estate | None, list[ConfigProblem]]:
    # A character is at least one byte, so the cheap length test settles most cases.
    try:
        size = len(text) if len(text) > MAX_BYTES else len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # lone surrogates: only from a caller, never from a file
        line, column = _line_column(text, exc.start)
        message = f"U+{ord(text[exc.start]):04X} is not a valid Unicode character"
        return None, [ConfigProblem(source, line, column, "", message)]
    if size > MAX_BYTES:
        return None, [ConfigProblem(source, 0, 0, "", _too_large(size))]
    tabs = _tab_positions(text)
    problems = _anchor_problems(text, source)
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError) as exc:
        problems += _tab_problems(source, tabs, exempt=set())
        syntax = _syntax_problem(text, source, exc)
        if syntax.line not in {line for line, _ in tabs}:  # else the tab explains it
            problems.append(syntax)
        return None, _sorted(problems)
    if root is None:
        problems.append(
            ConfigProblem(source, 0, 0, "", "the file is empty; start with 'version: 1'")
        )
        return None, _sorted(problems)
    problems += _tab_problems(source, tabs, _block_scalar_lines(root) if tabs else set())
    reader = Reader(source)
    estate = read_document(reader, root)
    problems += reader.problems
    if estate is not None:
        problems += _semantic_problems(reader, estate)
    return estate, _sorted(problems)


def _sorted(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(problems, key=lambda p: (p.line, p.column))


def _tab_positions(text: str) -> dict[tuple[int, int], None]:
    """(line, column) of the first tab in each line's leading whitespace, in order."""
    out: dict[tuple[int, int], None] = {}
    if "\t" not in text:
        return out
    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            out[(number, indent.index("\t") + 1)] = None
    return out


def _tab_problems(
    source: str, tabs: dict[tuple[int, int], None], exempt: set[int]
) -> list[ConfigProblem]:
    return [
        ConfigProblem(source, line, column, "", "tab in indentation; YAML indents with spaces")
        for line, column in tabs
        if line not in exempt
    ]


def _block_scalar_lines(root: Node) -> set[int]:
    """1-based lines inside literal or folded blocks, where a tab is content, not indent."""
    lines: set[int] = set()
    seen: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode) and node.style in ("|", ">"):
            start, end = node.start_mark, node.end_mark
            last = end.line + (1 if end.column > 0 else 0)
            lines.update(range(start.line + 2, last + 1))
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)
        elif isinstance(node, CollectionNode):
            todo.extend(n for pair in node.value for n in pair)
    return lines


def _anchor_problems(text: str, source: str) -> list[ConfigProblem]:
    """Anchors and aliases are refused: aliases let a small file expand without bound."""
    if "&" not in text and "*" not in text:
        return []
    out: list[ConfigProblem] = []
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            anchor = getattr(event, "anchor", None)
            if anchor is None:
                continue
            mark = event.start_mark
            if isinstance(event, yaml.AliasEvent):
                message = (
                    f"alias *{anchor} is not supported: aliases can expand a small file "
                    "into a huge document ('billion laughs'); write the value out in full"
                )
            else:
                message = f"anchor &{anchor} is not supported (anchors and aliases are refused)"
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
            out.append(ConfigProblem(source, line, column, "", message))
    except (yaml.YAMLError, RecursionError):
        pass  # compose reports the syntax error
    return out


def _syntax_problem(text: str, source: str, exc: BaseException) -> ConfigProblem:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"YAML syntax error: {exc.problem or exc.context}"
        context = exc.context_mark
        if exc.problem and exc.context and context is not None:
            message += f" ({exc.context} at line {context.line + 1}, column {context.column + 1})"
        return ConfigProblem(source, line, column, "", message)
    if isinstance(exc, yaml.reader.ReaderError):
        index = (
            len(text.encode("utf-8")[: exc.position].decode("utf-8", "ignore"))
            if _BYTE_OFFSETS
            else exc.position
        )
        line, column = _line_column(text, index)
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        message = f"YAML cannot read character U+{code:04X}: {exc.reason}"
        return ConfigProblem(source, line, column, "", message)
    if isinstance(exc, RecursionError):
        return ConfigProblem(source, 0, 0, "", "the document is nested too deeply")
    return ConfigProblem(source, 0, 0, "", f"YAML error: {exc}")


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    before = _LINE_BREAK.split(text[:index])
    return len(before), len(before[-1]) + 1


def _semantic_problems(reader: Reader, estate: Estate) -> list[ConfigProblem]:
    """The domain's problems, minus those a structural problem already explains."""
    out: list[ConfigProblem] = []
    for problem in validate_estate(estate):
        if reader.mentions_placeholder(problem.message) or _under(problem.path, reader.broken):
            continue
        path, node = _locate(reader, problem.path, problem.message)
        line, column = position(node) if node is not None else (1, 1)
        out.append(ConfigProblem(reader.source, line, column, path, problem.message))
    return out


def _under(path: str, broken: set[str]) -> bool:
    while path:
        if path in broken:
            return True
        path = parent(path)
    return False


def _locate(reader: Reader, path: str, message: str) -> tuple[str, Node | None]:
    """The node a problem path names, or its nearest existing parent.

    When the path names a list and the message quotes one of its items (``unknown service
    'x'``), the item itself is the better place to point at.
    """
    found = path
    while found and found not in reader.nodes:
        found = parent(found)
    node = reader.nodes.get(found)
    if found == path and isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            if isinstance(item, ScalarNode) and repr(str(item.value)) in message:
                return f"{path}[{i}]", item
    return path, node
