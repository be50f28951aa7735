"""Driving the window as a person would: clicks, typing, the keyboard; and reading back."""

from __future__ import annotations

from collections.abc import Callable

from console.core.models import Estate
from console.store import estate as estate_store
from console.store.db import Store
from console.ui.mainwindow import MainWindow
from console.ui.models.base import KEY_ROLE
from console.ui.views.editor import RecordEditor
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QComboBox, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

WAIT_MS = 10_000


def stored(store: Store) -> Estate:
    """The estate as the store holds it now, read through ``store``'s own connection."""
    return estate_store.load(store.read())


def focused() -> QWidget | None:
    """The widget holding the keyboard focus."""
    return QApplication.focusWidget()


def click(qtbot: QtBot, widget: QWidget) -> None:
    """A left click in the middle of ``widget``."""
    assert widget.isVisible() and widget.isEnabled(), f"{widget!r} cannot be clicked"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def go_to(qtbot: QtBot, window: MainWindow, page: str) -> None:
    """Click the page's entry in the sidebar."""
    item = window.sidebar.findItems(page, Qt.MatchFlag.MatchExactly)[0]
    rect = window.sidebar.visualItemRect(item)
    qtbot.mouseClick(window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.current_page().title == page


def open_tab(qtbot: QtBot, tabs: QTabWidget | None, label: str) -> None:
    """Click the tab called ``label``."""
    assert tabs is not None
    bar = tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == label)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def replace_text(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select everything in a text field and type ``text`` over it."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Delete)


def type_lines(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Type text that may hold line breaks (QTest cannot type a newline character)."""
    for i, line in enumerate(text.split("\n")):
        if i:
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        if line:
            qtbot.keyClicks(widget, line)


def tab_and_type(qtbot: QtBot, text: str) -> QWidget:
    """Press Tab, then type ``text`` into whatever took the focus; returns that widget."""
    start = focused()
    assert start is not None
    qtbot.keyClick(start, Qt.Key.Key_Tab)
    target = focused()
    assert target is not None and target is not start
    qtbot.keyClicks(target, text)
    return target


def choose(qtbot: QtBot, combo: QComboBox, prefix: str) -> None:
    """Pick the first entry starting with ``prefix`` with Home and the arrow keys."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentText().startswith(prefix):
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    raise AssertionError(f"no entry starting with {prefix!r} in {combo.objectName()!r}")


def click_row(qtbot: QtBot, view: QAbstractItemView, row: int, column: int = 0) -> None:
    """Click a cell of an item view."""
    index = view.model().index(row, column)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def select_record(qtbot: QtBot, editor: RecordEditor, key: str) -> None:
    """Click the record with ``key`` in the editor's list."""
    proxy = editor.proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(KEY_ROLE) == key)
    click_row(qtbot, editor.table, row)
    assert editor.current_key == key


def click_check_box(qtbot: QtBot, view: QAbstractItemView, label: str) -> None:
    """Tick (or untick) the item called ``label`` by clicking its check box."""
    model = view.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == label)
    index = model.index(row, 0)
    view.scrollTo(index)
    rect = view.visualRect(index)
    # The check box sits at the left edge of the item, vertically centred.
    pos = QPoint(rect.left() + 12, rect.center().y())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def save_with_keyboard(qtbot: QtBot, window: MainWindow) -> None:
    """Press Ctrl+S where the focus is."""
    target = focused() or window
    qtbot.keyClick(target, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def wait_stored(qtbot: QtBot, store: Store, check: Callable[[Estate], bool]) -> Estate:
    """Wait until the store (read through its own connection) satisfies ``check``."""
    qtbot.waitUntil(lambda: check(stored(store)), timeout=WAIT_MS)
    return stored(store)


def confirm_delete(qtbot: QtBot, editor: RecordEditor) -> None:
    """Click the destructive button of the editor's open confirmation."""
    qtbot.waitUntil(lambda: editor.confirmation is not None and editor.confirmation.isVisible())
    box = editor.confirmation
    assert box is not None
    confirm = box.findChild(QWidget, "ConfirmButton")
    assert confirm is not None
    click(qtbot, confirm)


def wait_idle(qtbot: QtBot, editor: RecordEditor) -> None:
    """Wait until the editor's save or delete has come back (its buttons work again)."""
    qtbot.waitUntil(lambda: editor.save_button.isEnabled() and not editor.dirty, timeout=WAIT_MS)
