//! Versioned schema migrations, tracked in `PRAGMA user_version`. Append only: never edit a
//! released step.

use rusqlite::Connection;

use crate::{Result, StoreError};

const STEPS: &[&str] = &[
    // 1: resolved tickets, triage records, feedback, model registry
    "CREATE TABLE resolved_tickets (
        tenant TEXT NOT NULL,
        external_id TEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        category TEXT,
        priority TEXT,
        assignment_group TEXT,
        resolution_notes TEXT NOT NULL,
        first_contact INTEGER,
        kb_article TEXT,
        opened_at TEXT,
        resolved_at TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, external_id)
    );
    CREATE INDEX resolved_by_time ON resolved_tickets (tenant, resolved_at);
    CREATE TABLE triage_records (
        triage_id TEXT PRIMARY KEY,
        tenant TEXT,
        external_id TEXT,
        created_at TEXT NOT NULL,
        model_version TEXT,
        labels_json TEXT NOT NULL,
        suggestions_json TEXT NOT NULL
    );
    CREATE INDEX triage_by_time ON triage_records (tenant, created_at);
    CREATE INDEX triage_by_external ON triage_records (tenant, external_id);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        triage_id TEXT NOT NULL REFERENCES triage_records (triage_id),
        tenant TEXT,
        suggestion TEXT,
        outcome TEXT NOT NULL,
        corrected_json TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_by_triage ON feedback (triage_id);
    CREATE TABLE models (
        version TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        report_json TEXT NOT NULL
    );
    CREATE TABLE live_history (
        id INTEGER PRIMARY KEY,
        version TEXT NOT NULL,
        action TEXT NOT NULL,
        at TEXT NOT NULL
    );",
    // 2: the redacted ticket text of a triage, so agents' label corrections can train models
    "ALTER TABLE triage_records ADD COLUMN text TEXT;",
    // 3: API keys (hashes only) and the audit log
    "CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        tenant TEXT,
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        key_id TEXT,
        tenant TEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX audit_by_tenant ON audit (tenant, id);",
    // 4: feedback is idempotent (one row per triage, suggestion and outcome; for `corrected`, the
    // latest labels), and a change sequence of the resolved tickets that the ticket index records
    // with each commit, so a start-up compares what changes on every write, not counts
    "DELETE FROM feedback WHERE id NOT IN (
        SELECT CASE WHEN outcome = 'corrected' THEN MAX(id) ELSE MIN(id) END
        FROM feedback GROUP BY triage_id, COALESCE(suggestion, ''), outcome
    );
    CREATE UNIQUE INDEX feedback_once ON feedback (triage_id, COALESCE(suggestion, ''), outcome);
    CREATE TABLE store_meta (
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    INSERT INTO store_meta (key, value) VALUES ('resolved_seq', 0);",
    // 5: connectors: inbound events (durable before the webhook is answered; deduplicated by the
    // source's event key), what each source ticket was triaged as, poll cursors, and the outbox
    // of write-back actions (one row per action; the marker is its idempotency key)
    "CREATE TABLE connector_events (
        id INTEGER PRIMARY KEY,
        connector TEXT NOT NULL,
        event_key TEXT NOT NULL,
        external_id TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        state TEXT NOT NULL,
        detail TEXT,
        received_at TEXT NOT NULL,
        processed_at TEXT,
        UNIQUE (connector, event_key)
    );
    CREATE INDEX connector_events_by_state ON connector_events (connector, state, id);
    CREATE TABLE connector_tickets (
        connector TEXT NOT NULL,
        external_id TEXT NOT NULL,
        tenant TEXT,
        text_hash TEXT NOT NULL,
        triage_id TEXT,
        state_json TEXT NOT NULL,
        resolved INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, external_id)
    );
    CREATE TABLE connector_cursors (
        connector TEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        connector TEXT NOT NULL,
        external_id TEXT NOT NULL,
        action TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        marker TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        delivered_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (connector, state, next_attempt_ms);",
    // 6: whether a triage answered `no_good_fix` (knowledge-base gaps); earlier records count as 0
    "ALTER TABLE triage_records ADD COLUMN no_good_fix INTEGER NOT NULL DEFAULT 0;",
    // 7: major incidents (issue 14), and triage records by time across tenants (the detector's
    // baseline is seeded from them at start-up)
    "CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        status_at TEXT NOT NULL,
        message TEXT,
        expected_at_open REAL NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX incidents_by_status ON incidents (status, updated_at);
    CREATE TABLE incident_members (
        incident_id TEXT NOT NULL REFERENCES incidents (id),
        triage_id TEXT NOT NULL,
        tenant TEXT,
        at TEXT NOT NULL,
        similarity REAL NOT NULL,
        title TEXT NOT NULL,
        terms TEXT NOT NULL,
        PRIMARY KEY (incident_id, triage_id)
    );
    CREATE INDEX triage_by_created ON triage_records (created_at);",
    // 8: the change feed replicas follow (issue 15; see `changes`), and feedback counted per
    // suggestion (a follower refreshes the counts of the suggestions that changed)
    "CREATE TABLE changes (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        tenant TEXT,
        subject TEXT NOT NULL,
        detail TEXT,
        origin TEXT NOT NULL
    );
    CREATE INDEX changes_by_time ON changes (at);
    INSERT INTO store_meta (key, value) VALUES ('change_seq', 0);
    CREATE INDEX feedback_by_suggestion ON feedback (suggestion, outcome);",
    // ---- issue 15 item 3 (branch wp-shared-models): one step after main's change feed ----
    // 9: model bundles' files shared by replicas (written once per version), and background jobs
    // leased through the database (one active job per kind, by the partial unique index)
    "CREATE TABLE model_bundles (
        version TEXT PRIMARY KEY,
        stored_at TEXT NOT NULL
    );
    CREATE TABLE model_files (
        version TEXT NOT NULL REFERENCES model_bundles (version),
        name TEXT NOT NULL,
        bytes BLOB NOT NULL,
        PRIMARY KEY (version, name)
    );
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        phase TEXT NOT NULL,
        done INTEGER NOT NULL,
        total INTEGER NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        version TEXT,
        error TEXT,
        owner TEXT NOT NULL,
        lease_until_ms INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX jobs_one_active ON jobs (kind) WHERE state IN ('queued', 'running');
    CREATE INDEX jobs_by_lease ON jobs (state, lease_until_ms);",
    // ---- end of issue 15 item 3 ----
];

/// Schema version this binary writes and understands.
pub(crate) const SCHEMA_VERSION: u32 = STEPS.len() as u32;

/// Brings the schema to the latest version, one transaction per step. A database written by a
/// newer binary (a higher version than this one knows) is refused rather than used half-understood.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32> {
    let current: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    for (i, sql) in STEPS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as u32)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "store schema migrated");
    }
    Ok(SCHEMA_VERSION)
}

/// The first `n` steps (tests build databases as an older binary left them).
#[cfg(test)]
pub(crate) fn steps_up_to(n: usize) -> Vec<&'static str> {
    STEPS[..n].to_vec()
}
