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
- ``dunst`` / ``dunst_env``: the dunst notification server on a bus of its own, under the
  X display the test run provides (DISPLAY), with what it showed and offered kept for reading.
- ``plain_notifications``: a notification server without actions, this process pointed at it.
- ``sound_server`` (session scope): a private PulseAudio with a null sink; ``Recording`` runs
  ``parec`` on its monitor.

Helpers (``start_session_bus``, ``start_secret_service``) are context managers that later
fixtures can reuse, e.g. to start a notification server on ``session_bus``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from jeepney import (
    DBusAddress,
    HeaderFields,
    MatchRule,
    Message,
    MessageType,
    message_bus,
    new_error,
    new_method_call,
    new_method_return,
)
from jeepney.io.blocking import Proxy, open_dbus_connection
from jeepney.wrappers import unwrap_msg

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


# -- notification servers (desktop notifications) ------------------------------------------------

NOTIFICATIONS_NAME = "org.freedesktop.Notifications"
NOTIFICATIONS_PATH = "/org/freedesktop/Notifications"
DUNST_INTERFACE = "org.dunstproject.cmd0"

# dunst runs the rule's script for every notification it shows (updates in place included)
# with what it understood in DUNST_* variables; the script keeps them, one JSON line each.
_DUNST_RECORD = """\
#!{python}
import json, os
keep = {{k: v for k, v in os.environ.items() if k.startswith("DUNST_")}}
with open({shown!r}, "a", encoding="utf-8") as out:
    out.write(json.dumps(keep) + "\\n")
"""
# dunst's context menu pipes "#<label> (<summary>) [<id>,<key>]" lines into its dmenu
# command and invokes the action whose line comes back: this one keeps the menu it was
# offered and chooses the label written in the `choice` file, as a person would.
_DUNST_MENU = """\
#!/bin/sh
cat > {menu}.part
grep -m1 "^#$(cat {choice}) (" {menu}.part
mv {menu}.part {menu}
"""
_DUNSTRC = """\
[global]
    monitor = 0
    follow = none
    history_length = 50
    dmenu = {menu_script}
    show_indicators = no

[record]
    summary = "*"
    script = {record_script}
"""


@dataclass(frozen=True)
class Dunst:
    """dunst serving notifications on a private bus, with what it showed kept for the test.

    Attributes:
        bus: The bus it serves.
        pid: dunst's process id.
        folder: Its configuration, scripts and records.
    """

    bus: SessionBus
    pid: int
    folder: Path

    def shown(self) -> list[dict[str, str]]:
        """Every notification dunst has displayed (updates too), oldest first, as DUNST_* vars."""
        path = self.folder / "shown.jsonl"
        if not path.exists():
            return []
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def wait_shown(self, count: int, timeout: float = START_TIMEOUT) -> list[dict[str, str]]:
        """Block until dunst has displayed ``count`` notifications (its scripts run async)."""
        deadline = time.monotonic() + timeout
        while len(shown := self.shown()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"dunst showed {len(shown)} notifications, not {count}")
            time.sleep(0.02)
        return shown

    def count(self, which: str = "displayed") -> int:
        """How many notifications are ``displayed``, ``waiting`` or in the ``history``."""
        reply = self._call(
            "org.freedesktop.DBus.Properties", "Get", "ss", (DUNST_INTERFACE, f"{which}Length")
        )
        return int(reply[0][1])

    def history(self) -> list[dict[str, object]]:
        """The closed notifications dunst remembers, newest first (values unwrapped)."""
        reply = self._call(DUNST_INTERFACE, "NotificationListHistory", None, ())
        return [{k: v[1] for k, v in entry.items()} for entry in reply[0]]

    def choose(self, position: int = 0, label: str = "Acknowledge") -> str:
        """Open the action menu of the displayed notification at ``position``, pick ``label``.

        Returns:
            The menu dunst offered (one line per action of every displayed notification).
        """
        (self.folder / "choice").write_text(label, encoding="utf-8")
        menu = self.folder / "menu.txt"
        menu.unlink(missing_ok=True)
        self._call(DUNST_INTERFACE, "NotificationAction", "u", (position,))
        deadline = time.monotonic() + START_TIMEOUT
        while not menu.exists():  # the script renames it into place once complete
            if time.monotonic() > deadline:
                raise AssertionError("dunst did not open its action menu")
            time.sleep(0.02)
        return menu.read_text(encoding="utf-8")

    def close_last(self) -> None:
        """Close the newest notification as a user would (dunst reports it DISMISSED)."""
        self._call(DUNST_INTERFACE, "NotificationCloseLast", None, ())

    def _call(
        self, interface: str, method: str, signature: str | None, body: tuple[object, ...]
    ) -> tuple[object, ...]:
        target = DBusAddress(NOTIFICATIONS_PATH, bus_name=NOTIFICATIONS_NAME, interface=interface)
        with open_dbus_connection(self.bus.address) as conn:
            reply = conn.send_and_get_reply(
                new_method_call(target, method, signature, body), timeout=5
            )
        return tuple(unwrap_msg(reply))


