"""DRILL everywhere on screen: the wall tile, the incident detail's header, the notification title.

A drill is started through the store's own API on a second connection (as the CLI would) in a
store holding the demo estate; the wall's tiles come from the real store reader, the Incidents
page from the running console, the notification from the alerting controller's own function.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console.core.alerting import Reason
from console.core.clock import FakeClock
from console.store import drills
from console.store import status as store_status
from console.store.db import Store
from console.ui.alerting import balloon_title, notice_for
from console.ui.application import Console
from console.ui.engine_host import EngineState, EngineStatus
from console.ui.tasks import TaskRunner
from console.ui.views.incidents import IncidentsPage
from console.ui.wall.feed import WallReading
from console.ui.wall.window import WallSettings, WallWindow
from pytestqt.qtbot import QtBot

from tests.gui.drive import WAIT_MS, click_row, go_to

pytestmark = pytest.mark.gui

NOC = "noc@example.com"
#: A demo runbook whose first service is the payments API.
RUNBOOK = "failing-upstream-api"


@pytest.fixture
def wall(qtbot: QtBot, demo_store_path: Path) -> Iterator[WallWindow]:
    """A shown 1920x1080 wall over the demo store; its feed is not started."""
    store = Store.open(demo_store_path, FakeClock())
    runner = TaskRunner()
    window = WallWindow(store, runner, None, FakeClock(), WallSettings(rotate_s=15))
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.stop()
    runner.shutdown()
    store.close()


def test_the_wall_tile_of_a_drilled_service_says_drill(wall: WallWindow, other: Store) -> None:
    drill = drills.start_drill(other, RUNBOOK, by=NOC)
    assert drill.service == "payments-api"
    now = other.clock.now()
    tiles = store_status.tiles(other.read(), now)
    wall.show_reading(WallReading(EngineStatus(EngineState.HERE), tuple(tiles), now))
    texts = {t.name: t for t in wall.grid.page_texts()}
    drilled = [name for name, text in texts.items() if text.duty.startswith("DRILL")]
    assert drilled == ["Payments API"]
    assert texts["Payments API"].duty.startswith("DRILL in progress")
    drills.end_drill(other, drill.ref, by=NOC)
    tiles = store_status.tiles(other.read(), now)
    wall.show_reading(WallReading(EngineStatus(EngineState.HERE), tuple(tiles), now))
    assert not any(t.duty.startswith("DRILL") for t in wall.grid.page_texts())


def test_the_incident_detail_header_and_the_notification_say_drill(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    go_to(qtbot, console.window, "Incidents")
    page = console.window.current_page()
    assert isinstance(page, IncidentsPage)
    drill = drills.start_drill(other, RUNBOOK, by=NOC)

    def refs() -> list[str]:
        return [page.proxy.index(r, 0).data() for r in range(page.proxy.rowCount())]

    qtbot.waitUntil(lambda: drill.ref in refs(), timeout=WAIT_MS)
    click_row(qtbot, page.table, refs().index(drill.ref))
    qtbot.waitUntil(
        lambda: (shown := page.incident()) is not None and shown.ref == drill.ref,
        timeout=WAIT_MS,
    )
    detail = page.detail
    qtbot.waitUntil(lambda: detail.ref_label.text() == drill.ref, timeout=WAIT_MS)
    assert detail.state_label.text().startswith("DRILL")
    assert detail.title_label.text() == "DRILL: Failing upstream API"
    notice = notice_for(drill, Reason.NEW, {})
    assert notice.drill and notice.summary.startswith(f"DRILL {drill.ref} P1")
    assert balloon_title(drill).startswith(f"DRILL {drill.ref} P1")  # the tray's fallback
