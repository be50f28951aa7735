"""Choosing the keyring backend, and saying in plain words why none is usable."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import keyring.core
from keyring.backend import KeyringBackend, get_all_keyring
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.util import platform_

from console.secrets import sessionbus
from console.secrets.sessionbus import BusState
from console.secrets.status import KeyringState, KeyringStatus

SECRET_SERVICE = "keyring.backends.SecretService.Keyring"
NO_SECRET_SERVICE = "no Secret Service on the session bus (is gnome-keyring or KeePassXC running?)"
NO_RECOMMENDED = "keyring found no recommended backend on this system"
# keyring's own threshold: a backend below priority 1 is not recommended (keyrings.alt's
# plain-text file, for one), so it is never picked unless a person configured it on purpose.
RECOMMENDED = 1.0


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The backend to use (``None`` when there is none) and the status to report."""

    backend: KeyringBackend | None
    status: KeyringStatus


def class_path(backend: KeyringBackend | type[KeyringBackend]) -> str:
    """A backend's dotted class path, the name people configure keyring with."""
    cls = backend if isinstance(backend, type) else type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def select_backend() -> BackendChoice:
    """Pick the keyring backend from the current environment, afresh on every call.

    Order: a backend a person configured (PYTHON_KEYRING_BACKEND, then keyring's
    ``keyringrc.cfg``); then the freedesktop Secret Service, checked now against the current
    DBUS_SESSION_BUS_ADDRESS; then the best other recommended backend (macOS, Windows,
    KWallet). keyring's own ``get_keyring()`` is not used: it decides once per process, so a
    keyring started later (or a test's private bus) would never be seen. Plain-text backends
    are never chosen automatically.
    """
    configured = _configured()
    if configured is not None:
        return configured
    backend, why_not = _secret_service()
    if backend is None:
        backend = _other_recommended()
    if backend is not None:
        return describe(backend)
    status = diagnose(why_not) or KeyringStatus(KeyringState.NO_BACKEND, None, NO_RECOMMENDED)
    return BackendChoice(None, status)


def describe(backend: KeyringBackend, source: str | None = None) -> BackendChoice:
    """The status of a given backend without touching it (see ``SecretStore.backend_status``).

    Args:
        backend: The backend.
        source: Where it was configured, for the explanation (``None`` when chosen by us).
    """
    name = class_path(backend)
    if isinstance(backend, null.Keyring):
        where = source or "the configuration"
        why = f"{where} selects keyring's null backend, which stores nothing"
        return BackendChoice(None, KeyringStatus(KeyringState.DISABLED, name, why))
    if isinstance(backend, fail.Keyring) or (
        isinstance(backend, ChainerBackend) and not ChainerBackend.backends
    ):
        return BackendChoice(None, _no_backend(name, source))
    try:
        priority = _priority(backend)
    except Exception as exc:  # a backend that is not viable here (now)
        why = str(exc) or type(exc).__name__
        status = diagnose(why, backend=name) or KeyringStatus(
            KeyringState.BROKEN, name, f"{name} cannot be used here: {why}"
        )
        return BackendChoice(None, status)
    caution = None
    if priority < RECOMMENDED:
        caution = (
            f"keyring does not recommend {name} (it may keep secrets in a plain file); "
            f"it is used because {source or 'it was given'}"
        )
    return BackendChoice(backend, KeyringStatus(KeyringState.AVAILABLE, name, caution))


def diagnose(why_not: str | None, backend: str | None = None) -> KeyringStatus | None:
    """Explain, from the session bus, why no Secret Service can be used.

    Args:
        why_not: What keyring said when the Secret Service backend was refused, if anything.
        backend: The backend to name in the status.

    Returns:
        The status, or ``None`` when the environment shows nothing wrong.
    """
    snap = sessionbus.snapshot()
    if snap.state is BusState.NO_ADDRESS:
        why = (
            "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set), so no Secret Service "
            "can be reached"
        )
        return KeyringStatus(KeyringState.NO_SESSION_BUS, backend, why)
    if snap.state is BusState.UNREACHABLE:
        why = f"cannot reach the D-Bus session bus at {snap.address}: {snap.error}"
        return KeyringStatus(KeyringState.NO_SESSION_BUS, backend, why)
    if snap.state is BusState.CONNECTED:
        secrets = sessionbus.SECRETS_NAME
        if not (snap.running(secrets) or snap.startable(secrets)):
            return KeyringStatus(KeyringState.NO_SECRET_SERVICE, backend, NO_SECRET_SERVICE)
        if why_not:
            why = f"a Secret Service is on the session bus, but keyring cannot use it: {why_not}"
            return KeyringStatus(KeyringState.BROKEN, backend, why)
    return None


def _no_backend(name: str, source: str | None) -> KeyringStatus:
    if source:
        why = f"{source} selects keyring's fail backend, which refuses every request"
        return KeyringStatus(KeyringState.NO_BACKEND, name, why)
    return diagnose(None, backend=name) or KeyringStatus(
        KeyringState.NO_BACKEND, name, NO_RECOMMENDED
    )


def _configured() -> BackendChoice | None:
    env = os.environ.get("PYTHON_KEYRING_BACKEND")
    config = platform_.config_root() / "keyringrc.cfg"
    source = f"PYTHON_KEYRING_BACKEND={env}" if env else f"keyring's configuration {config}"
    try:
        backend = keyring.core.load_env() or keyring.core.load_config()
    # Loading runs third-party code (imports, viability checks): any failure means the
    # backend a person asked for cannot be used here, which they need to hear about.
    except Exception as exc:
        why = f"{source} names a backend that cannot be used here: {exc or type(exc).__name__}"
        return BackendChoice(None, KeyringStatus(KeyringState.BROKEN, None, why))
    return None if backend is None else describe(backend, source)


def _secret_service() -> tuple[KeyringBackend | None, str | None]:
    """The Secret Service backend if it is usable now, else why not."""
    if not sys.platform.startswith("linux"):
        return None, None
    from keyring.backends import SecretService

    try:
        _priority(SecretService.Keyring)
    except Exception as exc:  # keyring reports unviability as RuntimeError
        return None, str(exc) or type(exc).__name__
    return SecretService.Keyring(), None  # type: ignore[no-untyped-call]


def _other_recommended() -> KeyringBackend | None:
    """The highest-priority recommended backend other than the Secret Service, re-checked now.

    ``get_all_keyring`` caches which backends were viable when first asked, so each one's
    viability is asked again here.
    """
    best: tuple[float, KeyringBackend] | None = None
    for candidate in get_all_keyring():
        if isinstance(candidate, ChainerBackend) or class_path(candidate) == SECRET_SERVICE:
            continue
        try:
            priority = _priority(type(candidate))
        except Exception:  # not viable now
            continue
        if priority >= RECOMMENDED and (best is None or priority > best[0]):
            best = (priority, candidate)
    return None if best is None else best[1]


def _priority(backend: KeyringBackend | type[KeyringBackend]) -> float:
    """The priority keyring gives a backend (its class property raises when not viable)."""
    cls = backend if isinstance(backend, type) else type(backend)
    return float(cls.priority)
