"""Light and dark colour schemes, applied as a Fusion palette plus one style sheet."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from enum import Enum
from functools import cache
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


class Scheme(Enum):
    """Which set of colours is in use."""

    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True, slots=True)
class Theme:
    """The colours every view draws with (hex strings, so style sheets can use them)."""

    scheme: Scheme
    window: str
    surface: str
    surface_alt: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    accent_soft: str
    sidebar: str
    sidebar_text: str
    sidebar_selected: str
    error: str
    error_soft: str
    warning: str
    warning_soft: str
    success: str

    @property
    def is_dark(self) -> bool:
        """Whether this is the dark scheme."""
        return self.scheme is Scheme.DARK


LIGHT = Theme(
    scheme=Scheme.LIGHT,
    window="#f4f6f8",
    surface="#ffffff",
    surface_alt="#f6f8fa",
    text="#1f2328",
    muted="#59636e",
    border="#d1d9e0",
    accent="#0969da",
    accent_text="#ffffff",
    accent_soft="#ddf4ff",
    sidebar="#eaeef2",
    sidebar_text="#1f2328",
    sidebar_selected="#d0e3fb",
    error="#cf222e",
    error_soft="#ffebe9",
    warning="#9a6700",
    warning_soft="#fff8c5",
    success="#1a7f37",
)

DARK = Theme(
    scheme=Scheme.DARK,
    window="#0d1117",
    surface="#151b23",
    surface_alt="#1c232c",
    text="#e6edf3",
    muted="#9198a1",
    border="#3d444d",
    accent="#4493f8",
    accent_text="#ffffff",
    accent_soft="#1b2f4a",
    sidebar="#010409",
    sidebar_text="#d1d7e0",
    sidebar_selected="#1f3250",
    error="#f85149",
    error_soft="#3c1618",
    warning="#d29922",
    warning_soft="#3a2d0c",
    success="#3fb950",
)


def system_scheme() -> Scheme:
    """The scheme the desktop asks for (light when it says nothing)."""
    hints = QGuiApplication.styleHints()
    return Scheme.DARK if hints.colorScheme() == Qt.ColorScheme.Dark else Scheme.LIGHT


def theme_for(scheme: Scheme) -> Theme:
    """The theme of a scheme."""
    return DARK if scheme is Scheme.DARK else LIGHT


def palette(theme: Theme) -> QPalette:
    """A full QPalette built from the theme's colours."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.surface,
        QPalette.ColorRole.AlternateBase: theme.surface_alt,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.surface_alt,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: theme.accent_text,
        QPalette.ColorRole.ToolTipBase: theme.surface,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.muted,
        QPalette.ColorRole.Link: theme.accent,
        QPalette.ColorRole.Mid: theme.border,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(theme.muted))
    return pal


@cache
def _asset_dir() -> Path:
    # Style sheets take images only from files; these live as long as the process.
    return Path(tempfile.mkdtemp(prefix="oncall-console-theme-"))


def _arrow(name: str, colour: str) -> str:
    from console.ui import icons  # here, as icons need a QGuiApplication to exist

    path = _asset_dir() / f"{name}-{colour.lstrip('#')}.png"
    if not path.exists():
        icons.pixmap(name, colour, 32).save(str(path), "PNG")
    return path.as_posix()


