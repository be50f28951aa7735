"""The only package that talks to SQLite: preflight, migrations, the event log, projections."""
