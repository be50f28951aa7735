"""One engine per store: the lock refuses a second holder and dies with its process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.store.lock import EngineLock, EngineLocked, engine_running, read_holder

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from console.core.clock import SystemClock
    from console.store.lock import EngineLock
    lock = EngineLock(Path(sys.argv[1]))
    lock.acquire(SystemClock())
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_a_second_holder_is_refused_with_the_first_ones_pid(store_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(store_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        assert engine_running(store_path)
        holder = read_holder(store_path)
        assert holder is not None and holder.pid == child.pid
        with pytest.raises(EngineLocked, match=f"pid {child.pid}"):
            EngineLock(store_path).acquire(FakeClock())
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()
    # the kernel released the dead process's lock: no stale lock to clean up by hand
    assert not engine_running(store_path)
    with EngineLock(store_path) as lock:
        lock.acquire(FakeClock())
        assert engine_running(store_path)
    assert not engine_running(store_path)


def test_no_lock_file_means_no_engine(store_path: Path) -> None:
    assert not engine_running(store_path)
    assert read_holder(store_path) is None
