"""Why a store cannot be used; each maps to exit code 3 (refused) or 2 (conflict)."""

from __future__ import annotations

from pathlib import Path

from console.core.errors import ConsoleError


class StoreError(ConsoleError):
    """Something about the store the user must act on."""


class StoreRefused(StoreError):
    """The file cannot be opened as this console's store; it was left untouched."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"store {path}: {reason}")


class NewerSchema(StoreRefused):
    """The store was written by a newer oncall-console."""


class NotAStore(StoreRefused):
    """The file is not SQLite, or is SQLite but not an oncall-console store."""


class CorruptStore(StoreRefused):
    """SQLite could not read the file's structure."""


class ReadOnlyLocation(StoreRefused):
    """The file or its folder cannot be written."""


class StoreConflict(StoreError):
    """A write that would break the store's consistency (a reference still in use...)."""
