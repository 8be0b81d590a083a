//! The SQLite implementation of [`Store`].

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::ResolvedTicket;
use triage_core::time::Timestamp;

use crate::changes::{Change, ChangeKind, NewChange};
use crate::stats::{Stats, StatsQuery, compute_stats};
use crate::types::{
    ApiKeyRecord, ArticleFeedback, AuditEntry, Correction, Feedback, FeedbackCounts, FeedbackWrite, GapCandidate, ModelRecord, ModelStatus,
    Outcome, SuggestionUsage, TriageRecord, UpsertReport,
};
use crate::{
    ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, IncidentMemberRow, IncidentRow, NewConnectorEvent, NewOutboxAction,
    OutboxAction, OutboxState, OutboxUpdate,
};
use crate::{Result, Store, StoreError, migrations};

/// One SQLite file in WAL mode. Writes are serialised by a mutex around the write connection;
/// long reads (statistics, the training scan, listings) use a second connection, so they never
/// hold up the triage-record inserts (WAL lets readers and the writer run together).
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Read connection of a file store; `None` in memory (one connection sees one database).
    read: Option<Mutex<Connection>>,
    /// This handle's id in the change feed.
    origin: String,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

/// Unix milliseconds now.
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` and migrates it. Commits survive a crash of the
    /// process (WAL, `synchronous = NORMAL`); see [`SqliteStore::open_with`] for power loss.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, false)
    }

    /// As [`SqliteStore::open`]; with `full_sync`, every commit is also synced to the disk
    /// before it returns (`synchronous = FULL`), so it survives a power loss too.
    pub fn open_with(path: &Path, full_sync: bool) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(format!("cannot create {}: {e}", parent.display())))?;
        }
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", if full_sync { "FULL" } else { "NORMAL" }).map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
        migrations::migrate(&mut conn)?;
        crate::times::normalise_stored_times(&conn)?;
        let read =
            Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(open_err)?;
        read.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
        Ok(Self { conn: Mutex::new(conn), read: Some(Mutex::new(read)), origin: crate::changes::new_origin() })
    }

    /// A store in memory (tests).
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::migrate(&mut conn)?;
        crate::times::normalise_stored_times(&conn)?;
        Ok(Self { conn: Mutex::new(conn), read: None, origin: crate::changes::new_origin() })
    }

    /// The connection for long reads.
    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.read.as_ref().unwrap_or(&self.conn).lock().unwrap_or_else(|p| p.into_inner())
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Advances the resolved-ticket change sequence inside `tx`; the new value.
fn bump_resolved_seq(tx: &rusqlite::Transaction<'_>) -> Result<u64> {
    let seq: i64 = tx.query_row("UPDATE store_meta SET value = value + 1 WHERE key = 'resolved_seq' RETURNING value", [], |r| r.get(0))?;
    Ok(seq as u64)
}

/// Adds `n` feedback rows of `outcome` to `c`.
fn add_count(c: &mut FeedbackCounts, outcome: &str, n: i64) -> Result<()> {
    match Outcome::parse(outcome) {
        Some(Outcome::Resolved) => c.resolved += n as u64,
        Some(Outcome::Helpful) => c.helpful += n as u64,
        Some(Outcome::NotHelpful) => c.not_helpful += n as u64,
        Some(Outcome::Corrected) => {}
        None => return Err(StoreError::Corrupt(format!("unknown feedback outcome `{outcome}`"))),
    }
    Ok(())
}

fn row_to_ticket(r: &rusqlite::Row<'_>) -> rusqlite::Result<ResolvedTicket> {
    let tenant: String = r.get(0)?;
    Ok(ResolvedTicket {
        tenant: TenantId::parse(&tenant)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))?,
        external_id: r.get(1)?,
        title: r.get(2)?,
        description: r.get(3)?,
        category: r.get(4)?,
        priority: r.get(5)?,
        assignment_group: r.get(6)?,
        resolution_notes: r.get(7)?,
        resolved_at_first_contact: r.get::<_, Option<i64>>(8)?.map(|v| v != 0),
        kb_article: r.get(9)?,
        opened_at: r.get(10)?,
        resolved_at: r.get(11)?,
    })
}

pub(crate) const TICKET_COLUMNS: &str = "tenant, external_id, title, description, category, priority, assignment_group, resolution_notes, first_contact, kb_article, opened_at, resolved_at";

impl Store for SqliteStore {
    fn upsert_resolved(&self, tickets: &[ResolvedTicket]) -> Result<UpsertReport> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut report = UpsertReport::default();
        {
            let mut exists = tx.prepare_cached("SELECT 1 FROM resolved_tickets WHERE tenant = ?1 AND external_id = ?2")?;
            let mut upsert = tx.prepare_cached(
                "INSERT INTO resolved_tickets (tenant, external_id, title, description, category, priority, assignment_group,
                    resolution_notes, first_contact, kb_article, opened_at, resolved_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT (tenant, external_id) DO UPDATE SET
                    title = excluded.title, description = excluded.description, category = excluded.category,
                    priority = excluded.priority, assignment_group = excluded.assignment_group,
                    resolution_notes = excluded.resolution_notes, first_contact = excluded.first_contact,
                    kb_article = excluded.kb_article, opened_at = excluded.opened_at,
                    resolved_at = excluded.resolved_at, updated_at = excluded.updated_at",
            )?;
            let at = now();
            for t in tickets {
                let existed = exists.exists(params![t.tenant.as_str(), t.external_id])?;
                upsert.execute(params![
                    t.tenant.as_str(),
                    t.external_id,
                    t.title,
                    t.description,
                    t.category,
                    t.priority,
                    t.assignment_group,
                    t.resolution_notes,
                    t.resolved_at_first_contact.map(i64::from),
                    t.kb_article,
                    t.opened_at,
                    t.resolved_at,
                    at,
                ])?;
                if existed {
                    report.updated += 1;
                } else {
                    report.inserted += 1;
                }
            }
        }
        report.seq = bump_resolved_seq(&tx)?;
        let seq = report.seq.to_string();
        let changes: Vec<NewChange<'_>> = tickets
            .iter()
            .map(|t| NewChange { kind: ChangeKind::Resolved, tenant: Some(t.tenant.as_str()), subject: &t.external_id, detail: Some(&seq) })
            .collect();
        crate::changes::append(&tx, &self.origin, &now(), &changes)?;
        tx.commit()?;
        Ok(report)
    }

    fn resolved_seq(&self) -> Result<u64> {
        let seq: i64 = self.conn().query_row("SELECT value FROM store_meta WHERE key = 'resolved_seq'", [], |r| r.get(0))?;
        Ok(seq as u64)
    }

    fn resolved_ticket(&self, tenant: &TenantId, external_id: &str) -> Result<Option<ResolvedTicket>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {TICKET_COLUMNS} FROM resolved_tickets WHERE tenant = ?1 AND external_id = ?2"))?;
        Ok(stmt.query_row(params![tenant.as_str(), external_id], row_to_ticket).optional()?)
    }

    fn resolved_count(&self, tenant: Option<&TenantId>) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = match tenant {
            Some(t) => conn.query_row("SELECT COUNT(*) FROM resolved_tickets WHERE tenant = ?1", [t.as_str()], |r| r.get(0))?,
            None => conn.query_row("SELECT COUNT(*) FROM resolved_tickets", [], |r| r.get(0))?,
        };
        Ok(n as u64)
    }

    fn for_each_resolved(&self, f: &mut dyn FnMut(ResolvedTicket)) -> Result<()> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!("SELECT {TICKET_COLUMNS} FROM resolved_tickets ORDER BY tenant, external_id"))?;
        let rows = stmt.query_map([], row_to_ticket)?;
        for row in rows {
            f(row?);
        }
        Ok(())
    }

    fn delete_resolved(&self, tenant: &TenantId, external_id: &str) -> Result<(bool, u64)> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute("DELETE FROM resolved_tickets WHERE tenant = ?1 AND external_id = ?2", params![tenant.as_str(), external_id])?;
        let seq = bump_resolved_seq(&tx)?;
        let detail = seq.to_string();
        let change =
            NewChange { kind: ChangeKind::ResolvedErased, tenant: Some(tenant.as_str()), subject: external_id, detail: Some(&detail) };
        crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok((n > 0, seq))
    }

    fn record_triages(&self, records: &[TriageRecord]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO triage_records (triage_id, tenant, external_id, created_at, model_version, labels_json, suggestions_json, text, no_good_fix)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for r in records {
                insert.execute(params![
                    r.triage_id,
                    r.tenant.as_ref().map(TenantId::as_str),
                    r.external_id,
                    r.created_at,
                    r.model_version,
                    serde_json::to_string(&r.labels)?,
                    serde_json::to_string(&r.suggestions)?,
                    r.text,
                    r.no_good_fix
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn triage_record(&self, tenant: Option<&TenantId>, triage_id: &str) -> Result<Option<TriageRecord>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT triage_id, tenant, external_id, created_at, model_version, labels_json, suggestions_json, text, no_good_fix
                 FROM triage_records WHERE triage_id = ?1 AND tenant IS ?2",
                params![triage_id, tenant.map(TenantId::as_str)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, bool>(8)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(triage_id, tenant, external_id, created_at, model_version, labels, suggestions, text, no_good_fix)| {
            Ok(TriageRecord {
                triage_id,
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                external_id,
                created_at,
                model_version,
                labels: serde_json::from_str(&labels)?,
                suggestions: serde_json::from_str(&suggestions)?,
                text,
                no_good_fix,
            })
        })
        .transpose()
    }

    fn corrections(&self) -> Result<Vec<Correction>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT t.tenant, t.external_id, t.text, f.corrected_json FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
             WHERE f.corrected_json <> '{}' AND t.text IS NOT NULL AND f.id = (SELECT MAX(id) FROM feedback g WHERE g.triage_id = f.triage_id AND g.corrected_json <> '{}')
             ORDER BY f.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (tenant, external_id, text, labels) = row?;
            out.push(Correction {
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                external_id,
                text,
                labels: serde_json::from_str(&labels)?,
            });
        }
        Ok(out)
    }

    fn add_feedback(&self, f: &Feedback) -> Result<FeedbackWrite> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let labels = serde_json::to_string(&f.corrected_labels)?;
        let earlier: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, corrected_json FROM feedback WHERE triage_id = ?1 AND COALESCE(suggestion, '') = COALESCE(?2, '') AND outcome = ?3",
                params![f.triage_id, f.suggestion, f.outcome.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let write = match earlier {
            Some((_, ref json)) if *json == labels => return Ok(FeedbackWrite::Repeated),
            Some((id, _)) => {
                // new labels for the same outcome: the latest wins, and is the newest row
                tx.execute("DELETE FROM feedback WHERE id = ?1", [id])?;
                FeedbackWrite::Updated
            }
            None => FeedbackWrite::New,
        };
        tx.execute(
            "INSERT INTO feedback (triage_id, tenant, suggestion, outcome, corrected_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![f.triage_id, f.tenant.as_ref().map(TenantId::as_str), f.suggestion, f.outcome.as_str(), labels, f.created_at],
        )?;
        if let (FeedbackWrite::New, Some(s)) = (write, &f.suggestion) {
            let detail = crate::changes::feedback_detail(f.outcome, s);
            let change = NewChange {
                kind: ChangeKind::Feedback,
                tenant: f.tenant.as_ref().map(TenantId::as_str),
                subject: &f.triage_id,
                detail: Some(&detail),
            };
            crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        }
        tx.commit()?;
        Ok(write)
    }

    fn feedback_counts(&self) -> Result<Vec<(String, FeedbackCounts)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare("SELECT suggestion, outcome, COUNT(*) FROM feedback WHERE suggestion IS NOT NULL GROUP BY suggestion, outcome ORDER BY suggestion")?;
        let mut out: Vec<(String, FeedbackCounts)> = Vec::new();
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (suggestion, outcome, n) = row?;
            if out.last().is_none_or(|(s, _)| *s != suggestion) {
                out.push((suggestion.clone(), FeedbackCounts::default()));
            }
            add_count(&mut out.last_mut().expect("just pushed").1, &outcome, n)?;
        }
        Ok(out)
    }

    fn feedback_counts_for(&self, suggestions: &[String]) -> Result<Vec<(String, FeedbackCounts)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT outcome, COUNT(*) FROM feedback WHERE suggestion = ?1 GROUP BY outcome")?;
        let mut out = Vec::new();
        for suggestion in suggestions {
            let mut counts = FeedbackCounts::default();
            let mut any = false;
            let rows = stmt.query_map([suggestion], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
            for row in rows {
                let (outcome, n) = row?;
                any = true;
                add_count(&mut counts, &outcome, n)?;
            }
            if any {
                out.push((suggestion.clone(), counts));
            }
        }
        Ok(out)
    }

    fn suggestion_usage(&self, tenant: Option<&TenantId>, from: Option<&Timestamp>) -> Result<Vec<SuggestionUsage>> {
        let conn = self.reader();
        let tenant = tenant.map(TenantId::as_str);
        let from = from.map(Timestamp::to_stored);
        let mut usage: std::collections::BTreeMap<String, SuggestionUsage> = std::collections::BTreeMap::new();
        let mut offered = conn.prepare(
            "SELECT j.value, COUNT(*), SUM(j.key = 0) FROM triage_records t, json_each(t.suggestions_json) j
             WHERE (?1 IS NULL OR t.tenant = ?1) AND (?2 IS NULL OR t.created_at >= ?2) GROUP BY j.value",
        )?;
        let rows = offered.query_map(params![tenant, from], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (suggestion, n, first) = row?;
            let u = usage.entry(suggestion.clone()).or_insert_with(|| SuggestionUsage { suggestion, ..Default::default() });
            u.offered = n as u64;
            u.offered_first = first as u64;
        }
        let mut said = conn.prepare(
            "SELECT suggestion, outcome, COUNT(*) FROM feedback
             WHERE suggestion IS NOT NULL AND (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR created_at >= ?2)
             GROUP BY suggestion, outcome",
        )?;
        let rows = said.query_map(params![tenant, from], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
        for row in rows {
            let (suggestion, outcome, n) = row?;
            let u = usage.entry(suggestion.clone()).or_insert_with(|| SuggestionUsage { suggestion, ..Default::default() });
            match Outcome::parse(&outcome) {
                Some(Outcome::Resolved) => u.feedback.resolved += n as u64,
                Some(Outcome::Helpful) => u.feedback.helpful += n as u64,
                Some(Outcome::NotHelpful) => u.feedback.not_helpful += n as u64,
                Some(Outcome::Corrected) => {}
                None => return Err(StoreError::Corrupt(format!("unknown feedback outcome `{outcome}`"))),
            }
        }
        Ok(usage.into_values().collect())
    }

    fn for_each_article_feedback(&self, f: &mut dyn FnMut(ArticleFeedback)) -> Result<()> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT t.tenant, f.triage_id, f.suggestion, f.outcome, t.text, f.created_at FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
             WHERE f.suggestion LIKE 'article:%' AND f.outcome IN ('resolved', 'helpful', 'not_helpful') AND t.tenant IS NOT NULL AND t.text IS NOT NULL
             ORDER BY f.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        for row in rows {
            let (tenant, triage_id, suggestion, outcome, text, created_at) = row?;
            f(ArticleFeedback {
                tenant: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                triage_id,
                suggestion,
                outcome: Outcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt(format!("unknown feedback outcome `{outcome}`")))?,
                text,
                created_at,
            });
        }
        Ok(())
    }

    fn feedback_for(&self, triage_id: &str) -> Result<Vec<Feedback>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT triage_id, tenant, suggestion, outcome, corrected_json, created_at FROM feedback WHERE triage_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![triage_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (triage_id, tenant, suggestion, outcome, corrected, created_at) = row?;
            out.push(Feedback {
                triage_id,
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                suggestion,
                outcome: Outcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt(format!("unknown feedback outcome `{outcome}`")))?,
                corrected_labels: serde_json::from_str(&corrected)?,
                created_at,
            });
        }
        Ok(out)
    }

    fn gap_candidates(&self, tenant: &TenantId, from: Option<&Timestamp>, to: Option<&Timestamp>, max: usize) -> Result<Vec<GapCandidate>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT t.triage_id, t.external_id, t.created_at, t.text, t.no_good_fix,
                    EXISTS (SELECT 1 FROM feedback f WHERE f.triage_id = t.triage_id AND f.outcome = 'not_helpful'),
                    json_extract(t.labels_json, '$.category.label'), json_extract(t.labels_json, '$.assignment_group.label'),
                    r.resolution_notes
             FROM triage_records t
             LEFT JOIN resolved_tickets r ON r.tenant = t.tenant AND r.external_id = t.external_id
             WHERE t.tenant = ?1 AND t.text IS NOT NULL AND (?2 IS NULL OR t.created_at >= ?2) AND (?3 IS NULL OR t.created_at < ?3)
               AND (t.no_good_fix = 1 OR EXISTS (SELECT 1 FROM feedback f WHERE f.triage_id = t.triage_id AND f.outcome = 'not_helpful'))
             ORDER BY t.created_at DESC, t.triage_id LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![tenant.as_str(), from.map(Timestamp::to_stored), to.map(Timestamp::to_stored), i64::try_from(max).unwrap_or(i64::MAX)],
            |r| {
                Ok(GapCandidate {
                    triage_id: r.get(0)?,
                    external_id: r.get(1)?,
                    created_at: r.get(2)?,
                    text: r.get(3)?,
                    no_good_fix: r.get(4)?,
                    not_helpful: r.get(5)?,
                    category: r.get(6)?,
                    assignment_group: r.get(7)?,
                    resolution_notes: r.get::<_, Option<String>>(8)?.filter(|n| !n.trim().is_empty()),
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn register_model(&self, m: &ModelRecord) -> Result<()> {
        // never a replace: a registered (perhaps live) version keeps its bundle and report
        let inserted = self.conn().execute(
            "INSERT INTO models (version, path, created_at, status, report_json) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (version) DO NOTHING",
            params![m.version, m.path, m.created_at, m.status.as_str(), serde_json::to_string(&m.report)?],
        )?;
        if inserted == 0 {
            return Err(StoreError::ModelExists(m.version.clone()));
        }
        Ok(())
    }

    fn models(&self) -> Result<Vec<ModelRecord>> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare("SELECT version, path, created_at, status, report_json FROM models ORDER BY created_at DESC, version DESC")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (version, path, created_at, status, report) = row?;
            let status = ModelStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("unknown model status `{status}`")))?;
            out.push(ModelRecord { version, path, created_at, status, report: serde_json::from_str(&report)? });
        }
        Ok(out)
    }

    fn set_live(&self, version: &str, action: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let known: bool = tx.query_row("SELECT COUNT(*) FROM models WHERE version = ?1", [version], |r| r.get::<_, i64>(0))? > 0;
        if !known {
            return Err(StoreError::UnknownModel(version.to_owned()));
        }
        tx.execute("UPDATE models SET status = 'retired' WHERE status = 'live'", [])?;
        tx.execute("UPDATE models SET status = 'live' WHERE version = ?1", [version])?;
        tx.execute("INSERT INTO live_history (version, action, at) VALUES (?1, ?2, ?3)", params![version, action, now()])?;
        let change = NewChange { kind: ChangeKind::ModelLive, tenant: None, subject: version, detail: Some(action) };
        crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok(())
    }

    fn live_history(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT version, action FROM live_history ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn stats(&self, query: &StatsQuery) -> Result<Stats> {
        compute_stats(&self.reader(), query)
    }

    fn create_key(&self, k: &ApiKeyRecord) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO api_keys (id, hash, tenant, role, label, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![k.id, k.hash, k.tenant.as_ref().map(TenantId::as_str), k.role.as_str(), k.label, k.created_at, k.revoked_at],
        )?;
        let change =
            NewChange { kind: ChangeKind::Key, tenant: k.tenant.as_ref().map(TenantId::as_str), subject: &k.id, detail: Some("created") };
        crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok(())
    }

    fn keys(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT id, hash, tenant, role, label, created_at, revoked_at FROM api_keys WHERE (?1 IS NULL OR tenant = ?1) ORDER BY created_at DESC, id",
        )?;
        let rows = stmt.query_map(params![tenant.map(TenantId::as_str)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, hash, tenant, role, label, created_at, revoked_at) = row?;
            out.push(ApiKeyRecord {
                id,
                hash,
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                role: triage_core::auth::Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role `{role}`")))?,
                label,
                created_at,
                revoked_at,
            });
        }
        Ok(out)
    }

    fn revoke_key(&self, tenant: Option<&TenantId>, id: &str) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let n = tx.execute(
            "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND (?2 IS NULL OR tenant = ?2) AND revoked_at IS NULL",
            params![id, tenant.map(TenantId::as_str), now()],
        )?;
        if n > 0 {
            let change = NewChange { kind: ChangeKind::Key, tenant: tenant.map(TenantId::as_str), subject: id, detail: Some("revoked") };
            crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    fn audit(&self, e: &AuditEntry) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit (at, key_id, tenant, action, target, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.at, e.key_id, e.tenant.as_ref().map(TenantId::as_str), e.action, e.target, e.outcome],
        )?;
        Ok(())
    }

    fn audit_log(&self, tenant: Option<&TenantId>, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT at, key_id, tenant, action, target, outcome FROM audit WHERE (?1 IS NULL OR tenant = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![tenant.map(TenantId::as_str), limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, key_id, tenant, action, target, outcome) = row?;
            out.push(AuditEntry {
                at,
                key_id,
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                action,
                target,
                outcome,
            });
        }
        Ok(out)
    }

    fn connector_event_insert(&self, event: &NewConnectorEvent) -> Result<bool> {
        crate::connectors::insert_event(&self.conn(), event, &now())
    }

    fn connector_events(&self, connector: &str, state: Option<EventState>, limit: usize) -> Result<Vec<ConnectorEvent>> {
        crate::connectors::events(&self.conn(), connector, state, limit)
    }

    fn connector_event_finish(&self, id: i64, state: EventState, detail: Option<&str>) -> Result<()> {
        crate::connectors::finish_event(&self.conn(), id, state, detail, &now())
    }

    fn connector_ticket(&self, connector: &str, external_id: &str) -> Result<Option<ConnectorTicket>> {
        crate::connectors::ticket(&self.conn(), connector, external_id)
    }

    fn connector_apply(&self, ticket: &ConnectorTicket, actions: &[NewOutboxAction], event: Option<i64>) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let at = now();
        let queued = crate::connectors::apply(&tx, ticket, actions, &at, now_ms())?;
        if let Some(id) = event {
            crate::connectors::finish_event(&tx, id, EventState::Done, None, &at)?;
        }
        tx.commit()?;
        Ok(queued)
    }

    fn connector_cursor(&self, connector: &str) -> Result<Option<String>> {
        crate::connectors::cursor(&self.conn(), connector)
    }

    fn set_connector_cursor(&self, connector: &str, cursor: &str) -> Result<()> {
        crate::connectors::set_cursor(&self.conn(), connector, cursor, &now())
    }

    fn outbox_claim(&self, connector: &str, now_ms: i64, limit: usize, lease_ms: i64) -> Result<Vec<OutboxAction>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let claimed = crate::connectors::claim(&tx, connector, now_ms, limit, lease_ms)?;
        tx.commit()?;
        Ok(claimed)
    }

    fn outbox_update(&self, id: i64, attempts: u32, update: &OutboxUpdate) -> Result<bool> {
        crate::connectors::update(&self.conn(), id, attempts, update, &now())
    }

    fn outbox_list(&self, connector: &str, state: Option<OutboxState>, limit: usize) -> Result<Vec<OutboxAction>> {
        crate::connectors::list(&self.reader(), connector, state, limit)
    }

    fn outbox_retry(&self, connector: &str, id: i64, now_ms: i64) -> Result<bool> {
        crate::connectors::retry(&self.conn(), connector, id, now_ms)
    }

    fn connector_counts(&self, connector: &str) -> Result<ConnectorCounts> {
        crate::connectors::counts(&self.reader(), connector)
    }

    fn connector_prune(&self, connector: &str, before: &str) -> Result<(usize, usize)> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let pruned = crate::connectors::prune(&tx, connector, before)?;
        tx.commit()?;
        Ok(pruned)
    }

    fn incident_save(&self, incident: &IncidentRow, new_members: &[IncidentMemberRow]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        crate::incidents::save(&tx, incident, new_members, &now())?;
        let change = NewChange { kind: ChangeKind::Incident, tenant: None, subject: &incident.id, detail: None };
        crate::changes::append(&tx, &self.origin, &now(), &[change])?;
        tx.commit()?;
        Ok(())
    }

    fn incidents(&self, changed_since: &str) -> Result<Vec<(IncidentRow, Vec<IncidentMemberRow>)>> {
        crate::incidents::load(&self.conn(), changed_since)
    }

    fn for_each_triage_text(&self, since: &str, limit: usize, f: &mut dyn FnMut(&str, &str)) -> Result<()> {
        crate::incidents::for_each_triage_text(&self.conn(), since, limit, f)
    }

    fn save_model_files(&self, version: &str, files: &[crate::ModelFile]) -> Result<bool> {
        crate::shared::save_model_files(&mut self.conn(), version, files, &now())
    }

    fn model_files(&self, version: &str) -> Result<Option<Vec<crate::ModelFile>>> {
        crate::shared::model_files(&self.reader(), version)
    }

    fn job_insert(&self, job: &crate::JobRow, now_ms: i64) -> Result<Option<String>> {
        crate::shared::job_insert(&mut self.conn(), job, now_ms, &now())
    }

    fn job_write(&self, job: &crate::JobRow) -> Result<bool> {
        crate::shared::job_write(&self.conn(), job)
    }

    fn job_expire(&self, now_ms: i64) -> Result<usize> {
        crate::shared::job_expire(&mut self.conn(), now_ms, &now())
    }

    fn job(&self, id: &str) -> Result<Option<crate::JobRow>> {
        crate::shared::job(&self.conn(), id)
    }

    fn job_counts(&self) -> Result<Vec<(String, u64)>> {
        crate::shared::job_counts(&self.conn())
    }

    fn origin(&self) -> &str {
        &self.origin
    }

    fn change_head(&self) -> Result<u64> {
        crate::changes::head(&self.conn())
    }

    fn changes_since(&self, after: u64, max: usize) -> Result<Vec<Change>> {
        crate::changes::since(&self.conn(), after, max)
    }

    fn resolved_changes_after(&self, resolved_seq: u64) -> Result<Option<(u64, u64)>> {
        crate::changes::resolved_after(&self.conn(), resolved_seq)
    }

    fn triage_records_since(&self, since: &str, max: usize) -> Result<Vec<TriageRecord>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT triage_id, tenant, created_at, suggestions_json, text FROM triage_records
             WHERE created_at >= ?1 AND text IS NOT NULL ORDER BY created_at, triage_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![since, max.min(i64::MAX as usize) as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (triage_id, tenant, created_at, suggestions, text) = row?;
            out.push(TriageRecord {
                triage_id,
                tenant: tenant.map(|t| TenantId::parse(&t)).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?,
                external_id: None,
                created_at,
                model_version: None,
                labels: serde_json::Value::Null,
                suggestions: serde_json::from_str(&suggestions)?,
                text: Some(text),
                no_good_fix: false,
            });
        }
        Ok(out)
    }

    fn hold_leadership(&self, _name: &str) -> Result<bool> {
        Ok(true)
    }

    fn prune_changes(&self, before: &str) -> Result<usize> {
        crate::changes::prune(&self.conn(), before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_core::ticket_resolved::RawResolved;

    pub(crate) fn ticket(tenant: &str, id: &str, title: &str, fcr: Option<bool>) -> ResolvedTicket {
        ResolvedTicket::parse(&RawResolved {
            tenant,
            external_id: id,
            title: Some(title),
            category: Some("printing"),
            resolution_notes: Some("restarted the spooler"),
            resolved_at_first_contact: fcr,
            resolved_at: Some("2026-11-20T10:00:00Z"),
            ..RawResolved::default()
        })
        .unwrap()
    }

    #[test]
    fn a_store_written_by_a_newer_binary_is_refused_with_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.db");
        drop(SqliteStore::open(&path).unwrap());
        let newer = crate::migrations::SCHEMA_VERSION + 1;
        Connection::open(&path).unwrap().pragma_update(None, "user_version", newer).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found, supported } if found == newer && supported == newer - 1), "{err}");
        let message = err.to_string();
        assert!(message.contains(&newer.to_string()) && message.contains(&(newer - 1).to_string()), "{message}");
    }

    #[test]
    fn duplicate_feedback_from_before_the_upgrade_is_folded_by_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.db");
        {
            let mut conn = Connection::open(&path).unwrap();
            conn.execute_batch(&crate::migrations::steps_up_to(3).join("\n")).unwrap();
            conn.pragma_update(None, "user_version", 3).unwrap();
            conn.execute_batch(
                "INSERT INTO triage_records (triage_id, created_at, labels_json, suggestions_json) VALUES ('t1', '2026-11-01T00:00:00Z', '{}', '[]');
                 INSERT INTO feedback (triage_id, suggestion, outcome, corrected_json, created_at) VALUES
                   ('t1', 'article:a', 'resolved', '{}', 'x'), ('t1', 'article:a', 'resolved', '{}', 'x'),
                   ('t1', NULL, 'corrected', '{\"category\":\"old\"}', 'x'), ('t1', NULL, 'corrected', '{\"category\":\"new\"}', 'x');",
            )
            .unwrap();
            let _ = &mut conn;
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(
            s.feedback_counts().unwrap(),
            vec![("article:a".to_owned(), FeedbackCounts { resolved: 1, helpful: 0, not_helpful: 0 })]
        );
        let kept = s.feedback_for("t1").unwrap();
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[1].corrected_labels["category"], "new", "the latest correction is kept");
    }

    #[test]
    fn the_bundled_sqlite_has_the_fix_for_cve_2025_6965() {
        // 3.50.2 fixed CVE-2025-6965 (aggregate terms exceeding the available columns)
        assert!(rusqlite::version_number() >= 3_050_002, "bundled SQLite {} is older than 3.50.2", rusqlite::version());
    }

    #[test]
    fn a_file_store_survives_reopening_and_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.db");
        {
            let s = SqliteStore::open(&path).unwrap();
            s.upsert_resolved(&[ticket("northmoor", "INC1", "printer", None)]).unwrap();
        }
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.resolved_count(None).unwrap(), 1);
        let mode: String = s.conn().query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SqliteStore>();
    }
}
