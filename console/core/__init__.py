"""The domain: pure Python records and rules, with no I/O, no Qt and no SQLite."""
