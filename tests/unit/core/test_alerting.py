"""The notification rule: only what gets worse notifies; and the notification preferences."""

from __future__ import annotations

from dataclasses import replace

import pytest
from console.core.alerting import (
    AlarmInput,
    AlarmPlan,
    AlertAction,
    AlertTracker,
    AlertView,
    Decision,
    NotificationPrefs,
    Peak,
    Reason,
    Standing,
    assess,
    plan_alarm,
)
from console.core.enums import Priority, Severity
from console.core.errors import ValidationError

WARN = AlertView("i1", Standing.TRIGGERED, Severity.WARNING, Priority.P3)
CRIT = replace(WARN, severity=Severity.CRITICAL, priority=Priority.P1)
ACKED = replace(WARN, standing=Standing.ACKNOWLEDGED)
RESOLVED = replace(WARN, standing=Standing.RESOLVED)


def notify(reason: Reason, iid: str = "i1") -> Decision:
    return Decision(iid, AlertAction.NOTIFY, reason)


def withdraw(reason: Reason, iid: str = "i1") -> Decision:
    return Decision(iid, AlertAction.WITHDRAW, reason)


def quiet(reason: Reason, iid: str = "i1") -> Decision:
    return Decision(iid, AlertAction.NONE, reason)


# -- assess: one change at a time ------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (None, WARN, notify(Reason.NEW)),
        (None, ACKED, quiet(Reason.ACKNOWLEDGED)),
        (None, RESOLVED, quiet(Reason.RESOLVED)),
        (None, replace(WARN, held=True), quiet(Reason.HELD)),
        (WARN, WARN, quiet(Reason.UNCHANGED)),
        (WARN, CRIT, notify(Reason.SEVERITY_UP)),
        (WARN, replace(WARN, priority=Priority.P2), notify(Reason.PRIORITY_UP)),
        (WARN, replace(WARN, priority=Priority.P4), quiet(Reason.UNCHANGED)),
        (CRIT, WARN, quiet(Reason.UNCHANGED)),
        (WARN, replace(WARN, escalation_step=1), notify(Reason.ESCALATED)),
        (WARN, ACKED, withdraw(Reason.ACKNOWLEDGED)),
        (WARN, RESOLVED, withdraw(Reason.RESOLVED)),
        (WARN, None, withdraw(Reason.RESOLVED)),
        (ACKED, RESOLVED, quiet(Reason.RESOLVED)),
        (ACKED, None, quiet(Reason.RESOLVED)),
        (ACKED, WARN, notify(Reason.REOPENED)),
        (RESOLVED, WARN, notify(Reason.REOPENED)),
        (WARN, replace(WARN, held=True), withdraw(Reason.HELD)),
        (replace(WARN, held=True), WARN, notify(Reason.RELEASED)),
        (replace(WARN, held=True), replace(CRIT, held=True), quiet(Reason.HELD)),
    ],
)
def test_assess(before: AlertView | None, after: AlertView | None, expected: Decision) -> None:
    assert assess(before, after, None) == expected


def test_a_flapping_incident_does_not_notify_again_for_severity_or_reopening() -> None:
    flapping = replace(WARN, flapping=True)
    assert assess(flapping, replace(CRIT, flapping=True), None) == quiet(Reason.FLAPPING)
    assert assess(replace(ACKED, flapping=True), flapping, None) == quiet(Reason.FLAPPING)
    assert assess(replace(RESOLVED, flapping=True), flapping, None) == quiet(Reason.FLAPPING)


def test_an_escalation_step_notifies_even_while_flapping() -> None:
    flapping = replace(WARN, flapping=True)
    stepped = replace(flapping, escalation_step=2)
    assert assess(flapping, stepped, None) == notify(Reason.ESCALATED)


def test_worse_is_measured_against_what_people_were_told() -> None:
    told_critical = Peak.of(CRIT)
    # Back from warning to critical: people were already told it is critical.
    assert assess(WARN, CRIT, told_critical) == quiet(Reason.UNCHANGED)
    told_warning = Peak.of(WARN)
    assert assess(WARN, CRIT, told_warning) == notify(Reason.SEVERITY_UP)


def test_peak_rises_field_by_field() -> None:
    peak = Peak(Severity.CRITICAL, Priority.P3, 1)
    raised = peak.raised_by(replace(WARN, priority=Priority.P2, escalation_step=0))
    assert raised == Peak(Severity.CRITICAL, Priority.P2, 1)


