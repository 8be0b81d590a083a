//! Versioned schema migrations of the PostgreSQL store, tracked in a `schema_version` table.
//! Append only: never edit a released step. The tables mirror the SQLite ones (same names,
//! same meaning); text that is compared or ordered uses the `C` collation, so windows and
//! listings order byte-wise exactly as SQLite does, whatever the database's locale.

use postgres::Client;

use crate::{Result, StoreError};

/// Written as `CTEXT` in the steps below.
const CTEXT: &str = "TEXT COLLATE \"C\"";

/// Lock key of the migration (any constant; `pg_advisory_lock` serialises replicas starting at
/// once, so one migrates and the others find the schema current).
const MIGRATION_LOCK: i64 = 0x7472_6961_6765; // "triage"

const STEPS: &[&str] = &[
    // 1: the SQLite schema as of its step 7, in one step
    "CREATE TABLE resolved_tickets (
        tenant CTEXT NOT NULL,
        external_id CTEXT NOT NULL,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        category CTEXT,
        priority CTEXT,
        assignment_group CTEXT,
        resolution_notes TEXT NOT NULL,
        first_contact BOOLEAN,
        kb_article TEXT,
        opened_at CTEXT,
        resolved_at CTEXT,
        updated_at CTEXT NOT NULL,
        PRIMARY KEY (tenant, external_id)
    );
    CREATE INDEX resolved_by_time ON resolved_tickets (tenant, resolved_at);
    CREATE TABLE triage_records (
        triage_id CTEXT PRIMARY KEY,
        tenant CTEXT,
        external_id CTEXT,
        created_at CTEXT NOT NULL,
        model_version TEXT,
        labels_json TEXT NOT NULL,
        suggestions_json TEXT NOT NULL,
        text TEXT,
        no_good_fix BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE INDEX triage_by_time ON triage_records (tenant, created_at);
    CREATE INDEX triage_by_external ON triage_records (tenant, external_id);
    CREATE INDEX triage_by_created ON triage_records (created_at);
    CREATE TABLE feedback (
        id BIGSERIAL PRIMARY KEY,
        triage_id CTEXT NOT NULL REFERENCES triage_records (triage_id),
        tenant CTEXT,
        suggestion CTEXT,
        outcome CTEXT NOT NULL,
        corrected_json TEXT NOT NULL,
        created_at CTEXT NOT NULL
    );
    CREATE INDEX feedback_by_triage ON feedback (triage_id);
    CREATE UNIQUE INDEX feedback_once ON feedback (triage_id, COALESCE(suggestion, ''), outcome);
    CREATE TABLE models (
        version CTEXT PRIMARY KEY,
        path TEXT NOT NULL,
        created_at CTEXT NOT NULL,
        status CTEXT NOT NULL,
        report_json TEXT NOT NULL
    );
    CREATE TABLE live_history (
        id BIGSERIAL PRIMARY KEY,
        version CTEXT NOT NULL,
        action TEXT NOT NULL,
        at CTEXT NOT NULL
    );
    CREATE TABLE api_keys (
        id CTEXT PRIMARY KEY,
        hash TEXT NOT NULL UNIQUE,
        tenant CTEXT,
        role TEXT NOT NULL,
        label TEXT NOT NULL,
        created_at CTEXT NOT NULL,
        revoked_at CTEXT
    );
    CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        at CTEXT NOT NULL,
        key_id TEXT,
        tenant CTEXT,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        outcome TEXT NOT NULL
    );
    CREATE INDEX audit_by_tenant ON audit (tenant, id);
    CREATE TABLE store_meta (
        key CTEXT PRIMARY KEY,
        value BIGINT NOT NULL
    );
    INSERT INTO store_meta (key, value) VALUES ('resolved_seq', 0);
    CREATE TABLE connector_events (
        id BIGSERIAL PRIMARY KEY,
        connector CTEXT NOT NULL,
        event_key CTEXT NOT NULL,
        external_id TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        state CTEXT NOT NULL,
        detail TEXT,
        received_at CTEXT NOT NULL,
        processed_at CTEXT,
        UNIQUE (connector, event_key)
    );
    CREATE INDEX connector_events_by_state ON connector_events (connector, state, id);
    CREATE TABLE connector_tickets (
        connector CTEXT NOT NULL,
        external_id CTEXT NOT NULL,
        tenant TEXT,
        text_hash TEXT NOT NULL,
        triage_id TEXT,
        state_json TEXT NOT NULL,
        resolved BOOLEAN NOT NULL DEFAULT FALSE,
        updated_at CTEXT NOT NULL,
        PRIMARY KEY (connector, external_id)
    );
    CREATE TABLE connector_cursors (
        connector CTEXT PRIMARY KEY,
        cursor TEXT NOT NULL,
        updated_at CTEXT NOT NULL
    );
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        connector CTEXT NOT NULL,
        external_id TEXT NOT NULL,
        action TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        marker CTEXT NOT NULL UNIQUE,
        state CTEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        next_attempt_ms BIGINT NOT NULL,
        last_error TEXT,
        created_at CTEXT NOT NULL,
        delivered_at CTEXT
    );
    CREATE INDEX outbox_due ON outbox (connector, state, next_attempt_ms);
    CREATE TABLE incidents (
        id CTEXT PRIMARY KEY,
        status CTEXT NOT NULL,
        opened_at CTEXT NOT NULL,
        status_at CTEXT NOT NULL,
        message TEXT,
        expected_at_open DOUBLE PRECISION NOT NULL,
        updated_at CTEXT NOT NULL
    );
    CREATE INDEX incidents_by_status ON incidents (status, updated_at);
    CREATE TABLE incident_members (
        incident_id CTEXT NOT NULL REFERENCES incidents (id),
        triage_id CTEXT NOT NULL,
        tenant TEXT,
        at CTEXT NOT NULL,
        similarity DOUBLE PRECISION NOT NULL,
        title TEXT NOT NULL,
        terms TEXT NOT NULL,
        PRIMARY KEY (incident_id, triage_id)
    );",
    // 2: the change feed replicas follow (see `changes`), and feedback counted per suggestion
    "CREATE TABLE changes (
        seq BIGINT PRIMARY KEY,
        at CTEXT NOT NULL,
        kind CTEXT NOT NULL,
        tenant CTEXT,
        subject TEXT NOT NULL,
        detail TEXT,
        origin TEXT NOT NULL
    );
    CREATE INDEX changes_by_time ON changes (at);
    INSERT INTO store_meta (key, value) VALUES ('change_seq', 0);
    CREATE INDEX feedback_by_suggestion ON feedback (suggestion, outcome);",
    // ---- issue 15 item 3 (branch wp-shared-models): one step after main's change feed ----
    // 3: model bundles' files shared by replicas (written once per version), and background jobs
    // leased through the database (one active job per kind, by the partial unique index)
    "CREATE TABLE model_bundles (
        version CTEXT PRIMARY KEY,
        stored_at CTEXT NOT NULL
    );
    CREATE TABLE model_files (
        version CTEXT NOT NULL REFERENCES model_bundles (version),
        name CTEXT NOT NULL,
        bytes BYTEA NOT NULL,
        PRIMARY KEY (version, name)
    );
    CREATE TABLE jobs (
        id CTEXT PRIMARY KEY,
        kind CTEXT NOT NULL,
        state CTEXT NOT NULL,
        phase TEXT NOT NULL,
        done BIGINT NOT NULL,
        total BIGINT NOT NULL,
        started_at CTEXT NOT NULL,
        finished_at CTEXT,
        version TEXT,
        error TEXT,
        owner TEXT NOT NULL,
        lease_until_ms BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX jobs_one_active ON jobs (kind) WHERE state IN ('queued', 'running');
    CREATE INDEX jobs_by_lease ON jobs (state, lease_until_ms);",
    // ---- end of issue 15 item 3 ----
];

