"""One engine per store: an advisory lock on a file beside the store.

``fcntl.flock`` locks belong to the open file description, so the kernel releases them when
the process dies, however it dies: a crashed engine never leaves a stale lock behind. The
file also names the holder (pid, host, start time) for the refusal message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core.clock import Clock, isoformat
from console.store.errors import StoreRefused


class EngineLocked(StoreRefused):
    """Another engine already runs on this store."""


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the engine lock."""

    pid: int
    host: str
    since: str


def lock_path(store_path: Path) -> Path:
    """The lock file of a store."""
    return store_path.with_name(store_path.name + ".engine.lock")


class EngineLock:
    """Hold with ``acquire``; released by ``release`` or when the process ends."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self.path = lock_path(store_path)
        self._fd: int | None = None

    def acquire(self, clock: Clock) -> None:
        """Take the lock or raise EngineLocked naming the engine that has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_exclusive(fd):
            os.close(fd)
            holder = read_holder(self.store_path)
            who = f"pid {holder.pid} on {holder.host} since {holder.since}" if holder else "?"
            raise EngineLocked(
                self.store_path, f"an engine is already running on it ({who}); stop it first"
            ) from None
        record = {"pid": os.getpid(), "host": socket.gethostname(), "since": isoformat(clock.now())}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(record).encode())
        self._fd = fd

    def release(self) -> None:
        """Give the lock up."""
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EngineLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_exclusive(fd: int) -> bool:
    # engine_running() holds a shared lock for an instant; a few quick retries keep that
    # instant from being mistaken for a running engine.
    for attempt in range(5):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            time.sleep(0.02 * (attempt + 1))
            continue
        return True
    return False


def engine_running(store_path: Path) -> bool:
    """Whether some process holds the engine lock of this store right now."""
    path = lock_path(store_path)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_holder(store_path: Path) -> Holder | None:
    """The holder recorded in the lock file, if it says."""
    try:
        data: Any = json.loads(lock_path(store_path).read_text() or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return Holder(int(data.get("pid", 0)), str(data.get("host", "?")), str(data.get("since", "?")))
