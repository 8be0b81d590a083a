//! The PostgreSQL implementation of [`Store`], for several replicas sharing one database.
//!
//! Same semantics as [`crate::SqliteStore`]: the same tables and transactions, idempotency keys
//! as unique constraints with `ON CONFLICT`, the resolved-ticket change sequence advanced in the
//! writing transaction, times as the same UTC RFC 3339 text (compared and ordered byte-wise with
//! the `C` collation), and the same orderings. Writes that SQLite serialises with its one writer
//! take row or table locks here (the change sequence row, `models` while a version goes live;
//! the outbox is claimed with `SKIP LOCKED`), so concurrent replicas keep the same guarantees.
//!
//! Connections come from a small pool ([`PgStore::POOL_SIZE`] by default, `store.pool_size`),
//! plus one `LISTEN`ing for the change feed and one holding leaderships; the client is rust-postgres'
//! synchronous one, so callers block exactly as they do on SQLite.

mod changes;
mod connectors;
mod incidents;
mod migrations;
mod records;
mod shared;
mod stats;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
mod tls;
mod url;

pub use url::StoreUrl;
use url::describe;

use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::ResolvedTicket;
use triage_core::time::Timestamp;

use crate::changes::{Change, ChangeKind, NewChange};
use crate::types::{
    ApiKeyRecord, ArticleFeedback, AuditEntry, Correction, Feedback, FeedbackCounts, FeedbackWrite, GapCandidate, ModelRecord,
    SuggestionUsage, TriageRecord, UpsertReport,
};
use crate::{
    ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, IncidentMemberRow, IncidentRow, NewConnectorEvent, NewOutboxAction,
    OutboxAction, OutboxState, OutboxUpdate, Result, Stats, StatsQuery, Store, StoreError,
};

type Pool = r2d2::Pool<PostgresConnectionManager<tls::Tls>>;
type Conn = r2d2::PooledConnection<PostgresConnectionManager<tls::Tls>>;

/// A PostgreSQL database shared by any number of triage processes.
pub struct PgStore {
    pool: Pool,
    target: String,
    /// How to open the change listener and the leadership connection (outside the pool).
    config: postgres::Config,
    tls: tls::Tls,
    /// The connection `LISTEN`ing on the change channel, opened on the first wait.
    listener: std::sync::Mutex<Option<postgres::Client>>,
    /// The connection holding this replica's leadership locks, with the names it holds.
    leader: std::sync::Mutex<Option<(postgres::Client, std::collections::BTreeSet<String>)>>,
    /// This handle's id in the change feed.
    origin: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgStore({})", self.target)
    }
}

impl PgStore {
    /// Connections kept by one process: the triage-record writer, the blocking pool's store
    /// calls and the background workers rarely need more at once.
    pub const POOL_SIZE: u32 = 8;

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// migrates it; a database with a newer schema is refused.
    pub fn open(url: &str) -> Result<Self> {
        Self::open_url(&StoreUrl::parse(url)?)
    }

    /// As [`PgStore::open`], with a URL checked before.
    pub fn open_url(url: &StoreUrl) -> Result<Self> {
        Self::open_with_pool(url, Self::POOL_SIZE)
    }

    /// As [`PgStore::open_url`], with `pool_size` pooled connections (at least 1).
    pub fn open_with_pool(url: &StoreUrl, pool_size: u32) -> Result<Self> {
        let (config, root_cert) = url::parse_url_tls(url.expose_secret())?;
        let tls = tls::connector(root_cert.as_deref())?;
        let target = describe(&config);
        let connect_err = |reason: String| StoreError::Connect { target: target.clone(), reason };
        let mut client = config.connect(tls.clone()).map_err(|e| connect_err(with_causes(&e)))?;
        migrations::migrate(&mut client)?;
        drop(client);
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build(PostgresConnectionManager::new(config.clone(), tls.clone()))
            .map_err(|e| connect_err(e.to_string()))?;
        tracing::info!(target = %target, schema = migrations::SCHEMA_VERSION, "postgresql store open");
        Ok(Self {
            pool,
            target,
            config,
            tls,
            listener: std::sync::Mutex::new(None),
            leader: std::sync::Mutex::new(None),
            origin: crate::changes::new_origin(),
        })
    }

    /// `user@host:port/database` (never the password).
    pub fn target(&self) -> &str {
        &self.target
    }

    fn conn(&self) -> Result<Conn> {
        self.pool.get().map_err(|e| StoreError::Connect { target: self.target.clone(), reason: e.to_string() })
    }
}