/// Schema version this binary writes and understands.
pub(crate) const SCHEMA_VERSION: u32 = STEPS.len() as u32;

/// Brings the schema to the latest version, one transaction per step, under an advisory lock so
/// replicas starting together migrate once. A database written by a newer binary is refused.
pub(crate) fn migrate(client: &mut Client) -> Result<u32> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let outcome = migrate_locked(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    let version = outcome?;
    unlocked?;
    Ok(version)
}

fn migrate_locked(client: &mut Client) -> Result<u32> {
    client.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current = current_version(client)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew { found: current, supported: SCHEMA_VERSION });
    }
    for (i, sql) in STEPS.iter().enumerate().skip(current as usize) {
        let version = (i + 1) as i32;
        let mut tx = client.transaction()?;
        tx.batch_execute(&sql.replace("CTEXT", CTEXT))?;
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&version])?;
        tx.commit()?;
        tracing::info!(version, "postgresql store schema migrated");
    }
    Ok(SCHEMA_VERSION)
}

/// The recorded schema version (0 for a database without any).
pub(crate) fn current_version(client: &mut Client) -> Result<u32> {
    let version: Option<i32> = client.query_opt("SELECT MAX(version) FROM schema_version", &[])?.and_then(|r| r.get(0));
    Ok(version.unwrap_or(0).max(0) as u32)
}
