//! The change feed on PostgreSQL (see [`crate::changes`]): appended in the writing
//! transaction, with a `NOTIFY` that PostgreSQL delivers to listening replicas at commit.

use postgres::{GenericClient, Transaction};

use crate::Result;
use crate::changes::{Change, NewChange, parse_row};

/// The channel replicas `LISTEN` on; the payload is empty (followers read the table).
pub(crate) const CHANNEL: &str = "triage_changes";

/// Appends `changes`, each with the next sequence number (the `store_meta` row lock orders
/// concurrent writers, so sequence order is commit order), and notifies at commit.
pub(super) fn append(tx: &mut Transaction<'_>, origin: &str, at: &str, changes: &[NewChange<'_>]) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let n = changes.len() as i64;
    let first: i64 =
        tx.query_one("UPDATE store_meta SET value = value + $1 WHERE key = 'change_seq' RETURNING value - $1 + 1", &[&n])?.get(0);
    let insert = tx.prepare("INSERT INTO changes (seq, at, kind, tenant, subject, detail, origin) VALUES ($1, $2, $3, $4, $5, $6, $7)")?;
    for (i, c) in changes.iter().enumerate() {
        tx.execute(&insert, &[&(first + i as i64), &at, &c.kind.as_str(), &c.tenant, &c.subject, &c.detail, &origin])?;
    }
    tx.execute(&format!("NOTIFY {CHANNEL}"), &[])?;
    Ok(())
}

pub(super) fn since(c: &mut impl GenericClient, after: u64, max: usize) -> Result<Vec<Change>> {
    let rows = c.query(
        "SELECT seq, at, kind, tenant, subject, detail, origin FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        &[&(after.min(i64::MAX as u64) as i64), &super::limit(max)],
    )?;
    rows.iter().map(|r| parse_row(r.get(0), r.get(1), r.get::<_, &str>(2), r.get(3), r.get(4), r.get(5), r.get(6))).collect()
}

pub(super) fn resolved_after(c: &mut impl GenericClient, resolved_seq: u64) -> Result<Option<(u64, u64)>> {
    let row = c.query_opt(
        "SELECT seq, CAST(detail AS BIGINT) FROM changes
         WHERE kind IN ('resolved', 'resolved_erased') AND CAST(detail AS BIGINT) > $1 ORDER BY seq LIMIT 1",
        &[&(resolved_seq.min(i64::MAX as u64) as i64)],
    )?;
    Ok(row.map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, i64>(1) as u64)))
}

pub(super) fn head(c: &mut impl GenericClient) -> Result<u64> {
    let seq: i64 = c.query_one("SELECT value FROM store_meta WHERE key = 'change_seq'", &[])?.get(0);
    Ok(seq as u64)
}

pub(super) fn prune(c: &mut impl GenericClient, before: &str) -> Result<usize> {
    Ok(c.execute("DELETE FROM changes WHERE at < $1 AND seq < (SELECT MAX(seq) FROM changes)", &[&before])? as usize)
}