def style_sheet(t: Theme) -> str:
    """The application-wide style sheet: spacing, borders and the named widgets' looks."""
    down, up = _arrow("down", t.muted), _arrow("up", t.muted)
    check = _arrow("save", t.accent_text)
    return f"""
QWidget {{ color: {t.text}; }}
QMainWindow, QDialog {{ background: {t.window}; }}
QToolTip {{ background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; }}
#Sidebar {{ background: {t.sidebar}; border: none; border-right: 1px solid {t.border}; }}
#SidebarList {{ background: transparent; border: none; outline: none; }}
#SidebarList::item {{ color: {t.sidebar_text}; padding: 8px 10px; margin: 1px 8px;
    border-radius: 6px; }}
#SidebarList::item:hover {{ background: {t.surface_alt}; }}
#SidebarList::item:selected {{ background: {t.sidebar_selected}; color: {t.text}; }}
#AppTitle {{ font-size: 15px; font-weight: 600; color: {t.text}; }}
#AppSubtitle {{ color: {t.muted}; }}
#PageHeader {{ background: {t.surface}; border-bottom: 1px solid {t.border}; }}
#PageTitle {{ font-size: 20px; font-weight: 600; }}
#PageSubtitle, .muted, #Muted {{ color: {t.muted}; }}
#Panel {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 8px; }}
#FormTitle {{ font-size: 16px; font-weight: 600; }}
#SectionTitle {{ font-weight: 600; color: {t.muted}; padding-top: 8px; }}
#FieldLabel {{ color: {t.text}; }}
#FieldHint {{ color: {t.muted}; }}
#FieldError {{ color: {t.error}; }}
#Banner {{ background: {t.error_soft}; color: {t.error}; border: 1px solid {t.error};
    border-radius: 6px; padding: 8px 10px; }}
#Notice {{ background: {t.accent_soft}; border-radius: 6px; padding: 6px 10px; }}
#EvidenceWarning {{ background: {t.warning_soft}; color: {t.warning};
    border: 1px solid {t.warning}; border-radius: 6px; padding: 8px 10px; font-weight: 600; }}
#EmptyTitle {{ font-size: 18px; font-weight: 600; }}
#EmptyText {{ color: {t.muted}; }}
QLineEdit, QPlainTextEdit, QTextEdit, QTextBrowser, QComboBox, QSpinBox, QDoubleSpinBox {{
    background: {t.surface}; border: 1px solid {t.border}; border-radius: 5px;
    padding: 4px 6px; selection-background-color: {t.accent};
    selection-color: {t.accent_text}; }}
QLineEdit:focus, QPlainTextEdit:focus, QTextEdit:focus, QComboBox:focus, QSpinBox:focus,
QDoubleSpinBox:focus {{ border: 1px solid {t.accent}; }}
QLineEdit:read-only {{ background: {t.surface_alt}; color: {t.muted}; }}
*[invalid="true"] {{ border: 1px solid {t.error}; }}
QComboBox::drop-down {{ subcontrol-origin: padding; subcontrol-position: center right;
    width: 24px; border: none; }}
QComboBox::down-arrow {{ image: url({down}); width: 12px; height: 12px; }}
QComboBox QAbstractItemView {{ background: {t.surface}; border: 1px solid {t.border};
    selection-background-color: {t.accent_soft}; selection-color: {t.text}; }}
QSpinBox, QDoubleSpinBox {{ padding-right: 22px; }}
QSpinBox::up-button, QSpinBox::down-button, QDoubleSpinBox::up-button,
QDoubleSpinBox::down-button {{ subcontrol-origin: border; width: 20px;
    border: none; background: transparent; }}
QSpinBox::up-button, QDoubleSpinBox::up-button {{ subcontrol-position: top right; }}
QSpinBox::down-button, QDoubleSpinBox::down-button {{ subcontrol-position: bottom right; }}
QSpinBox::up-arrow, QDoubleSpinBox::up-arrow {{ image: url({up}); width: 10px; height: 10px; }}
QSpinBox::down-arrow, QDoubleSpinBox::down-arrow {{ image: url({down}); width: 10px;
    height: 10px; }}
QTableView, QListView, QTreeView {{ background: {t.surface}; border: 1px solid {t.border};
    border-radius: 6px; gridline-color: {t.border};
    selection-background-color: {t.accent_soft}; selection-color: {t.text}; outline: none; }}
QTableView::item, QListView::item {{ padding: 4px 6px; }}
QTableView::item:focus, QListView::item:focus {{ border: none; }}
QHeaderView::section {{ background: {t.surface_alt}; color: {t.muted}; border: none;
    border-bottom: 1px solid {t.border}; padding: 5px 8px; font-weight: 600; }}
QPushButton {{ background: {t.surface}; border: 1px solid {t.border}; border-radius: 6px;
    padding: 5px 14px; min-height: 20px; }}
QPushButton:hover {{ background: {t.surface_alt}; }}
QPushButton:focus {{ border: 1px solid {t.accent}; }}
QPushButton:disabled {{ color: {t.muted}; }}
QPushButton#Primary {{ background: {t.accent}; color: {t.accent_text}; border-color: {t.accent};
    font-weight: 600; }}
QPushButton#Primary:disabled {{ background: {t.border}; border-color: {t.border};
    color: {t.muted}; }}
QPushButton#Danger {{ color: {t.error}; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: transparent; color: {t.muted}; padding: 8px 16px;
    border: none; border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent};
    font-weight: 600; }}
QStatusBar {{ background: {t.surface}; border-top: 1px solid {t.border}; color: {t.muted}; }}
QStatusBar QLabel {{ color: {t.muted}; padding: 0 8px; }}
QMenuBar {{ background: {t.surface}; border-bottom: 1px solid {t.border}; }}
QSplitter::handle {{ background: transparent; }}
QScrollArea {{ background: transparent; border: none; }}
#FormBody {{ background: transparent; }}
QCheckBox::indicator, QListView::indicator, QTableView::indicator {{ width: 14px;
    height: 14px; border: 1px solid {t.muted}; border-radius: 3px; background: {t.surface}; }}
QCheckBox::indicator:checked, QListView::indicator:checked, QTableView::indicator:checked {{
    background: {t.accent}; border-color: {t.accent}; image: url({check}); }}
QCheckBox#EvidenceFlag {{ color: {t.warning}; font-weight: 600; }}
"""


def apply(app: QApplication, theme: Theme) -> None:
    """Give the whole application the theme's palette, font size and style sheet."""
    app.setStyle("Fusion")
    app.setPalette(palette(theme))
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    app.setStyleSheet(style_sheet(theme))


class ThemeController(QObject):
    """Holds the current theme and follows the desktop's light/dark setting."""

    changed = Signal(object)

    def __init__(
        self, app: QApplication, scheme: Scheme | None = None, parent: QObject | None = None
    ) -> None:
        """Apply the desktop's scheme (or a forced one) and keep following the desktop."""
        super().__init__(parent)
        self._app = app
        self._forced = scheme
        self.theme = theme_for(scheme or system_scheme())
        apply(app, self.theme)
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)

    def _on_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self._forced is not None:
            return
        theme = theme_for(system_scheme())
        if theme != self.theme:
            self.theme = theme
            apply(self._app, theme)
            self.changed.emit(theme)
