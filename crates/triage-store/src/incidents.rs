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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteStore, Store, TriageRecord};

    fn member(id: &str, at: &str) -> IncidentMemberRow {
        IncidentMemberRow {
            triage_id: id.into(),
            tenant: Some("north".into()),
            at: at.into(),
            similarity: 0.5,
            title: format!("ticket {id}"),
            terms: "outlook send".into(),
        }
    }

    fn row(status: &str) -> IncidentRow {
        IncidentRow {
            id: "inc-000000000001".into(),
            status: status.into(),
            opened_at: "2026-11-30T09:00:00Z".into(),
            status_at: "2026-11-30T09:00:00Z".into(),
            message: None,
            expected_at_open: 0.25,
        }
    }

    #[test]
    fn an_incident_keeps_its_latest_state_and_each_member_once() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.incident_save(&row("suspected"), &[member("t1", "2026-11-30T09:00:00Z"), member("t2", "2026-11-30T09:01:00Z")]).unwrap();
        let confirmed = IncidentRow { status: "confirmed".into(), message: Some("Known fault".into()), ..row("confirmed") };
        // a member saved twice (a retried write) stays one member
        store.incident_save(&confirmed, &[member("t2", "2026-11-30T09:01:00Z"), member("t3", "2026-11-30T09:02:00Z")]).unwrap();
        let loaded = store.incidents("2100-01-01T00:00:00Z").unwrap();
        assert_eq!(loaded.len(), 1, "an open incident loads whatever its age");
        let (incident, members) = &loaded[0];
        assert_eq!(incident, &confirmed);
        assert_eq!(members.iter().map(|m| m.triage_id.as_str()).collect::<Vec<_>>(), ["t1", "t2", "t3"]);
        assert_eq!(members[0], member("t1", "2026-11-30T09:00:00Z"));
    }

    #[test]
    fn closed_incidents_load_only_when_changed_in_the_window() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.incident_save(&row("dismissed"), &[]).unwrap();
        assert!(store.incidents("2100-01-01T00:00:00Z").unwrap().is_empty());
        assert_eq!(store.incidents("2000-01-01T00:00:00Z").unwrap().len(), 1);
    }

    #[test]
    fn triage_texts_replay_the_newest_records_oldest_first() {
        let store = SqliteStore::open_in_memory().unwrap();
        let record = |id: &str, at: &str, text: Option<&str>| TriageRecord {
            triage_id: id.into(),
            tenant: None,
            external_id: None,
            created_at: at.into(),
            model_version: None,
            labels: serde_json::json!({}),
            suggestions: vec![],
            text: text.map(str::to_owned),
            no_good_fix: false,
        };
        store
            .record_triages(&[
                record("a", "2026-11-28T09:00:00Z", Some("too old")),
                record("b", "2026-11-30T09:00:00Z", Some("first")),
                record("c", "2026-11-30T09:05:00Z", None),
                record("d", "2026-11-30T09:10:00Z", Some("second")),
                record("e", "2026-11-30T09:20:00Z", Some("third")),
            ])
            .unwrap();
        let mut seen = Vec::new();
        store.for_each_triage_text("2026-11-29T00:00:00Z", 2, &mut |at, text| seen.push(format!("{at} {text}"))).unwrap();
        assert_eq!(seen, ["2026-11-30T09:10:00Z second", "2026-11-30T09:20:00Z third"]);
    }
}
