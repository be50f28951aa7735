"""pytest plugin: real desktop services on private D-Bus session buses (Secret Service, later more).

Every bus here is private: its own ``dbus-daemon`` with a configuration that activates
nothing (so a missing service stays missing instead of being started by the system's service
files), its socket in a fresh temporary folder, and HOME / XDG folders of its own, so the
developer's real keyring and notification server are never touched.

Fixtures:

- ``session_bus`` (session scope): a bare private bus that later tests may add services to.
- ``bare_bus``: a fresh bus with nothing on it, for "no Secret Service here" cases.
- ``secret_service`` (session scope): gnome-keyring's Secret Service on a bus of its own,
  its login keyring unlocked with a throwaway password.
- ``fresh_secret_service``: the same, started for one test (for tests that kill it).
- ``secret_env`` / ``bare_env``: point this process's environment at one of them
  (``os.environ`` is what keyring and jeepney read when they connect).

Helpers (``start_session_bus``, ``start_secret_service``) are context managers that later
fixtures can reuse, e.g. to start a notification server on ``session_bus``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jeepney import DBusAddress, MatchRule, message_bus, new_method_call
from jeepney.io.blocking import Proxy, open_dbus_connection

SECRETS_NAME = "org.freedesktop.secrets"
START_TIMEOUT = 15.0
# Variables a service or client might read to find the user's real session; never inherited.
_SESSION_VARS = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
    "GNOME_KEYRING_CONTROL",
    "SSH_AUTH_SOCK",
    "PYTHON_KEYRING_BACKEND",
)
_XDG_DIRS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")

_BUS_CONFIG = """\
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={socket_dir}</listen>
  <auth>EXTERNAL</auth>
{service_dirs}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class ServiceFailed(RuntimeError):
    """A test service did not start; the message carries what it printed."""


@dataclass(frozen=True)
class SessionBus:
    """A running private session bus and the environment that points at it.

    Attributes:
        address: The bus address (``unix:path=...``), as DBUS_SESSION_BUS_ADDRESS wants it.
        home: A private HOME; XDG_RUNTIME_DIR and the XDG base folders live under it.
        env: A complete environment for subprocesses: the current one, minus anything that
            leads to the real session, plus this bus and the private folders.
        pid: The dbus-daemon's process id.
    """

    address: str
    home: Path
    env: Mapping[str, str] = field(repr=False)
    pid: int

    def overrides(self) -> dict[str, str]:
        """The variables that differ from the current environment (for monkeypatch)."""
        return {k: v for k, v in self.env.items() if os.environ.get(k) != v}

    def has_owner(self, name: str) -> bool:
        """Whether some connection on this bus owns ``name`` right now."""
        with open_dbus_connection(self.address) as conn:
            reply = Proxy(message_bus, conn, timeout=5).NameHasOwner(name)
        return bool(reply[0])

    def names(self) -> list[str]:
        """Every name on the bus (unique ``:1.n`` names included)."""
        with open_dbus_connection(self.address) as conn:
            reply = Proxy(message_bus, conn, timeout=5).ListNames()
        return list(reply[0])

    def wait_for_name(self, name: str, proc: subprocess.Popen[bytes], what: str) -> None:
        """Block until ``name`` has an owner; fail early if ``proc`` exits first."""
        self._wait(name, present=True, proc=proc, what=what)

    def wait_until_owned(self, name: str) -> None:
        """Block until some connection owns ``name``."""
        self._wait(name, present=True, proc=None, what=name)

    def wait_until_gone(self, name: str) -> None:
        """Block until nobody owns ``name`` (a service stopped or was killed)."""
        self._wait(name, present=False, proc=None, what=name)

    def _wait(
        self, name: str, *, present: bool, proc: subprocess.Popen[bytes] | None, what: str
    ) -> None:
        """Wait on the bus's NameOwnerChanged signal for ``name`` rather than polling with sleeps.

        The short receive timeout only bounds how late a dead ``proc`` is noticed.
        """
        rule = MatchRule(
            type="signal",
            sender=message_bus.bus_name,
            interface=message_bus.interface,
            member="NameOwnerChanged",
            path=message_bus.object_path,
        )
        rule.add_arg_condition(0, name)
        deadline = time.monotonic() + START_TIMEOUT
        with open_dbus_connection(self.address) as conn:
            bus = Proxy(message_bus, conn, timeout=5)
            bus.AddMatch(rule)
            with conn.filter(rule, bufsize=16) as queue:
                while bool(bus.NameHasOwner(name)[0]) != present:
                    if proc is not None and proc.poll() is not None:
                        raise ServiceFailed(f"{what} exited with {proc.returncode}")
                    if time.monotonic() > deadline:
                        state = "take" if present else "release"
                        raise ServiceFailed(f"{what} did not {state} {name} on the bus in time")
                    with contextlib.suppress(TimeoutError):
                        conn.recv_until_filtered(queue, timeout=0.5)


def private_env(home: Path, bus_address: str | None) -> dict[str, str]:
    """The current environment with HOME, XDG folders and the session bus made private."""
    env = {k: v for k, v in os.environ.items() if k not in _SESSION_VARS}
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    env["HOME"] = str(home)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    for var in _XDG_DIRS:
        env[var] = str(home / var.lower())
    if bus_address is not None:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus_address
    return env


