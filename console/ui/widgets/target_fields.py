"""The probe-kind-specific fields of an endpoint: one form per kind, the chosen one shown."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from console.core.endpoints import (
    TARGET_KIND,
    HeartbeatTarget,
    HttpTarget,
    LogfileTarget,
    NagiosTarget,
    ProbeKind,
    PrometheusTarget,
    ScrapeTarget,
    Target,
    TcpTarget,
)
from console.core.errors import Problem
from console.core.validation import MAX_REDIRECTS
from console.ui import icons
from console.ui.models.parts import PairsModel
from console.ui.theme import Theme
from console.ui.widgets.common import button
from console.ui.widgets.fields import fit_to_rows
from console.ui.widgets.form import Form
from console.ui.widgets.inputs import FIELD_WIDTH, SecondsSpin

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NAGIOS_HINT = (
    "One argument per line, the plugin's path first. It runs without a shell: quotes, "
    "pipes and $VARIABLES reach the plugin exactly as written."
)


def _line(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    return edit


def _lines(placeholder: str, height: int = 72, *, mono: bool = False) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setFixedHeight(height)
    edit.setTabChangesFocus(True)
    if mono:
        edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return edit


def _optional(edit: QLineEdit | QPlainTextEdit) -> str | None:
    text = edit.text() if isinstance(edit, QLineEdit) else edit.toPlainText()
    return text if text.strip() else None


def _split_lines(edit: QPlainTextEdit) -> tuple[str, ...]:
    # Blank lines are layout, not arguments; an argument keeps its own spaces.
    return tuple(line for line in edit.toPlainText().split("\n") if line.strip())


def _headers_table(model: PairsModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(30)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    view.setShowGrid(False)
    view.setTabKeyNavigation(False)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    fit_to_rows(view, 1, 4)
    return view


class TargetFields(QWidget):
    """The fields of one probe kind at a time; problem paths are relative (``url``).

    The kinds' forms are stacked in one column with only the chosen one shown (not a
    QStackedWidget: that keeps the height of its tallest page, leaving a TCP target with the
    empty room of the HTTP fields).
    """

    #: A field was edited.
    edited = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        """A form per probe kind, HTTP first."""
        super().__init__(parent)
        self.theme = theme
        self.forms: dict[ProbeKind, Form] = {}
        self._kind = ProbeKind.HTTP
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        builders: dict[ProbeKind, Callable[[Form], None]] = {
            ProbeKind.HTTP: self._build_http,
            ProbeKind.TCP: self._build_tcp,
            ProbeKind.PROMETHEUS: self._build_prometheus,
            ProbeKind.SCRAPE: self._build_scrape,
            ProbeKind.NAGIOS: self._build_nagios,
            ProbeKind.LOGFILE: self._build_logfile,
            ProbeKind.HEARTBEAT: self._build_heartbeat,
        }
        for kind, build in builders.items():
            form = Form()
            form.setObjectName(f"target-{kind.value}")
            build(form)
            self.forms[kind] = form
            column.addWidget(form)
        self.set_kind(ProbeKind.HTTP)

    # -- construction ----------------------------------------------------------------

    def _build_http(self, form: Form) -> None:
        self.http_url = _line("https://shop.example.com/health")
        self.http_method = QComboBox()
        self.http_method.setEditable(True)
        self.http_method.addItems(HTTP_METHODS)
        self.http_method.setMinimumContentsLength(10)
        self.http_headers = PairsModel(("Header", "Value"), self)
        self.http_headers_view = _headers_table(self.http_headers)
        self.http_headers_view.setObjectName("http-headers")
        self.http_body = _lines("Sent with the request (POST, PUT)", 60, mono=True)
        self.http_status = _line("200, 204")
        self.http_json_path = _line("data.latency_ms")
        self.http_keyword = _line("All systems operational")
        self.http_regex = _line(r"error|fail(ed|ure)")
        self.http_verify = QCheckBox("Verify the TLS certificate")
        self.http_redirects = QSpinBox()
        self.http_redirects.setRange(0, MAX_REDIRECTS)
        self.http_redirects.setFixedWidth(FIELD_WIDTH)
        form.add_row("URL", self.http_url, "url")
        form.add_row("Method", self.http_method, "method")
        form.add_row("Headers", self.http_headers_view, "headers")
        form.add_row("", self._header_buttons())
        form.add_row("Body", self.http_body, "body")
        form.add_row(
            "Expected status",
            self.http_status,
            "expect_status",
            hint="Status codes separated by commas; empty accepts 200 to 399.",
            item_noun="Code",
        )
        form.add_row(
            "JSON path",
            self.http_json_path,
            "json_path",
            hint="A number read from a JSON answer, as the json_value metric.",
        )
        form.add_row("Keyword", self.http_keyword, "keyword")
        form.add_row(
            "Regex",
            self.http_regex,
            "regex",
            hint="Matches in the body are counted as match_count: a keyword or a regex, not both.",
        )
        form.add_row("TLS", self.http_verify, "verify_tls")
        form.add_row("Max redirects", self.http_redirects, "max_redirects", compact=True)
        self.http_headers.edited.connect(self.edited)

    def _header_buttons(self) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        self.add_header_button = button("Add header", icons.icon("add", self.theme.muted))
        self.add_header_button.clicked.connect(self.add_header)
        self.remove_header_button = button("Remove", icons.icon("delete", self.theme.muted))
        self.remove_header_button.setAccessibleName("Remove header")
        self.remove_header_button.clicked.connect(self.remove_header)
        row.addWidget(self.add_header_button)
        row.addWidget(self.remove_header_button)
        row.addStretch(1)
        return box

    def _build_tcp(self, form: Form) -> None:
        self.tcp_host = _line("db-primary.internal")
        self.tcp_port = QSpinBox()
        self.tcp_port.setRange(0, 65535)
        self.tcp_port.setSpecialValueText("Not set")
        self.tcp_port.setFixedWidth(FIELD_WIDTH)
        form.add_row("Host", self.tcp_host, "host")
        form.add_row("Port", self.tcp_port, "port", compact=True)

    def _build_prometheus(self, form: Form) -> None:
        self.prom_url = _line("http://prometheus.internal:9090")
        self.prom_query = _lines(
            'sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))', mono=True
        )
        form.add_row("Prometheus URL", self.prom_url, "url", hint="The server's base URL.")
        form.add_row(
            "Query",
            self.prom_query,
            "query",
            hint="An instant PromQL query; one series per label set.",
        )

    def _build_scrape(self, form: Form) -> None:
        self.scrape_url = _line("http://app.internal:9100/metrics")
        self.scrape_select = _lines('queue_depth{queue="orders"}', 96, mono=True)
        form.add_row("Metrics page", self.scrape_url, "url")
        form.add_row(
            "Metric families",
            self.scrape_select,
            "select",
            hint="One per line, with label matchers if needed; empty takes every family. "
            "Counters become per-second rates.",
            item_noun="Line",
        )

    def _build_nagios(self, form: Form) -> None:
        self.nagios_command = _lines("/usr/lib/nagios/plugins/check_disk\n-w\n20%\n-c\n10%", 110)
        self.nagios_command.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        form.add_row("Command", self.nagios_command, "command", hint=NAGIOS_HINT, item_noun="Line")

    def _build_logfile(self, form: Form) -> None:
        self.log_path = _line("/var/log/nginx/error.log")
        self.log_pattern = _line(r"\[(crit|alert|emerg)\]")
        form.add_row("Log file", self.log_path, "path", hint="Followed across rotation.")
        form.add_row(
            "Pattern",
            self.log_pattern,
            "pattern",
            hint="A regular expression; matching lines per interval are the matches metric.",
        )

    def _build_heartbeat(self, form: Form) -> None:
        self.heartbeat_grace = SecondsSpin()
        form.add_row(
            "Grace period",
            self.heartbeat_grace,
            "grace",
            compact=True,
            hint="The job calls POST /heartbeat/<endpoint id> on the console's receiver; "
            "silence longer than this is a failure.",
        )

    def watched(self) -> list[QWidget]:
        """Every field whose edits make the form dirty (the headers table signals itself)."""
        return [
            self.http_url, self.http_method, self.http_body, self.http_status,
            self.http_json_path, self.http_keyword, self.http_regex, self.http_verify,
            self.http_redirects, self.tcp_host, self.tcp_port, self.prom_url, self.prom_query,
            self.scrape_url, self.scrape_select, self.nagios_command, self.log_path,
            self.log_pattern,
        ]  # fmt: skip

    def tab_chain(self) -> list[QWidget]:
        """Every kind's fields in reading order (Tab skips the hidden ones)."""
        return [
            self.http_url, self.http_method, self.http_headers_view, self.add_header_button,
            self.remove_header_button, self.http_body, self.http_status, self.http_json_path,
            self.http_keyword, self.http_regex, self.http_verify, self.http_redirects,
            self.tcp_host, self.tcp_port, self.prom_url, self.prom_query, self.scrape_url,
            self.scrape_select, self.nagios_command, self.log_path, self.log_pattern,
            self.heartbeat_grace,
        ]  # fmt: skip

    # -- the chosen kind -------------------------------------------------------------

    def kind(self) -> ProbeKind:
        """The kind whose fields are shown."""
        return self._kind

    def set_kind(self, kind: ProbeKind) -> None:
        """Show the fields of ``kind`` (what was typed for other kinds is kept)."""
        self._kind = kind
        for each, form in self.forms.items():
            form.setVisible(each is kind)

    def form(self) -> Form:
        """The form of the kind shown."""
        return self.forms[self.kind()]

    # -- values ----------------------------------------------------------------------

    def fill(self, target: Target | None) -> None:
        """Reset every kind's fields, then show ``target`` (None: a new HTTP check)."""
        self._fill_http(target if isinstance(target, HttpTarget) else HttpTarget(""))
        tcp = target if isinstance(target, TcpTarget) else TcpTarget("", 0)
        self.tcp_host.setText(tcp.host)
        self.tcp_port.setValue(tcp.port)
        prom = target if isinstance(target, PrometheusTarget) else PrometheusTarget("", "")
        self.prom_url.setText(prom.url)
        self.prom_query.setPlainText(prom.query)
        scrape = target if isinstance(target, ScrapeTarget) else ScrapeTarget("")
        self.scrape_url.setText(scrape.url)
        self.scrape_select.setPlainText("\n".join(scrape.select))
        nagios = target if isinstance(target, NagiosTarget) else NagiosTarget(())
        self.nagios_command.setPlainText("\n".join(nagios.command))
        log = target if isinstance(target, LogfileTarget) else LogfileTarget("", "")
        self.log_path.setText(log.path)
        self.log_pattern.setText(log.pattern)
        beat = target if isinstance(target, HeartbeatTarget) else HeartbeatTarget(300.0)
        self.heartbeat_grace.setValue(beat.grace_s)
        self.set_kind(ProbeKind.HTTP if target is None else TARGET_KIND[type(target)])
        self.clear_problems()

    def _fill_http(self, t: HttpTarget) -> None:
        self.http_url.setText(t.url)
        self.http_method.setCurrentText(t.method)
        self.http_headers.set_pairs(t.headers)
        self.http_body.setPlainText(t.body or "")
        self.http_status.setText(", ".join(str(s) for s in t.expect_status))
        self.http_json_path.setText(t.json_path or "")
        self.http_keyword.setText(t.keyword or "")
        self.http_regex.setText(t.regex or "")
        self.http_verify.setChecked(t.verify_tls)
        self.http_redirects.setValue(t.max_redirects)

    def collect(self) -> tuple[Target, list[Problem]]:
        """The target the shown fields describe, and what could not be read from them.

        Problems carry the kind's prefix (``http.expect_status``), as the endpoint's own
        validation reports them.
        """
        kind = self.kind()
        if kind is ProbeKind.HTTP:
            return self._collect_http()
        simple: dict[ProbeKind, Callable[[], Target]] = {
            ProbeKind.TCP: lambda: TcpTarget(self.tcp_host.text().strip(), self.tcp_port.value()),
            ProbeKind.PROMETHEUS: lambda: PrometheusTarget(
                self.prom_url.text().strip(), self.prom_query.toPlainText().strip()
            ),
            ProbeKind.SCRAPE: lambda: ScrapeTarget(
                self.scrape_url.text().strip(),
                tuple(s.strip() for s in _split_lines(self.scrape_select)),
            ),
            ProbeKind.NAGIOS: lambda: NagiosTarget(_split_lines(self.nagios_command)),
            ProbeKind.LOGFILE: lambda: LogfileTarget(
                self.log_path.text().strip(), self.log_pattern.text()
            ),
            ProbeKind.HEARTBEAT: lambda: HeartbeatTarget(self.heartbeat_grace.value()),
        }
        return simple[kind](), []

    def _collect_http(self) -> tuple[Target, list[Problem]]:
        problems: list[Problem] = []
        codes: list[int] = []
        for part in filter(None, (p.strip() for p in self.http_status.text().split(","))):
            if part.isdigit():
                codes.append(int(part))
            else:
                problems.append(
                    Problem("http.expect_status", f"expected status codes like 200, got {part!r}")
                )
        target = HttpTarget(
            url=self.http_url.text().strip(),
            method=self.http_method.currentText().strip().upper(),
            headers=self.http_headers.pairs(),
            body=_optional(self.http_body),
            expect_status=tuple(codes),
            json_path=_optional(self.http_json_path),
            keyword=_optional(self.http_keyword),
            regex=_optional(self.http_regex),
            verify_tls=self.http_verify.isChecked(),
            max_redirects=self.http_redirects.value(),
        )
        return target, problems

    # -- problems --------------------------------------------------------------------

    def show_problems(self, problems: list[Problem]) -> list[Problem]:
        """Show problems (paths relative to the target) under the shown kind's fields."""
        return self.form().show_problems(problems)

    def clear_problems(self) -> None:
        """Hide every kind's error lines."""
        for form in self.forms.values():
            form.clear_problems()

    # -- headers ---------------------------------------------------------------------

    def add_header(self) -> None:
        """Add an empty header row and start editing its name."""
        row = self.http_headers.add()
        index = self.http_headers.index(row, 0)
        self.http_headers_view.setCurrentIndex(index)
        self.http_headers_view.edit(index)

    def remove_header(self) -> None:
        """Remove the selected header."""
        rows = self.http_headers_view.selectionModel().selectedRows()
        if rows:
            self.http_headers.remove(rows[0].row())
