"""The status bar says plainly whether the keyring can give the engine its credentials."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from console.store.db import Store
from console.ui.application import Console, application
from pytestqt.qtbot import QtBot

from tests.services import SecretService, SessionBus

pytestmark = pytest.mark.gui


@contextmanager
def _console(qtbot: QtBot, path: Path) -> Iterator[Console]:
    con = Console(Store.open(path), application())
    con.window.show()
    with qtbot.waitSignal(con.ready, timeout=10_000):
        con.start()
    yield con
    con.close()


def test_no_secret_service_reads_unavailable_with_the_reason(
    qtbot: QtBot, demo_store_path: Path, bare_env: SessionBus
) -> None:
    with _console(qtbot, demo_store_path) as con:
        label = con.window.keyring_label

        def checked() -> bool:
            return label.text() != "Keyring: …"

        qtbot.waitUntil(checked, timeout=10_000)
        assert label.text() == "Keyring: unavailable"
        assert "Secret Service" in label.toolTip()


def test_a_running_secret_service_reads_available(
    qtbot: QtBot, demo_store_path: Path, secret_env: SecretService
) -> None:
    with _console(qtbot, demo_store_path) as con:
        label = con.window.keyring_label

        def checked() -> bool:
            return label.text() != "Keyring: …"

        qtbot.waitUntil(checked, timeout=10_000)
        assert label.text() == "Keyring: available"
        assert "SecretService" in label.toolTip()
