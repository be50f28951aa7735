"""Questions to a real (private) session bus: which services are there, and plain method calls."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from console.secrets.sessionbus import SECRETS_NAME, BusState, call_method, snapshot

from tests.services import SecretService, SessionBus


def test_a_bare_bus_has_no_secret_service_and_starts_none(bare_bus: SessionBus) -> None:
    snap = snapshot(bare_bus.address)
    assert snap.state is BusState.CONNECTED and snap.error is None
    assert snap.running("org.freedesktop.DBus")
    assert not snap.running(SECRETS_NAME) and not snap.startable(SECRETS_NAME)
    assert not any(n.startswith(":") for n in snap.names)  # unique names are not services


def test_the_secret_service_is_seen_when_it_runs(secret_service: SecretService) -> None:
    snap = snapshot(secret_service.bus.address)
    assert snap.running(SECRETS_NAME)


def test_the_address_comes_from_the_environment(bare_env: SessionBus) -> None:
    snap = snapshot()
    assert snap.state is BusState.CONNECTED and snap.address == bare_env.address


def test_missing_unreachable_and_malformed_buses_are_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    missing = snapshot()
    assert missing.state is BusState.NO_ADDRESS and missing.address is None
    assert missing.error == "DBUS_SESSION_BUS_ADDRESS is not set"
    gone = snapshot(f"unix:path={tmp_path}/gone")
    assert gone.state is BusState.UNREACHABLE and gone.error == "No such file or directory"
    assert snapshot("garbage").error == "the address is malformed"
    assert "not supported" in (snapshot("tcp:host=127.0.0.1,port=9").error or "")


def test_call_method_returns_the_reply_body(bare_bus: SessionBus) -> None:
    (bus_id,) = call_method(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "GetId",
        address=bare_bus.address,
    )
    assert re.fullmatch(r"[0-9a-f]{32}", bus_id)
    (names,) = call_method(
        "org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus",
        "ListNames",
        address=bare_bus.address,
    )
    well_known = {n for n in names if not n.startswith(":")}
    assert well_known == {"org.freedesktop.DBus"} == snapshot(bare_bus.address).names


def test_call_method_turns_a_dbus_error_into_runtime_error(bare_bus: SessionBus) -> None:
    with pytest.raises(RuntimeError, match="ServiceUnknown"):
        call_method(
            "org.freedesktop.Notifications",
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "GetServerInformation",
            address=bare_bus.address,
        )
