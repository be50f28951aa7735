"""The fields of one metric: its key, name and unit, its static thresholds and deviation band."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.core.deviation import Seasonality
from console.core.errors import Problem
from console.core.thresholds import Direction
from console.core.units import Unit
from console.ui.models.drafts import (
    DIRECTION,
    METHOD,
    SEASONALITY,
    SIDE,
    UNIT,
    DeviationDraft,
    MetricDraft,
    ThresholdDraft,
)
from console.ui.widgets.common import section_title
from console.ui.widgets.form import Form
from console.ui.widgets.inputs import (
    FIELD_WIDTH,
    DecimalSpin,
    LevelEdit,
    NumberEdit,
    OptionCombo,
    SecondsSpin,
)

THRESHOLDS_HINT = (
    "Levels in the metric's unit. A level fires once breached for the whole 'for' time, and "
    "clears when the value is back by the hysteresis."
)
DEVIATION_HINT = (
    "How far a value may stray from its own normal: centre ± k spreads (σ or MAD), never "
    "narrower than the minimum deviation. Nothing is judged while warming up."
)


def _int_spin(minimum: int, maximum: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(minimum, maximum)
    spin.setFixedWidth(FIELD_WIDTH)
    return spin


def _form(*rows: tuple[str, QWidget, str]) -> Form:
    """A form of compact fields (numbers and short choices keep their own width)."""
    form = Form()
    for label, widget, path in rows:
        form.add_row(label, widget, path, compact=True)
    return form


def _columns(left: Form, right: Form) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(24)
    # Top-aligned, so that a shorter column does not spread its rows over the height.
    row.addWidget(left, 1, Qt.AlignmentFlag.AlignTop)
    row.addWidget(right, 1, Qt.AlignmentFlag.AlignTop)
    return box


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("FieldHint")
    label.setWordWrap(True)
    return label


def _show_in(forms: Sequence[Form], problems: list[Problem]) -> list[Problem]:
    """Show problems in the first form that has a field for them; returns the rest."""
    rest = problems
    for form in forms:
        rest = form.show_problems(rest)
    return rest


class MetricFields(QFrame):
    """Edits one MetricDraft; ``edited`` fires on every change a person makes."""

    edited = Signal()
    MARGIN = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        """The metric, thresholds and deviation groups, empty."""
        super().__init__(parent)
        self.setObjectName("Panel")
        self._filling = False
        self._suggestions: dict[str, tuple[str, Unit]] = {}
        box = QVBoxLayout(self)
        box.setContentsMargins(self.MARGIN, 14, self.MARGIN, 16)
        box.setSpacing(10)
        self.title = QLabel()
        self.title.setObjectName("FormTitle")
        box.addWidget(self.title)
        box.addWidget(self._build_metric())
        box.addWidget(section_title("Static thresholds"))
        box.addWidget(self._build_thresholds())
        box.addWidget(section_title("Deviation band"))
        box.addWidget(self._build_deviation())
        self._connect()
        self._on_modes_changed()

    # -- construction ----------------------------------------------------------------

    def _build_metric(self) -> Form:
        self.metric_edit = QComboBox()
        self.metric_edit.setObjectName("metric-key")
        self.metric_edit.setEditable(True)
        self.metric_edit.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        line = self.metric_edit.lineEdit()
        assert line is not None
        line.setPlaceholderText("response_time_ms, a perfdata label, a series")
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("metric-name")
        self.name_edit.setPlaceholderText("p95 latency")
        self.unit = OptionCombo(UNIT)
        self.unit.setObjectName("metric-unit")
        self.unit.setMinimumWidth(2 * FIELD_WIDTH)
        self.metric_form = Form()
        self.metric_form.add_row(
            "Metric",
            self.metric_edit,
            "metric",
            hint="The key the probe reports; pick one or type it.",
        )
        self.metric_form.add_row(
            "Name", self.name_edit, "name", hint="What people call it: it starts every reason."
        )
        self.metric_form.add_row("Unit", self.unit, "unit", compact=True)
        return self.metric_form

    def _build_thresholds(self) -> QWidget:
        self.direction = OptionCombo(DIRECTION)
        self.direction.setMinimumWidth(2 * FIELD_WIDTH)
        self.direction.setObjectName("threshold-direction")
        self.warning = LevelEdit()
        self.warning.setObjectName("threshold-warning")
        self.critical = LevelEdit()
        self.critical.setObjectName("threshold-critical")
        self.hysteresis = NumberEdit("0")
        self.threshold_for = SecondsSpin()
        self.threshold_keep = SecondsSpin()
        self.threshold_mode = _form(("Breached when", self.direction, "direction"))
        self.threshold_left = _form(
            ("Warning", self.warning, "warning"),
            ("Critical", self.critical, "critical"),
            ("Hysteresis", self.hysteresis, "hysteresis"),
        )
        self.threshold_right = _form(
            ("For", self.threshold_for, "for_seconds"),
            ("Keep firing for", self.threshold_keep, "keep_firing_for"),
        )
        self.threshold_details = QWidget()
        details = QVBoxLayout(self.threshold_details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(_columns(self.threshold_left, self.threshold_right))
        details.addWidget(_hint(THRESHOLDS_HINT))
        group = QWidget()
        layout = QVBoxLayout(group)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.threshold_mode)
        layout.addWidget(self.threshold_details)
        return group

    def _build_deviation(self) -> QWidget:
        self.method = OptionCombo(METHOD)
        self.method.setMinimumWidth(2 * FIELD_WIDTH)
        self.method.setObjectName("deviation-method")
        self.k = DecimalSpin(0.0, 100.0, step=0.5, decimals=2)
        self.k.setObjectName("deviation-k")
        self.warning_k = DecimalSpin(0.0, 100.0, step=0.5, decimals=2)
        self.warning_k.setSpecialValueText("None")
        self.side = OptionCombo(SIDE)
        self.side.setMinimumWidth(FIELD_WIDTH)
        self.min_deviation = NumberEdit("0")
        self.deviation_for = SecondsSpin()
        self.deviation_keep = SecondsSpin()
        self.seasonality = OptionCombo(SEASONALITY)
        self.seasonality.setMinimumWidth(FIELD_WIDTH)
        self.window_spin = SecondsSpin(maximum=30 * 86400.0)
        self.seasons = _int_spin(0, 520)
        self.tolerance = SecondsSpin(maximum=7 * 86400.0)
        self.min_samples = _int_spin(0, 1_000_000)
        self.min_span = SecondsSpin(maximum=520 * 7 * 86400.0)
        self.deviation_mode = _form(("Band", self.method, "method"))
        self.deviation_left = _form(
            ("Critical k", self.k, "k"),
            ("Warning k", self.warning_k, "warning_k"),
            ("Side", self.side, "side"),
            ("Min. deviation", self.min_deviation, "min_deviation"),
            ("For", self.deviation_for, "for_seconds"),
            ("Keep firing for", self.deviation_keep, "keep_firing_for"),
        )
        self.deviation_right = _form(
            ("Seasonality", self.seasonality, "seasonality"),
            ("Window", self.window_spin, "window"),
            ("Seasons", self.seasons, "seasons"),
            ("Tolerance", self.tolerance, "tolerance"),
            ("Warm-up samples", self.min_samples, "min_samples"),
            ("Warm-up span", self.min_span, "min_span"),
        )
        self.deviation_details = QWidget()
        details = QVBoxLayout(self.deviation_details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(_columns(self.deviation_left, self.deviation_right))
        details.addWidget(_hint(DEVIATION_HINT))
        group = QWidget()
        layout = QVBoxLayout(group)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.deviation_mode)
        layout.addWidget(self.deviation_details)
        return group

    def _connect(self) -> None:
        self.metric_edit.editTextChanged.connect(self._changed)
        self.metric_edit.textActivated.connect(self._on_metric_picked)
        self.name_edit.textEdited.connect(self._changed)
        for combo in (self.unit, self.direction, self.method, self.side, self.seasonality):
            combo.currentIndexChanged.connect(self._changed)
        for combo in (self.direction, self.method, self.seasonality):
            combo.currentIndexChanged.connect(self._on_modes_changed)
        for level in (self.warning, self.critical):
            level.edited.connect(self._changed)
        for edit in (self.hysteresis, self.min_deviation):
            edit.textEdited.connect(self._changed)
        for spin in (
            self.threshold_for, self.threshold_keep, self.k, self.warning_k, self.deviation_for,
            self.deviation_keep, self.window_spin, self.tolerance, self.min_span,
        ):  # fmt: skip
            spin.valueChanged.connect(self._changed)
        for int_spin in (self.seasons, self.min_samples):
            int_spin.valueChanged.connect(self._changed)

    # -- for the editor --------------------------------------------------------------

    def label_forms(self) -> list[Form]:
        """The forms whose labels line up with the endpoint form's (the left column)."""
        return [
            self.metric_form, self.threshold_mode, self.threshold_left, self.deviation_mode,
            self.deviation_left,
        ]  # fmt: skip

    def inset(self) -> int:
        """How far in from the card's edge its forms start (margin and frame)."""
        return self.MARGIN + self.frameWidth()

    def right_forms(self) -> list[Form]:
        """The forms of the right column."""
        return [self.threshold_right, self.deviation_right]

    def tab_chain(self) -> list[QWidget]:
        """The fields in reading order (Tab skips those hidden or disabled)."""
        return [
            self.metric_edit, self.name_edit, self.unit, self.direction,
            *self.warning.edits(), *self.critical.edits(), self.hysteresis, self.threshold_for,
            self.threshold_keep, self.method, self.k, self.warning_k, self.side,
            self.min_deviation, self.deviation_for, self.deviation_keep, self.seasonality,
            self.window_spin, self.seasons, self.tolerance, self.min_samples, self.min_span,
        ]  # fmt: skip

    def set_suggestions(self, suggestions: Iterable[tuple[str, str, Unit]]) -> None:
        """Offer these metric keys (with a name and unit to start from); keep what is typed."""
        self._suggestions = {key: (name, unit) for key, name, unit in suggestions}
        text = self.metric_edit.currentText()
        self.metric_edit.blockSignals(True)
        try:
            self.metric_edit.clear()
            self.metric_edit.addItems(list(self._suggestions))
            self.metric_edit.setCurrentIndex(-1)
            self.metric_edit.setEditText(text)
        finally:
            self.metric_edit.blockSignals(False)

    def set_title(self, text: str) -> None:
        """The line above the fields (which metric this is)."""
        self.title.setText(text)

    # -- values ----------------------------------------------------------------------

    def draft(self) -> MetricDraft:
        """The metric the fields describe."""
        warning_k = self.warning_k.value()
        return MetricDraft(
            metric=self.metric_edit.currentText(),
            name=self.name_edit.text(),
            unit=self.unit.value(),
            thresholds=ThresholdDraft(
                direction=self.direction.value(),
                warning=self.warning.draft(),
                critical=self.critical.draft(),
                hysteresis=self.hysteresis.text(),
                for_seconds=self.threshold_for.value(),
                keep_firing_for=self.threshold_keep.value(),
            ),
            deviation=DeviationDraft(
                method=self.method.value(),
                k=self.k.value(),
                warning_k=warning_k if warning_k > 0 else None,
                window=self.window_spin.value(),
                side=self.side.value(),
                seasonality=self.seasonality.value(),
                seasons=self.seasons.value(),
                tolerance=self.tolerance.value(),
                min_deviation=self.min_deviation.text(),
                min_samples=self.min_samples.value(),
                min_span=self.min_span.value(),
                for_seconds=self.deviation_for.value(),
                keep_firing_for=self.deviation_keep.value(),
            ),
        )

    def set_draft(self, draft: MetricDraft) -> None:
        """Show ``draft`` (no ``edited`` signal)."""
        self._filling = True
        try:
            self.metric_edit.setEditText(draft.metric)
            self.name_edit.setText(draft.name)
            self.unit.set_value(draft.unit)
            self._set_thresholds(draft.thresholds)
            self._set_deviation(draft.deviation)
        finally:
            self._filling = False
        self._on_modes_changed()

    def _set_thresholds(self, t: ThresholdDraft) -> None:
        self.direction.set_value(t.direction)
        self.warning.set_draft(t.warning)
        self.critical.set_draft(t.critical)
        self.hysteresis.setText(t.hysteresis)
        self.threshold_for.setValue(t.for_seconds)
        self.threshold_keep.setValue(t.keep_firing_for)

    def _set_deviation(self, d: DeviationDraft) -> None:
        self.method.set_value(d.method)
        self.k.setValue(d.k)
        self.warning_k.setValue(d.warning_k or 0.0)
        self.side.set_value(d.side)
        self.min_deviation.setText(d.min_deviation)
        self.deviation_for.setValue(d.for_seconds)
        self.deviation_keep.setValue(d.keep_firing_for)
        self.seasonality.set_value(d.seasonality)
        self.window_spin.setValue(d.window)
        self.seasons.setValue(d.seasons)
        self.tolerance.setValue(d.tolerance)
        self.min_samples.setValue(d.min_samples)
        self.min_span.setValue(d.min_span)

    def _changed(self, *_args: object) -> None:
        if not self._filling:
            self.edited.emit()

    def _on_metric_picked(self, key: str) -> None:
        """A suggested key was picked: start its name and unit from the suggestion."""
        suggestion = self._suggestions.get(key)
        if suggestion is None or self._filling:
            return
        name, unit = suggestion
        if not self.name_edit.text().strip():
            self.name_edit.setText(name)
            self.unit.set_value(unit)
            self.edited.emit()

    def _on_modes_changed(self, *_args: object) -> None:
        direction = self.direction.value()
        self.threshold_details.setVisible(direction is not None)
        outside = direction is Direction.OUTSIDE
        self.warning.set_range_mode(outside)
        self.critical.set_range_mode(outside)
        self.deviation_details.setVisible(self.method.value() is not None)
        seasonal = self.seasonality.value() is not Seasonality.NONE
        self.window_spin.setEnabled(not seasonal)
        self.seasons.setEnabled(seasonal)
        self.tolerance.setEnabled(seasonal)

    # -- problems --------------------------------------------------------------------

    def show_problems(self, problems: list[Problem]) -> list[Problem]:
        """Show problems (paths relative to the metric) under their fields; returns the rest."""
        groups: dict[str, list[Problem]] = {"thresholds.": [], "deviation.": [], "": []}
        for problem in problems:
            prefix = next(p for p in groups if problem.path.startswith(p))
            groups[prefix].append(Problem(problem.path[len(prefix) :], problem.message))
        rest = _show_in([self.metric_form], groups[""])
        threshold_forms = [self.threshold_mode, self.threshold_left, self.threshold_right]
        rest += [
            Problem(f"thresholds.{p.path}", p.message)
            for p in _show_in(threshold_forms, groups["thresholds."])
        ]
        deviation_forms = [self.deviation_mode, self.deviation_left, self.deviation_right]
        rest += [
            Problem(f"deviation.{p.path}", p.message)
            for p in _show_in(deviation_forms, groups["deviation."])
        ]
        self._mark_levels()
        return rest

    def _mark_levels(self) -> None:
        # A level is two or three line edits in one row: the row's mark goes on each of them.
        for level in (self.warning, self.critical):
            invalid = bool(level.property("invalid"))
            for edit in level.edits():
                if bool(edit.property("invalid")) != invalid:
                    edit.setProperty("invalid", invalid)
                    edit.style().unpolish(edit)
                    edit.style().polish(edit)

    def clear_problems(self) -> None:
        """Hide every error line."""
        for form in self.label_forms() + self.right_forms():
            form.clear_problems()
        self._mark_levels()

    def first_invalid(self) -> QWidget | None:
        """The first field showing an error."""
        for form in self.label_forms()[:3] + [self.threshold_right] + self.label_forms()[3:]:
            widget = form.first_invalid()
            if widget is not None:
                return widget
        return self.deviation_right.first_invalid()
