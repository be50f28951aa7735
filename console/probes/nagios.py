"""The nagios probe: run a monitoring plugin (an argument list, never a shell) and read it.

The exit code gives the state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; anything else is
UNKNOWN), the output gives the reason and the perfdata metrics. Outcomes: OK and WARNING are UP
(the target answers; the ``state`` metric carries the warning), CRITICAL is DOWN, UNKNOWN and
every failure to run the plugin are UNKNOWN. A plugin that overruns its timeout is killed with
its whole process group, so helpers it started (``sleep``, ``ssh``) die with it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from console.core.clock import Clock
from console.core.perfdata import PluginState, parse_output
from console.probes.base import ProbeOutcome, ProbeResult, Stopwatch, seconds_text

KIB = 1024
_STDERR_CAP = 4 * KIB
_REAP_GRACE_S = 1.0
_REASON_CHARS = 300
_OUTCOMES = {
    PluginState.OK: ProbeOutcome.UP,
    PluginState.WARNING: ProbeOutcome.UP,
    PluginState.CRITICAL: ProbeOutcome.DOWN,
    PluginState.UNKNOWN: ProbeOutcome.UNKNOWN,
}


@dataclass(frozen=True, slots=True, repr=False)
class NagiosProbeConfig:
    """One plugin run.

    Attributes:
        command: The plugin's path and arguments (run directly, no shell).
        timeout_s: After this the plugin and its process group are killed.
        env: Variables added to the console's environment (which also gets ``LC_ALL=C`` so
            that numbers in perfdata use a decimal point).
        output_cap_bytes: Output kept; the rest is read and dropped so the plugin never blocks.
    """

    command: Sequence[str]
    timeout_s: float = 10.0
    env: Mapping[str, str] = field(default_factory=dict)
    output_cap_bytes: int = 64 * KIB

    def __post_init__(self) -> None:
        if not self.command or not self.command[0]:
            raise ValueError("command needs at least the plugin's path")
        if self.timeout_s <= 0 or self.output_cap_bytes <= 0:
            raise ValueError("timeout_s and output_cap_bytes must be positive")
        object.__setattr__(self, "command", tuple(self.command))
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))

    @property
    def program(self) -> str:
        """The plugin's path as given."""
        return self.command[0]

    def __repr__(self) -> str:
        # Arguments and environment may carry resolved secrets (passwords, community strings).
        return (
            f"NagiosProbeConfig(program={self.program!r}, args={len(self.command) - 1}, "
            f"timeout_s={self.timeout_s})"
        )


@dataclass(frozen=True, slots=True)
class _Run:
    """A finished plugin run: exit code and (capped) output."""

    code: int
    stdout: bytes
    stdout_size: int
    stderr: bytes


async def probe_nagios(config: NagiosProbeConfig, clock: Clock) -> ProbeResult:
    """Run the plugin once and turn its exit code and output into a result.

    Returns:
        Metrics from the perfdata (label -> value) plus ``state`` (0 to 3). A missing or
        non-executable plugin, a timeout, a signal or an exit code above 3 is UNKNOWN with
        the reason; garbage output still yields the exit code's state, with a note.
    """
    watch = Stopwatch(clock)
    env = {**os.environ, "LC_ALL": "C", **config.env}
    try:
        process = await asyncio.create_subprocess_exec(
            *config.command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, so a timeout can kill it all
        )
    except FileNotFoundError:
        return _unknown(watch, f"plugin not found: {config.program}")
    except PermissionError:
        return _unknown(watch, f"plugin not executable: {config.program}")
    except OSError as exc:
        return _unknown(watch, f"plugin could not start: {config.program}: {exc.strerror}")
    run: _Run | None = None
    try:
        async with asyncio.timeout(config.timeout_s):
            run = await _collect(process, config.output_cap_bytes)
    except TimeoutError:
        pass
    finally:
        if run is None:  # timed out or cancelled: nothing the plugin started may outlive the check
            await _kill_group(process)
    if run is None:
        return _unknown(watch, f"plugin timed out after {seconds_text(config.timeout_s)}")
    return _interpret(config, run, watch)


async def _collect(process: asyncio.subprocess.Process, cap: int) -> _Run:
    assert process.stdout is not None and process.stderr is not None
    (stdout, size), (stderr, _), code = await asyncio.gather(
        _read_capped(process.stdout, cap),
        _read_capped(process.stderr, _STDERR_CAP),
        process.wait(),
    )
    return _Run(code, stdout, size, stderr)


