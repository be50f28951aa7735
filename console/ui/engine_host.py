"""The monitoring engine inside the app: a background thread with its own asyncio loop.

The app runs an engine of its own only when no other process monitors the store; when a
headless ``oncall-console engine`` holds the store's lock, the app uses that one and starts
none. The engine lives on a plain Python thread, not a QThread: PySide gives a QThread a fresh
Python thread state on every call into Python, which empties ``threading.local`` and would give
``Store.read()`` a new connection each time (see console.ui.tasks). Nothing here touches a
widget or blocks the UI thread: ``start`` returns at once (the lock is taken on the engine's
thread) and the status bar learns where the engine stands from :func:`read_status`, which the
store worker runs every few seconds.

With ``fill_history`` a demo window opens at once on a store holding the demo estate alone: the
host writes the demo's week of history and judges its recent past on its own thread, then starts
the engine (whose simulator continues the scenario that history anchored). The engine's modules
(the probes, aiohttp, the simulator, the keyring) are imported when first needed, on that thread
or the store worker, so importing this module costs a window nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

from console.core.clock import Clock, parse_iso
from console.core.units import format_duration
from console.store.db import Store
from console.store.lock import EngineLock, EngineLocked, Holder, engine_running, read_holder

if TYPE_CHECKING:
    from console.engine.dispatch import SecretSource
    from console.engine.incidents import OutcomeHook
    from console.simulator.server import RunningSimulator

#: The engine's young-generation threshold inside the app. The headless engine's (100,000)
#: would apply to the whole process, UI included; 10,000 keeps each young collection small
#: while still sparing a few hundred endpoints' in-flight checks promotion. On a quiet machine
#: the UI benchmark met its stall target with either value (longest tick 25 ms here, 29 ms
#: with 100,000): the choice is for smaller pauses, not a measured win.
IN_APP_GC_YOUNG = 10_000

log = logging.getLogger(__name__)
#: The startup probe's logger (console.ui.startup): when the demo's history has been written.
startup_log = logging.getLogger("console.startup")

#: How long closing the app waits for its engine to stop.
STOP_TIMEOUT_S = 10.0
#: How long closing the app waits, before that, for the demo's history to be written: the
#: writing cannot be interrupted (a few seconds; more on a busy machine), and the store must
#: not be closed under it.
FILL_WAIT_S = 60.0
#: How often a deferred host tries to take the engine lock over.
TAKEOVER_EVERY_S = 2.0
#: The status bar's words while the demo's history is written.
LOADING_TEXT = "Loading demo history…"


class Receiver(Enum):
    """The engine's own receiver port (console.engine.receiver), read when the engine starts."""

    DEFAULT_PORT = "default"


class HostState(Enum):
    """Where this process's own engine stands."""

    NOT_STARTED = "not_started"
    #: Writing the demo's history (``fill_history``) before the engine starts.
    LOADING = "loading"
    STARTING = "starting"
    RUNNING = "running"
    #: Another process's engine holds the store: the app uses it and runs none.
    DEFERRED = "deferred"
    STOPPED = "stopped"
    FAILED = "failed"


