"""Where the store lives by default: the same place for the GUI, the CLI and the engine."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "oncall-console"
STORE_FILENAME = "store.db"


def default_store_path() -> Path:
    """The per-user data location (``$XDG_DATA_HOME/oncall-console/store.db`` on Linux)."""
    return user_data_path(APP_NAME, appauthor=False) / STORE_FILENAME
