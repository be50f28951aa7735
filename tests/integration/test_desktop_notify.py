"""Desktop notifications against real servers: dunst, a server without actions, and none.

dunst runs on a private bus under the test run's X display; a plain server offers no actions;
a bare bus has no server at all, and the chain must say so rather than pretend.
"""

from __future__ import annotations

import logging
import queue
import warnings
from collections.abc import Iterator
from dataclasses import replace

import pytest
from console.core.enums import Priority
from console.delivery.desktop import Channel, DesktopNotifier, Notice, NoticeAction
from console.delivery.freedesktop import CloseReason, FreedesktopClient

from tests.services import (
    NOTIFICATIONS_NAME,
    Dunst,
    PlainNotificationServer,
    SessionBus,
    start_dunst,
    start_session_bus,
)

CHECKOUT = Notice(
    incident_id="01J-checkout",
    number="INC-7",
    title="Checkout API down",
    body="checkout-api: http 503 for 3 checks\nteam: payments",
    priority=Priority.P1,
)
WAIT = 10.0

Event = tuple[str, object, object]


@pytest.fixture
def events() -> queue.Queue[Event]:
    """Everything the notifier calls back with, in order."""
    return queue.Queue()


@pytest.fixture
def notifier(events: queue.Queue[Event]) -> Iterator[DesktopNotifier]:
    """A notifier on whatever bus the environment names when it first connects."""
    with DesktopNotifier(
        on_action=lambda iid, action: events.put(("action", iid, action)),
        on_closed=lambda iid, reason: events.put(("closed", iid, reason)),
    ) as out:
        yield out


def next_event(events: queue.Queue[Event]) -> Event:
    try:
        return events.get(timeout=WAIT)
    except queue.Empty:
        raise AssertionError(f"no callback within {WAIT} s") from None


def test_dunst_shows_title_body_critical_urgency_and_both_actions(
    dunst_env: Dunst, notifier: DesktopNotifier
) -> None:
    delivery = notifier.notify(CHECKOUT)

    assert (delivery.channel, delivery.failures, delivery.error) == (
        Channel.FREEDESKTOP,
        (),
        None,
    )
    [shown] = dunst_env.wait_shown(1)
    assert shown["DUNST_ID"] == str(delivery.notification_id)
    assert shown["DUNST_SUMMARY"] == "INC-7 P1: Checkout API down"
    assert shown["DUNST_BODY"] == CHECKOUT.body
    assert shown["DUNST_URGENCY"] == "CRITICAL"
    assert shown["DUNST_APP_NAME"] == "oncall-console"
    assert shown["DUNST_TIMEOUT"] == "0"  # critical: stays until dismissed
    menu = dunst_env.choose(label="nothing")  # open the menu, choose nothing
    nid = delivery.notification_id
    assert f"#Acknowledge (INC-7 P1: Checkout API down) [{nid},ack]" in menu.splitlines()
    assert f"#Open (INC-7 P1: Checkout API down) [{nid},open]" in menu.splitlines()


def test_lower_priorities_are_not_critical_and_drills_say_so(
    dunst_env: Dunst, notifier: DesktopNotifier
) -> None:
    drill = Notice("01J-drill", "INC-8", "Practice: disk full", "db-1", Priority.P3, drill=True)
    low = Notice("01J-low", "INC-9", "Cert expires in 20 days", "web", Priority.P5)
    notifier.notify(drill)
    notifier.notify(low)

    # dunst runs its scripts in parallel: the records may come in either order.
    shown = {s["DUNST_SUMMARY"]: s["DUNST_URGENCY"] for s in dunst_env.wait_shown(2)}
    assert shown == {
        "DRILL INC-8 P3: Practice: disk full": "NORMAL",
        "INC-9 P5: Cert expires in 20 days": "LOW",
    }
    assert dunst_env.count() == 2  # two incidents, two notifications


def test_one_incident_is_one_notification_updated_in_place(
    dunst_env: Dunst, notifier: DesktopNotifier
) -> None:
    first = notifier.notify(replace(CHECKOUT, priority=Priority.P2))
    dunst_env.wait_shown(1)
    worse = notifier.notify(CHECKOUT)

    assert worse.notification_id == first.notification_id
    shown = dunst_env.wait_shown(2)
    assert [s["DUNST_ID"] for s in shown] == [str(first.notification_id)] * 2
    assert [s["DUNST_SUMMARY"] for s in shown] == [
        "INC-7 P2: Checkout API down",
        "INC-7 P1: Checkout API down",
    ]
    assert dunst_env.count() == 1
    assert dunst_env.count("history") == 0


def test_acknowledge_pressed_in_dunst_reaches_the_callback(
    dunst_env: Dunst, notifier: DesktopNotifier, events: queue.Queue[Event]
) -> None:
    notifier.notify(CHECKOUT)
    dunst_env.wait_shown(1)

    dunst_env.choose(label="Acknowledge")

    assert next_event(events) == ("action", CHECKOUT.incident_id, NoticeAction.ACKNOWLEDGE)
    assert NoticeAction.ACKNOWLEDGE.value == "ack"
    # resident: the notification stays until the console withdraws it
    assert dunst_env.count() == 1


def test_open_pressed_in_dunst_reaches_the_callback(
    dunst_env: Dunst, notifier: DesktopNotifier, events: queue.Queue[Event]
) -> None:
    notifier.notify(CHECKOUT)
    dunst_env.wait_shown(1)

    dunst_env.choose(label="Open")

    assert next_event(events) == ("action", CHECKOUT.incident_id, NoticeAction.OPEN)


