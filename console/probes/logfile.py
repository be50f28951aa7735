"""The logfile probe: follow a file across rotation and count the new lines matching a pattern.

Each poll reads what was appended since the previous one. Where the probe left off lives in a
`LogFollowState` that the caller keeps and hands back, so the probe holds no open file between
polls. Rotation is noticed in both usual forms: rename (the path now names another inode; the
rest of the old file is read first when it is still in the same directory, as ``app.log.1``)
and copytruncate (the same inode became shorter, or its first bytes changed). File work runs on
a worker thread (``asyncio.to_thread``) and reads at most a cap per poll, so a huge backlog is
worked off over several polls and never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import stat
from dataclasses import dataclass, field

from console.core.clock import Clock
from console.probes.base import ProbeOutcome, ProbeResult, Stopwatch
from console.probes.prometheus import size_text

MIB = 1024 * 1024
DEFAULT_READ_CAP = 8 * MIB
DEFAULT_MAX_LINE = MIB
_MIN_READ_CAP = 4096
# Enough of the file's start to tell a rewritten file from an appended one: log lines usually
# begin with a timestamp.
_HEAD = 256


@dataclass(frozen=True, slots=True)
class LogfileProbeConfig:
    """One followed file.

    Attributes:
        path: The file's path (a symlink is followed).
        pattern: A regular expression searched in each line.
        start_at_end: On the first poll, skip what the file already holds (as ``tail -f``).
            A file that appears after the first poll is always read from its start.
        read_cap_bytes: Bytes read per poll at most (default 8 MiB); the rest waits.
        max_line_bytes: The most of an unfinished line kept between polls (default 1 MiB): a
            line still unfinished past this size is matched on its first max_line_bytes.
        encoding: An ASCII-compatible encoding; undecodable bytes become U+FFFD.
    """

    path: str
    pattern: str
    start_at_end: bool = True
    read_cap_bytes: int = DEFAULT_READ_CAP
    max_line_bytes: int = DEFAULT_MAX_LINE
    encoding: str = "utf-8"
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("the path is empty")
        if self.read_cap_bytes < _MIN_READ_CAP or self.max_line_bytes <= 0:
            raise ValueError(f"read_cap_bytes must be >= {_MIN_READ_CAP}, max_line_bytes > 0")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {self.encoding!r}") from None
        if "\n".encode(self.encoding) != b"\n":
            raise ValueError(f"{self.encoding} does not write a newline as one byte")
        try:
            object.__setattr__(self, "_regex", re.compile(self.pattern))
        except re.error as exc:
            raise ValueError(f"bad regex {self.pattern!r}: {exc}") from None


@dataclass(frozen=True, slots=True)
class LogFollowState:
    """Where the previous poll left off.

    Attributes:
        inode: The followed file's inode; None when no file was there, so that the next file
            to appear is read from its start.
        device: The followed file's device.
        offset: Bytes of the file already read.
        head: The file's first bytes when last read (up to 256): different first bytes at the
            same inode mean the file was truncated and written again.
        partial: An unfinished last line, completed by the next poll.
    """

    inode: int | None
    device: int = 0
    offset: int = 0
    head: bytes = b""
    partial: bytes = b""


ABSENT = LogFollowState(None)


async def probe_logfile(
    config: LogfileProbeConfig, clock: Clock, state: LogFollowState | None
) -> tuple[ProbeResult, LogFollowState | None]:
    """Read what was appended since the previous poll and count the matching lines.

    Args:
        config: The file and the pattern.
        clock: Times the check.
        state: What the previous call returned (None on the first poll).

    Returns:
        The result and the state for the next call. UP with metrics ``matches`` (complete new
        lines that match), ``lines`` (complete new lines) and ``bytes_read``; details say when
        the file rotated, was truncated, or the read cap left bytes for later. UNKNOWN when the
        file is missing ("file not found", with what could still be read from its rotated
        predecessor), unreadable ("permission denied") or not a regular file.
    """
    watch = Stopwatch(clock)
    poll = await asyncio.to_thread(_poll, config, state)
    result = watch.result(poll.outcome, poll.reason, poll.metrics, poll.details)
    return result, poll.state


@dataclass(frozen=True, slots=True)
class _Poll:
    outcome: ProbeOutcome
    reason: str
    metrics: dict[str, float]
    details: dict[str, str]
    state: LogFollowState | None


class _Tally:
    """Counts complete lines and matches in the bytes fed to it, keeping the unfinished line."""

    def __init__(self, config: LogfileProbeConfig) -> None:
        self._config = config
        self.partial = b""
        self.lines = 0
        self.matches = 0
        self.bytes_read = 0
        self.notes: dict[str, str] = {}

    def feed(self, data: bytes) -> None:
        """Count the lines data completes."""
        self.bytes_read += len(data)
        limit = self._config.max_line_bytes
        if len(self.partial) >= limit:
            # The unfinished line was cut: the rest of it is dropped, up to its newline.
            end = data.find(b"\n")
            data = b"" if end < 0 else data[end:]
        buffer = self.partial + data
        cut = buffer.rfind(b"\n")
        if cut >= 0:
            self._count(buffer[:cut])
            buffer = buffer[cut + 1 :]
        if len(buffer) > limit:
            self.notes["long_line"] = f"an unfinished line was cut at {limit} bytes"
            buffer = buffer[:limit]
        self.partial = buffer

    def flush(self) -> None:
        """The file ended for good: its unfinished last line counts as a line."""
        if self.partial:
            self._count(self.partial)
            self.partial = b""

    def _count(self, block: bytes) -> None:
        search = self._config._regex.search
        for line in block.decode(self._config.encoding, errors="replace").split("\n"):
            self.lines += 1
            if search(line.removesuffix("\r")) is not None:
                self.matches += 1

    def metrics(self) -> dict[str, float]:
        """The poll's counts."""
        return {
            "matches": float(self.matches),
            "lines": float(self.lines),
            "bytes_read": float(self.bytes_read),
        }