class EngineHost:
    """Runs one Engine on a background thread of the app, with its own asyncio loop.

    Args:
        store: The app's store (shared: one writer per process); stop the host before closing it.
        demo: Also serve the simulated estate on loopback and aim the demo endpoints at it
            (only once this process holds the engine lock: another engine keeps its own).
        fill_history: First write the demo's history and judge its recent past, as
            console.cli.context.load_demo does for a command (the store must hold the demo
            estate). The replay is skipped when another process's engine monitors the store.
        receiver_port: The receiver's port (0: any free one, None: no receiver; by default
            the engine's usual one). When the port is taken the engine runs without a receiver
            and :attr:`note` says so.
        secrets: Makes the credential source (the OS keyring by default), on the engine thread.
    """

    def __init__(
        self,
        store: Store,
        *,
        demo: bool = False,
        fill_history: bool = False,
        receiver_port: int | None | Literal[Receiver.DEFAULT_PORT] = Receiver.DEFAULT_PORT,
        secrets: Callable[[], SecretSource | None] | None = None,
    ) -> None:
        self._store = store
        self._demo = demo
        self._fill_history = fill_history
        self._receiver_port = receiver_port
        self._secrets = secrets
        self._guard = threading.Lock()
        self._stop_asked = False
        self._filled = threading.Event()
        if not fill_history:
            self._filled.set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self.state = HostState.NOT_STARTED
        #: Why the engine failed, or what it runs without (a taken receiver port).
        self.note: str | None = None
        #: The running engine's receiver, and the simulated estate it watches (with ``demo``).
        self.receiver_url: str | None = None
        self.simulator_url: str | None = None
        #: Called on the engine's writer thread for each incident outcome that should notify
        #: (``Engine(on_incident=)``); set it before :meth:`start`.
        self.on_incident: OutcomeHook | None = None
        #: Called on the host's thread once the demo's history is written (``fill_history``);
        #: set it before :meth:`start`.
        self.on_loaded: Callable[[], None] | None = None

    @property
    def clock(self) -> Clock:
        """The store's clock, which the engine runs on."""
        return self._store.clock

    @property
    def alive(self) -> bool:
        """Whether the engine thread is still running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the engine thread (returns at once; see :attr:`state`)."""
        if self._thread is not None:
            raise RuntimeError("an engine host starts once")
        self.state = HostState.LOADING if self._fill_history else HostState.STARTING
        self._thread = threading.Thread(target=self._main, name="engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Ask the engine to stop and wait for it; False if it is still running after timeout."""
        with self._guard:
            self._stop_asked = True
            loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to stop
                loop.call_soon_threadsafe(stop.set)
        if self._thread is None:
            return True
        if not self._filled.wait(FILL_WAIT_S):
            log.warning("the demo's history was still being written after %.0f s", FILL_WAIT_S)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the engine did not stop within %.0f s", timeout)
            return False
        return True

    # -- the engine thread -------------------------------------------------------------------

    def _main(self) -> None:
        try:
            if self._fill_history:
                self._fill_demo()
            if self._stopping():
                self.state = HostState.STOPPED
                return
            asyncio.run(self._serve())
        except Exception as exc:  # a bug: keep the app running and say so in the status bar
            log.exception("the engine failed")
            self.note = f"the engine failed: {exc}"
            self.state = HostState.FAILED

    def _fill_demo(self) -> None:
        # Before the engine lock is taken: the replay must not mistake this host for an engine.
        began = time.perf_counter()
        try:
            if self._stopping():
                return
            fill_demo(self._store, stop=self._stopping)
            startup_log.info(
                "demo history written in %.0f ms", (time.perf_counter() - began) * 1000
            )
        except Exception as exc:  # a bug: monitoring still works without the history
            log.exception("the demo's history could not be written")
            self.note = f"the demo's history could not be written: {exc}"
        finally:
            self.state = HostState.STARTING
            self._filled.set()
            if self.on_loaded is not None:
                self.on_loaded()

    def _stopping(self) -> bool:
        with self._guard:
            return self._stop_asked

    async def _serve(self) -> None:
        stop = asyncio.Event()
        with self._guard:
            self._loop, self._stop = asyncio.get_running_loop(), stop
            if self._stop_asked:
                stop.set()
        lock = EngineLock(self._store.path)
        while True:
            try:
                lock.acquire(self.clock)
                break
            except EngineLocked:
                # Another process's engine monitors this store. Should it stop (a headless
                # engine restarted, a second window closed), this one takes over: the wall
                # must not go dark because another program went away.
                self.state = HostState.DEFERRED
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), TAKEOVER_EVERY_S)
                if stop.is_set():
                    self.state = HostState.STOPPED
                    return
        self.state = HostState.STARTING
        try:
            await self._run_locked(stop)
        finally:
            lock.release()
            if self.state is not HostState.FAILED:
                self.state = HostState.STOPPED

    async def _run_locked(self, stop: asyncio.Event) -> None:
        from console.engine.backfill import demo_model, import_demo
        from console.secrets import SecretStore, install_log_redaction
        from console.simulator.server import start as start_simulator

        simulator: RunningSimulator | None = None
        try:
            if self._demo and not stop.is_set():
                # The store's own estate: its scenario continues live where its history ends.
                simulator = await start_simulator(port=0, model=demo_model(self._store))
                self.simulator_url = simulator.url
                import_demo(self._store, simulator.url)  # nothing polls it before this is done
            if not stop.is_set():
                install_log_redaction()
                secrets = (self._secrets or SecretStore)()
                await self._run_engine(stop, secrets, self._port())
        finally:
            if simulator is not None:
                await simulator.stop()

    def _port(self) -> int | None:
        if self._receiver_port is Receiver.DEFAULT_PORT:
            from console.engine.receiver import DEFAULT_RECEIVER_PORT

            return DEFAULT_RECEIVER_PORT
        return self._receiver_port

    async def _run_engine(
        self, stop: asyncio.Event, secrets: SecretSource | None, port: int | None
    ) -> None:
        from console.engine.runtime import Engine

        # The host holds the lock (taken before the demo is aimed at this process's simulator).
        engine = Engine(
            self._store,
            self.clock,
            secrets=secrets,
            receiver_port=port,
            lock=False,
            on_incident=self.on_incident,
            gc_young=IN_APP_GC_YOUNG,
        )
        running = asyncio.create_task(engine.run(stop))
        ready = asyncio.create_task(engine.ready.wait())
        await asyncio.wait({running, ready}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if engine.ready.is_set():
            self.receiver_url = engine.receiver_url
            self.state = HostState.RUNNING
        try:
            await running
        except OSError as exc:
            if port is None or engine.ready.is_set():
                raise
            # Another program has the receiver's port: monitor anyway, without heartbeats.
            self.note = f"no receiver: port {port} is taken ({exc.strerror or exc})"
            log.warning("the engine runs without its receiver: %s", self.note)
            await self._run_engine(stop, secrets, None)
        finally:
            self.receiver_url = None


def fill_demo(store: Store, *, stop: Callable[[], bool] = lambda: False) -> None:
    """Write the demo's history and judge its recent past, on a store holding the demo estate.

    What console.cli.context.load_demo does after importing the estate: a week of history for
    the demo endpoints, then (once per store, and not while another process's engine monitors
    it) the replay of their last hours, which also opens the scenario's incidents, and the
    catch-up of their escalations (``console.engine.demo_escalation``).

    Args:
        store: The store, already holding the demo estate.
        stop: Asked before the replay: True skips it (the app is closing; the next fill does it).
    """
    from console.config.demo import demo_estate
    from console.engine.backfill import demo_history
    from console.engine.replay import replay_states
    from console.store import estate

    running = engine_running(store.path)
    stored = {e.key: e for e in estate.endpoints(store.read())}
    # In the demo's own order, as load_demo has them: the replay numbers incidents in it.
    endpoints = [stored[e.key] for e in demo_estate().endpoints if e.key in stored]
    history = demo_history(store, endpoints)
    if not running and not stop():
        replay_states(store, endpoints, now=history.end)
        if not stop():
            from console.engine.demo_escalation import escalate_demo

            escalate_demo(store)


# -- where the engine stands -----------------------------------------------------------------


class EngineState(Enum):
    """Where the store's engine stands, as the status bar says it."""

    HERE = "here"
    #: Starting, or (with ``EngineStatus.loading``) writing the demo's history first.
    STARTING = "starting"
    ELSEWHERE = "elsewhere"
    NOT_RESPONDING = "not_responding"
    STOPPED = "stopped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Beat:
    """The engine heartbeat setting: who wrote it, when, and what it said."""

    pid: int | None
    host: str | None
    at: datetime | None
    state: str | None
    receiver: str | None


def parse_beat(raw: str | None) -> Beat | None:
    """The heartbeat setting's JSON (None when missing or unreadable)."""
    if raw is None:
        return None
    try:
        data: Any = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        at = parse_iso(str(data["beat"])) if data.get("beat") else None
    except ValueError:
        at = None
    pid = data.get("pid")
    return Beat(
        pid if isinstance(pid, int) else None,
        _text(data.get("host")),
        at,
        _text(data.get("state")),
        _text(data.get("receiver")),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class EngineStatus:
    """Where the store's engine stands, and the words for it.

    Attributes:
        state: Here, elsewhere, not responding, stopped...
        pid: The engine's process, when another one runs it.
        silent_s: Seconds since its last beat (for NOT_RESPONDING, and STOPPED if it beat once).
        detail: More words for the tooltip (a failure, a missing receiver, the receiver URL).
        loading: The engine waits for the demo's history to be written (state STARTING).
    """

    state: EngineState
    pid: int | None = None
    silent_s: float | None = None
    detail: str | None = None
    loading: bool = False

    @property
    def text(self) -> str:
        """The status bar's words."""
        if self.loading:
            return LOADING_TEXT
        if self.state is EngineState.HERE:
            return "Engine: running here"
        if self.state is EngineState.STARTING:
            return "Engine: starting…"
        if self.state is EngineState.ELSEWHERE:
            return f"Engine: running (pid {self.pid})" if self.pid else "Engine: running"
        if self.state is EngineState.NOT_RESPONDING:
            if self.silent_s is None:
                return "Engine: not responding (no beat yet)"
            return f"Engine: not responding (last beat {format_duration(self.silent_s)} ago)"
        if self.state is EngineState.FAILED:
            return "Engine: failed"
        return "Engine: stopped"

    @property
    def tooltip(self) -> str:
        """A sentence or two more than :attr:`text`."""
        if self.loading:
            return (
                "The demo's week of history is being written; the monitoring engine starts "
                "inside this window when it is done."
            )
        base = {
            EngineState.HERE: "The monitoring engine runs inside this window.",
            EngineState.STARTING: "The monitoring engine is starting inside this window.",
            EngineState.ELSEWHERE: "Another process (oncall-console engine) monitors this store; "
            "this window uses it.",
            EngineState.NOT_RESPONDING: "Another process holds this store's engine lock but has "
            "stopped writing its heartbeat: it may be stuck.",
            EngineState.STOPPED: "No engine monitors this store: nothing is polled.",
            EngineState.FAILED: "The monitoring engine could not run in this window.",
        }[self.state]
        return f"{base} {self.detail}" if self.detail else base


def describe(
    host_state: HostState | None,
    note: str | None,
    running: bool,
    holder: Holder | None,
    beat: Beat | None,
    now: datetime,
) -> EngineStatus:
    """Where the engine stands, from what this process knows and what the store says.

    Args:
        host_state: This process's own engine host, if it has one.
        note: The host's note (a failure, a missing receiver).
        running: Whether some process holds the store's engine lock.
        holder: Who the lock file says holds it.
        beat: The engine heartbeat setting.
        now: The current time.
    """
    if host_state is HostState.RUNNING:
        receiver = _receiver(beat) if beat is not None and beat.pid == os.getpid() else None
        return EngineStatus(EngineState.HERE, os.getpid(), detail=note or receiver)
    if host_state is HostState.LOADING:
        return EngineStatus(EngineState.STARTING, detail=note, loading=True)
    if host_state is HostState.STARTING:
        return EngineStatus(EngineState.STARTING, detail=note)
    if host_state is HostState.FAILED:
        return EngineStatus(EngineState.FAILED, detail=note)
    silent = None if beat is None or beat.at is None else max(0.0, (now - beat.at).total_seconds())
    if not running:
        detail = None
        if silent is not None:
            how = "stopped" if beat is not None and beat.state == "stopped" else "last beat"
            detail = f"Its engine {how} {format_duration(silent)} ago."
        return EngineStatus(EngineState.STOPPED, silent_s=silent, detail=detail)
    pid = holder.pid if holder is not None and holder.pid else None
    if beat is not None and beat.pid == pid and silent is not None:
        if silent > silent_after_s():
            return EngineStatus(EngineState.NOT_RESPONDING, pid, silent)
        return EngineStatus(EngineState.ELSEWHERE, pid, silent, _receiver(beat))
    # The holder has not beaten yet: starting, unless it has held the lock for too long.
    since = _since(holder)
    if since is not None and (now - since).total_seconds() > silent_after_s():
        return EngineStatus(EngineState.NOT_RESPONDING, pid)
    return EngineStatus(EngineState.ELSEWHERE, pid)


def silent_after_s() -> float:
    """A running engine whose last beat is older than this is not responding (three missed)."""
    from console.engine.runtime import HEARTBEAT_EVERY_S

    return 3 * HEARTBEAT_EVERY_S


def _receiver(beat: Beat) -> str | None:
    return f"Its receiver: {beat.receiver}." if beat.receiver else None


def _since(holder: Holder | None) -> datetime | None:
    if holder is None:
        return None
    try:
        return parse_iso(holder.since)
    except ValueError:
        return None


def read_status(store: Store, host: EngineHost | None) -> EngineStatus:
    """Where the store's engine stands (reads the store and the lock: run it on the worker)."""
    from console.engine.runtime import HEARTBEAT_SETTING

    running = engine_running(store.path)
    return describe(
        None if host is None else host.state,
        None if host is None else host.note,
        running,
        read_holder(store.path) if running else None,
        parse_beat(store.setting(HEARTBEAT_SETTING)),
        store.clock.now(),
    )
