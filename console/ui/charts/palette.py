"""Chart colours: the theme's surfaces and text, and a colour-blind-safe set for the data.

pyqtgraph draws with its own pens and ignores the Qt palette, so every colour a chart uses
comes from here and is re-applied when the theme changes. The data colours are from the
Okabe-Ito palette (distinguishable with the common colour-vision deficiencies); every state
they mark is also shown by shape or text (dash patterns, labelled lines, triangle markers,
the readout's state word).
"""

from __future__ import annotations

from dataclasses import dataclass

from console.ui.theme import Theme

#: Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO = {
    "black": "#000000",
    "orange": "#e69f00",
    "sky_blue": "#56b4e9",
    "bluish_green": "#009e73",
    "yellow": "#f0e442",
    "blue": "#0072b2",
    "vermillion": "#d55e00",
    "reddish_purple": "#cc79a7",
}


@dataclass(frozen=True, slots=True)
class ChartPalette:
    """Every colour a chart draws with (hex strings; alphas 0-255 where a fill is translucent).

    Attributes:
        background: The plot's background (the theme's surface).
        axis: Axis lines and the grid.
        text: Axis labels, tick labels and line labels.
        muted: The crosshair and secondary text.
        curve: The metric's line.
        band: The deviation band's fill colour.
        band_alpha: The band fill's opacity.
        warning: The warning level's line.
        critical: The critical level's line.
        outlier: Markers on points outside the band.
        incident: Incident spans' fill colour.
        incident_alpha: The incident fill's opacity.
    """

    background: str
    axis: str
    text: str
    muted: str
    curve: str
    band: str
    band_alpha: int
    warning: str
    critical: str
    outlier: str
    incident: str
    incident_alpha: int


def chart_palette(theme: Theme) -> ChartPalette:
    """The chart colours for a theme (the lighter blue reads better on the dark surface)."""
    dark = theme.is_dark
    return ChartPalette(
        background=theme.surface,
        axis=theme.border if not dark else theme.muted,
        text=theme.text,
        muted=theme.muted,
        curve=OKABE_ITO["sky_blue"] if dark else OKABE_ITO["blue"],
        band=OKABE_ITO["bluish_green"],
        band_alpha=70 if dark else 55,
        warning=OKABE_ITO["orange"],
        critical=OKABE_ITO["vermillion"],
        outlier=OKABE_ITO["reddish_purple"],
        incident=OKABE_ITO["vermillion"],
        incident_alpha=45 if dark else 30,
    )
