"""Screenshots: the real command under Xvfb renders the demo's teams (read back by OCR)."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from console.core.models import Estate
from console.ui.application import Console, ScreenshotError, screenshot
from pytestqt.qtbot import QtBot

pytestmark = pytest.mark.gui

COMMAND = Path(sys.executable).parent / "oncall-console"


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _run(*args: str, platform: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    return subprocess.run(
        [str(COMMAND), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_renders_the_teams_page_on_a_real_x_screen(
    tmp_path: Path, demo_store_path: Path, demo: Estate
) -> None:
    assert os.environ.get("DISPLAY"), "the test harness starts Xvfb and sets DISPLAY"
    tesseract = shutil.which("tesseract")
    assert tesseract, "tesseract-ocr is installed by packaging/dev.sh"
    out = tmp_path / "teams.png"
    result = _run(
        "--db", str(demo_store_path), "--screenshot", str(out), "--page", "teams", platform="xcb"
    )
    assert result.returncode == 0, result.stderr
    assert _png_size(out) == (1920, 1080)
    ocr = subprocess.run(
        [tesseract, str(out), "stdout"], capture_output=True, text=True, check=True, timeout=120
    )
    seen = _words(ocr.stdout)
    for team in demo.teams:
        assert _words(team.name) in seen, f"{team.name!r} not read in the screenshot"
    assert "teams" in seen and "members" in seen


def test_the_command_honours_the_size_and_refuses_unknown_pages(
    tmp_path: Path, demo_store_path: Path
) -> None:
    out = tmp_path / "small.png"
    ok = _run(
        "--db", str(demo_store_path), "--screenshot", str(out), "--page", "Runbooks",
        "--size", "1280x800", platform="offscreen",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert _png_size(out) == (1280, 800)
    bad = _run(
        "--db", str(demo_store_path), "--screenshot", str(tmp_path / "x.png"),
        "--page", "Nowhere", platform="offscreen",
    )  # fmt: skip
    assert bad.returncode == 2
    assert "Nowhere" in bad.stderr and "Teams" in bad.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    "page",
    [
        "Incidents",
        "Monitoring",
        "Endpoints",
        "Teams",
        "Services",
        "Runbooks",
        "Resources",
        "Escalation",
        "Post-mortems",
        "Reports",
    ],
)
def test_every_page_renders_with_the_demo_loaded(
    qtbot: QtBot, console: Console, tmp_path: Path, demo: Estate, page: str
) -> None:
    out = tmp_path / f"{page}.png"
    screenshot(console, out, page, (1600, 1000))
    assert _png_size(out) == (1600, 1000)
    shown = console.window.current_page()
    assert shown.title == page and shown.isVisible()
    editor = shown.current_editor()
    if editor is not None:  # an editor page shows its records, the first one in its form
        assert editor.proxy.rowCount() == len(editor.records(demo)) > 0
        assert editor.current_key is not None
        assert editor.form_title.text() not in ("", f"New {editor.noun}")


def test_the_teams_page_shows_every_demo_team(qtbot: QtBot, console: Console, demo: Estate) -> None:
    assert console.window.show_page("Teams")
    page = console.window.current_page()
    editor = page.current_editor()
    assert editor is not None
    view = editor.table
    shown = {
        view.model().index(r, 0).data()
        for r in range(view.model().rowCount())
        if not view.visualRect(view.model().index(r, 0)).isEmpty()
    }
    assert shown == {t.name for t in demo.teams}


def test_a_screenshot_of_an_unknown_page_is_refused(console: Console, tmp_path: Path) -> None:
    with pytest.raises(ScreenshotError, match="there is no page 'Nowhere'"):
        screenshot(console, tmp_path / "x.png", "Nowhere", (800, 600))
