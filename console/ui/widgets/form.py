"""A form of labelled fields that shows each validation problem under the field it concerns."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from console.core.errors import Problem

_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(slots=True)
class _Row:
    path: str
    label: QLabel
    field: QWidget
    error: QLabel
    item_noun: str | None


def _describe(rest: str, item_noun: str | None) -> str:
    """'[1].email' under a 'Member' row reads 'Member 2, email'."""
    words: list[str] = []
    for part in filter(None, re.split(r"(\[\d+\])|\.", rest)):
        match = _INDEX.fullmatch(part)
        if match:
            words.append(f"{item_noun or 'Item'} {int(match.group(1)) + 1}")
        else:
            words.append(part.replace("_", " "))
    return ", ".join(words)


def _set_invalid(widget: QWidget, invalid: bool) -> None:
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    # A dynamic property only restyles after the style is re-applied.
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Form(QWidget):
    """Rows of label + field, each with an error line that appears under its field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """An empty form."""
        super().__init__(parent)
        self.setObjectName("FormBody")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)
        self._rows: list[_Row] = []
        self._next = 0

    def add_row(
        self,
        label: str,
        field: QWidget,
        path: str | None = None,
        *,
        hint: str | None = None,
        item_noun: str | None = None,
        compact: bool = False,
    ) -> QWidget:
        """Add ``field`` under ``label``; problems at ``path`` (or inside it) show beneath it.

        A ``compact`` field keeps its own width (a number) instead of filling the row.
        """
        caption = QLabel(label)
        caption.setObjectName("FieldLabel")
        caption.setBuddy(field)
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        caption.setMinimumWidth(120)
        caption.setContentsMargins(0, 6, 0, 0)
        cell = QVBoxLayout()
        cell.setSpacing(3)
        cell.addWidget(field, 0, Qt.AlignmentFlag.AlignLeft if compact else Qt.AlignmentFlag(0))
        if hint:
            hint_label = QLabel(hint)
            hint_label.setObjectName("FieldHint")
            hint_label.setWordWrap(True)
            cell.addWidget(hint_label)
        error = QLabel()
        error.setObjectName("FieldError")
        error.setWordWrap(True)
        error.hide()
        cell.addWidget(error)
        self._grid.addWidget(caption, self._next, 0)
        self._grid.addLayout(cell, self._next, 1)
        self._next += 1
        if path is not None:
            self._rows.append(_Row(path, caption, field, error, item_noun))
        return field

    def add_wide(self, widget: QWidget) -> QWidget:
        """A widget across both columns (a section title, a notice)."""
        self._grid.addWidget(widget, self._next, 0, 1, 2)
        self._next += 1
        return widget

    def stretch_last_row(self) -> None:
        """Give the spare height to the last row added."""
        self._grid.setRowStretch(self._next - 1, 1)

    def error_label(self, path: str) -> QLabel | None:
        """The error line of the field registered at ``path``."""
        return next((r.error for r in self._rows if r.path == path), None)

    def field(self, path: str) -> QWidget | None:
        """The field registered at ``path``."""
        return next((r.field for r in self._rows if r.path == path), None)

    def clear_problems(self) -> None:
        """Hide every error line."""
        for row in self._rows:
            row.error.clear()
            row.error.hide()
            _set_invalid(row.field, False)

    def show_problems(self, problems: Iterable[Problem]) -> list[Problem]:
        """Show problems under their fields; returns those that belong to no field."""
        self.clear_problems()
        messages: dict[int, list[str]] = {}
        stray: list[Problem] = []
        for problem in problems:
            index = self._row_for(problem.path)
            if index is None:
                stray.append(problem)
                continue
            row = self._rows[index]
            rest = problem.path[len(row.path) :]
            text = problem.message[:1].upper() + problem.message[1:]
            if rest:
                text = f"{_describe(rest, row.item_noun)}: {problem.message}"
            messages.setdefault(index, []).append(text)
        for index, texts in messages.items():
            row = self._rows[index]
            row.error.setText("\n".join(texts))
            row.error.show()
            _set_invalid(row.field, True)
        return stray

    def first_invalid(self) -> QWidget | None:
        """The first field showing an error (to move the focus there)."""
        return next((r.field for r in self._rows if r.error.isVisible() or r.error.text()), None)

    def _row_for(self, path: str) -> int | None:
        best: int | None = None
        for i, row in enumerate(self._rows):
            p = row.path
            inside = path == p or path.startswith(p + "[") or path.startswith(p + ".")
            if inside and (best is None or len(p) > len(self._rows[best].path)):
                best = i
        return best
