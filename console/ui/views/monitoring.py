"""The Endpoints page: endpoints, what each probe checks, and how every metric is judged."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.endpoints import Endpoint, HttpTarget, ProbeKind
from console.core.enums import EntityKind
from console.core.errors import Problem
from console.core.models import Estate
from console.core.references import Record
from console.core.units import Unit
from console.ui import icons
from console.ui.estate import EstateModel
from console.ui.models.drafts import (
    KIND,
    SUGGESTED_METRICS,
    MetricDraft,
    draft_of,
    spec_of,
)
from console.ui.models.endpoints import MetricsModel, endpoints_model
from console.ui.theme import Theme
from console.ui.views.editor import RecordEditor
from console.ui.views.page import Page
from console.ui.widgets.common import button, section_title
from console.ui.widgets.fields import KeyCombo, fit_to_rows
from console.ui.widgets.form import Form
from console.ui.widgets.inputs import OptionCombo, SecondsSpin
from console.ui.widgets.metric_fields import MetricFields
from console.ui.widgets.target_fields import TargetFields

CREDENTIAL_HINT = (
    "The name of a keyring entry, never the secret itself. The secret lives in the OS "
    "keyring: store it with <code>oncall-console secret set NAME</code> (the value is read "
    "from stdin)."
)
NO_METRICS = (
    "No metrics yet. Add one to say what this endpoint measures and when it is a problem: "
    "static thresholds, a deviation band, or both."
)
#: What a new endpoint starts from.
NEW = Endpoint("", "", "", HttpTarget(""))


def _metrics_table(model: MetricsModel) -> QTableView:
    view = QTableView()
    view.setObjectName("endpoint-metrics")
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(30)
    header = view.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    header.setHighlightSections(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    for column in (2, 3):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setTabKeyNavigation(False)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    fit_to_rows(view, 2, 6)
    return view


def _align_labels(outer: Sequence[Form], inner: Sequence[Form], inset: int) -> None:
    """Line up the label columns of forms; ``inner`` ones sit ``inset`` pixels further in."""

    def labels(forms: Sequence[Form]) -> list[QLabel]:
        return [label for form in forms for label in form.findChildren(QLabel, "FieldLabel")]

    def widest(found: list[QLabel]) -> int:
        return max((label.sizeHint().width() for label in found), default=0)

    outside, inside = labels(outer), labels(inner)
    width = max(widest(outside), widest(inside) + inset)
    for label in outside:
        label.setMinimumWidth(width)
    for label in inside:
        label.setMinimumWidth(width - inset)


class EndpointEditor(RecordEditor):
    """Edits an endpoint: its probe and target, schedule, credential and metrics."""

    kind = EntityKind.ENDPOINT
    noun = "endpoint"
    plural = "endpoints"
    icon_name = "monitoring"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """An endpoint editor following ``estate``."""
        self._problems: list[Problem] = []
        self._collect_problems: list[Problem] = []
        self._metric_row = -1
        super().__init__(estate, theme, endpoints_model(estate), parent)
        # Six columns need a wider list than the other editors' four.
        splitter = self.findChild(QSplitter)
        if splitter is not None:
            splitter.setSizes([720, 880])

    # -- form ------------------------------------------------------------------------

    def build(self, form: Form, body: QVBoxLayout) -> None:
        """Endpoint fields, the kind's target fields, the schedule, then the metrics."""
        self._build_general(form)
        form.add_wide(section_title("Probe"))
        self.kind_combo = OptionCombo(KIND)
        self.kind_combo.setObjectName("endpoint-kind")
        form.add_row("Kind", self.kind_combo, "kind")
        self.target = TargetFields(self.theme)
        form.add_wide(self.target)
        self._build_schedule(form)
        form.add_wide(section_title("Metrics"))
        self.metrics = MetricsModel(self)
        self.metrics_view = _metrics_table(self.metrics)
        form.add_row("Metrics", self.metrics_view, "metrics", item_noun="Metric")
        form.add_row("", self._metric_buttons())
        self.no_metrics = QLabel(NO_METRICS)
        self.no_metrics.setObjectName("Muted")
        self.no_metrics.setWordWrap(True)
        form.add_row("", self.no_metrics)
        self.metric_fields = MetricFields()
        form.add_wide(self.metric_fields)
        fields = self.metric_fields
        _align_labels([form, *self.target.forms.values()], fields.label_forms(), fields.inset())
        _align_labels([], fields.right_forms(), 0)
        self._connect_fields()

    def _build_general(self, form: Form) -> None:
        self.key_edit = QLineEdit()
        self.key_edit.setPlaceholderText("checkout-health")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Checkout health check")
        self.service_combo = KeyCombo()
        self.service_combo.setObjectName("endpoint-service")
        form.add_row("Id", self.key_edit, "id", hint="Lowercase letters, digits and '-'.")
        form.add_row("Name", self.name_edit, "name")
        form.add_row("Service", self.service_combo, "service", hint="Whose health this is.")

    def _build_schedule(self, form: Form) -> None:
        form.add_wide(section_title("Schedule"))
        self.interval_spin = SecondsSpin(maximum=86400.0)
        self.interval_spin.setObjectName("endpoint-interval")
        self.timeout_spin = SecondsSpin(maximum=3600.0)
        self.timeout_spin.setObjectName("endpoint-timeout")
        self.jitter_spin = SecondsSpin(maximum=3600.0)
        self.jitter_spin.setObjectName("endpoint-jitter")
        self.credential_edit = QLineEdit()
        self.credential_edit.setObjectName("endpoint-credential")
        self.credential_edit.setPlaceholderText("shop-api-token")
        self.enabled_check = QCheckBox("Check this endpoint")
        self.enabled_check.setObjectName("endpoint-enabled")
        form.add_row(
            "Interval",
            self.interval_spin,
            "interval",
            hint="How often: 1 second or more.",
            compact=True,
        )
        form.add_row("Timeout", self.timeout_spin, "timeout", compact=True)
        form.add_row(
            "Jitter",
            self.jitter_spin,
            "jitter",
            compact=True,
            hint="Up to this much random delay per check, so checks do not all start at once.",
        )
        form.add_row("Credential", self.credential_edit, "credential", hint=CREDENTIAL_HINT)
        form.add_row("Enabled", self.enabled_check, "enabled")

    def _metric_buttons(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.add_metric_button = button("Add metric", icons.icon("add", self.theme.muted))
        self.add_metric_button.clicked.connect(self.add_metric)
        self.remove_metric_button = button("Remove", icons.icon("delete", self.theme.muted))
        self.remove_metric_button.setAccessibleName("Remove metric")
        self.remove_metric_button.setToolTip("Remove the selected metric")
        self.remove_metric_button.clicked.connect(self.remove_metric)
        row.addWidget(self.add_metric_button)
        row.addWidget(self.remove_metric_button)
        row.addStretch(1)
        return box

    def _connect_fields(self) -> None:
        self.watch(self.key_edit, self.name_edit, self.service_combo, self.kind_combo)
        self.watch(self.credential_edit, self.enabled_check, *self.target.watched())
        for spin in (self.interval_spin, self.timeout_spin, self.jitter_spin):
            spin.valueChanged.connect(self._mark_dirty)
        self.target.http_method.editTextChanged.connect(self._mark_dirty)
        self.target.heartbeat_grace.valueChanged.connect(self._mark_dirty)
        self.target.edited.connect(self._mark_dirty)
        self.target.scrape_select.textChanged.connect(self._update_suggestions)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.metrics.edited.connect(self._mark_dirty)
        self.metrics_view.selectionModel().selectionChanged.connect(self._on_metric_selected)
        self.metric_fields.edited.connect(self._on_metric_edited)

    def tab_chain(self) -> list[QWidget]:
        """Fields in reading order."""
        return [
            self.key_edit, self.name_edit, self.service_combo, self.kind_combo,
            *self.target.tab_chain(), self.interval_spin, self.timeout_spin, self.jitter_spin,
            self.credential_edit, self.enabled_check, self.metrics_view, self.add_metric_button,
            self.remove_metric_button, *self.metric_fields.tab_chain(),
        ]  # fmt: skip

    def key_field(self) -> QLineEdit:
        """The id field."""
        return self.key_edit

    def records(self, estate: Estate) -> Sequence[Record]:
        """Every endpoint."""
        return estate.endpoints

    def refresh_choices(self, estate: Estate) -> None:
        """Services an endpoint can belong to (an unknown one stays, marked)."""
        self.service_combo.set_choices([(s.key, s.name) for s in estate.services])

    def fill(self, record: Any) -> None:
        """Show an endpoint (or a new HTTP check with default timings)."""
        endpoint: Endpoint | None = record
        e = endpoint or NEW
        self.key_edit.setText(e.key)
        self.name_edit.setText(e.name)
        services = [(s.key, s.name) for s in self.estate_model.estate.services]
        self.service_combo.set_choices(services, keep=e.service or None)
        if endpoint is None:
            self.service_combo.set_key(None)
        self.kind_combo.set_value(e.kind)
        self.target.fill(endpoint.target if endpoint else None)
        self.interval_spin.setValue(e.interval_s)
        self.timeout_spin.setValue(e.timeout_s)
        self.jitter_spin.setValue(e.jitter_s)
        self.credential_edit.setText(e.credential or "")
        self.enabled_check.setChecked(e.enabled)
        self.metrics.set_drafts(draft_of(m) for m in e.metrics)
        self._problems = []
        self.target.clear_problems()
        self.metric_fields.clear_problems()
        self._update_suggestions()
        self._select_metric(0)

    def collect(self) -> Endpoint:
        """The endpoint the fields describe; what cannot be read is kept for problems_for."""
        target, problems = self.target.collect()
        specs = []
        for i, draft in enumerate(self.metrics.drafts()):
            spec, found = spec_of(draft, f"metrics[{i}].")
            specs.append(spec)
            problems += found
        self._collect_problems = problems
        return Endpoint(
            key=self.key_edit.text().strip(),
            name=self.name_edit.text().strip(),
            service=self.service_combo.key() or "",
            target=target,
            interval_s=self.interval_spin.value(),
            timeout_s=self.timeout_spin.value(),
            jitter_s=self.jitter_spin.value(),
            credential=self.credential_edit.text().strip() or None,
            enabled=self.enabled_check.isChecked(),
            metrics=tuple(specs),
        )

    def title_of(self, record: Any) -> str:
        """An endpoint is known by its name."""
        return str(record.name)

    def delete_consequence(self) -> str:
        """What deleting an endpoint stops, and what it keeps."""
        return (
            "It is no longer checked. Its recorded samples stay until retention removes them. "
            "This cannot be undone."
        )

    # -- kind ------------------------------------------------------------------------

    def _on_kind_changed(self, *_args: object) -> None:
        kind: ProbeKind = self.kind_combo.value()
        self.target.set_kind(kind)
        self.target.clear_problems()
        self._update_suggestions()

    def _update_suggestions(self) -> None:
        kind = self.target.kind()
        if kind is ProbeKind.SCRAPE:
            lines = self.target.scrape_select.toPlainText().split("\n")
            suggestions = [(line.strip(), "", Unit.NONE) for line in lines if line.strip()]
        else:
            suggestions = list(SUGGESTED_METRICS[kind])
        self.metric_fields.set_suggestions(suggestions)

    # -- metrics ---------------------------------------------------------------------

    def _current_metric(self) -> int:
        rows = self.metrics_view.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def _select_metric(self, row: int) -> None:
        if 0 <= row < self.metrics.rowCount():
            self.metrics_view.selectRow(row)
        else:
            self.metrics_view.clearSelection()
        self._load_metric()

    def _on_metric_selected(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._load_metric()

    def _load_metric(self) -> None:
        row = self._current_metric()
        self._metric_row = row
        self.metric_fields.setVisible(row >= 0)
        self.no_metrics.setVisible(self.metrics.rowCount() == 0)
        self.remove_metric_button.setEnabled(row >= 0)
        if row >= 0:
            self.metric_fields.set_draft(self.metrics.draft(row))
            self._update_metric_title()
        self._dispatch_problems()

    def _update_metric_title(self) -> None:
        row = self._metric_row
        draft = self.metrics.draft(row)
        what = draft.name.strip() or draft.metric.strip() or "new metric"
        self.metric_fields.set_title(f"Metric {row + 1} of {self.metrics.rowCount()}: {what}")

    def _on_metric_edited(self) -> None:
        if self._metric_row >= 0:
            self.metrics.update(self._metric_row, self.metric_fields.draft())
            self._update_metric_title()

    def add_metric(self) -> None:
        """Add an empty metric and start on its key."""
        row = self.metrics.add(MetricDraft())
        self._select_metric(row)
        self.metric_fields.metric_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def remove_metric(self) -> None:
        """Remove the selected metric."""
        row = self._current_metric()
        if row < 0:
            return
        self.metrics.remove(row)
        # Problems point at metrics by index: after a removal they point at the wrong ones.
        self._problems = [p for p in self._problems if not p.path.startswith("metrics")]
        self._select_metric(min(row, self.metrics.rowCount() - 1))

    # -- problems --------------------------------------------------------------------

    def problems_for(self, record: Any) -> list[Problem]:
        """What :meth:`collect` could not read, then the endpoint's own problems."""
        return self._collect_problems + super().problems_for(record)

    def save(self) -> None:
        """Validate and write (on the worker); earlier problems are cleared first."""
        if not self._busy:
            self._problems = []
            self._dispatch_problems()
        super().save()

    def _show_problems(self, problems: list[Problem]) -> None:
        """Show each problem under its field: endpoint, target or the selected metric's."""
        self._problems = list(problems)
        if not any(self._in_metric(p, self._metric_row) for p in problems):
            rows = [r for r in range(self.metrics.rowCount()) if self._has_problem(r)]
            if rows:
                self._select_metric(rows[0])
        stray = self._dispatch_problems()
        if stray:
            self.banner.show_message("\n".join(str(p) for p in stray))
        else:
            self.banner.show_message("The endpoint was not saved: correct the highlighted fields.")
        first = self._first_invalid()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
        self.message.emit(f"Not saved: {len(problems)} problem(s) to correct")

    @staticmethod
    def _in_metric(problem: Problem, row: int) -> bool:
        return row >= 0 and problem.path.startswith(f"metrics[{row}].")

    def _has_problem(self, row: int) -> bool:
        return any(self._in_metric(p, row) for p in self._problems)

    def _dispatch_problems(self) -> list[Problem]:
        """Show the problems known now; returns those no field shows."""
        kind = f"{self.target.kind().value}."
        metric = f"metrics[{self._metric_row}]."
        main: list[Problem] = []
        target: list[Problem] = []
        selected: list[Problem] = []
        for p in self._problems:
            if p.path.startswith(kind):
                target.append(Problem(p.path[len(kind) :], p.message))
            elif self._in_metric(p, self._metric_row):
                selected.append(Problem(p.path[len(metric) :], p.message))
            else:
                main.append(p)
        stray = self.form.show_problems(main)
        stray += [Problem(kind + p.path, p.message) for p in self.target.show_problems(target)]
        shown = self.metric_fields.show_problems(selected)
        return stray + [Problem(metric + p.path, p.message) for p in shown]

    def _first_invalid(self) -> QWidget | None:
        """The field showing an error that comes first in the Tab order."""
        found = [
            self.form.first_invalid(),
            self.target.form().first_invalid(),
            self.metric_fields.first_invalid(),
        ]
        chain = self.tab_chain()

        def position(widget: QWidget) -> int:
            return next(
                (i for i, w in enumerate(chain) if w is widget or widget.isAncestorOf(w)),
                len(chain),
            )

        invalid = [w for w in found if w is not None]
        return min(invalid, key=position) if invalid else None


class EndpointsPage(Page):
    """Endpoints: what is checked, and how each metric is judged.

    The metrics' live states are on the Monitoring page (``console.ui.views.status``).
    """

    title = "Endpoints"
    icon_name = "engine"

    def __init__(self, estate: EstateModel, theme: Theme, parent: QWidget | None = None) -> None:
        """The endpoint editor."""
        super().__init__(
            theme,
            "What is checked and how often, and the thresholds and deviation bands each "
            "metric is judged against.",
            parent,
        )
        self.endpoints = EndpointEditor(estate, theme)
        self.set_content(self.endpoints)
