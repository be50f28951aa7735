"""GUI test fixtures: a store holding the demo estate, and the running console over it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

# In-process GUI tests draw offscreen; the screenshot test starts a real xcb window itself.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest  # noqa: E402
from console.config.demo import demo_estate  # noqa: E402
from console.core.models import Estate, Service  # noqa: E402
from console.store import entities  # noqa: E402
from console.store.db import Store  # noqa: E402
from console.ui.application import Console, application  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

GUI_DIR = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Any Qt warning logged during a GUI test fails it (pytest-qt's qt_log_level_fail)."""
    for item in items:
        if GUI_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            # What the offscreen platform cannot do (raise, grab the keyboard) is not our warning.
            item.add_marker(pytest.mark.qt_log_ignore("^This plugin does not support"))


def _dependencies_first(services: tuple[Service, ...]) -> list[Service]:
    by_key = {s.key: s for s in services}
    ordered: list[Service] = []
    seen: set[str] = set()

    def visit(service: Service) -> None:
        if service.key not in seen:
            seen.add(service.key)
            for dep in service.depends_on:
                visit(by_key[dep])
            ordered.append(service)

    for service in services:
        visit(service)
    return ordered


def fill_with_demo(store: Store) -> Estate:
    """Save the demo estate record by record, through the same API the editors use."""
    demo = demo_estate()
    for member in demo.members:
        entities.save(store, member)
    for team in demo.teams:
        entities.save(store, team)
    for service in _dependencies_first(demo.services):
        entities.save(store, service)
    for runbook in demo.runbooks:
        entities.save(store, runbook)
    for resource in demo.resources:
        entities.save(store, resource)
    for endpoint in demo.endpoints:
        entities.save(store, endpoint)
    return demo


@pytest.fixture
def demo() -> Estate:
    """The demo estate as declared in resources/demo."""
    return demo_estate()


@pytest.fixture
def demo_store_path(store_path: Path) -> Path:
    """A store file holding the demo estate (closed again: the test opens its own)."""
    with Store.open(store_path) as store:
        fill_with_demo(store)
    return store_path


@pytest.fixture
def other(demo_store_path: Path) -> Iterator[Store]:
    """A second, separate connection to the same store: how tests check what was written."""
    with Store.open(demo_store_path) as store:
        yield store


@pytest.fixture
def console(qtbot: QtBot, demo_store_path: Path) -> Iterator[Console]:
    """The running console (store, worker, models, window) once its first load is done."""
    app = application()
    con = Console(Store.open(demo_store_path), app)
    con.window.resize(1600, 1000)
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=10_000):
        con.start()
    yield con
    con.close()
