"""From a breaching probe result arriving in the real engine to the incident hook's call.

Run: ``.venv/bin/python tests/benchmarks/bench_notify_latency.py`` (not part of the test run;
about a minute; ``--markdown FILE`` also writes the table for the README).

The real ``Engine`` (system clock, scheduler, judges, recorder, writer thread, a store in a temp
dir) watches 300 endpoints checked every second; its probe is replaced by one that answers at
once, UP until the endpoint's breach time and DOWN after it. The default policy confirms a
problem on the third bad result in a row: that result is the breaching sample (the two before
it cannot notify anyone by design), and the clock starts when the probe hands it to the engine.
It stops when ``on_incident`` is called for the incident it opened (on the writer thread, after
the commit). Two schedules:

- spread: the 300 breaches spread evenly over 30 s (10 a second);
- storm: all 300 within the same second (a shared dependency going down).

Target (issue 6): p99 under 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))

from console.core.clock import SystemClock  # noqa: E402
from console.core.endpoints import Endpoint, TcpTarget  # noqa: E402
from console.core.enums import Discipline, ImpactTier  # noqa: E402
from console.core.incident_policy import SignalOutcome  # noqa: E402
from console.core.models import Service, Team  # noqa: E402
from console.engine.dispatch import Credential  # noqa: E402
from console.engine.runtime import Engine  # noqa: E402
from console.probes.base import ProbeOutcome, ProbeResult  # noqa: E402
from console.store import entities  # noqa: E402
from console.store.db import Store  # noqa: E402

CONFIRMING_RESULT = 3  # the default SoftHardPolicy.failures_to_hard
TARGET_P99_MS = 500.0
WARM_UP_S = 3.0


@dataclass
class Breaches:
    """When each endpoint breaches, when its confirming result arrived, when it was notified."""

    breach_at: dict[str, float]
    bad_results: dict[str, list[float]] = field(default_factory=dict)
    notified_at: dict[str, float] = field(default_factory=dict)

    async def probe(self, endpoint: Endpoint, credential: Credential | None) -> ProbeResult:
        """Answer at once: UP before the endpoint's breach time, DOWN after it."""
        now = time.monotonic()
        bad = now >= self.breach_at[endpoint.key]
        if bad:
            # Stamped as it is handed over: the engine judges it as soon as this returns.
            self.bad_results.setdefault(endpoint.key, []).append(time.monotonic())
        outcome = ProbeOutcome.DOWN if bad else ProbeOutcome.UP
        return ProbeResult(
            outcome, {"up": 0.0 if bad else 1.0}, outcome.value, SystemClock().now(), 0.0
        )

    def hook(self, outcome: SignalOutcome) -> None:
        """The incident hook: note when the endpoint's incident was announced."""
        at = time.monotonic()
        endpoint = outcome.incident.dedup_key.split("/")[1]
        self.notified_at.setdefault(endpoint, at)

    def latencies_ms(self) -> list[float]:
        """Confirming result -> hook, per notified endpoint."""
        out = []
        for key, notified in self.notified_at.items():
            results = self.bad_results.get(key, [])
            if len(results) >= CONFIRMING_RESULT:
                out.append((notified - results[CONFIRMING_RESULT - 1]) * 1000)
        return out


def _store(folder: Path, count: int) -> Store:
    store = Store.open(folder / "bench.db")
    entities.save(store, Team("ops", "Operations", Discipline.INFRASTRUCTURE))
    entities.save(store, Service("web", "Web shop", "ops", ImpactTier(1)))
    for i in range(count):
        key = f"api-{i:04d}"
        target = TcpTarget(f"10.0.{i // 250}.{i % 250 + 1}", 443)
        entities.save(store, Endpoint(key, f"API {i}", "web", target, interval_s=1.0))
    return store


async def _measure(store: Store, breaches: Breaches, last_breach: float) -> None:
    engine = Engine(
        store,
        SystemClock(),
        receiver_port=None,
        probe=breaches.probe,
        rng=random.Random(1),
        on_incident=breaches.hook,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    deadline = last_breach + CONFIRMING_RESULT + 10.0
    while len(breaches.notified_at) < len(breaches.breach_at) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    stop.set()
    await task


def run(name: str, count: int, spread_s: float) -> tuple[str, Breaches]:
    """One schedule: ``count`` breaches over ``spread_s`` seconds after a warm-up."""
    folder = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    store = _store(folder, count)
    start = time.monotonic() + WARM_UP_S
    step = spread_s / count
    breaches = Breaches({f"api-{i:04d}": start + i * step for i in range(count)})
    asyncio.run(_measure(store, breaches, start + spread_s))
    store.close()
    return name, breaches


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def table(results: list[tuple[str, Breaches]]) -> str:
    """A markdown table of the figures."""
    lines = [
        "| schedule | breaches | notified | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for name, b in results:
        lat = b.latencies_ms()
        lines.append(
            f"| {name} | {len(b.breach_at)} | {len(lat)} | {_percentile(lat, 0.5):.0f} | "
            f"{_percentile(lat, 0.99):.0f} | {max(lat, default=float('nan')):.0f} |"
        )
    return "\n".join(lines)


def main() -> int:
    """Run both schedules and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=300)
    parser.add_argument("--spread", type=float, default=30.0, help="seconds for the spread run")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    results = [
        run(f"spread over {args.spread:.0f} s", args.endpoints, args.spread),
        run("storm (1 s)", args.endpoints, 1.0),
    ]
    text = table(results)
    print(text)
    ok = all(
        len(b.latencies_ms()) == len(b.breach_at)
        and _percentile(b.latencies_ms(), 0.99) < TARGET_P99_MS
        for _, b in results
    )
    print("PASS" if ok else "FAIL", f"(every breach notified, p99 under {TARGET_P99_MS:.0f} ms)")
    if args.markdown is not None:
        args.markdown.write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