@contextlib.contextmanager
def start_session_bus(service_dirs: tuple[Path, ...] = ()) -> Iterator[SessionBus]:
    """Run a private ``dbus-daemon --session`` until the block ends.

    Args:
        service_dirs: Folders of ``.service`` files the bus may activate; none by default,
            so that nothing on the machine is started behind the test's back.
    """
    if shutil.which("dbus-daemon") is None:
        raise ServiceFailed("dbus-daemon is not installed (Debian package dbus-daemon)")
    # A short folder of its own under /tmp: a socket path must fit in 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="occ-bus-"))
    try:
        home = root / "home"
        home.mkdir(mode=0o700)
        config = root / "bus.conf"
        dirs = "\n".join(f"  <servicedir>{d}</servicedir>" for d in service_dirs)
        config.write_text(_BUS_CONFIG.format(socket_dir=root, service_dirs=dirs))
        proc = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=private_env(home, None),
        )
        try:
            # dbus-daemon prints its address once it listens: no polling needed.
            assert proc.stdout is not None
            address = proc.stdout.readline().decode().strip()
            if not address:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise ServiceFailed(f"dbus-daemon did not start: {err.strip()}")
            yield SessionBus(address, home, private_env(home, address), proc.pid)
        finally:
            _stop(proc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class SecretService:
    """gnome-keyring's Secret Service running on a private bus.

    Attributes:
        bus: The bus it serves (its ``env`` is what clients need).
        pid: The gnome-keyring-daemon's process id.
    """

    bus: SessionBus
    pid: int

    @property
    def env(self) -> Mapping[str, str]:
        """The environment for clients of this Secret Service."""
        return self.bus.env

    def keyring_files(self) -> list[Path]:
        """The files gnome-keyring keeps (to show that secrets went there and nowhere else)."""
        data = Path(self.bus.env["XDG_DATA_HOME"]) / "keyrings"
        return sorted(data.iterdir()) if data.is_dir() else []


@contextlib.contextmanager
def start_secret_service(bus: SessionBus, password: str = "test") -> Iterator[SecretService]:
    """Run ``gnome-keyring-daemon --components=secrets`` on ``bus`` until the block ends.

    ``--unlock`` reads the login keyring's password from stdin (creating the keyring on first
    use), so the default collection is unlocked and no prompt ever appears.
    """
    exe = shutil.which("gnome-keyring-daemon")
    if exe is None:
        raise ServiceFailed("gnome-keyring-daemon is not installed (Debian package gnome-keyring)")
    proc = subprocess.Popen(
        [exe, "--unlock", "--components=secrets", "--foreground"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(bus.env),
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write(password.encode())
        proc.stdin.close()
        try:
            bus.wait_for_name(SECRETS_NAME, proc, "gnome-keyring-daemon")
        except ServiceFailed as exc:
            _stop(proc)
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise ServiceFailed(f"{exc}: {err.strip()}") from None
        yield SecretService(bus, proc.pid)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a service we started, then reap it (kill if it ignores SIGTERM)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def call(
    bus: SessionBus, destination: str, path: str, interface: str, method: str
) -> tuple[object, ...]:
    """Call a method without arguments on ``bus`` and return the reply's body."""
    target = DBusAddress(path, bus_name=destination, interface=interface)
    with open_dbus_connection(bus.address) as conn:
        reply = conn.send_and_get_reply(new_method_call(target, method), timeout=5)
    return tuple(reply.body)


@pytest.fixture(scope="session")
def session_bus() -> Iterator[SessionBus]:
    """A private session bus shared by the whole run; nothing is on it to begin with."""
    with start_session_bus() as bus:
        yield bus


@pytest.fixture
def bare_bus() -> Iterator[SessionBus]:
    """A fresh private session bus with no services at all (no Secret Service)."""
    with start_session_bus() as bus:
        yield bus


@pytest.fixture(scope="session")
def secret_service() -> Iterator[SecretService]:
    """A real Secret Service (gnome-keyring) on a private bus, shared by the whole run.

    Tests that share it keep out of each other's way by using entry names of their own.
    """
    with start_session_bus() as bus, start_secret_service(bus) as service:
        yield service


@pytest.fixture
def fresh_secret_service() -> Iterator[SecretService]:
    """A Secret Service for one test only (for tests that stop it or need it empty)."""
    with start_session_bus() as bus, start_secret_service(bus) as service:
        yield service


@pytest.fixture
def secret_env(secret_service: SecretService, monkeypatch: pytest.MonkeyPatch) -> SecretService:
    """Point this process at the shared Secret Service for one test."""
    _apply(secret_service.bus, monkeypatch)
    return secret_service


@pytest.fixture
def bare_env(bare_bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> SessionBus:
    """Point this process at a bus with no Secret Service for one test."""
    _apply(bare_bus, monkeypatch)
    return bare_bus


def _apply(bus: SessionBus, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _SESSION_VARS:
        monkeypatch.delenv(var, raising=False)
    for key, value in bus.overrides().items():
        monkeypatch.setenv(key, value)
