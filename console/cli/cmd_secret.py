"""``secret set|list|delete`` (credentials in the OS keyring) and ``doctor`` (what is here).

``console.secrets`` is imported inside the handlers: keyring takes a noticeable share of the
start-up time of commands that never touch it.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.cli.context import Context
from console.cli.exitcodes import Exit
from console.cli.output import emit_json

if TYPE_CHECKING:
    from console.secrets.sessionbus import BusSnapshot

# Bytes read from a pipe at most: a bit more than the longest value the store accepts, so an
# endless pipe cannot fill memory.
MAX_STDIN_BYTES = 4 * 65536 + 1
HEADLESS_HINT = (
    "on a headless machine without a keyring, give the engine a token file readable only by "
    "its owner (chmod 600)"
)


def register(sub: Any) -> None:
    """Add the ``secret`` and ``doctor`` commands."""
    secret = sub.add_parser(
        "secret",
        help="store credentials in the OS keyring (values are never printed)",
        description="Credentials (passwords, bearer tokens, header values) live in the OS "
        "keyring under the service 'oncall-console'; configuration refers to them by name.",
    )
    ssub = secret.add_subparsers(dest="secret_command", metavar="ACTION", required=True)
    put = ssub.add_parser(
        "set",
        help="store a value read from stdin under NAME",
        description="Store a secret. The value is read from stdin: typed without echo on a "
        "terminal, or read whole from a pipe (one trailing newline removed).",
    )
    put.add_argument("name", metavar="NAME")
    put.set_defaults(handler=cmd_set)
    listing = ssub.add_parser("list", help="list the names of the stored secrets (not values)")
    _json_flag(listing)
    listing.set_defaults(handler=cmd_list)
    delete = ssub.add_parser("delete", help="remove the secret NAME from the keyring")
    delete.add_argument("name", metavar="NAME")
    delete.set_defaults(handler=cmd_delete)

    doctor = sub.add_parser(
        "doctor",
        help="report the keyring, notification and display backends (exit 1 if one is missing)",
    )
    doctor.add_argument(
        "--headless",
        action="store_true",
        help="judge for a machine without a desktop (the engine alone): no display needed",
    )
    _json_flag(doctor)
    doctor.set_defaults(handler=cmd_doctor)


def _json_flag(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without it this default would overwrite a global --json given before the command.
    parser.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON"
    )


def _guarded(action: Callable[[], int]) -> int:
    """Run a secret command, mapping its errors to exit codes (2 bad input, 4 no keyring)."""
    from console.secrets import (
        InvalidSecretName,
        InvalidSecretValue,
        SecretsUnavailable,
        UnknownSecret,
        install_log_redaction,
    )

    install_log_redaction()
    try:
        return action()
    except (InvalidSecretName, InvalidSecretValue, UnknownSecret) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.BAD_INPUT
    except SecretsUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"hint: {HEADLESS_HINT}", file=sys.stderr)
        return Exit.RUNTIME_FAILURE


def cmd_set(ctx: Context) -> int:
    """Store the value from stdin under NAME."""
    from console.secrets import SecretStore, SecretsUnavailable
    from console.secrets.store import check_name

    def run() -> int:
        name: str = ctx.args.name
        check_name(name)
        store = SecretStore()
        status = store.backend_status()  # before asking for a value nobody could store
        if not status.available:
            raise SecretsUnavailable(status)
        existed = name in store.names()
        store.set(name, _read_value(name))
        verb = "replaced" if existed else "stored"
        print(f"{verb} secret {name} in the keyring ({status.backend})")
        return Exit.OK

    return _guarded(run)


def _read_value(name: str) -> str:
    """The value: typed without echo on a terminal, else the whole of stdin."""
    from console.secrets import InvalidSecretValue
    from console.secrets.tokens import strip_one_newline

    if sys.stdin.isatty():
        try:
            return getpass.getpass(f"value for {name} (not shown): ")
        except EOFError:
            raise InvalidSecretValue("no value was typed") from None
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES)
    if len(data) >= MAX_STDIN_BYTES:
        raise InvalidSecretValue("the value on stdin is too long")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSecretValue("the value on stdin is not UTF-8 text") from None
    return strip_one_newline(text)


def cmd_list(ctx: Context) -> int:
    """Print the names of the stored secrets."""
    from console.secrets import SecretStore

    def run() -> int:
        names = SecretStore().names()
        if ctx.as_json:
            emit_json(names)
        elif names:
            print("\n".join(names))
        else:
            print("(no secrets stored)")
        return Exit.OK

    return _guarded(run)


def cmd_delete(ctx: Context) -> int:
    """Remove the secret NAME."""
    from console.secrets import SecretStore

    def run() -> int:
        SecretStore().delete(ctx.args.name)
        print(f"deleted secret {ctx.args.name}")
        return Exit.OK

    return _guarded(run)


class Verdict(Enum):
    """How one doctor check came out."""

    OK = "ok"
    WARN = "warn"
    MISSING = "missing"
    NOT_NEEDED = "not needed"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the doctor's report."""

    name: str
    verdict: Verdict
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def cmd_doctor(ctx: Context) -> int:
    """Report what this machine offers the console; exit 1 if something needed is missing."""
    from console.secrets import install_log_redaction
    from console.secrets.sessionbus import snapshot

    install_log_redaction()
    headless: bool = ctx.args.headless
    bus = snapshot()
    checks = [
        _keyring_check(headless),
        _bus_check(bus),
        _notifications_check(bus),
        _display_check(headless),
    ]
    ok = not any(c.verdict is Verdict.MISSING for c in checks)
    if ctx.as_json:
        emit_json(
            {
                "ok": ok,
                "checks": [
                    {"name": c.name, "verdict": c.verdict.value, "detail": c.detail, **c.data}
                    for c in checks
                ],
            }
        )
    else:
        width = max(len(v.value) for v in Verdict)
        for c in checks:
            print(f"{c.name:<14} {c.verdict.value:<{width}}  {c.detail}")
    return Exit.OK if ok else Exit.PROBLEM_FOUND


