"""Printing data: aligned plain-text tables for people, JSON for programs."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO


def emit_json(data: Any, out: TextIO | None = None) -> None:
    """Write ``data`` as indented JSON."""
    stream = out or sys.stdout
    json.dump(data, stream, indent=2, ensure_ascii=False, sort_keys=False, default=str)
    stream.write("\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None) -> None:
    """Write rows under headers in aligned columns (values longer than 60 are cut)."""
    stream = out or sys.stdout
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True))
    stream.write(line.rstrip() + "\n")
    for row in cells:
        stream.write(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
    if not rows:
        stream.write("(none)\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        text = ", ".join(str(v) for v in value) or "-"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"
