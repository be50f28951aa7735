"""A real engine process SIGKILLed at random points of an escalation, restarted each time.

The store holds one incident whose policy pages Ana at once, Bob and Cat three seconds later
and Dan three seconds after that, by email through a real SMTP server (aiosmtpd, on loopback,
in a thread of this test) that counts what arrives. The engine (``oncall-console engine``) is
killed with SIGKILL three times at random moments, then left to finish. Afterwards:

* every step was delivered: each member's page arrived, with the Message-ID of its key;
* no level was started twice or skipped (one ``escalation.level_started`` per level);
* a page arrived more than once only if the timeline marks an attempt of its key ``unknown``
  (killed between sending and recording), and its copies carry the same Message-ID.

The kill moments come from a seed printed on failure, so a failing run can be replayed.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP
from console.core.enums import Discipline, ImpactTier, MemberRole, Severity
from console.core.escalation import Level, Policy, Target, TargetKind
from console.core.events import EventType
from console.core.models import Member, Membership, Service, Team
from console.core.notices import DeliveryConfig, SmtpConfig, SmtpSecurity, message_id
from console.core.signals import ManualReport
from console.store import delivery, entities, incidents
from console.store.db import Store
from console.store.events import iter_events

from tests.unit.delivery.servers import MailServer

pytestmark = pytest.mark.slow

ANA, BOB, CAT, DAN = (f"{n}@example.com" for n in ("ana", "bob", "cat", "dan"))
SECOND = timedelta(seconds=1)
POLICY = Policy(
    "payments",
    "Payments",
    (
        Level(0 * SECOND, (Target(TargetKind.MEMBER, ANA),)),
        Level(3 * SECOND, (Target(TargetKind.MEMBER, BOB), Target(TargetKind.MEMBER, CAT))),
        Level(3 * SECOND, (Target(TargetKind.MEMBER, DAN),)),
    ),
    services=("payments",),
)
READY = re.compile(r"engine running on")


@contextmanager
def mail_server() -> Iterator[MailServer]:
    """Aiosmtpd on 127.0.0.1 in a thread of its own (the engine is another process)."""
    seen = MailServer()
    loop = asyncio.new_event_loop()
    sessions: list[SMTP] = []

    def protocol() -> SMTP:
        sessions.append(SMTP(seen, hostname="mx.test"))
        return sessions[-1]

    async def serve() -> asyncio.Server:
        server = await loop.create_server(protocol, "127.0.0.1", 0)
        seen.port = server.sockets[0].getsockname()[1]
        return server

    async def close(server: asyncio.Server) -> None:
        server.close()
        await server.wait_closed()
        handlers = [t for s in sessions if (t := s._handler_coroutine) is not None]
        if handlers:
            await asyncio.wait(handlers, timeout=5)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(timeout=10)
    try:
        yield seen
    finally:
        asyncio.run_coroutine_threadsafe(close(server), loop).result(timeout=15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def prepare(path: Path, smtp_port: int) -> str:
    with Store.open(path) as store:
        for email in (ANA, BOB, CAT, DAN):
            entities.save(store, Member(email, email[:3].title(), "UTC", Discipline.INFRASTRUCTURE))
        members = tuple(Membership(e, MemberRole.RESPONDER) for e in (ANA, BOB, CAT, DAN))
        entities.save(store, Team("ops", "Ops", Discipline.INFRASTRUCTURE, members=members))
        entities.save(store, Service("payments", "Payments", "ops", ImpactTier.TIER_1))
        entities.save(store, POLICY)
        smtp = SmtpConfig("127.0.0.1", smtp_port, SmtpSecurity.NONE, "oncall@example.com")
        delivery.set_config(store, DeliveryConfig(smtp))
        report = ManualReport(
            "Payments down", "test", service="payments", severity=Severity.CRITICAL
        )
        opened = incidents.create_manual(store, report).incident
        assert opened is not None
        return opened.id


def start_engine(path: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "console", "--db", str(path), "engine", "--port", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=out,
        )  # fmt: skip


def wait_ready(log: Path, runs: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(READY.findall(log.read_text(errors="replace"))) >= runs:
            return
        assert proc.poll() is None, log.read_text(errors="replace")
        time.sleep(0.05)
    raise AssertionError(f"the engine did not start: {log.read_text(errors='replace')}")


def test_a_killed_engine_delivers_every_step_once_or_resends_with_the_same_id(
    tmp_path: Path,
) -> None:
    seed = int(os.environ.get("KILL_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    env = dict(os.environ)
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    path, log = tmp_path / "store.db", tmp_path / "engine.log"
    expected = {f"{{id}}/0/0/{ANA}", f"{{id}}/1/0/{BOB}", f"{{id}}/1/0/{CAT}", f"{{id}}/2/0/{DAN}"}
    with mail_server() as mail:
        incident = prepare(path, mail.port)
        keys = {k.format(id=incident) for k in expected}
        kills = [rng.uniform(0.2, 3.5) for _ in range(3)]
        for run, delay in enumerate(kills, start=1):
            proc = start_engine(path, env, log)
            wait_ready(log, run, proc)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        proc = start_engine(path, env, log)
        try:
            wait_ready(log, len(kills) + 1, proc)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = {str(m.message["X-Oncall-Idempotency-Key"]).strip() for m in mail.messages}
                if keys <= got:
                    break
                time.sleep(0.1)
            time.sleep(1.5)  # let the last outcomes be recorded
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log.read_text(errors="replace")
        arrived = Counter(str(m.message["X-Oncall-Idempotency-Key"]).strip() for m in mail.messages)
        ids = {str(m.message["X-Oncall-Idempotency-Key"]).strip(): set() for m in mail.messages}  # type: dict[str, set[str]]
        for m in mail.messages:
            ids[str(m.message["X-Oncall-Idempotency-Key"]).strip()].add(
                str(m.message["Message-ID"])
            )
    context = f"seed {seed} (KILL_SEED={seed} replays it), kills after {kills}, arrived {arrived}"
    assert set(arrived) == keys, context
    for key, found in ids.items():
        assert found == {message_id(key, "example.com")}, context
    with Store.open(path) as store:
        timeline = list(iter_events(store.read(), subject=f"incident:{incident}"))
    levels = [
        (e.payload["level"], e.payload["repeat"])
        for e in timeline
        if e.type is EventType.ESCALATION_LEVEL_STARTED
    ]
    assert levels == [(0, 0), (1, 0), (2, 0)], context
    unknown = {
        e.payload["key"]
        for e in timeline
        if e.type is EventType.NOTIFICATION_ISSUED and e.payload["status"] == "unknown"
    }
    for key, count in arrived.items():
        if count > 1:
            assert key in unknown, f"{key} arrived {count} times unmarked; {context}"
    settled = {
        e.payload["key"]
        for e in timeline
        if e.type is EventType.NOTIFICATION_ISSUED and e.payload["status"] == "sent"
    }
    assert settled == keys, context
