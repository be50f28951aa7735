"""SecretStore against a real Secret Service (gnome-keyring on a private bus) and without one."""

from __future__ import annotations

import os
import signal
import traceback
import uuid
from pathlib import Path

import pytest
from console.core.errors import ConsoleError
from console.secrets import (
    InvalidSecretName,
    InvalidSecretValue,
    KeyringState,
    Redactor,
    SecretStore,
    SecretsUnavailable,
    UnknownSecret,
    backend_status,
)
from console.secrets.backends import SECRET_SERVICE
from console.secrets.store import INDEX_ENTRY, SERVICE
from keyring.backends import SecretService as SecretService_
from keyring.backends import fail, null

from tests.services import SecretService, SessionBus

NO_SERVICE = "no Secret Service on the session bus (is gnome-keyring or KeePassXC running?)"
VALUES = [
    "plain",
    "ünïcødé – 秘密 🔑",
    "line one\nline two\n",
    "  spaces and\ttabs  ",
    "quotes ' \" and \\ backslash",
    "x" * 10_000,
]


def own_store(redactor: Redactor | None = None) -> SecretStore:
    """A store under a service of its own, so tests sharing the daemon never collide."""
    return SecretStore(service=f"oncall-console-test-{uuid.uuid4().hex}", redactor=redactor)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_default_service_name_is_oncall_console() -> None:
    assert SecretStore().service == SERVICE == "oncall-console"


def test_round_trip_of_awkward_values(secret_env: SecretService) -> None:
    store = own_store()
    for i, value in enumerate(VALUES):
        store.set(f"value-{i}", value)
    assert [store.get(f"value-{i}") for i in range(len(VALUES))] == VALUES
    assert store.names() == sorted(f"value-{i}" for i in range(len(VALUES)))
    assert store.get("never-stored") is None


def test_set_replaces_and_delete_removes(secret_env: SecretService) -> None:
    store = own_store()
    store.set("oncall-console/break-glass-admin", "first")
    store.set("oncall-console/break-glass-admin", "second")
    assert store.get("oncall-console/break-glass-admin") == "second"
    assert store.names() == ["oncall-console/break-glass-admin"]
    store.delete("oncall-console/break-glass-admin")
    assert store.get("oncall-console/break-glass-admin") is None
    assert store.names() == []
    with pytest.raises(UnknownSecret, match="no secret named 'oncall-console/break-glass-admin'"):
        store.delete("oncall-console/break-glass-admin")


def test_a_second_store_object_sees_the_same_entries(secret_env: SecretService) -> None:
    first = own_store()
    first.set("api-key", "k-1")
    second = SecretStore(service=first.service)
    assert second.get("api-key") == "k-1" and second.names() == ["api-key"]


def test_names_list_holds_names_never_values(secret_env: SecretService) -> None:
    store = own_store()
    store.set("db/password", "VALUE-THAT-MUST-NOT-BE-LISTED")
    raw = SecretStore(service=store.service)._call(
        lambda b: b.get_password(store.service, INDEX_ENTRY)
    )
    assert raw is not None and "db/password" in raw
    assert "VALUE-THAT-MUST-NOT-BE-LISTED" not in raw


def test_status_names_the_secret_service_backend(secret_env: SecretService) -> None:
    status = backend_status()
    assert status.available and status.state is KeyringState.AVAILABLE
    assert status.backend == SECRET_SERVICE and status.explanation is None


@pytest.mark.parametrize(
    "name", ["", " lead", "__index__", "_x", "has space", "new\nline", "x" * 129, "ä"]
)
def test_bad_names_are_refused_before_the_keyring_is_asked(name: str) -> None:
    store = SecretStore(fail.Keyring())  # would raise SecretsUnavailable if it were reached
    for call in (lambda: store.get(name), lambda: store.set(name, "v"), lambda: store.delete(name)):
        with pytest.raises(InvalidSecretName, match="invalid secret name"):
            call()


def test_empty_huge_and_broken_values_are_refused_without_quoting_them() -> None:
    store = SecretStore(fail.Keyring())
    for value, why in [("", "is empty"), ("y" * 65537, "longer than"), ("\ud800", "not valid")]:
        with pytest.raises(InvalidSecretValue, match=why) as caught:
            store.set("ok-name", value)
        assert (value not in str(caught.value)) or not value


def test_fail_backend_reports_unavailable_and_refuses_everything(bare_env: SessionBus) -> None:
    store = SecretStore(fail.Keyring())
    status = store.backend_status()
    assert not status.available and status.state is KeyringState.NO_SECRET_SERVICE
    assert status.explanation == NO_SERVICE
    assert status.backend == "keyring.backends.fail.Keyring"
    for call in (store.names, lambda: store.get("a"), lambda: store.delete("a")):
        with pytest.raises(SecretsUnavailable) as caught:
            call()
        assert str(caught.value) == f"no usable keyring: {NO_SERVICE}"
        assert isinstance(caught.value, ConsoleError)


