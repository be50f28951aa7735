"""The logfile probe on real files: appended, rotated by rename, copytruncated, deleted."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.probes.base import ProbeOutcome, ProbeResult
from console.probes.logfile import (
    ABSENT,
    LogfileProbeConfig,
    LogFollowState,
    probe_logfile,
)

from tests.unit.probes.peers import run_async

MIB = 1024 * 1024


class Follower:
    """Polls one file, threading the state through as the engine will."""

    def __init__(self, path: Path, pattern: str = "ERROR", **options: object) -> None:
        self.config = LogfileProbeConfig(str(path), pattern, **options)  # type: ignore[arg-type]
        self.clock = FakeClock()
        self.state: LogFollowState | None = None

    def poll(self) -> ProbeResult:
        result, self.state = run_async(probe_logfile(self.config, self.clock, self.state))
        return result


def append(path: Path, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    with path.open("ab") as handle:
        handle.write(data)


def counts(result: ProbeResult) -> tuple[float, float]:
    """(matching lines, lines) of a poll."""
    return result.metrics["matches"], result.metrics["lines"]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "app.log"
    path.write_text("old INFO line\nold ERROR line\n")
    return path


# ---- following a file ------------------------------------------------------------------------


def test_the_first_poll_starts_at_the_end(log: Path) -> None:
    follower = Follower(log)
    first = follower.poll()
    assert first.ok_state is ProbeOutcome.UP
    assert counts(first) == (0, 0)
    assert first.details["start"] == "following from the end (29 bytes already there)"
    append(log, "INFO a\nERROR b\nERROR c\nWARN d\n")
    second = follower.poll()
    assert counts(second) == (2, 4)
    assert second.metrics["bytes_read"] == 30
    assert second.reason == "2 of 4 new lines match"
    assert counts(follower.poll()) == (0, 0)


def test_reading_from_the_start(log: Path) -> None:
    assert counts(Follower(log, start_at_end=False).poll()) == (1, 2)


def test_an_unfinished_line_waits_for_its_end(log: Path) -> None:
    follower = Follower(log, "ERROR partial$")
    follower.poll()
    append(log, "INFO one\nERROR par")
    assert counts(follower.poll()) == (0, 1)
    append(log, "tial\r\n")  # CRLF: the \r is not part of the line
    assert counts(follower.poll()) == (1, 1)


def test_a_regex_is_searched_in_each_line(log: Path) -> None:
    follower = Follower(log, r"status=5\d\d\b")
    follower.poll()
    append(log, "status=500\nstatus=5000\nstatus=404\nx status=503 y\n")
    assert counts(follower.poll()) == (2, 4)


# ---- rotation --------------------------------------------------------------------------------


def test_rotation_by_rename_reads_the_rest_of_the_old_file(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    late = "ERROR late 1\nINFO late 2\nERROR unfinished"  # written before the rotation
    append(log, late)
    log.rename(log.with_name("app.log.1"))
    log.write_text("ERROR new 1\nINFO new 2\nINFO new 3\n")
    result = follower.poll()
    assert result.ok_state is ProbeOutcome.UP
    # 3 from the old file (its unfinished last line counts: it will never be finished) and 3 new.
    assert counts(result) == (3, 6)
    assert result.details["rotated"] == f"the file was rotated; read {len(late)} bytes from {log}.1"
    append(log, "ERROR new 4\n")
    assert counts(follower.poll()) == (1, 1)


def test_rotation_to_elsewhere_reads_the_new_file_from_its_start(log: Path, tmp_path: Path) -> None:
    follower = Follower(log)
    follower.poll()
    archive = tmp_path / "archive"
    archive.mkdir()
    log.rename(archive / "app.log.1")
    log.write_text("ERROR new 1\nINFO new 2\n")
    result = follower.poll()
    assert counts(result) == (1, 2)
    assert result.details["rotated"] == "the file was rotated; its old file is gone"


def test_copytruncate_starts_again_at_the_beginning(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    append(log, "INFO a\n")
    follower.poll()
    shutil.copy(log, log.with_name("app.log.1"))
    os.truncate(log, 0)
    append(log, "ERROR after truncation\n")
    result = follower.poll()
    assert counts(result) == (1, 1)
    assert result.details["truncated"] == (
        "the file was truncated (copytruncate); read from its start"
    )
    append(log, "INFO more\n")
    assert counts(follower.poll()) == (0, 1)


def test_copytruncate_is_seen_even_when_the_file_regrew_past_the_old_offset(log: Path) -> None:
    follower = Follower(log)
    follower.poll()  # offset 29
    with log.open("wb") as handle:  # truncate, then more is written than was there before
        handle.write(b"2026-01-02 ERROR a much longer first line after the rotation\nINFO b\n")
    result = follower.poll()
    assert counts(result) == (1, 2)
    assert "truncated" in result.details


def test_a_deleted_file_is_unknown_until_it_comes_back(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    log.unlink()
    missing = follower.poll()
    assert missing.ok_state is ProbeOutcome.UNKNOWN
    assert missing.reason == f"file not found: {log}"
    assert dict(missing.metrics) == {}
    assert follower.state == ABSENT
    assert follower.poll().reason == f"file not found: {log}"
    # A file that appears while we watch is new content: read from its start.
    log.write_text("ERROR 1\nERROR 2\nINFO 3\n")
    back = follower.poll()
    assert back.ok_state is ProbeOutcome.UP
    assert counts(back) == (2, 3)


def test_a_file_missing_at_the_start_is_read_whole_once_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.log"
    follower = Follower(path)
    assert follower.poll().reason == f"file not found: {path}"
    path.write_text("ERROR first\n")
    assert counts(follower.poll()) == (1, 1)


def test_renamed_before_the_new_file_exists(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    append(log, "ERROR last words\n")
    log.rename(log.with_name("app.log.1"))
    gap = follower.poll()
    assert gap.ok_state is ProbeOutcome.UNKNOWN
    assert gap.reason == f"file not found: {log}"
    assert counts(gap) == (1, 1)  # the old file's last lines were still read
    log.write_text("ERROR reopened\nINFO x\n")
    assert counts(follower.poll()) == (1, 2)


# ---- limits and bad content ------------------------------------------------------------------


def test_the_read_cap_spreads_a_backlog_over_polls(log: Path) -> None:
    follower = Follower(log, read_cap_bytes=MIB)
    follower.poll()
    line = "ERROR " + "x" * 94 + "\n"  # 101 bytes
    quiet = "INFO " + "y" * 95 + "\n"  # 101 bytes
    backlog = (line + quiet + quiet) * 10_000  # 3,030,000 bytes
    append(log, backlog)
    results = [follower.poll() for _ in range(4)]
    assert [r.metrics["bytes_read"] for r in results] == [MIB, MIB, len(backlog) - 2 * MIB, 0]
    assert results[0].details["capped"] == (
        f"read cap of 1 MiB reached; {len(backlog) - MIB} bytes left for later polls"
    )
    assert "capped" not in results[2].details
    assert sum(r.metrics["lines"] for r in results) == 30_000
    assert sum(r.metrics["matches"] for r in results) == 10_000


def test_binary_garbage_is_decoded_with_replacement(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    garbage = bytes(range(256)) * 40 + b"\xff\xfeERROR\x00\xc3\n" + os.urandom(50_000)
    garbage += b"\xe2\x82ERROR\xe2\x82\xac ok\n\x00\x00\n"
    append(log, garbage)
    complete = garbage[: garbage.rfind(b"\n")].split(b"\n")
    result = follower.poll()
    assert result.ok_state is ProbeOutcome.UP
    assert counts(result) == (sum(b"ERROR" in line for line in complete), len(complete))


def test_an_unfinished_line_longer_than_the_limit_is_cut(log: Path) -> None:
    follower = Follower(log, "tail-marker", max_line_bytes=4096)
    follower.poll()
    append(log, "ERROR " + "z" * 10_000)
    first = follower.poll()
    assert counts(first) == (0, 0)
    assert first.details["long_line"] == "an unfinished line was cut at 4096 bytes"
    assert follower.state is not None and len(follower.state.partial) == 4096
    append(log, "z" * 10_000 + " tail-marker\nINFO tail-marker\n")
    # The long line ends and counts, matched on its first 4096 bytes: its marker is past them.
    assert counts(follower.poll()) == (1, 2)
    assert follower.state is not None and follower.state.partial == b""


def test_a_directory_is_not_a_log(tmp_path: Path) -> None:
    result = Follower(tmp_path).poll()
    assert result.ok_state is ProbeOutcome.UNKNOWN
    assert result.reason == f"not a regular file: {tmp_path}"


def test_a_fifo_does_not_hang_the_poll(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = Follower(fifo).poll()
    assert result.reason == f"not a regular file: {fifo}"


def test_permission_denied() -> None:
    # root reads any file whatever its mode, so as root the poll runs as nobody.
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o755)
        path = Path(folder) / "secret.log"
        path.write_text("ERROR\n")
        path.chmod(0)
        if os.geteuid() == 0:
            outcome, reason = poll_as_nobody(path)
        else:
            result = Follower(path).poll()
            outcome, reason = result.ok_state.value, result.reason
    assert outcome == ProbeOutcome.UNKNOWN.value
    assert reason == f"permission denied: {path}"


def poll_as_nobody(path: Path) -> tuple[str, str]:
    code = (
        "import asyncio, json, sys\n"
        "from console.core.clock import FakeClock\n"
        "from console.probes.logfile import LogfileProbeConfig, probe_logfile\n"
        "config = LogfileProbeConfig(sys.argv[1], 'ERROR')\n"
        "result, _ = asyncio.run(probe_logfile(config, FakeClock(), None))\n"
        "print(json.dumps([result.ok_state.value, result.reason]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        user="nobody",
        group="nogroup",
        extra_groups=[],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    outcome, reason = json.loads(done.stdout)
    return str(outcome), str(reason)


def test_the_event_loop_keeps_running_during_a_big_read(log: Path) -> None:
    follower = Follower(log)
    follower.poll()
    append(log, ("INFO " + "q" * 200 + "\n") * 40_000)  # 8 MiB of lines to match

    async def poll_and_tick() -> int:
        ticks = 0
        task = asyncio.ensure_future(probe_logfile(follower.config, follower.clock, follower.state))
        while not task.done():
            ticks += 1
            await asyncio.sleep(0)
        result, _ = task.result()
        assert result.metrics["lines"] == 40_000
        return ticks

    # A poll done on the loop itself would finish before the loop could tick again.
    assert run_async(poll_and_tick()) > 10


def test_configs_no_poll_could_run_with_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bad regex"):
        LogfileProbeConfig(str(tmp_path / "a"), "(")
    with pytest.raises(ValueError, match="newline"):
        LogfileProbeConfig(str(tmp_path / "a"), "x", encoding="utf-16")
    with pytest.raises(ValueError, match="unknown encoding"):
        LogfileProbeConfig(str(tmp_path / "a"), "x", encoding="no-such-codec")
    with pytest.raises(ValueError, match="read_cap_bytes"):
        LogfileProbeConfig(str(tmp_path / "a"), "x", read_cap_bytes=10)
