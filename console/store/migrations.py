"""Append-only schema migrations. A shipped migration is never edited: add a new one.

Each migration has a committed fixture database under ``tests/fixtures/stores/`` made by
``tests/fixtures/make_store_fixture.py``; a test fails when the newest has none.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from console.store.incident_rows import replay as replay_incidents
from console.store.preflight import MIGRATION_SET
from console.store.projections import replay_metric_states

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


# The monitoring view's read model. `metric_states` is a projection of metric.state_changed and
# metric.flapping (rebuilt from the log like every derived table); `metric_key` is '' for the
# endpoint's own check because a NULL in a primary key would make every check row distinct.
# `endpoint_results` is not in the log at all: the engine's recorder upserts each endpoint's
# newest result once per batch, so it costs O(endpoints checked) per flush, not one event per
# check.
_STATUS = """
CREATE TABLE metric_states (
    endpoint TEXT NOT NULL,
    metric_key TEXT NOT NULL,
    metric TEXT NOT NULL,
    state TEXT NOT NULL,
    state_type TEXT NOT NULL,
    hard_state TEXT NOT NULL,
    flapping INTEGER NOT NULL DEFAULT 0 CHECK (flapping IN (0, 1)),
    flap_percent REAL,
    since TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    reason TEXT NOT NULL,
    value REAL,
    band_low REAL,
    band_high REAL,
    changed_seq INTEGER NOT NULL,
    PRIMARY KEY (endpoint, metric_key)
) WITHOUT ROWID;
CREATE TABLE endpoint_results (
    endpoint TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    state TEXT NOT NULL,
    reason TEXT NOT NULL,
    duration_s REAL NOT NULL
) WITHOUT ROWID;
"""


@migrations(name="m004_status")
def m004_status(db: Database) -> None:
    """Each metric's current state (a projection) and each endpoint's newest result.

    A store that already logged state changes gets them projected here, so its monitoring view
    is right at once (a later migration that reshapes ``metric_states`` must drop and replay it
    the same way, after its own change).
    """
    for statement in _split(_STATUS):
        db.execute(statement)
    replay_metric_states(db)


# Incidents (see console/store/incident_rows.py). `incidents`, `incident_keys`, `silences` and
# `alert_routing` are projections of the log. `incident_repeats` is not: it counts repeats of a
# signal without an event each, so `events.rebuild` leaves it alone (and it has no foreign key,
# which a rebuild's delete of `incidents` would trip). `next_due_at` is escalation's column: the
# projection never writes it. No foreign keys to teams or services either: an incident is
# history and outlives a deleted service; `number` is not unique because logs merged from other
# consoles may bring their own INC-7.
_INCIDENTS = """
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL CHECK (number > 0),
    title TEXT NOT NULL,
    summary TEXT,
    source TEXT NOT NULL,
    dedup_key TEXT NOT NULL,
    service TEXT,
    team TEXT,
    severity TEXT NOT NULL,
    priority TEXT NOT NULL,
    priority_reason TEXT NOT NULL,
    priority_overridden INTEGER NOT NULL DEFAULT 0 CHECK (priority_overridden IN (0, 1)),
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    detected_at TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    mitigated_at TEXT,
    resolved_at TEXT,
    resolved_by TEXT,
    resolve_reason TEXT,
    snoozed_until TEXT,
    flapping INTEGER NOT NULL DEFAULT 0 CHECK (flapping IN (0, 1)),
    parent TEXT,
    merged_into TEXT,
    labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
    reporter TEXT,
    impact TEXT,
    recurrences INTEGER NOT NULL DEFAULT 0,
    last_seen_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    drill INTEGER NOT NULL DEFAULT 0 CHECK (drill IN (0, 1)),
    next_due_at TEXT
);
CREATE INDEX incidents_state ON incidents (state, priority, detected_at);
CREATE INDEX incidents_number ON incidents (number);
CREATE INDEX incidents_service ON incidents (service, state);
CREATE INDEX incidents_team ON incidents (team, state);
CREATE INDEX incidents_parent ON incidents (parent) WHERE parent IS NOT NULL;
CREATE INDEX incidents_dedup ON incidents (dedup_key, detected_at);
CREATE INDEX incidents_due ON incidents (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE TABLE incident_keys (
    dedup_key TEXT NOT NULL,
    incident TEXT NOT NULL,
    PRIMARY KEY (dedup_key, incident)
) WITHOUT ROWID;
CREATE TABLE incident_repeats (
    incident TEXT PRIMARY KEY,
    count INTEGER NOT NULL CHECK (count >= 1),
    last_seen_at TEXT NOT NULL
);
CREATE TABLE silences (
    key TEXT PRIMARY KEY,
    spec TEXT NOT NULL CHECK (json_valid(spec)),
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE alert_routing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    spec TEXT NOT NULL CHECK (json_valid(spec))
);
"""


@migrations(name="m005_incidents")
def m005_incidents(db: Database) -> None:
    """Incidents (a projection of their timelines), repeat counters, silences and routes."""
    for statement in _split(_INCIDENTS):
        db.execute(statement)
    replay_incidents(db)


# On-call schedules (see console/store/schedule_rows.py), all projections of the log. Overrides
# are rows of their own (added and removed one at a time); no foreign keys to members: a member
# named here cannot be deleted (the store refuses), and a log merged from elsewhere must still
# replay.
_SCHEDULES = """
CREATE TABLE schedules (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    zone TEXT NOT NULL,
    spec TEXT NOT NULL CHECK (json_valid(spec))
);
CREATE TABLE schedule_overrides (
    schedule TEXT NOT NULL REFERENCES schedules (key) ON DELETE CASCADE,
    id TEXT NOT NULL,
    member TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL CHECK (end_at > start_at),
    note TEXT,
    PRIMARY KEY (schedule, id)
);
CREATE INDEX schedule_overrides_start ON schedule_overrides (schedule, start_at);
CREATE INDEX schedule_overrides_member ON schedule_overrides (member, start_at);
CREATE TABLE unavailability (
    key TEXT PRIMARY KEY,
    member TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL CHECK (end_at > start_at),
    reason TEXT NOT NULL,
    note TEXT
);
CREATE INDEX unavailability_member ON unavailability (member, start_at);
"""


@migrations(name="m006_schedules")
def m006_schedules(db: Database) -> None:
    """On-call schedules (layers as JSON), their overrides and members' absences."""
    for statement in _split(_SCHEDULES):
        db.execute(statement)


# Escalation (see console/store/escalation_rows.py), projections of the log: policies as JSON
# specs, and the round-robin turn per policy level (moved on by ``escalation.level_started``).
_ESCALATION = """
CREATE TABLE escalation_policies (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT NOT NULL CHECK (json_valid(spec))
);
CREATE TABLE round_robin_turns (
    policy TEXT NOT NULL,
    level INTEGER NOT NULL CHECK (level >= 0),
    next_index INTEGER NOT NULL CHECK (next_index >= 0),
    PRIMARY KEY (policy, level)
) WITHOUT ROWID;
"""


@migrations(name="m007_escalation")
def m007_escalation(db: Database) -> None:
    """Escalation policies and round-robin turns."""
    for statement in _split(_ESCALATION):
        db.execute(statement)
