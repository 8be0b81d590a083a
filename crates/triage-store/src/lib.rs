//! Persistence for triage: resolved tickets, triage records, feedback and the model registry.
//! By default one SQLite file under the data directory ([`SqliteStore`]: WAL mode, versioned
//! migrations, nothing to install); for several replicas, a PostgreSQL database ([`PgStore`],
//! chosen by a `postgres://` store URL). Everything sits behind the [`Store`] trait, and one
//! conformance suite runs the same cases against both.
//!
//! ```
//! use triage_store::{SqliteStore, Store};
//! let store = SqliteStore::open_in_memory().unwrap();
//! assert_eq!(store.resolved_count(None).unwrap(), 0);
//! ```

mod changes;
#[cfg(test)]
mod conformance;
mod connectors;
mod error;
#[cfg(test)]
mod gaps_tests;
mod incidents;
mod migrations;
mod postgres;
mod shared;
mod sqlite;
mod stats;
mod times;
mod types;

pub use changes::{Change, ChangeKind};
pub use connectors::{
    ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, NewConnectorEvent, NewOutboxAction, OutboxAction, OutboxState,
    OutboxUpdate,
};
pub use error::{Result, StoreError};
pub use incidents::{IncidentMemberRow, IncidentRow};
pub use postgres::{PgStore, StoreUrl};
pub use shared::{JobRow, ModelFile};
pub use sqlite::SqliteStore;
pub use stats::{CategoryStats, DayStats, HeadAutoStats, Stats, StatsQuery};
pub use types::{
    ApiKeyRecord, ArticleFeedback, AuditEntry, Correction, Feedback, FeedbackCounts, FeedbackWrite, GapCandidate, ModelRecord, ModelStatus,
    Outcome, SuggestionUsage, TriageRecord, UpsertReport,
};

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::ResolvedTicket;
use triage_core::time::Timestamp;

/// The persistence the engine needs. Implementations are `Send + Sync` and safe to share.
pub trait Store: Send + Sync {
    /// Inserts or updates resolved tickets by (tenant, external id), in one transaction that also
    /// advances the resolved-ticket change sequence (returned in the report).
    fn upsert_resolved(&self, tickets: &[ResolvedTicket]) -> Result<UpsertReport>;
    /// The resolved-ticket change sequence: advanced by every upsert and erasure in the same
    /// transaction, so an index that records the sequence it applied can tell it is behind.
    fn resolved_seq(&self) -> Result<u64>;
    /// One resolved ticket, if stored.
    fn resolved_ticket(&self, tenant: &TenantId, external_id: &str) -> Result<Option<ResolvedTicket>>;
    /// The stored ones among `keys` (tenant, external id), in one read (a follower applying a
    /// batch of changes); a key not stored is left out.
    fn resolved_tickets(&self, keys: &[(TenantId, String)]) -> Result<Vec<ResolvedTicket>> {
        let mut out = Vec::with_capacity(keys.len());
        for (tenant, id) in keys {
            out.extend(self.resolved_ticket(tenant, id)?);
        }
        Ok(out)
    }
    /// Number of resolved tickets, of one tenant or all.
    fn resolved_count(&self, tenant: Option<&TenantId>) -> Result<u64>;
    /// Calls `f` for every resolved ticket, ordered by tenant and external id.
    fn for_each_resolved(&self, f: &mut dyn FnMut(ResolvedTicket)) -> Result<()>;
    /// Deletes one resolved ticket (right to erasure): whether it existed, and the change
    /// sequence after the deletion.
    fn delete_resolved(&self, tenant: &TenantId, external_id: &str) -> Result<(bool, u64)>;

    /// Stores the record of one triage answer.
    fn record_triage(&self, record: &TriageRecord) -> Result<()> {
        self.record_triages(std::slice::from_ref(record))
    }
    /// Stores several triage records in one transaction.
    fn record_triages(&self, records: &[TriageRecord]) -> Result<()>;
    /// A triage record, only if it belongs to `tenant` (`None` matches records without tenant).
    fn triage_record(&self, tenant: Option<&TenantId>, triage_id: &str) -> Result<Option<TriageRecord>>;
    /// Stores feedback on a triage, once per triage, suggestion and outcome (see [`FeedbackWrite`]).
    fn add_feedback(&self, feedback: &Feedback) -> Result<FeedbackWrite>;
    /// The latest label corrections per triage, with the triage's redacted text.
    fn corrections(&self) -> Result<Vec<Correction>>;
    /// Feedback counts per suggestion id (`kind:id`), over every tenant.
    fn feedback_counts(&self) -> Result<Vec<(String, FeedbackCounts)>>;
    /// Feedback counts of the given suggestion ids, over every tenant (a suggestion without
    /// feedback is left out).
    fn feedback_counts_for(&self, suggestions: &[String]) -> Result<Vec<(String, FeedbackCounts)>>;
    /// How often each suggestion (`kind:id`) was offered, offered first, and what agents said of
    /// it, for one tenant (or all) since `from` (inclusive).
    fn suggestion_usage(&self, tenant: Option<&TenantId>, from: Option<&Timestamp>) -> Result<Vec<SuggestionUsage>>;
    /// Calls `f` for every `resolved`, `helpful` or `not_helpful` feedback on an article
    /// suggestion of a triage with a tenant and a recorded text, oldest first (what learned
    /// phrasing learns from).
    fn for_each_article_feedback(&self, f: &mut dyn FnMut(ArticleFeedback)) -> Result<()>;
    /// The feedback given on one triage, oldest first.
    fn feedback_for(&self, triage_id: &str) -> Result<Vec<Feedback>>;
    /// Up to `max` of `tenant`'s triages in the window (`from` inclusive, `to` exclusive) that
    /// answered `no_good_fix` or got a `not_helpful` feedback and have a recorded text, newest
    /// first, each with the resolution notes of its resolved ticket (same tenant and external id).
    fn gap_candidates(&self, tenant: &TenantId, from: Option<&Timestamp>, to: Option<&Timestamp>, max: usize) -> Result<Vec<GapCandidate>>;

