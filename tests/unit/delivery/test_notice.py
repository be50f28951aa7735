"""Notices and deliveries as records: titles, urgency, the Notify arguments, failure text."""

from __future__ import annotations

import pytest
from console.core.enums import Priority
from console.delivery.desktop import Channel, Delivery, Failure, Notice, NoticeAction
from console.delivery.freedesktop import CloseReason, Popup, Urgency


def notice(priority: Priority, *, drill: bool = False) -> Notice:
    return Notice("id-1", "INC-12", "Checkout API down", "503s", priority, drill=drill)


@pytest.mark.parametrize(
    ("priority", "urgency", "critical"),
    [
        (Priority.P1, Urgency.CRITICAL, True),
        (Priority.P2, Urgency.CRITICAL, True),
        (Priority.P3, Urgency.NORMAL, False),
        (Priority.P4, Urgency.LOW, False),
        (Priority.P5, Urgency.LOW, False),
    ],
)
def test_urgency_follows_priority(priority: Priority, urgency: Urgency, critical: bool) -> None:
    assert (notice(priority).urgency, notice(priority).critical) == (urgency, critical)


def test_the_summary_names_number_priority_and_title_and_marks_drills() -> None:
    assert notice(Priority.P2).summary == "INC-12 P2: Checkout API down"
    assert notice(Priority.P2, drill=True).summary == "DRILL INC-12 P2: Checkout API down"


def test_action_keys_and_labels() -> None:
    assert [(a.value, a.label) for a in NoticeAction] == [
        ("ack", "Acknowledge"),
        ("open", "Open"),
    ]


def test_notify_arguments_carry_actions_hints_and_replaces_id() -> None:
    popup = Popup(
        "INC-12 P1: down",
        "body",
        (("ack", "Acknowledge"), ("open", "Open")),
        Urgency.CRITICAL,
        replaces_id=7,
        expire_ms=0,
        resident=True,
    )
    app, replaces, icon, summary, body, actions, hints, expire = popup.arguments()
    assert (app, replaces, icon, summary, body, expire) == (
        "oncall-console",
        7,
        "",
        "INC-12 P1: down",
        "body",
        0,
    )
    assert actions == ["ack", "Acknowledge", "open", "Open"]
    assert hints == {
        "urgency": ("y", 2),
        "desktop-entry": ("s", "oncall-console"),
        "resident": ("b", True),
    }


def test_a_delivery_lists_its_failures_in_words() -> None:
    ok = Delivery("id-1", Channel.FREEDESKTOP, 4)
    assert (ok.delivered, ok.error) == (True, None)
    failed = Delivery(
        "id-1",
        Channel.BANNER,
        failures=(Failure(Channel.FREEDESKTOP, "no server"), Failure(Channel.PLYER, "skipped")),
    )
    assert not failed.delivered
    assert failed.error == "freedesktop: no server; plyer: skipped"


def test_unknown_close_reasons_count_as_undefined() -> None:
    assert [CloseReason.of(n) for n in (1, 2, 3, 4, 99)] == [
        CloseReason.EXPIRED,
        CloseReason.DISMISSED,
        CloseReason.CLOSED,
        CloseReason.UNDEFINED,
        CloseReason.UNDEFINED,
    ]
