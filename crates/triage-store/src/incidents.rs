//! Major incidents (issue 14): each incident's state and its member triages, so incidents and
//! their links survive a restart. The detector's working state (window, baseline) is rebuilt
//! from triage records instead (see `triage_engine::incidents`).

use rusqlite::{Connection, params};

use crate::Result;

/// An incident's row: everything but its members.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    /// `inc-` and 12 hex digits.
    pub id: String,
    /// `suspected`, `confirmed`, `resolved` or `dismissed`.
    pub status: String,
    /// When it opened (stored form, UTC).
    pub opened_at: String,
    /// When its status last changed.
    pub status_at: String,
    /// For agents: workaround and status.
    pub message: Option<String>,
    /// Tickets expected in the window when it opened.
    pub expected_at_open: f64,
}

/// One member triage of an incident.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentMemberRow {
    /// The triage's id.
    pub triage_id: String,
    /// Its tenant.
    pub tenant: Option<String>,
    /// When it arrived (stored form, UTC).
    pub at: String,
    /// Cosine with the incident's centroid when linked.
    pub similarity: f32,
    /// First line of its redacted text.
    pub title: String,
    /// Its analysed terms, space-separated (the centroid is rebuilt from them).
    pub terms: String,
}

pub(crate) fn save(conn: &Connection, row: &IncidentRow, members: &[IncidentMemberRow], now: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO incidents (id, status, opened_at, status_at, message, expected_at_open, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, status_at = excluded.status_at,
             message = excluded.message, updated_at = excluded.updated_at",
    )?
    .execute(params![row.id, row.status, row.opened_at, row.status_at, row.message, row.expected_at_open, now])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO incident_members (incident_id, triage_id, tenant, at, similarity, title, terms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for m in members {
        insert.execute(params![row.id, m.triage_id, m.tenant, m.at, f64::from(m.similarity), m.title, m.terms])?;
    }
    Ok(())
}

pub(crate) fn load(conn: &Connection, changed_since: &str) -> Result<Vec<(IncidentRow, Vec<IncidentMemberRow>)>> {
    let mut rows = conn.prepare(
        "SELECT id, status, opened_at, status_at, message, expected_at_open FROM incidents
         WHERE status IN ('suspected', 'confirmed') OR updated_at >= ?1 ORDER BY opened_at, id",
    )?;
    let incidents = rows
        .query_map(params![changed_since], |r| {
            Ok(IncidentRow {
                id: r.get(0)?,
                status: r.get(1)?,
                opened_at: r.get(2)?,
                status_at: r.get(3)?,
                message: r.get(4)?,
                expected_at_open: r.get(5)?,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut members = conn.prepare_cached(
        "SELECT triage_id, tenant, at, similarity, title, terms FROM incident_members WHERE incident_id = ?1 ORDER BY at, triage_id",
    )?;
    let mut out = Vec::with_capacity(incidents.len());
    for incident in incidents {
        let list = members
            .query_map(params![incident.id], |r| {
                Ok(IncidentMemberRow {
                    triage_id: r.get(0)?,
                    tenant: r.get(1)?,
                    at: r.get(2)?,
                    similarity: r.get::<_, f64>(3)? as f32,
                    title: r.get(4)?,
                    terms: r.get(5)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        out.push((incident, list));
    }
    Ok(out)
}

/// Triage records from `since` on, oldest first: (created_at, redacted text).
pub(crate) fn for_each_triage_text(conn: &Connection, since: &str, limit: usize, f: &mut dyn FnMut(&str, &str)) -> Result<()> {
    // the newest `limit` records, replayed oldest first
    let mut stmt = conn.prepare(
        "SELECT created_at, text FROM (SELECT created_at, text, triage_id FROM triage_records
             WHERE created_at >= ?1 AND text IS NOT NULL ORDER BY created_at DESC, triage_id DESC LIMIT ?2)
         ORDER BY created_at, triage_id",
    )?;
    let mut rows = stmt.query(params![since, limit as i64])?;
    while let Some(r) = rows.next()? {
        let (at, text): (String, String) = (r.get(0)?, r.get(1)?);
        f(&at, &text);
    }
    Ok(())
}
