"""What the simulated estate is made of: the demo services, their queues and disks, and series keys.

The ids mirror resources/demo/estate.yaml (a test keeps them in step). The simulator may not
import console.config, so the few facts it needs about each service are written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Metric(Enum):
    """The gauges the simulated estate exposes; the value is the Prometheus metric name."""

    LATENCY_P95 = "demo_http_request_latency_p95_ms"
    ERROR_RATIO = "demo_error_ratio"
    QUEUE_DEPTH = "demo_queue_depth_messages"
    DISK_USED = "demo_disk_used_percent"
    CPU = "demo_cpu_percent"

    @property
    def help(self) -> str:
        """One line for the exposition's HELP comment."""
        return _HELP[self]


_HELP = {
    Metric.LATENCY_P95: "95th percentile HTTP request latency over the last minute, milliseconds.",
    Metric.ERROR_RATIO: "Share of requests that failed over the last minute (0 to 1).",
    Metric.QUEUE_DEPTH: "Messages waiting for a Kafka consumer group (consumer lag).",
    Metric.DISK_USED: "Used space of a filesystem, percent.",
    Metric.CPU: "CPU use of the service's hosts, percent.",
}

REQUESTS_TOTAL = "demo_requests_total"


@dataclass(frozen=True, slots=True, order=True)
class SeriesKey:
    """One series: a metric and its labels (always a service, sometimes more).

    Attributes:
        metric: Which gauge.
        service: The owning service id (the ``service`` label).
        extra: Further labels as sorted (name, value) pairs, e.g. the host of a disk.
    """

    metric: Metric
    service: str
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The Prometheus metric name."""
        return self.metric.value

    @property
    def labels(self) -> dict[str, str]:
        """All labels, service first."""
        return {"service": self.service, **dict(self.extra)}

    @property
    def ident(self) -> str:
        """A stable text form, ``name{service="x",host="y"}``, also used to seed its noise."""
        inner = ",".join(f'{key}="{value}"' for key, value in self.labels.items())
        return f"{self.name}{{{inner}}}"

    def __str__(self) -> str:
        return self.ident


@dataclass(frozen=True, slots=True)
class ServiceProfile:
    """How one service behaves when nothing is wrong.

    Attributes:
        id: Service id as in the demo estate.
        latency_ms: Quiet-hours p95 latency, or None for a service without an HTTP front.
        error_ratio: Quiet-hours error ratio.
        cpu_percent: Quiet-hours CPU use.
        cpu_load: CPU points added at full load.
        peak_rps: Requests per second at the busiest hour.
        version: Major.minor of the deployed release; the patch level follows deploys.
        depends_on: Services whose outage shows up as errors here.
    """

    id: str
    latency_ms: float | None
    error_ratio: float
    cpu_percent: float
    cpu_load: float
    peak_rps: float
    version: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueProfile:
    """A Kafka consumer group, its topic and the service that consumes it."""

    service: str
    group: str
    topic: str
    depth: float


@dataclass(frozen=True, slots=True)
class DiskProfile:
    """A filesystem on a database or storage host."""

    service: str
    host: str
    mount: str
    used_percent: float


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Everything simulated: services, consumer groups and disks."""

    services: tuple[ServiceProfile, ...]
    queues: tuple[QueueProfile, ...]
    disks: tuple[DiskProfile, ...]

    def service(self, service_id: str) -> ServiceProfile:
        """The profile of one service.

        Raises:
            KeyError: If the estate has no such service.
        """
        for profile in self.services:
            if profile.id == service_id:
                return profile
        raise KeyError(service_id)

    def series(self) -> tuple[SeriesKey, ...]:
        """Every gauge series, in a stable order."""
        keys: list[SeriesKey] = []
        for svc in self.services:
            if svc.latency_ms is not None:
                keys.append(SeriesKey(Metric.LATENCY_P95, svc.id))
            keys.append(SeriesKey(Metric.ERROR_RATIO, svc.id))
            keys.append(SeriesKey(Metric.CPU, svc.id))
        keys.extend(queue_key(queue) for queue in self.queues)
        keys.extend(disk_key(disk) for disk in self.disks)
        return tuple(keys)

    def dependents(self, service_id: str) -> tuple[str, ...]:
        """Services that depend directly on service_id."""
        return tuple(svc.id for svc in self.services if service_id in svc.depends_on)