def test_close_withdraws_the_notification(
    dunst_env: Dunst, notifier: DesktopNotifier, events: queue.Queue[Event]
) -> None:
    delivery = notifier.notify(CHECKOUT)
    dunst_env.wait_shown(1)

    assert notifier.close(CHECKOUT.incident_id) is None

    assert next_event(events) == ("closed", CHECKOUT.incident_id, CloseReason.CLOSED)
    assert dunst_env.count() == 0
    [entry] = dunst_env.history()
    assert (entry["id"], entry["summary"]) == (delivery.notification_id, CHECKOUT.summary)
    assert notifier.notification_id(CHECKOUT.incident_id) is None
    assert notifier.close(CHECKOUT.incident_id) is None  # nothing showing: nothing to do


def test_a_dismissed_notification_is_not_reused_for_the_next_notice(
    dunst_env: Dunst, notifier: DesktopNotifier, events: queue.Queue[Event]
) -> None:
    first = notifier.notify(CHECKOUT)
    dunst_env.wait_shown(1)

    dunst_env.close_last()

    assert next_event(events) == ("closed", CHECKOUT.incident_id, CloseReason.DISMISSED)
    again = notifier.notify(CHECKOUT)
    assert again.channel is Channel.FREEDESKTOP
    assert again.notification_id != first.notification_id
    assert dunst_env.count() == 1


def test_the_notifier_follows_the_server_going_away_and_coming_back(
    bare_bus: SessionBus,
) -> None:
    with DesktopNotifier(address=bare_bus.address) as notifier:
        with start_dunst(bare_bus) as first:
            assert notifier.notify(CHECKOUT).channel is Channel.FREEDESKTOP
            first.wait_shown(1)
        bare_bus.wait_until_gone(NOTIFICATIONS_NAME)

        gone = notifier.notify(CHECKOUT)
        assert gone.channel is Channel.BANNER
        assert "no notification server" in gone.failures[0].reason

        # The same connection finds the new server; the stale id does not get in the way.
        with start_dunst(bare_bus) as second:
            back = notifier.notify(CHECKOUT)
            assert back.channel is Channel.FREEDESKTOP
            [shown] = second.wait_shown(1)
            assert shown["DUNST_ID"] == str(back.notification_id)


def test_the_bus_going_away_is_reported_not_raised() -> None:
    with start_session_bus() as bus:
        notifier = DesktopNotifier(address=bus.address)
        with start_dunst(bus) as server:
            assert notifier.notify(CHECKOUT).channel is Channel.FREEDESKTOP
            server.wait_shown(1)
    # dunst and the bus are gone; the notifier's connection was cut under it.
    try:
        gone = notifier.notify(CHECKOUT)
    finally:
        notifier.shutdown()

    assert gone.channel is Channel.BANNER
    assert "session bus" in gone.failures[0].reason
    assert gone.failures[1].channel is Channel.PLYER


def test_a_server_without_actions_gets_a_plain_notification_from_plyer(
    plain_notifications: PlainNotificationServer, notifier: DesktopNotifier
) -> None:
    delivery = notifier.notify(CHECKOUT)

    assert (delivery.channel, delivery.notification_id, delivery.failures) == (
        Channel.PLYER,
        None,
        (),
    )
    # plyer ran notify-send, which reached the server: the text arrived, without buttons.
    [got] = plain_notifications.received
    assert (got["summary"], got["body"], got["actions"]) == (CHECKOUT.summary, CHECKOUT.body, [])
    assert got["app_name"] == "oncall-console"


def test_a_notice_without_actions_uses_the_bus_even_without_action_support(
    plain_notifications: PlainNotificationServer, notifier: DesktopNotifier
) -> None:
    plain = Notice("01J-x", "INC-3", "Queue growing", "jobs", Priority.P4, actions=False)

    delivery = notifier.notify(plain)

    assert delivery.channel is Channel.FREEDESKTOP
    [got] = plain_notifications.received
    assert (got["actions"], got["hints"]["urgency"]) == ([], 0)


def test_no_server_on_the_bus_falls_back_to_the_banner_and_says_why(
    bare_env: SessionBus, notifier: DesktopNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="console.delivery")

    delivery = notifier.notify(CHECKOUT)

    assert delivery.channel is Channel.BANNER
    assert not delivery.delivered
    [dbus, plyer] = delivery.failures
    assert dbus.channel is Channel.FREEDESKTOP
    assert "no notification server on the session bus" in dbus.reason
    assert plyer.channel is Channel.PLYER
    assert "no notification server" in plyer.reason
    assert delivery.error is not None and "freedesktop:" in delivery.error
    # Both failures were logged as well as returned.
    logged = [r.getMessage() for r in caplog.records if r.name == "console.delivery.desktop"]
    assert len(logged) == 2
    assert all("INC-7" in line for line in logged)


def test_plyer_alone_reports_success_on_a_bus_without_a_server(bare_env: SessionBus) -> None:
    """Why the chain asks the bus first: plyer's notify-send path ignores the failure."""
    from plyer import notification

    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")  # plyer warns that dbus-python is missing
        assert notification.notify(title="nobody sees this", message="no server") is None


def test_without_a_session_bus_the_banner_says_so(
    monkeypatch: pytest.MonkeyPatch, notifier: DesktopNotifier
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)

    delivery = notifier.notify(CHECKOUT)

    assert delivery.channel is Channel.BANNER
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in delivery.failures[0].reason


def test_the_client_reads_the_server_information(dunst: Dunst) -> None:
    with FreedesktopClient(dunst.bus.address) as client:
        info = client.server_info()
        capabilities = client.capabilities()
    assert info.name == "dunst"
    assert {"actions", "body"} <= capabilities
