"""The estate served on a real loopback port: /metrics, /health, loopback only, clean shutdown."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime

import aiohttp
import pytest
from console.core.clock import FakeClock
from console.simulator.catalogue import Metric
from console.simulator.exposition import CONTENT_TYPE
from console.simulator.incidents import IncidentKind
from console.simulator.model import EstateModel, HealthStatus
from console.simulator.server import SimulatorError, start
from prometheus_client.parser import text_string_to_metric_families

from tests.unit.simulator.support import MONDAY, WEEK, run_async


def _clock_at(t: float) -> FakeClock:
    return FakeClock(datetime.fromtimestamp(t, UTC))


def _requests(text: str) -> dict[str, float]:
    return {
        sample.labels["service"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "demo_requests"
        for sample in family.samples
    }


def test_metrics_parse_and_the_counter_grows_between_scrapes() -> None:
    model = EstateModel()
    clock = _clock_at(MONDAY + 10 * 3600)

    async def scrape_twice() -> tuple[str, str, str, int]:
        running = await start(clock=clock, model=model)
        try:
            assert running.host == "127.0.0.1" and running.port > 0
            async with aiohttp.ClientSession() as session:
                async with session.get(running.metrics_url) as response:
                    content_type = response.headers["Content-Type"]
                    first = await response.text()
                clock.advance(600.0)
                async with session.get(running.metrics_url) as response:
                    second = await response.text()
                    status = response.status
        finally:
            await running.stop()
        return content_type, first, second, status

    content_type, first, second, status = run_async(scrape_twice())
    assert status == 200 and content_type == CONTENT_TYPE
    families = {family.name: family for family in text_string_to_metric_families(first)}
    assert families["demo_requests"].type == "counter"
    gauges = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in Metric
        for sample in families[metric.value].samples
    }
    t = MONDAY + 10 * 3600
    for key in model.series():
        assert gauges[(key.name, tuple(sorted(key.labels.items())))] == model.value_at(key, t)
    before, after = _requests(first), _requests(second)
    assert before.keys() == set(model.services())
    for service, total in before.items():
        assert after[service] > total
        expected = model.requests_total(service, t + 600) - model.requests_total(service, t)
        assert after[service] - total == pytest.approx(expected, rel=1e-6)


def _first_outage(model: EstateModel) -> tuple[str, float]:
    outage = next(
        incident
        for incident in model.incidents_between(MONDAY, MONDAY + WEEK)
        if incident.kind is IncidentKind.OUTAGE
    )
    return outage.service, outage.peak


def _healthy_other(model: EstateModel, down: str, t: float) -> str:
    return next(
        service
        for service in model.services()
        if service != down and model.health_at(service, t).status is HealthStatus.OK
    )


def test_health_is_503_during_a_scheduled_outage_and_200_otherwise() -> None:
    model = EstateModel()
    service, peak = _first_outage(model)
    healthy = _healthy_other(model, service, peak)
    clock = _clock_at(peak)

    async def check() -> list[tuple[int, dict[str, object]]]:
        answers = []
        running = await start(clock=clock, model=model)
        try:
            async with aiohttp.ClientSession() as session:
                for name in (service, healthy, "no-such-service"):
                    async with session.get(running.health_url(name)) as response:
                        answers.append((response.status, await response.json()))
        finally:
            await running.stop()
        return answers

    (down_code, down), (ok_code, ok), (missing_code, missing) = run_async(check())
    assert down_code == 503 and down["status"] == "down"
    assert ok_code == 200 and ok["status"] == "ok"
    assert isinstance(ok["latency_ms"], float) and ok["latency_ms"] > 0
    assert ok["version"] == model.version_at(healthy, peak)
    assert missing_code == 404 and "no-such-service" in str(missing["error"])


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "example.org"])
def test_only_loopback_addresses_are_accepted(host: str) -> None:
    with pytest.raises(SimulatorError, match="loopback"):
        run_async(start(host=host))


def test_localhost_binds_the_ipv4_loopback_and_a_taken_port_is_a_clear_error() -> None:
    async def twice() -> tuple[str, str]:
        running = await start(host="localhost", model=EstateModel())
        try:
            with pytest.raises(SimulatorError, match=f"port {running.port}") as refused:
                await start(port=running.port)
        finally:
            await running.stop()
        return running.host, str(refused.value)

    host, message = run_async(twice())
    assert host == "127.0.0.1"
    assert "cannot listen" in message


def test_serve_forever_runs_until_sigterm_and_exits_cleanly() -> None:
    script = (
        "from console.simulator.server import serve_forever\n"
        "serve_forever(0, on_ready=lambda running: print(running.url, flush=True))\n"
    )
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 30.0)
            assert ready, "the simulator did not report its address within 30 s"
            url = process.stdout.readline().decode().strip()
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(f"{url}/", timeout=10) as response:
                index = json.load(response)
            assert index["metrics"] == "/metrics"
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
        errors = process.stderr.read().decode()
    assert code == 0, errors
    assert errors == ""