def queue_key(queue: QueueProfile) -> SeriesKey:
    """The depth series of a consumer group."""
    return SeriesKey(
        Metric.QUEUE_DEPTH, queue.service, (("group", queue.group), ("topic", queue.topic))
    )


def disk_key(disk: DiskProfile) -> SeriesKey:
    """The used-space series of a filesystem."""
    return SeriesKey(Metric.DISK_USED, disk.service, (("host", disk.host), ("mount", disk.mount)))


def _svc(
    service_id: str,
    latency: float | None,
    errors: float,
    cpu: tuple[float, float],
    rps: float,
    version: str,
    depends_on: tuple[str, ...] = (),
) -> ServiceProfile:
    return ServiceProfile(service_id, latency, errors, cpu[0], cpu[1], rps, version, depends_on)


DEMO_CATALOGUE = Catalogue(
    services=(
        _svc("edge-cdn", 38.0, 0.0008, (12.0, 30.0), 900.0, "2024.11"),
        _svc(
            "api-gateway", 85.0, 0.002, (18.0, 45.0), 420.0, "3.8", ("auth-service", "redis-cache")
        ),
        _svc(
            "auth-service",
            120.0,
            0.003,
            (15.0, 40.0),
            160.0,
            "5.2",
            ("postgres-main", "redis-cache"),
        ),
        _svc(
            "checkout-web",
            310.0,
            0.004,
            (14.0, 38.0),
            55.0,
            "12.4",
            ("edge-cdn", "api-gateway", "payments-api"),
        ),
        _svc(
            "payments-api",
            420.0,
            0.005,
            (20.0, 42.0),
            38.0,
            "7.1",
            ("auth-service", "ledger-service", "fraud-scoring", "postgres-main", "kafka-events"),
        ),
        _svc(
            "ledger-service",
            140.0,
            0.001,
            (16.0, 35.0),
            45.0,
            "4.6",
            ("postgres-main", "kafka-events"),
        ),
        _svc(
            "fraud-scoring",
            175.0,
            0.004,
            (22.0, 40.0),
            40.0,
            "2.9",
            ("redis-cache", "kafka-events"),
        ),
        _svc("postgres-main", None, 0.0005, (24.0, 46.0), 1400.0, "15.6"),
        _svc("kafka-events", None, 0.0003, (20.0, 35.0), 2600.0, "3.7"),
        _svc("redis-cache", None, 0.0002, (8.0, 22.0), 5200.0, "7.2"),
        _svc("notification-service", 260.0, 0.006, (10.0, 25.0), 22.0, "1.14", ("kafka-events",)),
        _svc("s3-backups", None, 0.001, (6.0, 10.0), 4.0, "1.3", ("postgres-main",)),
        _svc("siem-pipeline", 210.0, 0.002, (30.0, 30.0), 300.0, "8.11", ("kafka-events",)),
        _svc("monitoring-stack", 150.0, 0.001, (25.0, 15.0), 80.0, "2.53"),
        _svc("status-page", 60.0, 0.001, (4.0, 8.0), 6.0, "1.8", ("edge-cdn",)),
        _svc("docs-portal", 95.0, 0.002, (5.0, 10.0), 12.0, "6.0", ("edge-cdn",)),
    ),
    queues=(
        QueueProfile("ledger-service", "ledger-writer", "payments", 40.0),
        QueueProfile("fraud-scoring", "fraud-scorer", "payments", 60.0),
        QueueProfile("notification-service", "notifier", "orders", 150.0),
        QueueProfile("siem-pipeline", "siem-ingest", "audit", 400.0),
    ),
    disks=(
        DiskProfile("postgres-main", "pg-main-1", "/var/lib/postgresql", 61.0),
        DiskProfile("postgres-main", "pg-main-2", "/var/lib/postgresql", 58.0),
        DiskProfile("postgres-main", "pg-main-3", "/var/lib/postgresql", 57.0),
        DiskProfile("kafka-events", "kafka-1", "/var/lib/kafka", 64.0),
        DiskProfile("kafka-events", "kafka-2", "/var/lib/kafka", 66.0),
        DiskProfile("kafka-events", "kafka-3", "/var/lib/kafka", 63.0),
        DiskProfile("s3-backups", "backup-stage-1", "/srv/staging", 42.0),
        DiskProfile("siem-pipeline", "siem-store-1", "/var/lib/opensearch", 70.0),
        DiskProfile("monitoring-stack", "prom-1", "/var/lib/prometheus", 55.0),
    ),
)
