"""deliver(): transient failures retried with backoff, permanent ones never, every try told."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from console.core.notices import Notice
from console.delivery.outcome import DeliveryStatus, Outcome, permanent, sent, transient
from console.delivery.retry import deliver

from tests.unit.delivery.servers import notice


class Script:
    """A channel whose attempts answer in turn from a list, keeping what it was sent."""

    def __init__(self, answers: Sequence[Outcome]) -> None:
        self.answers = list(answers)
        self.sent: list[Notice] = []

    async def send(self, item: Notice) -> Outcome:
        self.sent.append(item)
        return self.answers[len(self.sent) - 1]


def run(script: Script, **options: object) -> tuple[Outcome, list[float], list[tuple[int, str]]]:
    waits: list[float] = []
    told: list[tuple[int, str]] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    outcome = asyncio.run(
        deliver(
            script.send,
            notice(),
            sleep=fake_sleep,
            on_attempt=lambda n, o: told.append((n, o.status.value)),
            **options,  # type: ignore[arg-type]
        )
    )
    return outcome, waits, told


def test_a_first_success_sends_once_and_never_waits() -> None:
    script = Script([sent("ok")])
    outcome, waits, told = run(script)
    assert outcome == sent("ok") and waits == [] and told == [(1, "sent")]


def test_transient_failures_back_off_then_succeed_with_the_same_notice() -> None:
    script = Script([transient("503"), transient("timeout"), sent("ok")])
    outcome, waits, told = run(script)
    assert outcome.sent
    assert waits == [2.0, 10.0]
    assert told == [(1, "retry"), (2, "retry"), (3, "sent")]
    assert len({n.key for n in script.sent}) == 1


def test_a_permanent_failure_stops_at_once() -> None:
    script = Script([transient("503"), permanent("404 not found"), sent("never")])
    outcome, waits, told = run(script)
    assert (outcome.status, outcome.permanent, outcome.detail) == (
        DeliveryStatus.FAILED,
        True,
        "404 not found",
    )
    assert waits == [2.0] and len(script.sent) == 2


def test_running_out_of_attempts_fails_without_claiming_permanence() -> None:
    script = Script([transient(f"503 #{i}") for i in range(6)])
    outcome, waits, told = run(script, attempts=6, backoff=(1, 5))
    assert (outcome.status, outcome.permanent) == (DeliveryStatus.FAILED, False)
    assert outcome.detail == "503 #5 (gave up after 6 attempts)"
    assert waits == [1.0, 5.0, 5.0, 5.0, 5.0]  # the last backoff repeats
    assert [n for n, _ in told] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("attempts", [0, 1])
def test_at_least_one_attempt_is_made(attempts: int) -> None:
    script = Script([transient("503")])
    outcome, waits, _ = run(script, attempts=attempts)
    assert len(script.sent) == 1 and waits == []
    assert outcome.detail == "503 (gave up after 1 attempt)"
