"""Dialogs: windows that open over the main window (settings; later others)."""