def _poll(config: LogfileProbeConfig, state: LogFollowState | None) -> _Poll:
    try:
        # Non-blocking, so that a FIFO at the path cannot hang the worker thread.
        fd = os.open(config.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return _missing(config, state)
    except PermissionError:
        return _failed(f"permission denied: {config.path}", state)
    except OSError as exc:
        return _failed(f"cannot open {config.path}: {exc.strerror or exc}", state)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _failed(f"not a regular file: {config.path}", state)
        return _follow(config, state, fd, info)
    except OSError as exc:
        return _failed(f"cannot read {config.path}: {exc.strerror or exc}", state)
    finally:
        os.close(fd)


def _failed(reason: str, state: LogFollowState | None) -> _Poll:
    return _Poll(ProbeOutcome.UNKNOWN, reason, {}, {}, state)


def _missing(config: LogfileProbeConfig, state: LogFollowState | None) -> _Poll:
    """The path names nothing: finish the file it named, if it was only renamed."""
    tally = _Tally(config)
    if state is not None and state.inode is not None:
        _drain_rotated(config, state, tally)
    reason = f"file not found: {config.path}"
    metrics = tally.metrics() if tally.bytes_read else {}
    return _Poll(ProbeOutcome.UNKNOWN, reason, metrics, tally.notes, ABSENT)


def _follow(
    config: LogfileProbeConfig, state: LogFollowState | None, fd: int, info: os.stat_result
) -> _Poll:
    tally = _Tally(config)
    same_file = state is not None and (state.device, state.inode) == (info.st_dev, info.st_ino)
    if state is None and config.start_at_end:
        tally.notes["start"] = f"following from the end ({info.st_size} bytes already there)"
        offset = info.st_size
    elif state is not None and same_file:
        tally.partial = state.partial
        offset = state.offset
        if info.st_size < state.offset or os.pread(fd, len(state.head), 0) != state.head:
            tally.flush()
            tally.notes["truncated"] = "the file was truncated (copytruncate); read from its start"
            offset = 0
    else:
        if state is not None and state.inode is not None:
            _drain_rotated(config, state, tally)
        offset = 0
    budget = config.read_cap_bytes - tally.bytes_read
    data = _read(fd, offset, budget)
    tally.feed(data)
    offset += len(data)
    left = os.fstat(fd).st_size - offset
    if left > 0 and len(data) == budget:
        cap = size_text(config.read_cap_bytes)
        tally.notes["capped"] = f"read cap of {cap} reached; {left} bytes left for later polls"
    head = os.pread(fd, _HEAD, 0)
    new_state = LogFollowState(info.st_ino, info.st_dev, offset, head, tally.partial)
    reason = f"{tally.matches} of {tally.lines} new lines match"
    return _Poll(ProbeOutcome.UP, reason, tally.metrics(), tally.notes, new_state)


def _read(fd: int, offset: int, budget: int) -> bytes:
    """Up to budget bytes from offset (less at the end of the file)."""
    chunks: list[bytes] = []
    while budget > 0:
        chunk = os.pread(fd, min(budget, MIB), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        budget -= len(chunk)
    return b"".join(chunks)


def _drain_rotated(config: LogfileProbeConfig, state: LogFollowState, tally: _Tally) -> None:
    """Read the end of the file followed so far, renamed within its directory (``app.log.1``)."""
    assert state.inode is not None
    directory = os.path.dirname(os.path.abspath(config.path))
    old = _find_inode(directory, state.device, state.inode)
    if old is None:
        tally.partial = state.partial
        tally.flush()
        tally.notes["rotated"] = "the file was rotated; its old file is gone"
        return
    try:
        fd = os.open(old, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        tally.notes["rotated"] = f"the file was rotated to {old}, unreadable: {exc.strerror}"
        return
    try:
        size = os.fstat(fd).st_size
        data = _read(fd, state.offset, config.read_cap_bytes) if size >= state.offset else b""
        left = size - state.offset - len(data)
    finally:
        os.close(fd)
    tally.partial = state.partial
    tally.feed(data)
    tally.flush()
    tally.notes["rotated"] = f"the file was rotated; read {len(data)} bytes from {old}"
    if left > 0:
        tally.notes["rotated"] += f", {left} bytes over the read cap skipped"


def _find_inode(directory: str, device: int, inode: int) -> str | None:
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                # inode() comes with the directory listing: no stat per entry.
                if entry.inode() != inode:
                    continue
                info = entry.stat(follow_symlinks=False)
                if info.st_dev == device and stat.S_ISREG(info.st_mode):
                    return entry.path
    except OSError:
        return None
    return None
