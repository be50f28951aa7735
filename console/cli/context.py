"""What every command receives: the parsed options and a lazily opened store."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from console.config.demo import demo_estate
from console.store.db import Store
from console.store.entities import import_estate
from console.store.paths import default_store_path


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

    def store(self) -> Store:
        """Open the store (and load the demo into it with --demo) on first use."""
        if self._store is None:
            store = Store.open(self.store_path())
            store.act_as(self.args.as_email)
            if self.args.demo:
                import_estate(
                    store, demo_estate(simulator=self.simulator_url), prune=False, source="demo"
                )
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