/// An error and its causes on one line (`error connecting to server: Connection refused`).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn tenant_of(t: Option<String>) -> Result<Option<TenantId>> {
    t.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store for PgStore {
    fn upsert_resolved(&self, tickets: &[ResolvedTicket]) -> Result<UpsertReport> {
        records::upsert_resolved(&mut *self.conn()?, &self.origin, tickets)
    }

    fn resolved_seq(&self) -> Result<u64> {
        let seq: i64 = self.conn()?.query_one("SELECT value FROM store_meta WHERE key = 'resolved_seq'", &[])?.get(0);
        Ok(seq as u64)
    }

    fn resolved_ticket(&self, tenant: &TenantId, external_id: &str) -> Result<Option<ResolvedTicket>> {
        records::resolved_ticket(&mut *self.conn()?, tenant, external_id)
    }

    fn resolved_tickets(&self, keys: &[(TenantId, String)]) -> Result<Vec<ResolvedTicket>> {
        records::resolved_tickets(&mut *self.conn()?, keys)
    }

    fn resolved_count(&self, tenant: Option<&TenantId>) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COUNT(*) FROM resolved_tickets WHERE ($1::TEXT IS NULL OR tenant = $1)", &[&tenant.map(TenantId::as_str)])?
            .get(0);
        Ok(n as u64)
    }

    fn for_each_resolved(&self, f: &mut dyn FnMut(ResolvedTicket)) -> Result<()> {
        records::for_each_resolved(&mut *self.conn()?, f)
    }

    fn delete_resolved(&self, tenant: &TenantId, external_id: &str) -> Result<(bool, u64)> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let n = tx.execute("DELETE FROM resolved_tickets WHERE tenant = $1 AND external_id = $2", &[&tenant.as_str(), &external_id])?;
        let seq = records::bump_resolved_seq(&mut tx)?;
        let detail = seq.to_string();
        let change =
            NewChange { kind: ChangeKind::ResolvedErased, tenant: Some(tenant.as_str()), subject: external_id, detail: Some(&detail) };
        changes::append(&mut tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok((n > 0, seq))
    }

    fn record_triages(&self, records: &[TriageRecord]) -> Result<()> {
        records::record_triages(&mut *self.conn()?, records)
    }

    fn triage_record(&self, tenant: Option<&TenantId>, triage_id: &str) -> Result<Option<TriageRecord>> {
        records::triage_record(&mut *self.conn()?, tenant, triage_id)
    }

    fn add_feedback(&self, feedback: &Feedback) -> Result<FeedbackWrite> {
        records::add_feedback(&mut *self.conn()?, &self.origin, feedback)
    }

    fn corrections(&self) -> Result<Vec<Correction>> {
        records::corrections(&mut *self.conn()?)
    }

    fn feedback_counts(&self) -> Result<Vec<(String, FeedbackCounts)>> {
        records::feedback_counts(&mut *self.conn()?)
    }

    fn feedback_counts_for(&self, suggestions: &[String]) -> Result<Vec<(String, FeedbackCounts)>> {
        records::feedback_counts_for(&mut *self.conn()?, suggestions)
    }

    fn suggestion_usage(&self, tenant: Option<&TenantId>, from: Option<&Timestamp>) -> Result<Vec<SuggestionUsage>> {
        records::suggestion_usage(&mut *self.conn()?, tenant, from)
    }

    fn for_each_article_feedback(&self, f: &mut dyn FnMut(ArticleFeedback)) -> Result<()> {
        records::for_each_article_feedback(&mut *self.conn()?, f)
    }

    fn feedback_for(&self, triage_id: &str) -> Result<Vec<Feedback>> {
        records::feedback_for(&mut *self.conn()?, triage_id)
    }

    fn gap_candidates(&self, tenant: &TenantId, from: Option<&Timestamp>, to: Option<&Timestamp>, max: usize) -> Result<Vec<GapCandidate>> {
        records::gap_candidates(&mut *self.conn()?, tenant, from, to, max)
    }

    fn register_model(&self, model: &ModelRecord) -> Result<()> {
        records::register_model(&mut *self.conn()?, model)
    }

    fn models(&self) -> Result<Vec<ModelRecord>> {
        records::models(&mut *self.conn()?)
    }

    fn set_live(&self, version: &str, action: &str) -> Result<()> {
        records::set_live(&mut *self.conn()?, &self.origin, version, action)
    }

    fn live_history(&self) -> Result<Vec<(String, String)>> {
        let rows = self.conn()?.query("SELECT version, action FROM live_history ORDER BY id", &[])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn stats(&self, query: &StatsQuery) -> Result<Stats> {
        stats::compute_stats(&mut *self.conn()?, query)
    }

    fn create_key(&self, key: &ApiKeyRecord) -> Result<()> {
        records::create_key(&mut *self.conn()?, &self.origin, key)
    }

    fn keys(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>> {
        records::keys(&mut *self.conn()?, tenant)
    }

    fn revoke_key(&self, tenant: Option<&TenantId>, id: &str) -> Result<bool> {
        records::revoke_key(&mut *self.conn()?, &self.origin, tenant, id)
    }

    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO audit (at, key_id, tenant, action, target, outcome) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&e.at, &e.key_id, &e.tenant.as_ref().map(TenantId::as_str), &e.action, &e.target, &e.outcome],
        )?;
        Ok(())
    }

    fn audit_log(&self, tenant: Option<&TenantId>, max: usize) -> Result<Vec<AuditEntry>> {
        records::audit_log(&mut *self.conn()?, tenant, max)
    }

    fn connector_event_insert(&self, event: &NewConnectorEvent) -> Result<bool> {
        connectors::insert_event(&mut *self.conn()?, event, &now())
    }

    fn connector_events(&self, connector: &str, state: Option<EventState>, max: usize) -> Result<Vec<ConnectorEvent>> {
        connectors::events(&mut *self.conn()?, connector, state, max)
    }

    fn connector_event_finish(&self, id: i64, state: EventState, detail: Option<&str>) -> Result<()> {
        connectors::finish_event(&mut *self.conn()?, id, state, detail, &now())
    }

    fn connector_ticket(&self, connector: &str, external_id: &str) -> Result<Option<ConnectorTicket>> {
        connectors::ticket(&mut *self.conn()?, connector, external_id)
    }

    fn connector_apply(&self, ticket: &ConnectorTicket, actions: &[NewOutboxAction], event: Option<i64>) -> Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let at = now();
        let queued = connectors::apply(&mut tx, ticket, actions, &at, now_ms())?;
        if let Some(id) = event {
            connectors::finish_event(&mut tx, id, EventState::Done, None, &at)?;
        }
        tx.commit()?;
        Ok(queued)
    }

    fn connector_cursor(&self, connector: &str) -> Result<Option<String>> {
        let row = self.conn()?.query_opt("SELECT cursor FROM connector_cursors WHERE connector = $1", &[&connector])?;
        Ok(row.map(|r| r.get(0)))
    }

    fn set_connector_cursor(&self, connector: &str, cursor: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO connector_cursors (connector, cursor, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (connector) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
            &[&connector, &cursor, &now()],
        )?;
        Ok(())
    }

    fn outbox_claim(&self, connector: &str, now_ms: i64, max: usize, lease_ms: i64) -> Result<Vec<OutboxAction>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let claimed = connectors::claim(&mut tx, connector, now_ms, max, lease_ms)?;
        tx.commit()?;
        Ok(claimed)
    }

    fn outbox_update(&self, id: i64, attempts: u32, update: &OutboxUpdate) -> Result<bool> {
        connectors::update(&mut *self.conn()?, id, attempts, update, &now())
    }

    fn shared(&self) -> bool {
        true
    }

    fn outbox_list(&self, connector: &str, state: Option<OutboxState>, max: usize) -> Result<Vec<OutboxAction>> {
        connectors::list(&mut *self.conn()?, connector, state, max)
    }

    fn outbox_retry(&self, connector: &str, id: i64, now_ms: i64) -> Result<bool> {
        let n = self.conn()?.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $3 WHERE connector = $1 AND id = $2 AND state = 'dead'",
            &[&connector, &id, &now_ms],
        )?;
        Ok(n == 1)
    }

    fn connector_counts(&self, connector: &str) -> Result<ConnectorCounts> {
        connectors::counts(&mut *self.conn()?, connector)
    }

    fn connector_prune(&self, connector: &str, before: &str) -> Result<(usize, usize)> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let events = tx.execute(
            "DELETE FROM connector_events WHERE connector = $1 AND state <> 'pending' AND COALESCE(processed_at, received_at) < $2",
            &[&connector, &before],
        )?;
        let actions =
            tx.execute("DELETE FROM outbox WHERE connector = $1 AND state = 'delivered' AND delivered_at < $2", &[&connector, &before])?;
        tx.commit()?;
        Ok((events as usize, actions as usize))
    }

    fn incident_save(&self, incident: &IncidentRow, new_members: &[IncidentMemberRow]) -> Result<()> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        incidents::save(&mut tx, incident, new_members, &now())?;
        let change = NewChange { kind: ChangeKind::Incident, tenant: None, subject: &incident.id, detail: None };
        changes::append(&mut tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok(())
    }

    fn incidents(&self, changed_since: &str) -> Result<Vec<(IncidentRow, Vec<IncidentMemberRow>)>> {
        incidents::load(&mut *self.conn()?, changed_since)
    }

    fn for_each_triage_text(&self, since: &str, max: usize, f: &mut dyn FnMut(&str, &str)) -> Result<()> {
        incidents::for_each_triage_text(&mut *self.conn()?, since, max, f)
    }

    fn save_model_files(&self, version: &str, files: &[crate::ModelFile]) -> Result<bool> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let saved = shared::save_model_files(&mut tx, version, files, &now())?;
        tx.commit()?;
        Ok(saved)
    }

    fn model_files(&self, version: &str) -> Result<Option<Vec<crate::ModelFile>>> {
        shared::model_files(&mut *self.conn()?, version)
    }

    fn job_insert(&self, job: &crate::JobRow, now_ms: i64) -> Result<Option<String>> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        let blocking = shared::job_insert(&mut tx, job, now_ms, &now())?;
        tx.commit()?;
        Ok(blocking)
    }

    fn job_write(&self, job: &crate::JobRow) -> Result<bool> {
        shared::job_write(&mut *self.conn()?, job)
    }

    fn job_expire(&self, now_ms: i64) -> Result<usize> {
        shared::expire(&mut *self.conn()?, now_ms, &now())
    }

    fn job(&self, id: &str) -> Result<Option<crate::JobRow>> {
        shared::job(&mut *self.conn()?, id)
    }

    fn job_counts(&self) -> Result<Vec<(String, u64)>> {
        shared::job_counts(&mut *self.conn()?)
    }

    fn origin(&self) -> &str {
        &self.origin
    }

    fn change_head(&self) -> Result<u64> {
        changes::head(&mut *self.conn()?)
    }

    fn changes_since(&self, after: u64, max: usize) -> Result<Vec<Change>> {
        changes::since(&mut *self.conn()?, after, max)
    }

    fn wait_for_changes(&self, timeout: Duration) {
        if let Err(e) = self.wait_for_notification(timeout) {
            // the follower polls on: a lost listener costs latency, never a change
            tracing::warn!(error = %e, "change listener lost; polling until it reconnects");
            *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = None;
            std::thread::sleep(timeout);
        }
    }

    fn resolved_changes_after(&self, resolved_seq: u64) -> Result<Option<(u64, u64)>> {
        changes::resolved_after(&mut *self.conn()?, resolved_seq)
    }

    fn triage_records_since(&self, since: &str, max: usize) -> Result<Vec<TriageRecord>> {
        let rows = self.conn()?.query(
            "SELECT triage_id, tenant, created_at, suggestions_json, text FROM triage_records
             WHERE created_at >= $1 AND text IS NOT NULL ORDER BY created_at, triage_id LIMIT $2",
            &[&since, &limit(max)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(TriageRecord {
                    triage_id: r.get(0),
                    tenant: tenant_of(r.get(1))?,
                    external_id: None,
                    created_at: r.get(2),
                    model_version: None,
                    labels: serde_json::Value::Null,
                    suggestions: serde_json::from_str(r.get(3))?,
                    text: Some(r.get(4)),
                    no_good_fix: false,
                })
            })
            .collect()
    }

    fn hold_leadership(&self, name: &str) -> Result<bool> {
        let mut slot = self.leader.lock().unwrap_or_else(|p| p.into_inner());
        // a lost connection lost every lock it held
        if slot.as_mut().is_some_and(|(client, _)| client.simple_query("SELECT 1").is_err()) {
            tracing::warn!("the leadership connection was lost; leaderships are released and asked for again");
            *slot = None;
        }
        if slot.is_none() {
            let client = self
                .config
                .connect(self.tls.clone())
                .map_err(|e| StoreError::Connect { target: self.target.clone(), reason: with_causes(&e) })?;
            *slot = Some((client, std::collections::BTreeSet::new()));
        }
        let (client, held) = slot.as_mut().expect("just connected");
        if held.contains(name) {
            return Ok(true);
        }
        let taken: bool = client.query_one("SELECT pg_try_advisory_lock(hashtext($1))", &[&name])?.get(0);
        if taken {
            tracing::info!(leadership = name, "this replica leads");
            held.insert(name.to_owned());
        }
        Ok(taken)
    }

    fn prune_changes(&self, before: &str) -> Result<usize> {
        changes::prune(&mut *self.conn()?, before)
    }
}

impl PgStore {
    /// Waits on the `LISTEN` connection (opened on first use) for a change notification or
    /// the timeout; drains every notification already queued, since one read covers them all.
    fn wait_for_notification(&self, timeout: Duration) -> std::result::Result<(), String> {
        let mut slot = self.listener.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let mut client = self.config.connect(self.tls.clone()).map_err(|e| with_causes(&e))?;
            client.batch_execute(&format!("LISTEN {}", changes::CHANNEL)).map_err(|e| with_causes(&e))?;
            *slot = Some(client);
        }
        let client = slot.as_mut().expect("just opened");
        let mut notifications = client.notifications();
        use postgres::fallible_iterator::FallibleIterator;
        let woken = notifications.timeout_iter(timeout).next().map_err(|e| with_causes(&e))?.is_some();
        if woken {
            while notifications.iter().next().map_err(|e| with_causes(&e))?.is_some() {}
        }
        Ok(())
    }
}