# -- the tracker: a sequence of pictures ------------------------------------------------------


def test_startup_notifies_triggered_incidents_and_never_replays_acknowledged_ones() -> None:
    tracker = AlertTracker()
    other_acked = replace(ACKED, incident_id="i2", priority=Priority.P1)
    assert tracker.review([WARN, other_acked]) == [notify(Reason.NEW)]
    # Nothing changed: nothing to do, however often the store is polled.
    assert tracker.review([WARN, other_acked]) == []
    assert tracker.review([WARN, other_acked]) == []


def test_repeats_of_an_open_incident_do_not_notify_again() -> None:
    tracker = AlertTracker()
    assert tracker.review([WARN]) == [notify(Reason.NEW)]
    for _ in range(5):
        assert tracker.review([WARN]) == []


def test_bouncing_between_warning_and_critical_notifies_once() -> None:
    tracker = AlertTracker()
    assert tracker.review([WARN]) == [notify(Reason.NEW)]
    assert tracker.review([CRIT]) == [notify(Reason.SEVERITY_UP)]
    for _ in range(3):
        assert tracker.review([WARN]) == []
        assert tracker.review([CRIT]) == []
    assert tracker.peak("i1") == Peak(Severity.CRITICAL, Priority.P1, 0)


def test_a_flapping_incident_does_not_renotify_after_resolving_and_reopening() -> None:
    tracker = AlertTracker()
    tracker.review([WARN])
    flapping = replace(WARN, flapping=True)
    assert tracker.review([replace(flapping, standing=Standing.RESOLVED)]) == [
        withdraw(Reason.RESOLVED)
    ]
    assert tracker.review([flapping]) == []
    assert tracker.review([replace(flapping, severity=Severity.CRITICAL)]) == []


def test_acknowledging_withdraws_and_an_unacknowledge_notifies_afresh() -> None:
    tracker = AlertTracker()
    tracker.review([CRIT])
    assert tracker.review([replace(CRIT, standing=Standing.ACKNOWLEDGED)]) == [
        withdraw(Reason.ACKNOWLEDGED)
    ]
    assert tracker.peak("i1") is None
    assert tracker.review([WARN]) == [notify(Reason.REOPENED)]
    # The reopened incident was told at WARNING: critical again is worse than that.
    assert tracker.review([CRIT]) == [notify(Reason.SEVERITY_UP)]


def test_incidents_that_disappear_are_withdrawn_once() -> None:
    tracker = AlertTracker()
    second = replace(CRIT, incident_id="i2")
    assert tracker.review([WARN, second]) == [notify(Reason.NEW), notify(Reason.NEW, "i2")]
    assert tracker.review([second]) == [withdraw(Reason.RESOLVED)]
    assert tracker.review([second]) == []
    assert tracker.peak("i1") is None


def test_held_incidents_wait_and_notify_when_released() -> None:
    tracker = AlertTracker()
    held = replace(CRIT, held=True)
    assert tracker.review([held]) == []
    assert tracker.review([held]) == []
    assert tracker.review([CRIT]) == [notify(Reason.RELEASED)]
    assert tracker.review([CRIT]) == []


def test_escalation_steps_notify_each_time() -> None:
    tracker = AlertTracker()
    tracker.review([WARN])
    assert tracker.review([replace(WARN, escalation_step=1)]) == [notify(Reason.ESCALATED)]
    assert tracker.review([replace(WARN, escalation_step=1)]) == []
    assert tracker.review([replace(WARN, escalation_step=2)]) == [notify(Reason.ESCALATED)]


# -- preferences --------------------------------------------------------------------------------


def test_prefs_round_trip_through_json() -> None:
    prefs = NotificationPrefs(False, frozenset({Priority.P1, Priority.P2}), 35, 5)
    assert NotificationPrefs.from_json(prefs.to_json()) == prefs
    assert prefs.sounds(Priority.P1)
    assert not prefs.sounds(Priority.P3)


def test_prefs_default_when_nothing_is_stored() -> None:
    prefs = NotificationPrefs.from_json(None)
    assert prefs.desktop
    assert all(prefs.sounds(p) for p in Priority)
    assert (prefs.volume, prefs.mute_minutes) == (80, 15)


