//! Major incidents on PostgreSQL: each incident's state and its members, and the triage texts
//! that seed the detector's baseline at start-up.

use postgres::{GenericClient, Transaction};

use super::limit;
use crate::{IncidentMemberRow, IncidentRow, Result};

pub(super) fn save(tx: &mut Transaction<'_>, row: &IncidentRow, members: &[IncidentMemberRow], now: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO incidents (id, status, opened_at, status_at, message, expected_at_open, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at,
             message = excluded.message, updated_at = excluded.updated_at",
        &[&row.id, &row.status, &row.opened_at, &row.status_at, &row.message, &row.expected_at_open, &now],
    )?;
    let insert = tx.prepare(
        "INSERT INTO incident_members (incident_id, triage_id, tenant, at, similarity, title, terms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (incident_id, triage_id) DO NOTHING",
    )?;
    for m in members {
        tx.execute(&insert, &[&row.id, &m.triage_id, &m.tenant, &m.at, &f64::from(m.similarity), &m.title, &m.terms])?;
    }
    Ok(())
}

pub(super) fn load(c: &mut impl GenericClient, changed_since: &str) -> Result<Vec<(IncidentRow, Vec<IncidentMemberRow>)>> {
    let rows = c.query(
        "SELECT id, status, opened_at, status_at, message, expected_at_open FROM incidents
         WHERE status IN ('suspected', 'confirmed') OR updated_at >= $1 ORDER BY opened_at, id",
        &[&changed_since],
    )?;
    let members = c.prepare(
        "SELECT triage_id, tenant, at, similarity, title, terms FROM incident_members WHERE incident_id = $1 ORDER BY at, triage_id",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let incident = IncidentRow {
            id: r.get(0),
            status: r.get(1),
            opened_at: r.get(2),
            status_at: r.get(3),
            message: r.get(4),
            expected_at_open: r.get(5),
        };
        let list = c
            .query(&members, &[&incident.id])?
            .iter()
            .map(|m| IncidentMemberRow {
                triage_id: m.get(0),
                tenant: m.get(1),
                at: m.get(2),
                similarity: m.get::<_, f64>(3) as f32,
                title: m.get(4),
                terms: m.get(5),
            })
            .collect();
        out.push((incident, list));
    }
    Ok(out)
}

/// The newest `max` triage texts from `since` on, replayed oldest first: (created_at, text).
pub(super) fn for_each_triage_text(c: &mut impl GenericClient, since: &str, max: usize, f: &mut dyn FnMut(&str, &str)) -> Result<()> {
    let rows = c.query(
        "SELECT created_at, text FROM (SELECT created_at, text, triage_id FROM triage_records
             WHERE created_at >= $1 AND text IS NOT NULL ORDER BY created_at DESC, triage_id DESC LIMIT $2) newest
         ORDER BY created_at, triage_id",
        &[&since, &limit(max)],
    )?;
    for r in rows {
        f(r.get(0), r.get(1));
    }
    Ok(())
}
