//! The change feed (issue 15): one monotonic sequence of the writes that replicas keep in
//! memory (resolved tickets and erasures, feedback, the live model, keys, incidents), appended in
//! the same transaction as the write itself. Each replica follows it from the last sequence it
//! applied ([`crate::Store::changes_since`]) and skips its own entries (`origin`).
//!
//! The sequence is a counter row (`store_meta.change_seq`) advanced inside the writing
//! transaction, not an auto-increment: its row lock orders concurrent writers, so sequence order
//! is commit order and a follower that has read up to `n` can never later see a smaller number
//! commit (an auto-increment hands out numbers at insert time, and a slower transaction could
//! commit a lower one after a follower moved past it).

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;
use triage_core::tenant::TenantId;

use crate::{Result, StoreError};

/// What changed. Serialised in `snake_case`, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A resolved ticket was inserted or updated (`subject`: external id; `detail`: the
    /// resolved-ticket sequence after the write).
    Resolved,
    /// A resolved ticket was erased (same fields as `Resolved`).
    ResolvedErased,
    /// New feedback on a suggestion (`subject`: triage id; `detail`: `<outcome> <kind:id>`).
    Feedback,
    /// A model version went live (`subject`: version; `detail`: promote, rollback, ...).
    ModelLive,
    /// An API key was created or revoked (`subject`: key id; `detail`: `created` / `revoked`).
    Key,
    /// A major incident changed (`subject`: incident id).
    Incident,
}

impl ChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Resolved => "resolved",
            ChangeKind::ResolvedErased => "resolved_erased",
            ChangeKind::Feedback => "feedback",
            ChangeKind::ModelLive => "model_live",
            ChangeKind::Key => "key",
            ChangeKind::Incident => "incident",
        }
    }

    /// The kind stored as `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "resolved" => ChangeKind::Resolved,
            "resolved_erased" => ChangeKind::ResolvedErased,
            "feedback" => ChangeKind::Feedback,
            "model_live" => ChangeKind::ModelLive,
            "key" => ChangeKind::Key,
            "incident" => ChangeKind::Incident,
            _ => return None,
        })
    }
}

/// One entry of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Position in the feed: strictly increasing in commit order, never reused.
    pub seq: u64,
    /// When it was written (UTC RFC 3339).
    pub at: String,
    /// What changed.
    pub kind: ChangeKind,
    /// The tenant it belongs to, if any.
    pub tenant: Option<TenantId>,
    /// What it is about (see [`ChangeKind`]).
    pub subject: String,
    /// More about it (see [`ChangeKind`]).
    pub detail: Option<String>,
    /// [`crate::Store::origin`] of the store handle that wrote it.
    pub origin: String,
}

impl Change {
    /// A feedback change's (outcome, suggestion), from its detail (see [`feedback_detail`]).
    pub fn feedback_parts(&self) -> Option<(&str, &str)> {
        self.detail.as_deref().and_then(|d| d.split_once(' '))
    }
}

/// The detail of a feedback change: "<outcome> <suggestion>" (the outcome has no space, a
/// suggestion id may); read back by [`Change::feedback_parts`].
pub(crate) fn feedback_detail(outcome: crate::Outcome, suggestion: &str) -> String {
    format!("{} {suggestion}", outcome.as_str())
}

/// A change to append, within a writing transaction.
pub(crate) struct NewChange<'a> {
    pub kind: ChangeKind,
    pub tenant: Option<&'a str>,
    pub subject: &'a str,
    pub detail: Option<&'a str>,
}

/// An id for one store handle (one process): host, process id and the time it opened, so two
/// replicas never share one, even with the same process id in two containers.
pub(crate) fn new_origin() -> String {
    let host = std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty() && h.len() <= 64).unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    // two handles opened by one process in the same nanosecond (tests) still differ
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{host}:{}:{:x}:{n}", std::process::id(), nanos)
}

pub(crate) fn parse_row(
    seq: i64,
    at: String,
    kind: &str,
    tenant: Option<String>,
    subject: String,
    detail: Option<String>,
    origin: String,
) -> Result<Change> {
    Ok(Change {
        seq: seq as u64,
        at,
        kind: ChangeKind::parse(kind).ok_or_else(|| StoreError::Corrupt(format!("unknown change kind `{kind}`")))?,
        tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
        subject,
        detail,
        origin,
    })
}

/// Appends `changes` in SQLite, each with the next sequence number.
pub(crate) fn append(tx: &Transaction<'_>, origin: &str, at: &str, changes: &[NewChange<'_>]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let first: i64 = tx.query_row(
        "UPDATE store_meta SET value = value + ?1 WHERE key = 'change_seq' RETURNING value - ?1 + 1",
        [changes.len() as i64],
        |r| r.get(0),
    )?;
    let mut insert =
        tx.prepare_cached("INSERT INTO changes (seq, at, kind, tenant, subject, detail, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
    for (i, c) in changes.iter().enumerate() {
        insert.execute(params![first + i as i64, at, c.kind.as_str(), c.tenant, c.subject, c.detail, origin])?;
    }
    Ok(())
}

/// SQLite: up to `max` changes after `after`, oldest first.
pub(crate) fn since(conn: &rusqlite::Connection, after: u64, max: usize) -> Result<Vec<Change>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, at, kind, tenant, subject, detail, origin FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![after as i64, max.min(i64::MAX as usize) as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, at, kind, tenant, subject, detail, origin) = row?;
        out.push(parse_row(seq, at, &kind, tenant, subject, detail, origin)?);
    }
    Ok(out)
}

/// SQLite: see [`crate::Store::resolved_changes_after`].
pub(crate) fn resolved_after(conn: &rusqlite::Connection, resolved_seq: u64) -> Result<Option<(u64, u64)>> {
    let row: Option<(i64, i64)> = conn
        .query_row(
            "SELECT seq, CAST(detail AS INTEGER) FROM changes
             WHERE kind IN ('resolved', 'resolved_erased') AND CAST(detail AS INTEGER) > ?1 ORDER BY seq LIMIT 1",
            [resolved_seq as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.map(|(c, r)| (c as u64, r as u64)))
}

/// SQLite: the newest sequence number written (0 before any change).
pub(crate) fn head(conn: &rusqlite::Connection) -> Result<u64> {
    let seq: i64 = conn.query_row("SELECT value FROM store_meta WHERE key = 'change_seq'", [], |r| r.get(0))?;
    Ok(seq as u64)
}

/// SQLite: retention; deletes changes written before `before` (UTC RFC 3339), always keeping
/// the newest one so the head stays readable from the table too.
pub(crate) fn prune(conn: &rusqlite::Connection, before: &str) -> Result<usize> {
    Ok(conn.execute("DELETE FROM changes WHERE at < ?1 AND seq < (SELECT MAX(seq) FROM changes)", [before])?)
}
