"""What every command receives: the parsed options and a lazily opened store.

With ``--demo`` the store is filled on first use: the demo estate, seven days of history for
its endpoints from the simulated estate's model (topped up on later runs), and, once per store,
the state changes of its last hours judged from that model, so the wall and the monitoring view
open on the scenario's trouble (see console.engine.replay). The demo
endpoints are aimed at this invocation's simulator when it runs one and no engine already
monitors the store; otherwise they keep the targets they have, so that a running engine's
endpoints are never pointed away from its own simulator.

A desktop window does not wait for the history: it asks for the demo estate alone
(``store(history=False)``), shows itself, and its engine host writes the history and the replay
on its own thread (console.ui.engine_host) before its engine starts.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from console.config.demo import demo_estate
from console.core.models import Estate
from console.store import estate
from console.store.db import Store
from console.store.entities import import_estate
from console.store.lock import engine_running
from console.store.paths import default_store_path

if TYPE_CHECKING:
    from console.engine.backfill import HistoryReport


@dataclass
class Context:
    """Options shared by every subcommand, and the store once a command asks for it."""

    args: argparse.Namespace
    _store: Store | None = None
    _temp_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    #: With --demo: the running simulated estate's base URL, set before the store is opened
    #: so the demo endpoints point at it.
    simulator_url: str | None = None
    #: With --demo: what filling in the demo's history did (once the store is open; None when
    #: the store was opened without it).
    history: HistoryReport | None = None
    #: When this process started (``time.perf_counter``), for the startup probe; None if unknown.
    started_at: float | None = None

    @property
    def as_json(self) -> bool:
        """Whether data should be printed as JSON."""
        return bool(self.args.json)

    def store_path(self) -> Path:
        """The store this invocation uses: --db, a temporary demo store, or the default."""
        if self.args.db is not None:
            return Path(self.args.db).expanduser()
        if self.args.demo:
            if self._temp_dir is None:
                self._temp_dir = Path(tempfile.mkdtemp(prefix="oncall-console-demo-"))
            return self._temp_dir / "demo.db"
        return default_store_path()

    def store(self, *, history: bool = True) -> Store:
        """Open the store (and load the demo into it with --demo) on first use.

        Args:
            history: With --demo, also write the demo's history and judge its recent past
                (seconds); False imports the demo estate alone (tens of milliseconds) and leaves
                the history to whoever opens the store next (the desktop window's engine host).
                Only the first call opens the store, so only its choice counts.
        """
        if self._store is None:
            store = Store.open(self.store_path())
            try:
                store.act_as(self.args.as_email)
                if self.args.demo and history:
                    self.history = load_demo(store, self.simulator_url)
                elif self.args.demo:
                    import_demo_estate(store)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    def release_store(self) -> None:
        """Close this invocation's connection (the GUI opens its own); keep the file."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def close(self) -> None:
        """Close the store and remove a temporary demo store."""
        self.release_store()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None


def load_demo(store: Store, simulator_url: str | None = None) -> HistoryReport:
    """Import the demo estate, give its endpoints a week of history and judge its recent past.

    The first fill anchors the store's scenario (console.simulator.scenario) at the store's
    clock; the replay of recent states runs once per store, and not while an engine monitors it.

    Args:
        store: The store to fill.
        simulator_url: A simulated estate this process runs: the demo endpoints are aimed at
            it, unless an engine already monitors the store (its endpoints keep their targets).

    Returns:
        What filling in the history did.
    """
    # Imported here: the simulator's model and numpy cost half a second that other commands
    # need not pay.
    from console.engine.backfill import demo_history, import_demo
    from console.engine.replay import replay_states

    running = engine_running(store.path)
    declared = import_demo(store, None if running else simulator_url)
    history = demo_history(store, declared.endpoints)
    if not running:
        # An engine already monitoring the store records real state changes: none made up.
        replay_states(store, list(declared.endpoints), now=history.end)
        from console.engine.demo_escalation import escalate_demo

        escalate_demo(store)  # the replayed incidents' pages, sent to the simulated pager
    return history


def import_demo_estate(store: Store) -> Estate:
    """Import the demo estate, keeping the targets the store has for its endpoints.

    What ``console.engine.backfill.import_demo(store, None)`` does, without importing the engine
    (the simulator, the probes, aiohttp: half a second that a window would wait for). A
    test holds the two together.

    Returns:
        The estate as declared (its endpoints with their stored targets).
    """
    declared = demo_estate(simulator=None)
    stored = {e.key: e.target for e in estate.endpoints(store.read())}
    endpoints = tuple(
        replace(e, target=stored[e.key]) if e.key in stored else e for e in declared.endpoints
    )
    declared = replace(declared, endpoints=endpoints)
    import_estate(store, declared, prune=False, source="demo")
    return declared
