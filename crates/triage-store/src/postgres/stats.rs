//! Desk statistics on PostgreSQL: the rows SQLite reads, fed to the same builder.

use crate::stats::{ResolvedRow, StatsBuilder};
use crate::{Result, Stats, StatsQuery};

/// Statistics from PostgreSQL: the same rows as SQLite's, through the same builder.
pub(super) fn compute_stats(conn: &mut postgres::Client, q: &StatsQuery) -> Result<Stats> {
    let mut b = StatsBuilder::new(q);
    let (tenant, from, to) = b.bounds();
    let mut tx = conn.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
    for r in tx.query(
        "SELECT tenant, external_id, category, priority, assignment_group, first_contact, COALESCE(resolved_at, updated_at)
         FROM resolved_tickets WHERE ($1::TEXT IS NULL OR tenant = $1)",
        &[&tenant],
    )? {
        b.add_resolved(ResolvedRow {
            tenant: r.get(0),
            external_id: r.get(1),
            category: r.get(2),
            priority: r.get(3),
            assignment_group: r.get(4),
            first_contact: r.get(5),
            at: r.get(6),
        });
    }
    for r in tx.query(
        "SELECT tenant, external_id, created_at, labels_json FROM triage_records
         WHERE ($1::TEXT IS NULL OR tenant = $1) AND created_at >= $2 AND created_at < $3",
        &[&tenant, &from, &to],
    )? {
        b.add_triage(r.get(0), r.get(1), r.get(2), r.get(3))?;
    }
    for r in tx.query(
        "SELECT f.triage_id, f.outcome FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
         WHERE ($1::TEXT IS NULL OR t.tenant = $1) AND t.created_at >= $2 AND t.created_at < $3",
        &[&tenant, &from, &to],
    )? {
        b.add_feedback(r.get(0), r.get(1));
    }
    tx.commit()?;
    Ok(b.finish())
}
