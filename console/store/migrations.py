"""Append-only schema migrations. A shipped migration is never edited: add a new one.

Each migration has a committed fixture database under ``tests/fixtures/stores/`` made by
``tests/fixtures/make_store_fixture.py``; a test fails when the newest has none.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from console.store.preflight import MIGRATION_SET

migrations = Migrations(MIGRATION_SET)

_INITIAL = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    event_time TEXT NOT NULL,
    recorded_time TEXT NOT NULL,
    actor TEXT NOT NULL,
    origin TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload))
);
CREATE INDEX events_subject ON events (subject, seq);
CREATE INDEX events_type ON events (type, seq);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TABLE members (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    discipline TEXT NOT NULL,
    phone TEXT,
    chat TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE teams (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    discipline TEXT NOT NULL,
    lead TEXT REFERENCES members (email),
    bridge_url TEXT,
    notes TEXT
);
CREATE TABLE memberships (
    team TEXT NOT NULL REFERENCES teams (key) ON DELETE CASCADE,
    member TEXT NOT NULL REFERENCES members (email),
    role TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (team, member)
);
CREATE INDEX memberships_member ON memberships (member);
CREATE TABLE services (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    team TEXT NOT NULL REFERENCES teams (key),
    tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 4),
    description TEXT,
    tags TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE service_deps (
    service TEXT NOT NULL REFERENCES services (key) ON DELETE CASCADE,
    depends_on TEXT NOT NULL REFERENCES services (key),
    position INTEGER NOT NULL,
    PRIMARY KEY (service, depends_on)
);
CREATE TABLE priority_matrix (
    tier INTEGER NOT NULL CHECK (tier BETWEEN 1 AND 4),
    severity TEXT NOT NULL,
    priority TEXT NOT NULL,
    PRIMARY KEY (tier, severity)
);
CREATE TABLE runbooks (
    key TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    scenario TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE runbook_services (
    runbook TEXT NOT NULL REFERENCES runbooks (key) ON DELETE CASCADE,
    service TEXT NOT NULL REFERENCES services (key),
    position INTEGER NOT NULL,
    PRIMARY KEY (runbook, service)
);
CREATE TABLE runbook_versions (
    runbook TEXT NOT NULL,
    number INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    event_id TEXT NOT NULL,
    content TEXT NOT NULL CHECK (json_valid(content)),
    PRIMARY KEY (runbook, number)
);
CREATE VIRTUAL TABLE runbook_search USING fts5 (key UNINDEXED, title, scenario, body);
CREATE TABLE resources (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT,
    who_may_use TEXT NOT NULL DEFAULT '[]',
    how_to_obtain TEXT,
    secret_ref TEXT
);
"""


@migrations(name="m001_initial")
def m001_initial(db: Database) -> None:
    """Settings, the event log and the configuration projections."""
    for statement in _split(_INITIAL):
        db.execute(statement)


def _split(script: str) -> list[str]:
    """Split a script on ';' at line ends, keeping trigger bodies whole."""
    out: list[str] = []
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or text.endswith("END;")
        ):
            out.append(text)
            buf = []
    return [s for s in out if s]


def known_names() -> tuple[str, ...]:
    """Names of every migration this version of the code knows, in order."""
    return tuple(m.name for m in migrations._migrations)