async def _read_capped(stream: asyncio.StreamReader, cap: int) -> tuple[bytes, int]:
    """Read to the end, keeping the first cap bytes; returns them and the total size."""
    kept = bytearray()
    total = 0
    while chunk := await stream.read(64 * KIB):
        total += len(chunk)
        if len(kept) < cap:
            kept += chunk[: cap - len(kept)]
    return bytes(kept), total


async def _kill_group(process: asyncio.subprocess.Process) -> None:
    """Kill the plugin's process group, even if the plugin itself has exited, and reap it."""
    # The group id is the plugin's pid (start_new_session); the group may already be gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    # Python 3.11's wait() also waits for the pipes to close; a descendant that left the group
    # (setsid) could hold them open, so the wait is bounded.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_REAP_GRACE_S):
            await process.wait()


def _interpret(config: NagiosProbeConfig, run: _Run, watch: Stopwatch) -> ProbeResult:
    text, garbled, notes = _decode(run, config.output_cap_bytes)
    parsed = parse_output(text)
    state, failure = _state(config, run, parsed.text)
    metrics = {item.label: item.value for item in parsed.perfdata if item.value is not None}
    if "state" in metrics:
        notes.append("perfdata label 'state' is shadowed by the plugin state")
    metrics["state"] = float(state)
    details = {"exit_code": str(run.code), "state": state.name}
    if parsed.long_text:
        details["long_output"] = "\n".join(parsed.long_text)
    if parsed.problems:
        details["perfdata_problems"] = "; ".join(str(p) for p in parsed.problems)
    stderr = _printable(run.stderr.decode("utf-8", errors="replace"), _REASON_CHARS)
    if stderr:
        details["stderr"] = stderr
    reason = failure or _reason(state, run.code, parsed.text, garbled)
    if notes:
        details["note"] = "; ".join(notes)
    return watch.result(_OUTCOMES[state], reason, metrics, details)


def _state(config: NagiosProbeConfig, run: _Run, text: str) -> tuple[PluginState, str | None]:
    """The plugin state, and a reason that replaces the plugin's text when it failed to run."""
    code = run.code
    if 0 <= code <= 3:
        return PluginState(code), None
    said = _printable(text or run.stderr.decode("utf-8", errors="replace"), _REASON_CHARS)
    suffix = f": {said}" if said else ""
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return PluginState.UNKNOWN, f"plugin killed by signal {name}{suffix}"
    if code == 127:
        return PluginState.UNKNOWN, f"plugin not found: {config.program} (exit 127){suffix}"
    if code == 126:
        return PluginState.UNKNOWN, f"plugin not executable: {config.program} (exit 126){suffix}"
    return PluginState.UNKNOWN, f"plugin exited with code {code}, not a plugin state{suffix}"


def _reason(state: PluginState, code: int, text: str, garbled: bool) -> str:
    """The plugin's own status text, unless it printed none or printed garbage."""
    shown = _printable(text, _REASON_CHARS)
    if not shown:
        return f"{state.name} (exit {code}) without any status text"
    if garbled or any(not c.isprintable() for c in text):
        return f"{state.name} (exit {code}); output not understood: {shown[:80]}"
    return shown


def _decode(run: _Run, cap: int) -> tuple[str, bool, list[str]]:
    """The output as text, whether it was not UTF-8, and notes on anything odd about it."""
    notes: list[str] = []
    truncated = run.stdout_size > len(run.stdout)
    if truncated:
        notes.append(f"output truncated to {cap} of {run.stdout_size} bytes")
    if not run.stdout:
        notes.append("the plugin printed nothing")
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        # A cut in the middle of a character is the cap's doing, not the plugin's.
        return decoder.decode(run.stdout, final=not truncated), False, notes
    except UnicodeDecodeError:
        notes.append("output is not UTF-8 text")
        return run.stdout.decode("utf-8", errors="replace"), True, notes


def _printable(text: str, limit: int) -> str:
    """Text fit for a one-line reason: control characters replaced, length capped."""
    cleaned = "".join(c if c.isprintable() else " " if c.isspace() else "?" for c in text.strip())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def _unknown(watch: Stopwatch, reason: str) -> ProbeResult:
    metrics = {"state": float(PluginState.UNKNOWN)}
    return watch.result(ProbeOutcome.UNKNOWN, reason, metrics, {"state": "UNKNOWN"})