@contextlib.contextmanager
def start_dunst(bus: SessionBus) -> Iterator[Dunst]:
    """Run dunst on ``bus`` under the X display the test run provides, until the block ends."""
    exe = shutil.which("dunst")
    if exe is None:
        raise ServiceFailed("dunst is not installed (Debian package dunst)")
    display = os.environ.get("DISPLAY")
    if not display:
        raise ServiceFailed(
            "dunst needs an X display and DISPLAY is not set: run the tests through "
            "packaging/test-suite.sh (it starts Xvfb), or start Xvfb and export DISPLAY"
        )
    folder = Path(tempfile.mkdtemp(prefix="occ-dunst-"))
    try:
        record, menu_script = folder / "record.py", folder / "menu.sh"
        record.write_text(
            _DUNST_RECORD.format(python=sys.executable, shown=str(folder / "shown.jsonl"))
        )
        menu_script.write_text(
            _DUNST_MENU.format(menu=folder / "menu.txt", choice=folder / "choice")
        )
        record.chmod(0o755)
        menu_script.chmod(0o755)
        config = folder / "dunstrc"
        config.write_text(_DUNSTRC.format(menu_script=menu_script, record_script=record))
        env = dict(bus.env) | {"DISPLAY": display}
        log = (folder / "dunst.log").open("wb")
        proc = subprocess.Popen(
            [exe, "-config", str(config)], stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
        )
        try:
            try:
                bus.wait_for_name(NOTIFICATIONS_NAME, proc, "dunst")
            except ServiceFailed as exc:
                said = (folder / "dunst.log").read_text(errors="replace").strip()
                raise ServiceFailed(f"{exc}: {said}") from None
            yield Dunst(bus, proc.pid, folder)
        finally:
            _stop(proc)
            log.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class PlainNotificationServer:
    """A notification server without actions (like many minimal ones), on a thread.

    It answers ``GetCapabilities`` with ``body`` only and keeps every ``Notify`` it gets, so a
    test sees what a client sent when the server offers no buttons.
    """

    bus: SessionBus
    received: list[dict[str, object]] = field(default_factory=list)
    _stop_flag: threading.Event = field(default_factory=threading.Event)

    def serve(self, ready: threading.Event) -> None:
        """Own the name and answer calls until `stop`."""
        from jeepney.io.blocking import open_dbus_connection as open_blocking

        with open_blocking(self.bus.address) as conn:
            Proxy(message_bus, conn, timeout=5).RequestName(NOTIFICATIONS_NAME)
            ready.set()
            while not self._stop_flag.is_set():
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                reply = self._answer(msg)
                if reply is not None:
                    conn.send(reply)

    def _answer(self, msg: Message) -> Message | None:
        if msg.header.message_type is not MessageType.method_call:
            return None
        member = msg.header.fields.get(HeaderFields.member)
        if member == "GetCapabilities":
            return new_method_return(msg, "as", (["body"],))
        if member == "GetServerInformation":
            return new_method_return(msg, "ssss", ("plain-test", "tests", "1", "1.2"))
        if member == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = msg.body
            self.received.append(
                {"app_name": app, "replaces_id": replaces, "summary": summary, "body": body,
                 "actions": list(actions), "hints": {k: v[1] for k, v in hints.items()},
                 "timeout": timeout}
            )  # fmt: skip
            return new_method_return(msg, "u", (len(self.received),))
        if member == "CloseNotification":
            return new_method_return(msg)
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod", "s", (str(member),))

    def stop(self) -> None:
        """Stop serving."""
        self._stop_flag.set()


@contextlib.contextmanager
def start_plain_notification_server(bus: SessionBus) -> Iterator[PlainNotificationServer]:
    """Serve notifications without actions on ``bus`` until the block ends."""
    server = PlainNotificationServer(bus)
    ready = threading.Event()
    thread = threading.Thread(target=server.serve, args=(ready,), daemon=True)
    thread.start()
    try:
        if not ready.wait(START_TIMEOUT):
            raise ServiceFailed("the plain notification server did not take its name")
        bus.wait_until_owned(NOTIFICATIONS_NAME)
        yield server
    finally:
        server.stop()
        thread.join(timeout=5)


@pytest.fixture
def dunst() -> Iterator[Dunst]:
    """A dunst notification server on a fresh private bus, under the test run's X display."""
    with start_session_bus() as bus, start_dunst(bus) as server:
        yield server


