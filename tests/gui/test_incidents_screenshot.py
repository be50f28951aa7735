"""The Incidents page of the demo, rendered by the real command on a real X screen, read by OCR."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.gui

COMMAND = Path(sys.executable).parent / "oncall-console"


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _run(*args: str, platform: str = "xcb") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    return subprocess.run(
        [str(COMMAND), *args], env=env, capture_output=True, text=True, timeout=180, check=False
    )


def _incidents(db: Path, *extra: str) -> list[dict[str, Any]]:
    listed = _run("--db", str(db), "incidents", "list", "--json", *extra, platform="offscreen")
    assert listed.returncode == 0, listed.stderr
    found: list[dict[str, Any]] = json.loads(listed.stdout)
    return found


def test_the_demo_incidents_page_shows_its_incidents_and_the_selected_one(tmp_path: Path) -> None:
    assert os.environ.get("DISPLAY"), "the test harness starts Xvfb and sets DISPLAY"
    tesseract = shutil.which("tesseract")
    assert tesseract, "tesseract-ocr is installed by packaging/dev.sh"
    db, out = tmp_path / "demo.db", tmp_path / "incidents.png"
    shot = _run(
        "--demo", "--db", str(db), "--screenshot", str(out), "--page", "incidents",
        "--size", "1600x1000",
    )  # fmt: skip
    assert shot.returncode == 0, shot.stderr

    # The demo opens its replayed trouble as incidents, takes one and adds a person's report.
    found = _incidents(db)
    assert len(found) >= 3
    assert any(i["state"] == "acknowledged" for i in found)
    assert any(i["source"] == "manual" and i["reporter"] for i in found)
    assert found[0]["state"] == "triggered"  # unacknowledged first

    # Read as one block of text (the detail's lines come out whole) and as sparse text (the
    # list's short incident numbers come out clean).
    seen = _words(_ocr(tesseract, out, "6"))
    sparse = _ocr(tesseract, out, "11").split()
    # The first incident is selected: its whole title heads the detail pane. (The engine of the
    # screenshot's process may open one more incident after the page read its list.)
    titles = [i["title"] for i in found[:2]]
    assert any(_words(t) in seen for t in titles), f"none of {titles} read"
    refs = [i["ref"] for i in found[:8]]
    read = [ref for ref in refs if ref in sparse]
    assert len(read) >= min(len(refs), 6), f"read {read} of {refs}"
    for words in ("acknowledge", "mitigate", "resolve", "timeline", "join bridge", "opened it"):
        assert words in seen, f"{words!r} not read in the screenshot"


def _ocr(tesseract: str, image: Path, psm: str) -> str:
    done = subprocess.run(
        [tesseract, str(image), "stdout", "--psm", psm],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    return done.stdout
