"""Unit tests of the UI layer's pure models (no Qt)."""
