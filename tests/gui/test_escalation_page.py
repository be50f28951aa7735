"""The Escalation page: who is on call now, who is next, the coming two weeks and their gaps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from console.core.clock import FakeClock
from console.core.enums import Discipline
from console.core.models import Member
from console.core.schedules import (
    AbsenceReason,
    Layer,
    Override,
    Schedule,
    ShiftUnit,
    Unavailability,
    Window,
    gaps,
)
from console.core.silences import Weekday
from console.store import entities
from console.store.db import Store
from console.ui.application import Console, application
from console.ui.models.oncall import ScheduleCoverage
from console.ui.views.escalation import EscalationPage, duration_text
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from tests.gui.drive import go_to

pytestmark = pytest.mark.gui

WAIT_MS = 10_000
ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"
T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)  # a Monday, 09:00 in Berlin
OPS = Schedule(
    "ops",
    "Operations",
    "Europe/Berlin",
    (Layer("Primary", (ANA, BOB), 1, ShiftUnit.WEEKS, date(2026, 3, 2), time(9), Weekday.MON),),
    (Override(CAT, T0 + timedelta(days=1), T0 + timedelta(days=2), note="swap"),),
)
#: Covers only nights: days are a gap in this schedule, every day of the horizon.
NIGHTS = Schedule(
    "nights",
    "Night watch",
    "America/New_York",
    (
        Layer(
            "Nights", (CAT,), 1, ShiftUnit.DAYS, date(2026, 3, 1), time(20),
            restrictions=(Window(time(20), time(8)),),
        ),
    ),
)  # fmt: skip
#: Bob is on leave for his whole first week: Primary has nobody then.
LEAVE = Unavailability(
    BOB, T0 + timedelta(days=7), T0 + timedelta(days=14), AbsenceReason.LEAVE, note="holiday"
)


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    with Store.open(path, FakeClock(T0)) as store:
        for email in (ANA, BOB, CAT):
            name = email.split("@")[0].title() + " Example"
            entities.save(store, Member(email, name, "Europe/Berlin", Discipline.INFRASTRUCTURE))
        entities.save(store, OPS)
        entities.save(store, NIGHTS)
        entities.save(store, LEAVE)
    return path


@pytest.fixture
def page(qtbot: QtBot, store_file: Path) -> Iterator[EscalationPage]:
    con = Console(Store.open(store_file, FakeClock(T0)), application())
    con.window.resize(1600, 1000)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=WAIT_MS):
        con.start()
    go_to(qtbot, con.window, "Escalation")
    found = con.window.current_page()
    assert isinstance(found, EscalationPage)
    qtbot.waitUntil(lambda: found.reading is not None, timeout=WAIT_MS)
    yield found
    con.close()


def cells(page: EscalationPage, row: int) -> list[str]:
    return [page.table.item(row, c).text() for c in range(page.table.columnCount())]


def cover(page: EscalationPage, key: str) -> ScheduleCoverage:
    assert page.reading is not None
    return next(c for c in page.reading.schedules if c.schedule.key == key)


def test_the_table_says_who_is_on_call_now_why_until_when_and_who_is_next(
    page: EscalationPage,
) -> None:
    rows = {cells(page, r)[0]: cells(page, r) for r in range(page.table.rowCount())}
    assert set(rows) == {"Operations", "Night watch"}
    ops = rows["Operations"]
    # Monday 09:00 Berlin: Ana's week begins; Cat's override takes Tuesday 09:00 to Wednesday.
    assert ops[1] == "Ana Example" and ops[2] == "layer Primary"
    assert ops[3] == "Tue 03 Mar 09:00 CET"
    assert ops[4] == "Cat Example"
    # Bob's whole week is on leave: a week nobody covers in the next fourteen days.
    assert ops[5] == "6 d 23 h" or ops[5].startswith("7 d")
    assert page.table.item(0, 5).foreground().color() == QColor(page.theme.error)
    nights = rows["Night watch"]
    # 03:00 in New York: Cat covers the night until 08:00 local.
    assert nights[1] == "Cat Example" and nights[3] == "Mon 02 Mar 08:00 EST"
    assert nights[4] == "NOBODY"


def test_the_uncovered_time_is_the_schedules_own_gaps(page: EscalationPage) -> None:
    ops = cover(page, "ops")
    horizon_end = T0 + timedelta(days=14)
    expected = gaps(OPS, T0, horizon_end, [LEAVE])
    assert [(g.start, g.end) for g in ops.gaps] == [(g.start, g.end) for g in expected]
    assert ops.gaps and "Bob Example" not in ops.gaps[0].reason  # reasons name the email
    assert "on leave" in ops.gaps[0].reason
    nights = cover(page, "nights")
    assert len(nights.gaps) >= 13  # every day of the horizon has its daytime hole


def test_the_timeline_paints_one_block_per_stretch_and_gap_with_its_times(
    qtbot: QtBot, page: EscalationPage
) -> None:
    timeline = page.timeline
    image = timeline.grab().toImage()
    qtbot.waitUntil(lambda: len(timeline.blocks) > 0, timeout=WAIT_MS)
    expected = sum(len(c.shifts) + len(c.gaps) for c in page.reading.schedules)  # type: ignore[union-attr]
    assert len(timeline.blocks) == expected
    texts = [b.text for b in timeline.blocks]
    assert any(
        t.startswith("Operations: Cat Example\nTue 03 Mar 09:00 to Wed 04 Mar 09:00") for t in texts
    )
    assert any("override" in t and "Cat Example" in t for t in texts)
    assert any(t.startswith("Operations: NOBODY on call") and "on leave" in t for t in texts)
    # Gaps are painted in the error colour: some of its pixels are on the picture.
    assert _has_colour(image, QColor(page.theme.error_soft))
    # Members each get their own colour.
    colours = {timeline.colour_of(m).name() for m in (ANA, BOB, CAT)}
    assert len(colours) == 3


def _has_colour(image: QImage, colour: QColor) -> bool:
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            if image.pixelColor(x, y).name() == colour.name():
                return True
    return False


def test_durations_read_as_a_responder_says_them() -> None:
    assert duration_text(timedelta()) == "none"
    assert duration_text(timedelta(minutes=45)) == "45 min"
    assert duration_text(timedelta(hours=6, minutes=30)) == "6 h 30 min"
    assert duration_text(timedelta(days=2, hours=4)) == "2 d 4 h"
    assert duration_text(timedelta(days=3)) == "3 d"


def test_a_store_without_schedules_says_how_to_add_them(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    Store.open(path, FakeClock(T0)).close()
    con = Console(Store.open(path, FakeClock(T0)), application())
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=WAIT_MS):
        con.start()
    try:
        go_to(qtbot, con.window, "Escalation")
        found = con.window.current_page()
        assert isinstance(found, EscalationPage)
        qtbot.waitUntil(lambda: found.reading is not None, timeout=WAIT_MS)
        assert found.stack.currentWidget() is found.empty
        assert "schedules:" in found.empty.text.text()
    finally:
        con.close()
