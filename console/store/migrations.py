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


# Why this shape: see console/store/samples.py. Series ids are never reused (AUTOINCREMENT) and
# are not foreign keys in the sample tables on purpose: the check costs about a third of the
# ingest rate (measured).
_SAMPLES = """
CREATE TABLE series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint TEXT NOT NULL,
    metric TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    UNIQUE (endpoint, metric, labels)
);
CREATE TABLE sample_inbox (
    ts INTEGER NOT NULL,
    series INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (ts, series)
) WITHOUT ROWID;
CREATE TABLE samples (
    series INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (series, ts)
) WITHOUT ROWID;
CREATE TABLE rollup_1m (
    series INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    sum_value REAL NOT NULL,
    value_count INTEGER NOT NULL CHECK (value_count > 0),
    PRIMARY KEY (series, bucket_ms)
) WITHOUT ROWID;
CREATE TABLE rollup_1h (
    series INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    sum_value REAL NOT NULL,
    value_count INTEGER NOT NULL CHECK (value_count > 0),
    PRIMARY KEY (series, bucket_ms)
) WITHOUT ROWID;
CREATE TABLE rollup_dirty (
    bucket_ms INTEGER NOT NULL,
    series INTEGER NOT NULL,
    PRIMARY KEY (bucket_ms, series)
) WITHOUT ROWID;
CREATE TABLE sample_gaps (
    id INTEGER PRIMARY KEY,
    series INTEGER,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL CHECK (end_ms > start_ms)
);
CREATE INDEX sample_gaps_end ON sample_gaps (end_ms);
CREATE TABLE sample_marks (
    name TEXT PRIMARY KEY,
    ms INTEGER NOT NULL
);
"""


@migrations(name="m002_samples")
def m002_samples(db: Database) -> None:
    """Metric series, raw samples (inbox and by series), rollups, gaps and progress marks."""
    for statement in _split(_SAMPLES):
        db.execute(statement)


# The record itself is the codec dict in `spec`; the columns beside it are what lists, joins
# and the scheduler's start-up query read without decoding JSON.
_ENDPOINTS = """
CREATE TABLE endpoints (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    service TEXT NOT NULL REFERENCES services (key),
    kind TEXT NOT NULL,
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    interval_s REAL NOT NULL CHECK (interval_s >= 1),
    timeout_s REAL NOT NULL CHECK (timeout_s > 0),
    jitter_s REAL NOT NULL DEFAULT 0 CHECK (jitter_s >= 0),
    credential TEXT,
    spec TEXT NOT NULL CHECK (json_valid(spec))
);
CREATE INDEX endpoints_service ON endpoints (service);
"""


@migrations(name="m003_endpoints")
def m003_endpoints(db: Database) -> None:
    """Monitored endpoints: probe kind, timing, owning service and the full record as JSON."""
    for statement in _split(_ENDPOINTS):
        db.execute(statement)