    /// Registers a model version with its evaluation report.
    fn register_model(&self, model: &ModelRecord) -> Result<()>;
    /// Every registered model, newest first.
    fn models(&self) -> Result<Vec<ModelRecord>>;
    /// Marks `version` live (the previous live one becomes retired) and records it in history.
    fn set_live(&self, version: &str, action: &str) -> Result<()>;
    /// `(version, action)` each time a version went live, oldest first.
    fn live_history(&self) -> Result<Vec<(String, String)>>;

    /// Desk statistics for a tenant (or all) and a time window.
    fn stats(&self, query: &StatsQuery) -> Result<Stats>;

    /// Stores a new key (its hash).
    fn create_key(&self, key: &ApiKeyRecord) -> Result<()>;
    /// Every key, of one tenant or all, newest first.
    fn keys(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>>;
    /// Revokes a key of `tenant` (any tenant for `None`); whether it was found.
    fn revoke_key(&self, tenant: Option<&TenantId>, id: &str) -> Result<bool>;
    /// Appends to the audit log.
    fn audit(&self, entry: &AuditEntry) -> Result<()>;
    /// The latest audit entries, of one tenant or all, newest first.
    fn audit_log(&self, tenant: Option<&TenantId>, limit: usize) -> Result<Vec<AuditEntry>>;

    /// Stores an inbound connector event; `false` when its key was seen before (a retry).
    fn connector_event_insert(&self, event: &NewConnectorEvent) -> Result<bool>;
    /// A connector's events in one state (or all), oldest first.
    fn connector_events(&self, connector: &str, state: Option<EventState>, limit: usize) -> Result<Vec<ConnectorEvent>>;
    /// Marks an event processed without queueing anything (ignored or failed).
    fn connector_event_finish(&self, id: i64, state: EventState, detail: Option<&str>) -> Result<()>;
    /// What the connector knows about one source ticket.
    fn connector_ticket(&self, connector: &str, external_id: &str) -> Result<Option<ConnectorTicket>>;
    /// In one transaction: records the source ticket's state, queues the actions (a marker
    /// already queued is skipped) and marks the event done. Returns how many actions were queued.
    fn connector_apply(&self, ticket: &ConnectorTicket, actions: &[NewOutboxAction], event: Option<i64>) -> Result<usize>;
    /// A poller's cursor.
    fn connector_cursor(&self, connector: &str) -> Result<Option<String>>;
    /// Saves a poller's cursor.
    fn set_connector_cursor(&self, connector: &str, cursor: &str) -> Result<()>;
    /// Claims up to `limit` due actions of a connector: marks them `sending`, counts the attempt,
    /// and holds them for `lease_ms` (no other claim, from this replica or another, takes them
    /// before `now_ms + lease_ms`). A row still `sending` when its lease is over was cut off (a
    /// crash mid-delivery) and is claimed again `in_doubt`.
    fn outbox_claim(&self, connector: &str, now_ms: i64, limit: usize, lease_ms: i64) -> Result<Vec<OutboxAction>>;
    /// Records the outcome of the delivery attempt that claimed action `id` as its `attempts`-th
    /// try; `false` (nothing written) when that claim no longer holds it (its lease ended and
    /// another claim took it, or an admin retried it), so a stalled worker cannot overwrite a
    /// newer attempt's result.
    fn outbox_update(&self, id: i64, attempts: u32, update: &OutboxUpdate) -> Result<bool>;
    /// Whether other processes may share this store (PostgreSQL replicas): outbox claims then
    /// need a lease. SQLite is one process's, so a `sending` row there is always a dead worker's.
    fn shared(&self) -> bool {
        false
    }
    /// A connector's actions in one state (or all), newest first.
    fn outbox_list(&self, connector: &str, state: Option<OutboxState>, limit: usize) -> Result<Vec<OutboxAction>>;
    /// Puts a dead letter back in the queue, due now; whether it was a dead letter of that connector.
    fn outbox_retry(&self, connector: &str, id: i64, now_ms: i64) -> Result<bool>;
    /// Event and outbox counts for a connector's status.
    fn connector_counts(&self, connector: &str) -> Result<ConnectorCounts>;
    /// Retention: deletes a connector's processed events and delivered actions from before
    /// `before` (UTC RFC 3339); pending events, waiting actions and dead letters stay. Returns
    /// how many (events, actions) went.
    fn connector_prune(&self, connector: &str, before: &str) -> Result<(usize, usize)>;

    /// This store handle's id in the change feed, one per process: a replica following the
    /// feed skips what it wrote itself (see [`Change::origin`]).
    fn origin(&self) -> &str;
    /// The newest change-feed sequence number (0 before any change).
    fn change_head(&self) -> Result<u64>;
    /// Up to `max` changes after sequence `after`, oldest first. Sequence numbers have no gaps,
    /// so a first entry above `after + 1` means the ones between were pruned: the follower has
    /// to reload instead.
    fn changes_since(&self, after: u64, max: usize) -> Result<Vec<Change>>;
    /// Where a ticket index that applied resolved-ticket sequence `resolved_seq` resumes in the
    /// feed: the first change of a later resolved-ticket write, as (change sequence, its
    /// resolved-ticket sequence); `None` when the feed holds none (nothing later, or pruned).
    fn resolved_changes_after(&self, resolved_seq: u64) -> Result<Option<(u64, u64)>>;
    /// Up to `max` triage records with a text, created at or after `since` (stored form), oldest
    /// first (the incident leader reads every replica's triages this way).
    fn triage_records_since(&self, since: &str, max: usize) -> Result<Vec<TriageRecord>>;
    /// Whether this handle holds the named leadership, taking it when free (each name is its
    /// own). PostgreSQL: session advisory locks on a connection of their own, so a replica that
    /// dies (or loses that connection) lets another take over at its next call; the embedded
    /// store: always.
    fn hold_leadership(&self, name: &str) -> Result<bool>;
    /// Blocks until a change may have been written or `timeout` passes (PostgreSQL wakes on its
    /// `NOTIFY`; the default just sleeps, leaving the follower to poll).
    fn wait_for_changes(&self, timeout: std::time::Duration) {
        std::thread::sleep(timeout);
    }
    /// Retention: deletes changes written before `before` (UTC RFC 3339), always keeping the
    /// newest; how many went.
    fn prune_changes(&self, before: &str) -> Result<usize>;

    /// Major incidents (issue 14): inserts or updates an incident (status, message) and adds the
    /// members not stored yet, in one transaction.
    fn incident_save(&self, incident: &IncidentRow, new_members: &[IncidentMemberRow]) -> Result<()>;
    /// Incidents open, or changed since `changed_since` (stored form), oldest first, with members.
    fn incidents(&self, changed_since: &str) -> Result<Vec<(IncidentRow, Vec<IncidentMemberRow>)>>;
    /// The newest `limit` triage records created from `since` on (stored form), replayed oldest
    /// first as (created_at, redacted text): the incident detector's baseline at start-up.
    fn for_each_triage_text(&self, since: &str, limit: usize, f: &mut dyn FnMut(&str, &str)) -> Result<()>;

    /// Model bundles shared by replicas (issue 15): stores a version's bundle files, written
    /// once and never replaced: `false` (nothing written) when the version already has them.
    fn save_model_files(&self, version: &str, files: &[ModelFile]) -> Result<bool>;
    /// A version's stored bundle files, ordered by name; `None` when none were stored.
    fn model_files(&self, version: &str) -> Result<Option<Vec<ModelFile>>>;

    /// Background jobs leased through the database (issue 15): in one transaction, fails the
    /// active jobs whose lease ended before `now_ms` (see [`Store::job_expire`]), then inserts
    /// `job` unless a job of its kind is queued or running on any replica: then `Some` of that
    /// job's id, and nothing is written.
    fn job_insert(&self, job: &JobRow, now_ms: i64) -> Result<Option<String>>;
    /// Writes an active job's state, progress, outcome and lease, only while `job.owner` holds
    /// it; `false` when the job has ended (its lease expired, or it finished) or is another's.
    fn job_write(&self, job: &JobRow) -> Result<bool>;
    /// Fails every queued or running job whose lease ended before `now_ms`, with the reason
    /// (the replica running it stopped; when its lease expired); how many.
    fn job_expire(&self, now_ms: i64) -> Result<usize>;
    /// One job's row.
    fn job(&self, id: &str) -> Result<Option<JobRow>>;
    /// Number of jobs in each state, ordered by state.
    fn job_counts(&self) -> Result<Vec<(String, u64)>>;
}