@pytest.fixture
def dunst_env(dunst: Dunst, monkeypatch: pytest.MonkeyPatch) -> Dunst:
    """Point this process (and the notify-send that plyer starts) at dunst's bus."""
    _apply(dunst.bus, monkeypatch)
    return dunst


@pytest.fixture
def plain_notifications(
    bare_bus: SessionBus, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PlainNotificationServer]:
    """A notification server without actions, this process pointed at its bus."""
    _apply(bare_bus, monkeypatch)
    with start_plain_notification_server(bare_bus) as server:
        yield server


# -- a private sound server (the alarm) ---------------------------------------------------------


@dataclass(frozen=True)
class SoundServer:
    """A private PulseAudio whose only sink is a null sink, and a way to record what it plays.

    Attributes:
        server: The PULSE_SERVER value that reaches it.
        sink: The null sink's name (its monitor source is ``<sink>.monitor``).
        pid: pulseaudio's process id.
    """

    server: str
    sink: str
    pid: int

    @property
    def env(self) -> dict[str, str]:
        """Variables that point PulseAudio clients (Qt, parec) here."""
        return {"PULSE_SERVER": self.server}


@contextlib.contextmanager
def start_pulseaudio(sink: str = "alarm") -> Iterator[SoundServer]:
    """Run ``pulseaudio`` with a null sink, its own runtime folder and socket, until the end."""
    exe = shutil.which("pulseaudio")
    if exe is None:
        raise ServiceFailed("pulseaudio is not installed (Debian package pulseaudio)")
    if shutil.which("parec") is None:
        raise ServiceFailed("parec is not installed (Debian package pulseaudio-utils)")
    root = Path(tempfile.mkdtemp(prefix="occ-pulse-"))
    try:
        home = root / "home"
        home.mkdir(mode=0o700)
        env = private_env(home, None)
        socket_path = root / "native"
        cmd = [
            exe, "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no",
            "--log-target=stderr", "--disable-shm=yes",
            f"--load=module-native-protocol-unix socket={socket_path} auth-anonymous=1",
            f"--load=module-null-sink sink_name={sink} rate=44100 channels=1",
        ]  # fmt: skip
        log = (root / "pulse.log").open("wb")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        try:
            server = SoundServer(f"unix:{socket_path}", sink, proc.pid)
            _wait_for_pulse(server, proc, root / "pulse.log")
            yield server
        finally:
            _stop(proc)
            log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_for_pulse(server: SoundServer, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    env = {**os.environ, **server.env}
    while True:
        if proc.poll() is not None:
            said = log.read_text(errors="replace").strip()
            raise ServiceFailed(f"pulseaudio exited with {proc.returncode}: {said}")
        done = subprocess.run(
            ["pactl", "list", "short", "sinks"], env=env, capture_output=True, text=True
        )
        if done.returncode == 0 and server.sink in done.stdout:
            return
        if time.monotonic() > deadline:
            said = log.read_text(errors="replace").strip()
            raise ServiceFailed(f"pulseaudio did not offer its sink in time: {said}")
        time.sleep(0.05)


class Recording:
    """``parec`` recording a sink's monitor, as (arrival time, peak amplitude) per 10 ms block."""

    BLOCK = 441 * 2  # 10 ms of 16-bit mono at 44.1 kHz

    def __init__(self, server: SoundServer) -> None:
        self._blocks: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            ["parec", f"--device={server.sink}.monitor", "--format=s16le", "--rate=44100",
             "--channels=1", "--raw", "--latency-msec=10"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **server.env},
        )  # fmt: skip
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import numpy as np

        assert self._proc.stdout is not None
        while block := self._proc.stdout.read(self.BLOCK):
            samples = np.frombuffer(block[: len(block) // 2 * 2], dtype="<i2")
            peak = int(np.abs(samples.astype(np.int32)).max()) if len(samples) else 0
            with self._lock:
                self._blocks.append((time.monotonic(), peak))

    def blocks(self, since: float = 0.0) -> list[tuple[float, int]]:
        """The blocks that arrived at or after ``since`` (time.monotonic())."""
        with self._lock:
            return [b for b in self._blocks if b[0] >= since]

    def stop(self) -> None:
        """End the recording."""
        self._proc.terminate()
        self._proc.wait(timeout=5)
        self._thread.join(timeout=5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


@pytest.fixture(scope="session")
def sound_server() -> Iterator[SoundServer]:
    """A private PulseAudio with a null sink for the whole run.

    Session-wide because Qt's audio backend connects once per process: the first test that
    plays a sound fixes the server for every later one.
    """
    with start_pulseaudio() as server:
        yield server
