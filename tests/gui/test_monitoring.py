"""The Endpoints page: creating, editing, validating and deleting endpoints, as a person would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from console.core.deviation import BandMethod, DeviationConfig, Seasonality, Side
from console.core.endpoints import Endpoint, HttpTarget, MetricSpec, ProbeKind, TcpTarget
from console.core.models import Estate
from console.core.thresholds import Direction, StaticThresholds
from console.core.units import Unit
from console.store.db import Store
from console.store.events import last_seq
from console.ui.application import Console
from console.ui.models.base import KEY_ROLE, RECORD_ROLE
from console.ui.models.drafts import (
    DeviationDraft,
    LevelDraft,
    MetricDraft,
    ThresholdDraft,
    draft_of,
    spec_of,
)
from console.ui.models.endpoints import MetricsModel, endpoints_model
from console.ui.models.parts import PairsModel
from console.ui.views.monitoring import EndpointEditor, EndpointsPage
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from tests.gui.drive import (
    choose,
    click,
    click_row,
    confirm_delete,
    focused,
    go_to,
    replace_text,
    select_record,
    stored,
    wait_idle,
    wait_stored,
)

pytestmark = pytest.mark.gui

COMMAND = Path(sys.executable).parent / "oncall-console"
KEY = "shop-search"


def _editor(qtbot: QtBot, console: Console) -> EndpointEditor:
    go_to(qtbot, console.window, "Endpoints")
    page = console.window.current_page()
    assert isinstance(page, EndpointsPage)
    return page.endpoints


def _endpoint(estate: Estate, key: str) -> Endpoint | None:
    return next((e for e in estate.endpoints if e.key == key), None)


def _type_general(qtbot: QtBot, editor: EndpointEditor, service: str) -> None:
    qtbot.keyClicks(editor.key_edit, KEY)
    qtbot.keyClicks(editor.name_edit, "Shop search")
    choose(qtbot, editor.service_combo, service)
    choose(qtbot, editor.kind_combo, "HTTP")


def _type_http(qtbot: QtBot, editor: EndpointEditor) -> None:
    target = editor.target
    qtbot.keyClicks(target.http_url, "https://shop.example.com/search?q=probe")
    choose(qtbot, target.http_method, "HEAD")
    click(qtbot, target.add_header_button)
    name = focused()
    assert name is not None
    qtbot.keyClicks(name, "X-Probe")
    qtbot.keyClick(name, Qt.Key.Key_Tab)  # commits, then edits the value cell
    value = focused()
    assert value is not None and value is not name
    qtbot.keyClicks(value, "oncall")
    qtbot.keyClick(value, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: target.http_headers.pairs() == (("X-Probe", "oncall"),))
    qtbot.keyClicks(target.http_status, "200, 204")
    qtbot.keyClicks(target.http_json_path, "data.latency_ms")
    qtbot.keyClicks(target.http_keyword, "results")


def _type_schedule(qtbot: QtBot, editor: EndpointEditor) -> None:
    replace_text(qtbot, editor.interval_spin, "15")
    replace_text(qtbot, editor.timeout_spin, "5")
    replace_text(qtbot, editor.jitter_spin, "2")
    qtbot.keyClicks(editor.credential_edit, "shop-token")


def _type_latency_metric(qtbot: QtBot, editor: EndpointEditor) -> None:
    """Response time: above 250/800 ms with timings, and a seasonal median/MAD band."""
    fields = editor.metric_fields
    click(qtbot, editor.add_metric_button)
    assert focused() is fields.metric_edit
    qtbot.keyClicks(fields.metric_edit, "response_time_ms")
    qtbot.keyClicks(fields.name_edit, "response time")
    choose(qtbot, fields.unit, "Milliseconds")
    choose(qtbot, fields.direction, "Above")
    qtbot.keyClicks(fields.warning.value_edit, "250")
    qtbot.keyClicks(fields.critical.value_edit, "800")
    qtbot.keyClicks(fields.hysteresis, "25")
    replace_text(qtbot, fields.threshold_for, "60")
    replace_text(qtbot, fields.threshold_keep, "30")
    choose(qtbot, fields.method, "Median")
    replace_text(qtbot, fields.k, "4")
    replace_text(qtbot, fields.warning_k, "2.5")
    choose(qtbot, fields.side, "Above only")
    qtbot.keyClicks(fields.min_deviation, "20")
    replace_text(qtbot, fields.deviation_for, "120")
    replace_text(qtbot, fields.window_spin, "7200")
    choose(qtbot, fields.seasonality, "Daily")
    assert not fields.window_spin.isEnabled() and fields.seasons.isEnabled()
    replace_text(qtbot, fields.seasons, "3")
    replace_text(qtbot, fields.min_samples, "10")
    replace_text(qtbot, fields.min_span, "1800")


def _type_status_metric(qtbot: QtBot, editor: EndpointEditor) -> None:
    """Status code, picked from the suggestions, judged outside a range."""
    fields = editor.metric_fields
    click(qtbot, editor.add_metric_button)
    choose(qtbot, fields.metric_edit, "status_code")
    assert fields.name_edit.text() == "status code"  # the suggestion started the name
    choose(qtbot, fields.direction, "Outside")
    assert fields.warning.low_edit.isVisible() and not fields.warning.value_edit.isVisible()
    qtbot.keyClicks(fields.warning.low_edit, "200")
    qtbot.keyClicks(fields.warning.high_edit, "299")
    qtbot.keyClicks(fields.critical.low_edit, "100")
    qtbot.keyClicks(fields.critical.high_edit, "599")


def _expected(service: str) -> Endpoint:
    return Endpoint(
        key=KEY,
        name="Shop search",
        service=service,
        target=HttpTarget(
            url="https://shop.example.com/search?q=probe",
            method="HEAD",
            headers=(("X-Probe", "oncall"),),
            expect_status=(200, 204),
            json_path="data.latency_ms",
            keyword="results",
        ),
        interval_s=15.0,
        timeout_s=5.0,
        jitter_s=2.0,
        credential="shop-token",
        metrics=(
            MetricSpec(
                "response_time_ms",
                "response time",
                Unit.MILLISECONDS,
                StaticThresholds.above(
                    warning=250, critical=800, hysteresis=25, for_seconds=60, keep_firing_for=30
                ),
                DeviationConfig(
                    method=BandMethod.MEDIAN_MAD,
                    k=4,
                    warning_k=2.5,
                    window=7200,
                    side=Side.ABOVE,
                    min_samples=10,
                    min_span=1800,
                    min_deviation=20,
                    seasonality=Seasonality.DAILY,
                    seasons=3,
                    for_seconds=120,
                ),
            ),
            MetricSpec(
                "status_code",
                "status code",
                thresholds=StaticThresholds.outside(warning=(200, 299), critical=(100, 599)),
            ),
        ),
    )


def test_create_edit_and_delete_an_http_endpoint(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _editor(qtbot, console)
    service = demo.services[2]
    before = last_seq(other.read())
    click(qtbot, editor.new_button)
    assert editor.form_title.text() == "New endpoint"
    _type_general(qtbot, editor, service.name)
    _type_http(qtbot, editor)
    _type_schedule(qtbot, editor)
    _type_latency_metric(qtbot, editor)
    _type_status_metric(qtbot, editor)
    assert editor.dirty
    click(qtbot, editor.save_button)

    estate = wait_stored(qtbot, other, lambda e: _endpoint(e, KEY) is not None)
    assert _endpoint(estate, KEY) == _expected(service.key)
    assert last_seq(other.read()) == before + 1
    wait_idle(qtbot, editor)
    assert editor.current_key == KEY and editor.key_edit.isReadOnly()
    row = editor.table_model.row_of(KEY)
    assert editor.table_model.index(row, 2).data() == "HTTP"
    assert editor.table_model.index(row, 5).data() == "2"

    # The same endpoint becomes a TCP check; its metrics stay as they were.
    choose(qtbot, editor.kind_combo, "TCP")
    assert editor.target.tcp_host.isVisible() and not editor.target.http_url.isVisible()
    qtbot.keyClicks(editor.target.tcp_host, "shop.example.com")
    replace_text(qtbot, editor.target.tcp_port, "443")
    click(qtbot, editor.save_button)
    estate = wait_stored(
        qtbot, other, lambda e: getattr(_endpoint(e, KEY), "kind", None) is ProbeKind.TCP
    )
    endpoint = _endpoint(estate, KEY)
    assert endpoint is not None
    assert endpoint.target == TcpTarget("shop.example.com", 443)
    assert endpoint.metrics == _expected(service.key).metrics
    assert endpoint.interval_s == 15.0 and endpoint.credential == "shop-token"
    wait_idle(qtbot, editor)

    select_record(qtbot, editor, KEY)
    editor.table.setFocus()
    qtbot.keyClick(editor.table, Qt.Key.Key_Delete)  # asks first
    confirm_delete(qtbot, editor)
    wait_stored(qtbot, other, lambda e: _endpoint(e, KEY) is None)


def test_bad_fields_show_errors_under_them_and_nothing_is_written(
    qtbot: QtBot, console: Console, other: Store
) -> None:
    editor = _editor(qtbot, console)
    before = last_seq(other.read())
    click(qtbot, editor.new_button)
    qtbot.keyClicks(editor.key_edit, "bad-check")
    qtbot.keyClicks(editor.name_edit, "Bad check")
    qtbot.keyClicks(editor.target.http_url, "shop.example.com/health")
    replace_text(qtbot, editor.interval_spin, "0")
    fields = editor.metric_fields
    click(qtbot, editor.add_metric_button)
    qtbot.keyClicks(fields.metric_edit, "queue_depth")  # and no name
    click(qtbot, editor.add_metric_button)
    qtbot.keyClicks(fields.metric_edit, "response_time_ms")
    qtbot.keyClicks(fields.name_edit, "response time")
    choose(qtbot, fields.direction, "Above")
    qtbot.keyClicks(fields.warning.value_edit, "900")
    qtbot.keyClicks(fields.critical.value_edit, "500")
    click(qtbot, editor.save_button)

    url_error = editor.target.forms[ProbeKind.HTTP].error_label("url")
    interval_error = editor.form.error_label("interval")
    metrics_error = editor.form.error_label("metrics")
    warning_error = fields.threshold_left.error_label("warning")
    assert url_error is not None and interval_error is not None
    assert metrics_error is not None and warning_error is not None
    assert url_error.isVisible() and "Expected an http(s) URL with a host" in url_error.text()
    assert interval_error.isVisible() and "1 second or more" in interval_error.text()
    # The selected metric's problem is under its own field; the other one's under the table.
    assert warning_error.isVisible() and "Must not be above the critical" in warning_error.text()
    assert metrics_error.isVisible() and metrics_error.text() == "Metric 1, name: must not be empty"
    field_box = editor.target.http_url.geometry()
    assert url_error.geometry().top() >= field_box.bottom()
    assert editor.target.http_url.property("invalid") is True
    assert focused() is editor.target.http_url  # the first field in Tab order with a problem
    assert editor.banner.isVisible()
    assert last_seq(other.read()) == before
    assert _endpoint(stored(other), "bad-check") is None

    # Picking the first metric shows its problem under its name field, the other's under the
    # table.
    click_row(qtbot, editor.metrics_view, 0)
    name_error = fields.metric_form.error_label("name")
    assert name_error is not None and name_error.isVisible()
    assert metrics_error.text() == (
        "Metric 2, thresholds, warning: must not be above the critical level"
    )
    qtbot.keyClicks(fields.name_edit, "queue depth")
    click_row(qtbot, editor.metrics_view, 1)
    replace_text(qtbot, fields.warning.value_edit, "300")
    replace_text(qtbot, editor.target.http_url, "https://shop.example.com/health")
    replace_text(qtbot, editor.interval_spin, "30")
    click(qtbot, editor.save_button)
    estate = wait_stored(qtbot, other, lambda e: _endpoint(e, "bad-check") is not None)
    endpoint = _endpoint(estate, "bad-check")
    assert endpoint is not None and endpoint.interval_s == 30.0
    assert [m.name for m in endpoint.metrics] == ["queue depth", "response time"]
    assert endpoint.metrics[1].thresholds == StaticThresholds.above(warning=300, critical=500)
    assert last_seq(other.read()) == before + 1
    assert not url_error.isVisible() and not interval_error.isVisible()


def test_a_field_that_is_not_a_number_is_refused(
    qtbot: QtBot, console: Console, other: Store, demo: Estate
) -> None:
    editor = _editor(qtbot, console)
    endpoint = demo.endpoints[0]
    select_record(qtbot, editor, endpoint.key)
    before = last_seq(other.read())
    fields = editor.metric_fields
    assert editor.metrics.rowCount() == len(endpoint.metrics)
    click_row(qtbot, editor.metrics_view, len(endpoint.metrics) - 1)
    replace_text(qtbot, fields.hysteresis, "a lot")
    replace_text(qtbot, editor.target.http_status, "200, OK")
    click(qtbot, editor.save_button)
    hysteresis = fields.threshold_left.error_label("hysteresis")
    status = editor.target.forms[ProbeKind.HTTP].error_label("expect_status")
    assert hysteresis is not None and status is not None
    assert hysteresis.isVisible() and hysteresis.text() == "Expected a number, got 'a lot'"
    assert status.isVisible() and "'OK'" in status.text()
    assert last_seq(other.read()) == before
    click(qtbot, editor.revert_button)
    assert not editor.dirty and not hysteresis.isVisible()
    assert editor.collect() == endpoint


def test_every_demo_endpoint_is_shown_and_read_back_unchanged(
    qtbot: QtBot, console: Console, demo: Estate
) -> None:
    editor = _editor(qtbot, console)
    kinds = set()
    for endpoint in demo.endpoints:
        select_record(qtbot, editor, endpoint.key)
        assert editor.form_title.text() == endpoint.name
        assert not editor.dirty, f"showing {endpoint.key} marked the form changed"
        assert editor.collect() == endpoint
        assert editor.target.form().isVisible() and editor.target.kind() is endpoint.kind
        kinds.add(endpoint.kind)
    assert kinds >= {ProbeKind.HTTP, ProbeKind.SCRAPE}


def test_tab_walks_the_endpoint_form_in_reading_order(qtbot: QtBot, console: Console) -> None:
    editor = _editor(qtbot, console)
    console.window.activateWindow()
    editor.key_edit.setFocus()
    target, fields = editor.target, editor.metric_fields
    expected: list[QWidget] = [
        editor.name_edit, editor.service_combo, editor.kind_combo, target.http_url,
        target.http_method, target.http_headers_view, target.add_header_button,
        target.remove_header_button, target.http_body, target.http_status,
        target.http_json_path, target.http_keyword, target.http_regex, target.http_verify,
        target.http_redirects, editor.interval_spin, editor.timeout_spin, editor.jitter_spin,
        editor.credential_edit, editor.enabled_check, editor.metrics_view,
        editor.add_metric_button, editor.remove_metric_button, fields.metric_edit,
        fields.name_edit, fields.unit, fields.direction, fields.warning.value_edit,
        fields.critical.value_edit, fields.hysteresis, fields.threshold_for,
        fields.threshold_keep, fields.method,
    ]  # fmt: skip
    for widget in expected:
        current = focused()
        assert current is not None
        qtbot.keyClick(current, Qt.Key.Key_Tab)
        now = focused()
        # An editable combo box hands the focus to its line edit.
        assert now is widget or now is getattr(widget, "lineEdit", lambda: None)(), (
            f"Tab went to {now!r}, expected {widget!r}"
        )


def test_ctrl_n_and_ctrl_f_work_on_the_endpoints_page(
    qtbot: QtBot, console: Console, demo: Estate
) -> None:
    editor = _editor(qtbot, console)
    window = console.window
    window.activateWindow()
    qtbot.keyClick(window.sidebar, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert focused() is editor.filter_edit
    wanted = demo.endpoints[5]
    qtbot.keyClicks(editor.filter_edit, wanted.name)
    assert editor.proxy.rowCount() == 1
    assert editor.proxy.index(0, 0).data(KEY_ROLE) == wanted.key
    assert editor.count_label.text() == f"1 of {len(demo.endpoints)} endpoints shown"
    qtbot.keyClick(editor.filter_edit, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert editor.form_title.text() == "New endpoint" and focused() is editor.key_edit
    assert editor.metrics.rowCount() == 0 and editor.no_metrics.isVisible()
    assert not editor.metric_fields.isVisible()


# -- models --------------------------------------------------------------------------


def test_the_endpoint_list_model_passes_the_model_tester(
    console: Console, qtmodeltester: ModelTester, demo: Estate
) -> None:
    model = endpoints_model(console.estate)
    qtmodeltester.check(model)
    assert model.rowCount() == len(demo.endpoints) > 0
    keys = {model.index(r, 0).data(KEY_ROLE) for r in range(model.rowCount())}
    assert keys == {e.key for e in demo.endpoints}
    record = model.index(0, 0).data(RECORD_ROLE)
    assert record in demo.endpoints
    names = {s.key: s.name for s in demo.services}
    assert model.index(0, 1).data() == names[record.service]


def test_the_metrics_and_headers_models_pass_the_model_tester(
    qtmodeltester: ModelTester, demo: Estate
) -> None:
    metrics = MetricsModel()
    specs = [m for e in demo.endpoints for m in e.metrics]
    metrics.set_drafts(draft_of(m) for m in specs)
    qtmodeltester.check(metrics)
    assert metrics.rowCount() == len(specs)
    row = metrics.add(MetricDraft("up", "up"))
    metrics.update(row, MetricDraft("up", "health", Unit.NONE))
    metrics.remove(0)
    qtmodeltester.check(metrics)
    assert metrics.index(metrics.rowCount() - 1, 1).data() == "health"
    headers = PairsModel()
    headers.set_pairs([("Accept", "application/json"), ("X-Trace", "1")])
    qtmodeltester.check(headers)
    headers.add()
    assert headers.setData(headers.index(2, 0), " X-Team ")
    assert headers.pairs() == (("Accept", "application/json"), ("X-Trace", "1"), ("X-Team", ""))
    headers.remove(0)
    qtmodeltester.check(headers)


def test_drafts_give_back_every_demo_metric_exactly(demo: Estate) -> None:
    specs = [m for e in demo.endpoints for m in e.metrics]
    assert any(m.deviation is not None for m in specs)
    for spec in specs:
        assert spec_of(draft_of(spec)) == (spec, [])


def test_broken_drafts_name_the_field_at_fault() -> None:
    # Levels typed before the thresholds were switched off are not a problem.
    off = ThresholdDraft(None, LevelDraft("not a number"))
    assert spec_of(MetricDraft("up", "up", thresholds=off)) == (MetricSpec("up", "up"), [])
    outside = ThresholdDraft(Direction.OUTSIDE, LevelDraft(low="10", high="5"), LevelDraft(low="1"))
    spec, problems = spec_of(MetricDraft("q", "queue", thresholds=outside), "metrics[3].")
    assert spec.thresholds is None
    assert [(p.path, p.message) for p in problems] == [
        ("metrics[3].thresholds.warning", "the low end (10) is above the high end"),
        ("metrics[3].thresholds.critical", "a range needs both a low and a high end"),
    ]
    band = DeviationDraft(BandMethod.MEAN_SIGMA, k=2, warning_k=3, min_samples=1)
    spec, problems = spec_of(MetricDraft("q", "queue", deviation=band))
    assert spec.deviation is None
    assert {p.path for p in problems} == {"deviation.warning_k", "deviation.min_samples"}


# -- screenshot ----------------------------------------------------------------------


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_the_screenshot_command_shows_the_demo_endpoints(tmp_path: Path, demo: Estate) -> None:
    tesseract = shutil.which("tesseract")
    assert tesseract, "tesseract-ocr is installed by packaging/dev.sh"
    out = tmp_path / "endpoints.png"
    # Large enough that every demo endpoint has a row and its whole name in the list.
    result = subprocess.run(
        [str(COMMAND), "--demo", "--screenshot", str(out), "--page", "Endpoints",
         "--size", "2560x1600"],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    ocr = subprocess.run(
        [tesseract, str(out), "stdout"], capture_output=True, text=True, check=True, timeout=120
    )
    seen = _words(ocr.stdout)
    assert "endpoints" in seen and "new endpoint" in seen
    assert f"{len(demo.endpoints)} endpoints" in seen
    missing = [e.name for e in demo.endpoints if _words(e.name) not in seen]
    assert not missing, f"not read in the screenshot: {missing}"
