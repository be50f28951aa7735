"""The layers below the UI import without Qt and never pull it in."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import console

GUI_MODULES = ("console.ui", "console.app")


def _headless_modules() -> list[str]:
    return [
        m.name
        for m in pkgutil.walk_packages(console.__path__, "console.")
        if not m.name.startswith(GUI_MODULES)
    ]


def test_importing_every_module_below_ui_loads_no_qt() -> None:
    names = _headless_modules()
    assert "console.store.db" in names and "console.cli" in names
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}: importlib.import_module(n)\n"
        "qt = {'PySide6', 'pyqtgraph', 'shiboken6'}\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in qt)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
