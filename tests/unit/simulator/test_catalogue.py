"""The simulated estate mirrors the demo estate's services and exposes each series once."""

from __future__ import annotations

from console.config.demo import demo_estate
from console.simulator.catalogue import DEMO_CATALOGUE, Metric, SeriesKey
from console.simulator.model import EstateModel


def test_services_and_dependencies_are_the_demo_estates() -> None:
    declared = {service.key: service for service in demo_estate().services}
    simulated = {profile.id: profile for profile in DEMO_CATALOGUE.services}
    assert simulated.keys() == declared.keys()
    for key, profile in simulated.items():
        assert set(profile.depends_on) == set(declared[key].depends_on), key
    owners = {queue.service for queue in DEMO_CATALOGUE.queues}
    owners |= {disk.service for disk in DEMO_CATALOGUE.disks}
    assert owners <= declared.keys()


def test_every_service_has_errors_and_cpu_and_http_services_have_latency() -> None:
    keys = EstateModel().series()
    assert len({key.ident for key in keys}) == len(keys)
    for profile in DEMO_CATALOGUE.services:
        assert SeriesKey(Metric.ERROR_RATIO, profile.id) in keys
        assert SeriesKey(Metric.CPU, profile.id) in keys
        has_latency = SeriesKey(Metric.LATENCY_P95, profile.id) in keys
        assert has_latency == (profile.latency_ms is not None)
    queues = [key for key in keys if key.metric is Metric.QUEUE_DEPTH]
    disks = [key for key in keys if key.metric is Metric.DISK_USED]
    assert {key.labels["group"] for key in queues} == {q.group for q in DEMO_CATALOGUE.queues}
    assert {key.labels["host"] for key in disks} == {d.host for d in DEMO_CATALOGUE.disks}
    assert 50 <= len(keys) <= 70


def test_series_key_text_form() -> None:
    key = SeriesKey(Metric.DISK_USED, "postgres-main", (("host", "pg-main-1"), ("mount", "/d")))
    assert key.ident == (
        'demo_disk_used_percent{service="postgres-main",host="pg-main-1",mount="/d"}'
    )
    assert key.labels == {"service": "postgres-main", "host": "pg-main-1", "mount": "/d"}
