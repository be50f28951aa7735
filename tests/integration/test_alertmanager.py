"""Debian's Alertmanager posting real webhooks to the engine's receiver; recorded payloads parsed.

The fixtures under ``tests/fixtures/alertmanager/`` are webhooks Alertmanager 0.25.0 sent (see
the README there): a group firing, one of its alerts resolved while the other fires, and the
last one resolved.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from console.core.clock import SystemClock
from console.core.enums import Severity
from console.core.incidents import Incident, IncidentState, ResolveReason
from console.core.signals import SignalSource
from console.engine.alert_formats import AlertStatus, parse_alertmanager
from console.engine.alerts import InboundSettings
from console.engine.incidents import ClearSignal, OpenSignal
from console.engine.runtime import Engine
from console.secrets import Redactor, SecretStore
from console.store import incidents
from console.store.db import Store
from keyring.backends import fail

from tests.unit.engine.support import SERVICE, open_store, until

FIXTURES = Path(__file__).parent.parent / "fixtures" / "alertmanager"
ALERTMANAGER = shutil.which("prometheus-alertmanager")
TOKEN = "am-webhook-3c7d-private"
CRITICAL_FP, WARNING_FP = "d0bf172757b08f46", "bb3eb847facfb32e"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def test_the_recorded_firing_webhook_parses_into_two_signals() -> None:
    batch = parse_alertmanager(_fixture("firing.json"))
    assert [a.status for a in batch.alerts] == [AlertStatus.FIRING, AlertStatus.FIRING]
    assert batch.truncated == 0 and batch.group_key == '{}:{alertname="DiskAlmostFull"}'
    first = batch.alerts[0]
    assert dict(first.labels) == {
        "alertname": "DiskAlmostFull",
        "instance": "db-1:9100",
        "service": "web",
        "severity": "critical",
    }
    assert first.fingerprint == CRITICAL_FP
    assert first.starts_at == datetime(2026, 11, 28, 4, 52, 28, 740573, tzinfo=UTC)
    assert first.ends_at is None  # Go's zero time
    now = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    ops = batch.ops(now, Severity.INFO)
    assert all(isinstance(op, OpenSignal) for op in ops)
    signals = [op.signal for op in ops if isinstance(op, OpenSignal)]
    assert [s.dedup_key for s in signals] == [f"alert:{CRITICAL_FP}", f"alert:{WARNING_FP}"]
    assert [s.severity for s in signals] == [Severity.CRITICAL, Severity.WARNING]
    assert [s.title for s in signals] == ["Disk almost full on db-1", "Disk filling on db-2"]
    assert signals[0].summary == (
        "/var is 93% full\n"
        "Source: http://prometheus.example:9090/graph?g0.expr=disk_used_ratio+%3E+0.9"
    )
    assert signals[0].started_at == first.starts_at and signals[0].service == "web"
    assert all(s.source is SignalSource.ALERT for s in signals)


def test_the_recorded_resolved_webhooks_clear_what_they_resolve() -> None:
    now = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)
    partly = parse_alertmanager(_fixture("one_resolved.json"))
    assert [a.status for a in partly.alerts] == [AlertStatus.RESOLVED, AlertStatus.FIRING]
    assert partly.alerts[0].ends_at == datetime(2026, 11, 28, 4, 55, 28, 344252, tzinfo=UTC)
    clear, still = partly.ops(now, Severity.WARNING)
    assert clear == ClearSignal(f"alert:{CRITICAL_FP}")
    assert isinstance(still, OpenSignal) and still.signal.dedup_key == f"alert:{WARNING_FP}"
    done = parse_alertmanager(_fixture("resolved.json"))
    assert done.ops(now, Severity.WARNING) == [ClearSignal(f"alert:{WARNING_FP}")]


def _token_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.token"
    path.write_text(TOKEN + "\n")
    os.chmod(path, 0o600)
    return path


@asynccontextmanager
async def _engine(store: Store, token_file: Path) -> AsyncIterator[str]:
    inbound = InboundSettings(credentials=(f"file:{token_file}",))
    engine = Engine(
        store,
        SystemClock(),
        secrets=SecretStore(fail.Keyring(), redactor=Redactor()),
        receiver_port=0,
        inbound=inbound,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    await asyncio.wait_for(engine.ready.wait(), 10)
    assert engine.receiver_url is not None
    try:
        yield engine.receiver_url
        assert not task.done(), "the engine stopped"
    finally:
        stop.set()
        await task


def _by_key(store: Store) -> dict[str, Incident]:
    found = incidents.list_incidents(store.read(), states=list(IncidentState))
    return {i.dedup_key: i for i in found}


def test_the_recorded_webhooks_replayed_to_the_receiver_open_and_resolve(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    token_file = _token_file(tmp_path)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}

    async def scenario() -> list[int]:
        statuses = []
        async with _engine(store, token_file) as url, aiohttp.ClientSession() as http:
            for name in ("firing.json", "one_resolved.json", "resolved.json"):
                data = (FIXTURES / name).read_bytes()
                async with http.post(f"{url}/alerts/alertmanager", data=data, headers=headers) as r:
                    statuses.append(r.status)
        return statuses

    assert asyncio.run(scenario()) == [200, 200, 200]
    found = _by_key(store)
    assert set(found) == {f"alert:{CRITICAL_FP}", f"alert:{WARNING_FP}"}
    critical, warning = found[f"alert:{CRITICAL_FP}"], found[f"alert:{WARNING_FP}"]
    assert critical.severity is Severity.CRITICAL and warning.severity is Severity.WARNING
    assert critical.count == 1 and warning.count == 2  # re-sent with the partly resolved group
    assert critical.state is warning.state is IncidentState.RESOLVED
    assert critical.started_at == datetime(2026, 11, 28, 4, 52, 28, 740573, tzinfo=UTC)


# -- a real Alertmanager ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _alertmanager(tmp_path: Path, receiver_url: str, token_file: Path) -> Iterator[str]:
    assert ALERTMANAGER is not None
    port = _free_port()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""\
route:
  receiver: console
  group_by: ['alertname']
  group_wait: 100ms
  group_interval: 300ms
  repeat_interval: 1h
receivers:
- name: console
  webhook_configs:
  - url: {receiver_url}/alerts/alertmanager
    send_resolved: true
    http_config:
      authorization:
        type: Bearer
        credentials_file: {token_file}
"""
    )
    log = (tmp_path / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip: one instance, no port of its own
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def _ready(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(150):
        try:
            async with http.get(f"{base}/-/ready") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("Alertmanager did not become ready")


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.skipif(ALERTMANAGER is None, reason="prometheus-alertmanager is not installed")
def test_alertmanager_webhooks_open_and_resolve_an_incident(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    token_file = _token_file(tmp_path)
    started = datetime.now(UTC).replace(microsecond=250000) - timedelta(minutes=2)
    alert: dict[str, Any] = {
        "labels": {
            "alertname": "ApiErrors",
            "severity": "critical",
            "service": SERVICE,
            "instance": "api-1:8080",
        },
        "annotations": {"summary": "API errors above 5%", "description": "7.2% of requests fail"},
        "startsAt": _iso(started),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=api_errors",
    }

    async def scenario() -> str:
        async with _engine(store, token_file) as url, aiohttp.ClientSession() as http:
            with _alertmanager(tmp_path, url, token_file) as am:
                await _ready(http, am)
                async with http.post(f"{am}/api/v2/alerts", json=[alert]) as resp:
                    assert resp.status == 200, await resp.text()
                async with http.get(f"{am}/api/v2/alerts") as resp:
                    (known,) = await resp.json()
                key = f"alert:{known['fingerprint']}"
                await until(lambda: key in _by_key(store), "the firing webhook's incident")
                opened = _by_key(store)[key]
                assert opened.state is IncidentState.TRIGGERED
                resolved = {**alert, "endsAt": _iso(datetime.now(UTC) - timedelta(seconds=1))}
                async with http.post(f"{am}/api/v2/alerts", json=[resolved]) as resp:
                    assert resp.status == 200, await resp.text()
                await until(
                    lambda: _by_key(store)[key].state is IncidentState.RESOLVED,
                    "the resolved webhook to resolve it",
                )
                return key

    key = asyncio.run(scenario())
    incident = _by_key(store)[key]
    assert len(key) == len("alert:") + 16  # Alertmanager's fingerprint
    assert incident.source is SignalSource.ALERT
    assert incident.title == "API errors above 5%"
    assert incident.severity is Severity.CRITICAL and incident.service == SERVICE
    assert dict(incident.labels) == alert["labels"]
    assert incident.started_at == started  # the alert's startsAt, not when it reached us
    assert incident.summary is not None and incident.summary.startswith("7.2% of requests fail")
    assert incident.resolve_reason is ResolveReason.AUTO
    assert incident.team == "ops"