def test_failing_set_never_mentions_the_value(bare_env: SessionBus) -> None:
    secret = "Sup3r-Secret-Value-42"
    with pytest.raises(SecretsUnavailable) as caught:
        SecretStore(fail.Keyring()).set("api-token", secret)
    printed = "".join(traceback.format_exception(caught.value))
    assert "no usable keyring" in printed and secret not in printed


def test_a_given_backend_that_is_not_viable_here_is_reported(bare_env: SessionBus) -> None:
    status = SecretStore(SecretService_.Keyring()).backend_status()
    assert status.state is KeyringState.NO_SECRET_SERVICE and status.explanation == NO_SERVICE
    assert status.backend == SECRET_SERVICE


def test_null_backend_counts_as_disabled() -> None:
    status = SecretStore(null.Keyring()).backend_status()
    assert status.state is KeyringState.DISABLED and not status.available
    assert "null backend, which stores nothing" in (status.explanation or "")


def test_without_a_secret_service_nothing_is_written_anywhere(bare_env: SessionBus) -> None:
    home = bare_env.home
    before = files_under(home)
    store = SecretStore()
    status = store.backend_status()
    assert status.state is KeyringState.NO_SECRET_SERVICE and status.explanation == NO_SERVICE
    with pytest.raises(SecretsUnavailable, match="is gnome-keyring or KeePassXC running"):
        store.set("api-token", "never-written-anywhere")
    assert files_under(home) == before
    assert not any(b"never-written-anywhere" in p.read_bytes() for p in files_under(home))


def test_without_a_session_bus_the_reason_is_the_missing_bus(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    status = backend_status()
    assert status.state is KeyringState.NO_SESSION_BUS
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in (status.explanation or "")


def test_an_unreachable_bus_is_named_in_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    address = f"unix:path={tmp_path}/no-bus-here"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    status = backend_status()
    assert status.state is KeyringState.NO_SESSION_BUS
    assert f"cannot reach the D-Bus session bus at {address}" in (status.explanation or "")


def test_configured_backend_is_honoured_and_named(
    secret_env: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    status = backend_status()
    assert status.state is KeyringState.NO_BACKEND
    assert status.explanation == (
        "PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring selects keyring's fail backend, "
        "which refuses every request"
    )
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.Backend")
    broken = backend_status()
    assert broken.state is KeyringState.BROKEN
    assert "PYTHON_KEYRING_BACKEND=no.such.Backend names a backend that cannot be used" in (
        broken.explanation or ""
    )


def test_keyring_config_file_can_switch_the_keyring_off(
    secret_env: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = Path(secret_env.env["XDG_CONFIG_HOME"]) / "python_keyring" / "keyringrc.cfg"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")
    try:
        status = backend_status()
    finally:
        config.unlink()
    assert status.state is KeyringState.DISABLED
    assert f"keyring's configuration {config} selects keyring's null backend" in (
        status.explanation or ""
    )
    assert backend_status().available


def test_values_read_or_stored_are_taught_to_the_redactor(secret_env: SecretService) -> None:
    redactor = Redactor()
    store = own_store(redactor)
    store.set("one", "first-value")
    other = own_store()
    other.set("two", "second-value")
    assert SecretStore(service=other.service, redactor=redactor).get("two") == "second-value"
    assert redactor.redact("first-value second-value") == "*** ***"


def test_the_keyring_going_away_is_reported_not_crashed_on(
    fresh_secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in fresh_secret_service.bus.overrides().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    store = SecretStore()
    store.set("api-token", "value-before-the-crash")
    os.kill(fresh_secret_service.pid, signal.SIGKILL)
    fresh_secret_service.bus.wait_until_gone("org.freedesktop.secrets")
    with pytest.raises(SecretsUnavailable) as caught:
        store.get("api-token")
    assert str(caught.value) == f"no usable keyring: {NO_SERVICE}"
    late = "value-after" + "-the-crash"  # split, so the source line shown is no witness
    with pytest.raises(SecretsUnavailable) as caught:
        store.set("api-token", late)
    printed = "".join(traceback.format_exception(caught.value))  # with the suppressed context
    assert "no usable keyring" in printed and "value-after-the-crash" not in printed


def test_values_live_in_the_keyring_files_only(fresh_secret_service: SecretService) -> None:
    env = fresh_secret_service.env
    with pytest.MonkeyPatch.context() as mp:
        for key, value in fresh_secret_service.bus.overrides().items():
            mp.setenv(key, value)
        mp.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        SecretStore().set("api-token", "plainly-findable-value")
    files = files_under(Path(env["HOME"]))
    assert fresh_secret_service.keyring_files()
    # gnome-keyring encrypts its files: the value is in none of them, nor anywhere else.
    assert not any(b"plainly-findable-value" in p.read_bytes() for p in files)