def _keyring_check(headless: bool) -> Check:
    from console.secrets import backend_status

    status = backend_status()
    data = {"keyring": status.as_dict()}
    if status.available:
        detail = f"{status.backend}" + (f" ({status.explanation})" if status.explanation else "")
        return Check("keyring", Verdict.OK, detail, data)
    detail = f"{status.explanation}; {HEADLESS_HINT}"
    return Check("keyring", Verdict.WARN if headless else Verdict.MISSING, detail, data)


def _bus_check(bus: BusSnapshot) -> Check:
    from console.secrets.sessionbus import BusState

    data = {"state": bus.state.value, "address": bus.address}
    if bus.state is BusState.CONNECTED:
        return Check("session bus", Verdict.OK, f"connected at {bus.address}", data)
    if bus.state is BusState.UNSUPPORTED:
        return Check("session bus", Verdict.NOT_NEEDED, f"{bus.error}", data)
    detail = f"{bus.error}: no Secret Service and no desktop notifications"
    return Check("session bus", Verdict.WARN, detail, data)


def _notifications_check(bus: BusSnapshot) -> Check:
    from console.secrets.sessionbus import NOTIFICATIONS_NAME, BusState

    fallback = "alerts fall back to the tray icon and in-app banners"
    if bus.state is not BusState.CONNECTED:
        detail = f"no session bus; {fallback}"
        return Check("notifications", Verdict.WARN, detail, {"server": None})
    if bus.running(NOTIFICATIONS_NAME):
        server = _notification_server()
        return Check(
            "notifications", Verdict.OK, f"{server} on the session bus", {"server": server}
        )
    if bus.startable(NOTIFICATIONS_NAME):
        detail = "a notification server starts on demand (D-Bus activation)"
        return Check("notifications", Verdict.OK, detail, {"server": None})
    detail = f"no notification server on the session bus; {fallback}"
    return Check("notifications", Verdict.WARN, detail, {"server": None})


def _notification_server() -> str:
    """``name version (vendor)`` of the running notification server, as it describes itself."""
    from console.secrets.sessionbus import NOTIFICATIONS_NAME, call_method

    try:
        name, vendor, version, _spec = call_method(
            NOTIFICATIONS_NAME,
            "/org/freedesktop/Notifications",
            NOTIFICATIONS_NAME,
            "GetServerInformation",
        )
    except (OSError, RuntimeError, ValueError):
        return "a notification server"
    return f"{name} {version} ({vendor})"


def _display_check(headless: bool) -> Check:
    x11, wayland = os.environ.get("DISPLAY"), os.environ.get("WAYLAND_DISPLAY")
    platform = os.environ.get("QT_QPA_PLATFORM")
    data = {"DISPLAY": x11, "WAYLAND_DISPLAY": wayland, "QT_QPA_PLATFORM": platform}
    if headless:
        return Check("display", Verdict.NOT_NEEDED, "not needed with --headless", data)
    if not sys.platform.startswith("linux"):
        return Check("display", Verdict.OK, f"native windows ({sys.platform})", data)
    if x11 or wayland:
        shown = ", ".join(f"{k}={v}" for k, v in data.items() if v)
        missing = _missing_socket(x11, wayland)
        if missing:
            return Check("display", Verdict.WARN, f"{shown}, but {missing}", data)
        return Check("display", Verdict.OK, shown, data)
    if platform == "offscreen":
        detail = "QT_QPA_PLATFORM=offscreen: screenshots only, no window can be seen"
        return Check("display", Verdict.WARN, detail, data)
    detail = (
        "neither DISPLAY nor WAYLAND_DISPLAY is set: no window can open "
        "(use --headless for the engine alone, or xvfb-run for a virtual screen)"
    )
    return Check("display", Verdict.MISSING, detail, data)


def _missing_socket(x11: str | None, wayland: str | None) -> str | None:
    """Why the named local display looks absent, or ``None`` if its socket is there."""
    if wayland:
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")
        path = Path(wayland) if os.path.isabs(wayland) else Path(runtime) / wayland
        return None if path.exists() else f"no Wayland socket at {path}"
    assert x11 is not None
    host, _, rest = x11.rpartition(":")
    number = rest.split(".")[0]
    if host not in ("", "unix") or not number.isdigit():
        return None  # a remote or unusual display: only connecting would tell
    path = Path(f"/tmp/.X11-unix/X{number}")
    return None if path.exists() else f"no X server socket at {path}"
