"""The receiver's alert route under 1,000 alerts a second for a minute, against a bare handler.

Run: ``.venv/bin/python tests/benchmarks/bench_alerts.py`` (not part of the test run; about
two and a half minutes; ``--seconds 10`` for a quick look, ``--markdown FILE`` also writes the
table for the README).

What runs, twice, with the same schedule and the same client:

- the server in its own process (its own core): either the real ``Engine`` (no endpoints, its
  receiver on a free loopback port, the default ``InboundSettings`` rate limit of 50 requests a
  second with bursts of 100, a token file, a store in a temp dir with one team and service) or
  a bare aiohttp handler that checks the same bearer token, parses the JSON and answers;
- the client in this process: Alertmanager webhook payloads (version 4) sent open-loop at the
  scheduled rate, each request carrying 1 to 50 alerts (uniformly drawn) of a pool of 5,000
  distinct alerts (each fingerprint is sent about a dozen times a minute: the receiver must
  deduplicate), one aiohttp session, at most 100 connections. A 429 is retried after its
  ``Retry-After`` as a well-behaved sender would (the count is reported: 0 expected).

Checked after the engine stopped, by opening its store: one incident per distinct fingerprint
sent, and the incidents' repeat counts adding up to every alert accepted (nothing lost, nothing
counted twice). Figures: requests, alerts/s achieved, request latency p50/p99/max (from the
moment the request was due to its answer, so a client or server falling behind shows) over
the whole run, after the first 20 s (when the 5,000 incidents have been opened and the
traffic is repeats) and per 10 s window; the server's CPU seconds, alerts per write
transaction, 429s and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TOKEN = "bench-alerts-token-7f1c"
POOL = 5_000
MAX_PER_REQUEST = 50
CONNECTIONS = 100
#: Most of the pool's incidents are opened in the first seconds (an open costs about five times
#: a repeat, and the backlog takes a few seconds more to clear); latency is also shown for the
#: requests due after this, and per window.
SETTLED_AFTER_S = 20.0
WINDOW_S = 10.0


# -- the servers (child processes) -------------------------------------------------------------


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _until_stdin_closes() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


async def _serve_engine(folder: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from console.core.clock import SystemClock
    from console.core.enums import Discipline, ImpactTier
    from console.core.models import Service, Team
    from console.engine.alerts import InboundSettings
    from console.engine.runtime import Engine
    from console.store import entities
    from console.store.db import Store

    store = Store.open(folder / "bench.db")
    entities.save(store, Team("ops", "Operations", Discipline.INFRASTRUCTURE))
    entities.save(store, Service("web", "Web shop", "ops", ImpactTier(2)))
    token = folder / "token"
    notified = [0]

    def hook(outcome: object) -> None:
        notified[0] += 1

    engine = Engine(
        store,
        SystemClock(),
        receiver_port=0,
        inbound=InboundSettings(credentials=(f"file:{token}",)),
        on_incident=hook,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    await engine.ready.wait()
    assert engine.receiver is not None and engine.receiver.port is not None
    print(json.dumps({"port": engine.receiver.port}), flush=True)
    cpu = _cpu()
    await _until_stdin_closes()
    used = _cpu() - cpu
    alerts = engine.alerts
    assert alerts is not None
    intake = alerts.intake
    stats = {
        "cpu_s": used,
        "answers": dict(alerts.answers),
        "transactions": intake.transactions,
        "written": intake.written,
        "notified_before_stop": notified[0],
    }
    stop.set()
    await task
    stats["notified"] = notified[0]
    return stats


async def _serve_bare() -> dict[str, Any]:
    from aiohttp import web

    answers: dict[int, int] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.Response(status=401)
        body = json.loads(await request.read())
        answers[200] = answers.get(200, 0) + 1
        return web.json_response({"alerts": len(body["alerts"])})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/alerts/alertmanager", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(json.dumps({"port": runner.addresses[0][1]}), flush=True)
    cpu = _cpu()
    await _until_stdin_closes()
    used = _cpu() - cpu
    await runner.cleanup()
    return {"cpu_s": used, "answers": answers}


def serve(mode: str, folder: Path) -> None:
    """The child process: serve until stdin closes, then print the server's figures."""
    stats = asyncio.run(_serve_engine(folder) if mode == "engine" else _serve_bare())
    print(json.dumps(stats), flush=True)