def test_prefs_keep_defaults_for_missing_keys() -> None:
    assert NotificationPrefs.from_dict({"volume": 10}) == NotificationPrefs(volume=10)


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"volume": 101}, "volume"),
        ({"volume": "loud"}, "volume"),
        ({"mute_minutes": 0}, "mute_minutes"),
        ({"mute_minutes": True}, "mute_minutes"),
        ({"desktop": "yes"}, "desktop"),
        ({"sound": ["P1", "P9"]}, "sound[1]"),
        ({"sound": "P1"}, "sound"),
    ],
)
def test_prefs_refuse_bad_values(data: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        NotificationPrefs.from_dict(data)
    assert [p.path for p in caught.value.problems] == [path]


def test_prefs_refuse_text_that_is_not_a_json_object() -> None:
    with pytest.raises(ValidationError, match="not JSON"):
        NotificationPrefs.from_json("{")
    with pytest.raises(ValidationError, match="JSON object"):
        NotificationPrefs.from_json("[]")


# -- the alarm plan -------------------------------------------------------------------------------

ALL_ON = NotificationPrefs()


def test_one_sound_the_highest_unacknowledged_priority_wins() -> None:
    incidents = [
        AlarmInput("a", Priority.P3, False),
        AlarmInput("b", Priority.P2, False),
        AlarmInput("c", Priority.P1, True),
    ]
    plan = plan_alarm(incidents, ALL_ON, frozenset(), muted=False)
    assert plan == AlarmPlan(Priority.P2, None, frozenset({"a", "b"}))


def test_acknowledging_the_last_p1_stops_the_loop() -> None:
    plan = plan_alarm([AlarmInput("a", Priority.P1, False)], ALL_ON, frozenset(), muted=False)
    assert plan.loop is Priority.P1
    after = plan_alarm([AlarmInput("a", Priority.P1, True)], ALL_ON, plan.heard, muted=False)
    assert after == AlarmPlan(None, None, frozenset())


def test_lower_priorities_chime_once_per_new_incident() -> None:
    first = plan_alarm([AlarmInput("a", Priority.P4, False)], ALL_ON, frozenset(), muted=False)
    assert (first.loop, first.chime) == (None, Priority.P4)
    again = plan_alarm([AlarmInput("a", Priority.P4, False)], ALL_ON, first.heard, muted=False)
    assert (again.loop, again.chime) == (None, None)
    both = [AlarmInput("a", Priority.P4, False), AlarmInput("b", Priority.P3, False)]
    second = plan_alarm(both, ALL_ON, again.heard, muted=False)
    assert (second.loop, second.chime) == (None, Priority.P3)


def test_priorities_switched_off_make_no_sound() -> None:
    prefs = NotificationPrefs(sound=frozenset({Priority.P2}))
    incidents = [AlarmInput("a", Priority.P1, False), AlarmInput("b", Priority.P3, False)]
    assert plan_alarm(incidents, prefs, frozenset(), muted=False) == AlarmPlan(
        None, None, frozenset()
    )


def test_muted_nothing_sounds_and_old_chimes_are_not_replayed_after() -> None:
    incidents = [AlarmInput("a", Priority.P1, False), AlarmInput("b", Priority.P4, False)]
    muted = plan_alarm(incidents, ALL_ON, frozenset(), muted=True)
    assert (muted.loop, muted.chime) == (None, None)
    lower = [AlarmInput("a", Priority.P1, True), AlarmInput("b", Priority.P4, False)]
    unmuted = plan_alarm(lower, ALL_ON, muted.heard, muted=False)
    assert (unmuted.loop, unmuted.chime) == (None, None)
    # The P1 still unacknowledged when the mute ends repeats again.
    assert plan_alarm(incidents, ALL_ON, muted.heard, muted=False).loop is Priority.P1


def test_a_retriggered_incident_chimes_again() -> None:
    plan = plan_alarm([AlarmInput("a", Priority.P3, False)], ALL_ON, frozenset(), muted=False)
    acked = plan_alarm([AlarmInput("a", Priority.P3, True)], ALL_ON, plan.heard, muted=False)
    again = plan_alarm([AlarmInput("a", Priority.P3, False)], ALL_ON, acked.heard, muted=False)
    assert again.chime is Priority.P3
