"""Inbound alerts over real HTTP to the engine's receiver: the generic format, bad input, floods.

A real engine (system clock, real SQLite store, token file) and a real aiohttp client. Whatever
is thrown at the routes, what the store already held stays as it was and the engine goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from console.core.clock import SystemClock
from console.core.enums import Severity
from console.core.incident_policy import SignalOutcome
from console.core.incidents import Incident, IncidentState, ResolveReason
from console.core.signals import ManualReport, SignalSource
from console.engine.alerts import InboundSettings
from console.engine.receiver import MAX_BODY_BYTES
from console.engine.runtime import Engine
from console.secrets import Redactor, SecretStore
from console.store import incidents
from console.store.db import Store
from keyring.backends import fail

from tests.unit.engine.support import SERVICE, open_store

TOKEN = "alerts-5d1e-private"
OTHER_TOKEN = "soc-tool-9a2b-private"
JSON = {"Content-Type": "application/json"}


def _token_file(tmp_path: Path, name: str, token: str) -> str:
    path = tmp_path / name
    path.write_text(token + "\n")
    os.chmod(path, 0o600)
    return f"file:{path}"


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **JSON}


@asynccontextmanager
async def running(
    store: Store, inbound: InboundSettings, hook: list[SignalOutcome] | None = None
) -> AsyncIterator[tuple[Engine, str]]:
    """An engine with its receiver on a free loopback port; yields it and the receiver's URL."""
    no_keyring = SecretStore(fail.Keyring(), redactor=Redactor())
    engine = Engine(
        store,
        SystemClock(),
        secrets=no_keyring,
        receiver_port=0,
        inbound=inbound,
        on_incident=None if hook is None else hook.append,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    await asyncio.wait_for(engine.ready.wait(), 10)
    assert engine.receiver_url is not None
    try:
        yield engine, engine.receiver_url
        assert not task.done(), "the engine stopped"
    finally:
        stop.set()
        await task


def _alert(**fields: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "title": "Disk almost full on db-1",
        "severity": "critical",
        "status": "firing",
        "service": SERVICE,
        "labels": {"host": "db-1"},
        "summary": "93% used",
        "fingerprint": "db-1-disk",
    }
    alert.update(fields)
    return {k: v for k, v in alert.items() if v is not None}


def _all(store: Store) -> list[Incident]:
    return incidents.list_incidents(store.read(), states=list(IncidentState))


def test_a_generic_alert_opens_updates_and_resolves_its_incident(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    inbound = InboundSettings(credentials=(_token_file(tmp_path, "t", TOKEN),))
    notified: list[SignalOutcome] = []

    async def scenario() -> list[tuple[int, dict[str, Any]]]:
        answers = []
        async with running(store, inbound, notified) as (_, url), aiohttp.ClientSession() as http:
            for body in (
                {"alerts": [_alert()]},
                {"alerts": [_alert(severity="warning")]},  # a repeat, less severe
                {"alerts": [_alert(status="resolved")]},
            ):
                async with http.post(f"{url}/alerts/generic", json=body, headers=_auth()) as r:
                    answers.append((r.status, await r.json()))
        return answers

    answers = asyncio.run(scenario())
    assert answers == [
        (200, {"alerts": 1, "firing": 1, "resolved": 0, "opened": 1, "updated": 0, "closed": 0}),
        (200, {"alerts": 1, "firing": 1, "resolved": 0, "opened": 0, "updated": 1, "closed": 0}),
        (200, {"alerts": 1, "firing": 0, "resolved": 1, "opened": 0, "updated": 0, "closed": 1}),
    ]
    (incident,) = _all(store)
    assert incident.source is SignalSource.ALERT
    assert incident.dedup_key == "alert:db-1-disk"
    assert incident.title == "Disk almost full on db-1" and incident.summary == "93% used"
    assert incident.service == SERVICE and incident.team == "ops"
    assert dict(incident.labels)["host"] == "db-1"
    assert incident.count == 2
    assert incident.state is IncidentState.RESOLVED
    assert incident.resolve_reason is ResolveReason.AUTO
    # Notified once: the repeat was not worse.
    assert [o.incident.id for o in notified] == [incident.id]


def test_without_a_fingerprint_the_severity_does_not_split_the_incident(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    inbound = InboundSettings(credentials=(_token_file(tmp_path, "t", TOKEN),))

    async def scenario() -> None:
        async with running(store, inbound) as (_, url), aiohttp.ClientSession() as http:
            for severity in ("warning", "page", "nonsense"):
                body = {"alerts": [_alert(fingerprint=None, severity=severity)]}
                async with http.post(f"{url}/alerts/generic", json=body, headers=_auth()) as r:
                    assert r.status == 200, await r.text()

    asyncio.run(scenario())
    (incident,) = _all(store)
    assert incident.dedup_key.startswith("alert:generic:")
    assert incident.count == 3
    # page is critical; an unknown word takes the configured default (warning)
    assert incident.severity is Severity.WARNING


def _bad_requests(url: str) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    good = json.dumps({"alerts": [_alert()]}).encode()
    am = {"version": "4", "status": "firing", "alerts": []}
    blank = {"status": "firing", "labels": {"alertname": " "}, "startsAt": "2026-05-04T09:00:00Z"}

    def dumps(value: object) -> bytes:
        return json.dumps(value).encode()

    return [
        ("no token", "/alerts/generic", JSON, good),
        ("wrong token", "/alerts/generic", _auth("nope"), good),
        ("basic auth", "/alerts/generic", {"Authorization": "Basic eDp5", **JSON}, good),
        ("text", "/alerts/generic", {**_auth(), "Content-Type": "text/plain"}, good),
        ("huge", "/alerts/generic", _auth(), b" " * (MAX_BODY_BYTES + 1)),
        ("malformed", "/alerts/generic", _auth(), b'{"alerts": [{"title": '),
        ("not utf-8", "/alerts/generic", _auth(), b'{"alerts": "\xff"}'),
        ("a list", "/alerts/generic", _auth(), dumps([_alert()])),
        ("unknown top field", "/alerts/generic", _auth(), dumps({"alerts": [], "x": 1})),
        ("unknown alert field", "/alerts/generic", _auth(), dumps({"alerts": [_alert(url="u")]})),
        ("wrong type", "/alerts/generic", _auth(), dumps({"alerts": [_alert(labels={"a": 1})]})),
        ("missing title", "/alerts/generic", _auth(), dumps({"alerts": [_alert(title=None)]})),
        ("bad time", "/alerts/generic", _auth(), dumps({"alerts": [_alert(starts_at="today")]})),
        ("unknown status", "/alerts/generic", _auth(), dumps({"alerts": [_alert(status="open")]})),
        ("no alerts", "/alerts/generic", _auth(), dumps({"alerts": []})),
        ("empty title", "/alerts/generic", _auth(), dumps({"alerts": [_alert(title="  ")]})),
        ("both keys", "/alerts/generic", _auth(), dumps({"alerts": [_alert(dedup_key="k")]})),
        ("am version", "/alerts/alertmanager", _auth(), dumps({**am, "version": "5"})),
        ("am no alerts", "/alerts/alertmanager", _auth(), dumps(am)),
        (
            "am labels",
            "/alerts/alertmanager",
            _auth(),
            dumps({**am, "alerts": [{"status": "firing"}]}),
        ),
        ("am blank name", "/alerts/alertmanager", _auth(), dumps({**am, "alerts": [blank]})),
    ]


EXPECTED = {
    "no token": (401, "bearer token required"),
    "wrong token": (401, "wrong token"),
    "basic auth": (401, "bearer token required"),
    "text": (415, "send Content-Type: application/json"),
    "huge": (413, "body over the 64 KiB limit"),
    "malformed": (400, "malformed JSON: Expecting value: line 1 column 23 (char 22)"),
    "not utf-8": (
        400,
        "malformed JSON: 'utf-8' codec can't decode byte 0xff in position 12: invalid start byte",
    ),
    "a list": (400, "payload must be a JSON object"),
    "unknown top field": (400, "payload: unknown field 'x' (only 'alerts')"),
    "unknown alert field": (400, "alerts[0]: unknown field 'url'"),
    "wrong type": (400, "alerts[0].labels must be an object of string values"),
    "missing title": (400, "alerts[0].title is missing"),
    "bad time": (400, "alerts[0].starts_at is not an RFC 3339 time: 'today'"),
    "unknown status": (422, "alerts[0].status: unknown status 'open' (firing or resolved)"),
    "no alerts": (422, "payload.alerts holds no alert"),
    "empty title": (422, "alerts[0].title must not be empty"),
    "both keys": (422, "alerts[0]: give fingerprint or dedup_key, not both"),
    "am version": (422, "unsupported webhook version '5' (version 4 is understood)"),
    "am no alerts": (422, "payload.alerts holds no alert"),
    "am labels": (400, "alerts[0].labels is missing"),
    "am blank name": (422, "not an alert: title: must not be empty"),
}


def test_bad_requests_are_refused_with_their_reason_and_nothing_stored_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(tmp_path / "s.db")
    report = ManualReport("Payments page is blank", "service desk", service=SERVICE)
    incidents.create_manual(store, report)
    before = _all(store)
    inbound = InboundSettings(credentials=(_token_file(tmp_path, "t", TOKEN),))

    async def scenario() -> tuple[dict[str, tuple[int, str]], int, int]:
        answers: dict[str, tuple[int, str]] = {}
        async with running(store, inbound) as (engine, url), aiohttp.ClientSession() as http:
            for name, path, headers, body in _bad_requests(url):
                async with http.post(f"{url}{path}", data=body, headers=headers) as resp:
                    answers[name] = (resp.status, (await resp.text()).strip())

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(3):
                    yield b" " * MAX_BODY_BYTES

            async with http.post(f"{url}/alerts/generic", data=chunks(), headers=_auth()) as resp:
                answers["huge chunked"] = (resp.status, (await resp.text()).strip())
            # Still serving: a good request after all of it is stored.
            body = {"alerts": [_alert()]}
            async with http.post(f"{url}/alerts/generic", json=body, headers=_auth()) as resp:
                good = resp.status
            assert engine.alerts is not None
            refused = sum(n for status, n in engine.alerts.answers.items() if status >= 400)
        return answers, good, refused

    with caplog.at_level(logging.WARNING, logger="console.engine.alerts"):
        answers, good, refused = asyncio.run(scenario())
    assert answers == {**EXPECTED, "huge chunked": (413, "body over the 64 KiB limit")}
    logged = [r.getMessage() for r in caplog.records if r.name == "console.engine.alerts"]
    for status, reason in EXPECTED.values():
        assert any(f"refused with {status}: {reason}" in line for line in logged), reason
    assert good == 200
    assert refused == len(answers)
    after = {i.id: i for i in _all(store)}
    assert all(after[i.id] == i for i in before)  # untouched
    assert len(after) == len(before) + 1


def test_a_flood_is_held_to_the_rate_limit_per_token_with_retry_after(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    incidents.create_manual(store, ManualReport("Printer on fire", "reception"))
    before = _all(store)
    inbound = InboundSettings(
        credentials=(
            _token_file(tmp_path, "noc", TOKEN),
            _token_file(tmp_path, "soc", OTHER_TOKEN),
        ),
        rate_per_s=5.0,
        burst=10,
    )
    sent = 60

    async def scenario() -> tuple[list[tuple[int, str | None]], int, int]:
        async with running(store, inbound) as (_, url), aiohttp.ClientSession() as http:

            async def post(n: int, token: str) -> tuple[int, str | None]:
                body = {"alerts": [_alert(fingerprint=f"flood-{n}")]}
                async with http.post(
                    f"{url}/alerts/generic", json=body, headers=_auth(token)
                ) as resp:
                    return resp.status, resp.headers.get("Retry-After")

            flood = await asyncio.gather(*(post(n, TOKEN) for n in range(sent)))
            other, _ = await post(1000, OTHER_TOKEN)  # another token has its own bucket
            wait = max(int(r) for s, r in flood if s == 429 and r is not None)
            await asyncio.sleep(wait)
            later, _ = await post(2000, TOKEN)
        return flood, other, later

    flood, other, later = asyncio.run(scenario())
    accepted = [s for s, _ in flood if s == 200]
    throttled = [(s, r) for s, r in flood if s == 429]
    assert len(accepted) + len(throttled) == sent
    assert 10 <= len(accepted) <= 15, len(accepted)  # the burst, and what refilled meanwhile
    assert all(r is not None and int(r) >= 1 for _, r in throttled)
    assert other == 200 and later == 200
    stored = {i.dedup_key for i in _all(store)} - {i.dedup_key for i in before}
    # Exactly the accepted alerts were stored; the manual report is untouched.
    assert len(stored) == len(accepted) + 2
    assert all(i in _all(store) for i in before)


def test_without_a_readable_token_the_routes_answer_503(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    inbound = InboundSettings()  # the keyring entry, and there is no keyring

    async def scenario() -> tuple[int, str]:
        async with running(store, inbound) as (_, url), aiohttp.ClientSession() as http:
            body = {"alerts": [_alert()]}
            async with http.post(f"{url}/alerts/generic", json=body, headers=_auth()) as resp:
                return resp.status, (await resp.text()).strip()

    assert asyncio.run(scenario()) == (503, "the receiver's alert token cannot be read now")
    assert _all(store) == []