# -- the client ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planned:
    """One request: when it is due (s from the start), its body and the fingerprints in it."""

    due: float
    body: bytes
    fingerprints: tuple[str, ...]


def _alert(index: int, started: str) -> dict[str, Any]:
    host = f"host-{index:05d}:9100"
    return {
        "status": "firing",
        "labels": {
            "alertname": "HighLatency",
            "instance": host,
            "service": "web",
            "severity": "critical" if index % 5 == 0 else "warning",
        },
        "annotations": {"summary": f"p99 latency high on {host}"},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=latency_p99",
        "fingerprint": f"{index:016x}",
    }


def plan(seconds: int, rate: int, seed: int) -> list[Planned]:
    """``rate`` alerts a second for ``seconds``, in requests of 1..50, evenly spread."""
    rng = random.Random(seed)
    started = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    alerts = [_alert(i, started) for i in range(POOL)]
    out: list[Planned] = []
    for second in range(seconds):
        sizes: list[int] = []
        left = rate
        while left > 0:
            size = min(left, rng.randint(1, MAX_PER_REQUEST))
            sizes.append(size)
            left -= size
        for n, size in enumerate(sizes):
            chosen = rng.sample(range(POOL), size)
            payload = {
                "receiver": "console",
                "status": "firing",
                "alerts": [alerts[i] for i in chosen],
                "groupLabels": {"alertname": "HighLatency"},
                "commonLabels": {"alertname": "HighLatency", "service": "web"},
                "commonAnnotations": {},
                "externalURL": "http://alertmanager.example:9093",
                "version": "4",
                "groupKey": '{}:{alertname="HighLatency"}',
                "truncatedAlerts": 0,
            }
            body = json.dumps(payload).encode()
            fps = tuple(f"{i:016x}" for i in chosen)
            out.append(Planned(second + n / len(sizes), body, fps))
    return out


@dataclass(slots=True)
class Sent:
    """What the client saw."""

    latencies_ms: list[tuple[float, float]]  # (due s from the start, latency ms)
    accepted: dict[str, int]
    throttled: int = 0
    errors: int = 0
    alerts: int = 0
    wall_s: float = 0.0


