"""``secret`` and ``doctor`` as users run them: real processes, Secret Service and exit codes."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from console.secrets import SecretStore
from jeepney import HeaderFields, MessageType, message_bus, new_method_return
from jeepney.io.blocking import Proxy, open_dbus_connection

from tests.services import SecretService, SessionBus

NO_SERVICE = "no Secret Service on the session bus (is gnome-keyring or KeePassXC running?)"
DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def cli_env(bus: SessionBus, **extra: str) -> dict[str, str]:
    """The bus's private environment, with no display unless the test gives one."""
    env = {k: v for k, v in bus.env.items() if k not in DISPLAY_VARS}
    env.update(extra)
    return env


def run(
    env: Mapping[str, str], *args: str, stdin: str | bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "console", *args],
        input=data,
        capture_output=True,
        env=dict(env),
        cwd=cwd,
        timeout=60,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


@pytest.fixture
def keyring_env(
    fresh_secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A CLI environment on an empty Secret Service; this process points at it too."""
    for key, value in fresh_secret_service.bus.overrides().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    return cli_env(fresh_secret_service.bus)


def test_set_list_delete_round_trip(keyring_env: dict[str, str]) -> None:
    value = "pässwörd 🔑\nsecond line\n"
    stored = run(keyring_env, "secret", "set", "db/admin", stdin=value + "\n")
    assert stored.returncode == 0, stored.stderr
    assert stored.stdout == (
        "stored secret db/admin in the keyring (keyring.backends.SecretService.Keyring)\n"
    )
    # One trailing newline is the pipe's; the value's own newlines stay.
    assert SecretStore().get("db/admin") == value
    assert run(keyring_env, "secret", "set", "api-token", stdin="t0k3n").returncode == 0

    listed = run(keyring_env, "secret", "list")
    assert listed.returncode == 0 and listed.stdout == "api-token\ndb/admin\n"
    as_json = run(keyring_env, "secret", "list", "--json")
    assert json.loads(as_json.stdout) == ["api-token", "db/admin"]
    assert json.loads(run(keyring_env, "--json", "secret", "list").stdout) == [
        "api-token",
        "db/admin",
    ]
    for out in (stored, listed, as_json):
        assert "pässwörd" not in out.stdout + out.stderr and "t0k3n" not in out.stdout

    replaced = run(keyring_env, "secret", "set", "api-token", stdin="n3w")
    assert replaced.stdout.startswith("replaced secret api-token")
    assert SecretStore().get("api-token") == "n3w"

    deleted = run(keyring_env, "secret", "delete", "api-token")
    assert deleted.returncode == 0 and deleted.stdout == "deleted secret api-token\n"
    assert SecretStore().get("api-token") is None
    assert run(keyring_env, "secret", "list").stdout == "db/admin\n"


def test_bad_input_exits_2_and_stores_nothing(keyring_env: dict[str, str]) -> None:
    empty = run(keyring_env, "secret", "set", "api-token", stdin="\n")
    assert empty.returncode == 2 and "error: the secret's value is empty" in empty.stderr
    bad_name = run(keyring_env, "secret", "set", "has space", stdin="v")
    assert bad_name.returncode == 2 and "invalid secret name 'has space'" in bad_name.stderr
    binary = run(keyring_env, "secret", "set", "api-token", stdin=b"\xff\xfe")
    assert binary.returncode == 2 and "not UTF-8 text" in binary.stderr
    unknown = run(keyring_env, "secret", "delete", "never-stored")
    assert unknown.returncode == 2
    assert "error: no secret named 'never-stored' in the keyring" in unknown.stderr
    assert SecretStore().names() == []
    assert run(keyring_env, "secret", "list").stdout == "(no secrets stored)\n"
    for words in (["secret"], ["secret", "set"], ["secret", "list"], ["secret", "delete"]):
        assert run(keyring_env, *words, "--help").stdout.startswith("usage: oncall-console")
    assert "exit 1 if one is missing" in run(keyring_env, "--help").stdout


def test_without_a_secret_service_exit_4_says_why_and_writes_nothing(
    bare_bus: SessionBus, tmp_path: Path
) -> None:
    env = cli_env(bare_bus)
    before = _files(bare_bus.home) + _files(tmp_path)
    attempts = [
        (("secret", "set", "api-token"), "never-stored-anywhere"),
        (("secret", "list"), ""),
        (("secret", "delete", "api-token"), ""),
    ]
    for args, stdin in attempts:
        proc = run(env, *args, stdin=stdin, cwd=tmp_path)
        assert proc.returncode == 4, proc.stderr
        assert proc.stderr.splitlines()[0] == f"error: no usable keyring: {NO_SERVICE}"
        assert "token file readable only by its owner" in proc.stderr
        assert proc.stdout == "" and "Traceback" not in proc.stderr
    after = _files(bare_bus.home) + _files(tmp_path)
    assert after == before
    assert not any(b"never-stored-anywhere" in p.read_bytes() for p in after)


def test_keyring_switched_to_its_fail_backend_exits_4(keyring_env: dict[str, str]) -> None:
    env = {**keyring_env, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    proc = run(env, "secret", "set", "api-token", stdin="v")
    assert proc.returncode == 4
    assert (
        "error: no usable keyring: PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring "
        "selects keyring's fail backend, which refuses every request"
    ) in proc.stderr
    assert SecretStore().names() == []


def test_a_value_typed_at_a_terminal_is_not_echoed(keyring_env: dict[str, str]) -> None:
    setsid = shutil.which("setsid")
    assert setsid is not None, "setsid (util-linux) gives the child a controlling terminal"
    main, child = os.openpty()
    proc = subprocess.Popen(
        # --ctty: the pty becomes the controlling terminal, so getpass can open /dev/tty.
        [setsid, "--ctty", sys.executable, "-m", "console", "secret", "set", "typed"],
        stdin=child,
        stdout=child,
        stderr=child,
        env=keyring_env,
    )
    os.close(child)
    try:
        seen = _read_until(main, b"(not shown): ")
        os.write(main, b"typed-in-s3cret\n")
        seen += _read_until(main, None)
        assert proc.wait(timeout=30) == 0, seen
    finally:
        os.close(main)
    text = seen.decode()
    assert text.startswith("value for typed (not shown): ")
    assert "stored secret typed" in text and "typed-in-s3cret" not in text
    assert SecretStore().get("typed") == "typed-in-s3cret"


def _read_until(fd: int, marker: bytes | None, timeout: float = 30) -> bytes:
    """Read a pty until ``marker`` shows up (or, with ``None``, until the child closes it)."""
    data = b""
    deadline = time.monotonic() + timeout
    while marker is None or marker not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise AssertionError(f"no {marker!r} from the terminal; got {data!r}")
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: every process holding the child side has exited
            break
        if not chunk:
            break
        data += chunk
    return data


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


@contextlib.contextmanager
def notification_server(bus: SessionBus) -> Iterator[None]:
    """A small notification server on ``bus``: owns the name, answers GetServerInformation.

    dunst (the suite's real notification server) needs an X display; this stand-in lets the
    doctor's D-Bus query be tested on any machine.
    """
    conn = open_dbus_connection(bus.address)
    Proxy(message_bus, conn, timeout=5).RequestName("org.freedesktop.Notifications")
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                msg = conn.receive(timeout=0.1)
            except TimeoutError:
                continue
            member = msg.header.fields.get(HeaderFields.member)
            if msg.header.message_type is MessageType.method_call and (
                member == "GetServerInformation"
            ):
                info = ("standin", "oncall-tests", "1.0", "1.2")
                conn.send(new_method_return(msg, "ssss", info))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        bus.wait_until_owned("org.freedesktop.Notifications")
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        conn.close()


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A real X display (Xvfb), as the test command starts for the GUI tests."""
    exe = shutil.which("Xvfb")
    assert exe is not None, "Xvfb is installed by packaging/dev.sh"
    read, write = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(write), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as pipe:
            number = pipe.readline().strip()  # written once the server accepts connections
        assert number, "Xvfb did not start"
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def doctor(env: Mapping[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    proc = run(env, "doctor", "--json", *args)
    report = json.loads(proc.stdout)
    assert report["ok"] is (proc.returncode == 0), proc.stderr
    return proc.returncode, {c["name"]: c for c in report["checks"]}


def test_doctor_with_everything_present_exits_0(fresh_secret_service: SecretService) -> None:
    bus = fresh_secret_service.bus
    with notification_server(bus), xvfb() as display:
        code, checks = doctor(cli_env(bus, DISPLAY=display))
        text = run(cli_env(bus, DISPLAY=display), "doctor")
    assert code == 0 and text.returncode == 0
    assert checks["keyring"]["verdict"] == "ok"
    assert checks["keyring"]["keyring"]["backend"] == "keyring.backends.SecretService.Keyring"
    assert checks["session bus"]["detail"] == f"connected at {bus.address}"
    assert checks["notifications"]["verdict"] == "ok"
    assert checks["notifications"]["server"] == "standin 1.0 (oncall-tests)"
    assert checks["display"] == {
        "name": "display",
        "verdict": "ok",
        "detail": f"DISPLAY={display}",
        "DISPLAY": display,
        "WAYLAND_DISPLAY": None,
        "QT_QPA_PLATFORM": None,
    }
    assert [line.split()[0] for line in text.stdout.splitlines()] == [
        "keyring",
        "session",
        "notifications",
        "display",
    ]


def test_doctor_without_keyring_or_display_exits_1_and_says_why(bare_bus: SessionBus) -> None:
    code, checks = doctor(cli_env(bare_bus))
    assert code == 1
    assert checks["keyring"]["verdict"] == "missing"
    assert checks["keyring"]["detail"].startswith(NO_SERVICE)
    assert checks["keyring"]["keyring"]["state"] == "no-secret-service"
    assert checks["notifications"]["verdict"] == "warn"
    assert checks["notifications"]["detail"].startswith("no notification server on the session")
    assert checks["display"]["verdict"] == "missing"
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in checks["display"]["detail"]


def test_doctor_headless_needs_no_display_and_tolerates_token_files(bare_bus: SessionBus) -> None:
    code, checks = doctor(cli_env(bare_bus), "--headless")
    assert code == 0
    assert checks["keyring"]["verdict"] == "warn"
    assert "token file readable only by its owner" in checks["keyring"]["detail"]
    assert checks["display"]["verdict"] == "not needed"


def test_doctor_without_a_session_bus(bare_bus: SessionBus) -> None:
    env = {k: v for k, v in cli_env(bare_bus).items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    code, checks = doctor(env, "--headless")
    assert code == 0
    assert checks["session bus"]["verdict"] == "warn"
    assert checks["session bus"]["state"] == "no-address"
    assert checks["keyring"]["keyring"]["state"] == "no-session-bus"
    assert checks["notifications"]["detail"].startswith("no session bus")


def test_doctor_flags_a_display_that_is_not_there(bare_bus: SessionBus) -> None:
    _code, checks = doctor(cli_env(bare_bus, DISPLAY=":987"))
    assert checks["display"]["verdict"] == "warn"
    assert checks["display"]["detail"] == (
        "DISPLAY=:987, but no X server socket at /tmp/.X11-unix/X987"
    )
    _code, offscreen = doctor(cli_env(bare_bus, QT_QPA_PLATFORM="offscreen"))
    assert offscreen["display"]["verdict"] == "warn"
    assert offscreen["display"]["QT_QPA_PLATFORM"] == "offscreen"