async def send_all(port: int, planned: list[Planned]) -> Sent:
    """Send every request at its due time; retry 429s after Retry-After."""
    url = f"http://127.0.0.1:{port}/alerts/alertmanager"
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    sent = Sent([], {})
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=connector) as http:
        start = loop.time() + 0.2

        async def one(item: Planned) -> None:
            due = start + item.due
            await asyncio.sleep(max(0.0, due - loop.time()))
            while True:
                try:
                    async with http.post(url, data=item.body, headers=headers) as resp:
                        await resp.read()
                        status, retry = resp.status, resp.headers.get("Retry-After")
                except aiohttp.ClientError:
                    sent.errors += 1
                    return
                if status == 429:
                    sent.throttled += 1
                    await asyncio.sleep(float(retry or 1))
                    continue
                break
            sent.latencies_ms.append((item.due, (loop.time() - due) * 1000))
            if status != 200:
                sent.errors += 1
                return
            sent.alerts += len(item.fingerprints)
            for fp in item.fingerprints:
                sent.accepted[fp] = sent.accepted.get(fp, 0) + 1

        await asyncio.gather(*(one(p) for p in planned))
        sent.wall_s = loop.time() - start
    return sent


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def run(mode: str, planned: list[Planned]) -> tuple[Sent, dict[str, Any], Path]:
    """Start the server, send the schedule, stop the server; returns both sides' figures."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-alerts-{mode}-"))
    token = folder / "token"
    token.write_text(TOKEN + "\n")
    os.chmod(token, 0o600)
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode, "--folder", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdin is not None and child.stdout is not None
    port = int(json.loads(child.stdout.readline())["port"])
    sent = asyncio.run(send_all(port, planned))
    child.stdin.close()
    stats = json.loads(child.stdout.readline())
    child.wait(timeout=60)
    return sent, stats, folder


def check_store(folder: Path, sent: Sent) -> tuple[int, int, bool]:
    """(incidents, sum of their counts, whether both match what was accepted)."""
    sys.path.insert(0, str(ROOT))
    from console.core.incidents import IncidentState
    from console.store import incidents
    from console.store.db import Store

    with Store.open(folder / "bench.db") as store:
        found = incidents.list_incidents(store.read(), states=list(IncidentState))
    by_key = {i.dedup_key: i.count for i in found}
    expected = {f"alert:{fp}": n for fp, n in sent.accepted.items()}
    return len(found), sum(by_key.values()), by_key == expected


def _row(name: str, sent: Sent, stats: dict[str, Any], stored: str) -> list[str]:
    lat = [ms for _, ms in sent.latencies_ms]
    settled = [ms for due, ms in sent.latencies_ms if due >= SETTLED_AFTER_S] or lat
    return [
        name,
        str(len(lat)),
        f"{sent.alerts / sent.wall_s:,.0f}",
        f"{_percentile(lat, 0.5):.1f}",
        f"{_percentile(lat, 0.99):.1f}",
        f"{max(lat):.1f}",
        f"{_percentile(settled, 0.5):.1f} / {_percentile(settled, 0.99):.1f}",
        f"{stats['cpu_s']:.1f}",
        str(sent.throttled),
        str(sent.errors),
        stored,
    ]


def table(rows: list[list[str]]) -> str:
    """A markdown table."""
    head = [
        "server",
        "requests",
        "alerts/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        f"p50 / p99 ms after {SETTLED_AFTER_S:.0f} s",
        "server CPU s",
        "429s",
        "errors",
        "stored (incidents / repeats)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    """Run both servers with one schedule and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=1000, help="alerts a second")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--serve", choices=("engine", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.folder)
        return 0
    planned = plan(args.seconds, args.rate, args.seed)
    total = sum(len(p.fingerprints) for p in planned)
    print(
        f"{len(planned)} requests, {total} alerts over {args.seconds} s "
        f"({len({fp for p in planned for fp in p.fingerprints})} distinct)",
        flush=True,
    )
    rows = []
    bare, bare_stats, _ = run("bare", planned)
    rows.append(_row("bare aiohttp handler (parse only)", bare, bare_stats, "-"))
    time.sleep(1.0)
    sent, stats, folder = run("engine", planned)
    incidents, repeats, exact = check_store(folder, sent)
    verdict = f"{incidents:,} / {repeats:,} ({'exact' if exact else 'MISMATCH'})"
    rows.append(_row("engine receiver (stored)", sent, stats, verdict))
    text = table(rows)
    print(text)
    for name, got in (("bare", bare), ("engine", sent)):
        windows = [
            [ms for due, ms in got.latencies_ms if w <= due < w + WINDOW_S]
            for w in range(0, args.seconds, int(WINDOW_S))
        ]
        figures = ", ".join(f"{_percentile(w, 0.99):.0f}" for w in windows if w)
        print(f"{name}: p99 ms per {WINDOW_S:.0f} s window: {figures}")
    per_tx = stats["written"] / max(1, stats["transactions"])
    print(
        f"engine: {stats['transactions']} write transactions, {per_tx:.1f} alerts each; "
        f"answers {stats['answers']}; {stats['notified']} notify calls "
        f"(one per new incident); sent {sent.alerts} alerts, accepted by the engine "
        f"{sum(sent.accepted.values())}"
    )
    ok = exact and sent.throttled == 0 and sent.errors == 0 and sent.alerts == total
    print("PASS" if ok else "FAIL", "(every alert stored and deduplicated, none refused)")
    if args.markdown is not None:
        args.markdown.write_text(text + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
