//! Resolved tickets, triage records, feedback, the model registry, keys and the audit log.

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, Row, Transaction};
use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::ResolvedTicket;
use triage_core::time::Timestamp;

use super::{limit, now, tenant_of};
use crate::changes::{ChangeKind, NewChange};
use crate::types::{
    ApiKeyRecord, ArticleFeedback, AuditEntry, Correction, Feedback, FeedbackCounts, FeedbackWrite, GapCandidate, ModelRecord, ModelStatus,
    Outcome, SuggestionUsage, TriageRecord, UpsertReport,
};
use crate::{Result, StoreError};

/// Advances the resolved-ticket change sequence inside `tx` (the row lock orders concurrent
/// writers, as SQLite's single writer does); the new value.
pub(super) fn bump_resolved_seq(tx: &mut Transaction<'_>) -> Result<u64> {
    let seq: i64 = tx.query_one("UPDATE store_meta SET value = value + 1 WHERE key = 'resolved_seq' RETURNING value", &[])?.get(0);
    Ok(seq as u64)
}

fn outcome_of(s: &str) -> Result<Outcome> {
    Outcome::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown feedback outcome `{s}`")))
}

pub(super) fn upsert_resolved(client: &mut Client, origin: &str, tickets: &[ResolvedTicket]) -> Result<UpsertReport> {
    let mut tx = client.transaction()?;
    let mut report = UpsertReport::default();
    // `xmax = 0` only on a row this statement inserted: new versus updated in one round trip
    let upsert = tx.prepare(
        "INSERT INTO resolved_tickets (tenant, external_id, title, description, category, priority, assignment_group,
            resolution_notes, first_contact, kb_article, opened_at, resolved_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (tenant, external_id) DO UPDATE SET
            title = excluded.title, description = excluded.description, category = excluded.category,
            priority = excluded.priority, assignment_group = excluded.assignment_group,
            resolution_notes = excluded.resolution_notes, first_contact = excluded.first_contact,
            kb_article = excluded.kb_article, opened_at = excluded.opened_at,
            resolved_at = excluded.resolved_at, updated_at = excluded.updated_at
         RETURNING (xmax = 0)",
    )?;
    let at = now();
    for t in tickets {
        let inserted: bool = tx
            .query_one(
                &upsert,
                &[
                    &t.tenant.as_str(),
                    &t.external_id,
                    &t.title,
                    &t.description,
                    &t.category,
                    &t.priority,
                    &t.assignment_group,
                    &t.resolution_notes,
                    &t.resolved_at_first_contact,
                    &t.kb_article,
                    &t.opened_at,
                    &t.resolved_at,
                    &at,
                ],
            )?
            .get(0);
        if inserted {
            report.inserted += 1;
        } else {
            report.updated += 1;
        }
    }
    report.seq = bump_resolved_seq(&mut tx)?;
    let seq = report.seq.to_string();
    let changes: Vec<NewChange<'_>> = tickets
        .iter()
        .map(|t| NewChange { kind: ChangeKind::Resolved, tenant: Some(t.tenant.as_str()), subject: &t.external_id, detail: Some(&seq) })
        .collect();
    super::changes::append(&mut tx, origin, &at, &changes)?;
    tx.commit()?;
    Ok(report)
}

fn row_to_ticket(r: &Row) -> Result<ResolvedTicket> {
    let tenant: String = r.get(0);
    Ok(ResolvedTicket {
        tenant: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        external_id: r.get(1),
        title: r.get(2),
        description: r.get(3),
        category: r.get(4),
        priority: r.get(5),
        assignment_group: r.get(6),
        resolution_notes: r.get(7),
        resolved_at_first_contact: r.get(8),
        kb_article: r.get(9),
        opened_at: r.get(10),
        resolved_at: r.get(11),
    })
}

/// Streams the tickets (a rebuild reads every row; they are not all held in memory).
pub(super) fn for_each_resolved(client: &mut Client, f: &mut dyn FnMut(ResolvedTicket)) -> Result<()> {
    let mut tx = client.build_transaction().read_only(true).isolation_level(postgres::IsolationLevel::RepeatableRead).start()?;
    let mut rows = tx.query_raw(
        &format!("SELECT {} FROM resolved_tickets ORDER BY tenant, external_id", crate::sqlite::TICKET_COLUMNS),
        std::iter::empty::<&(dyn ToSql + Sync)>(),
    )?;
    while let Some(row) = rows.next()? {
        f(row_to_ticket(&row)?);
    }
    drop(rows);
    tx.commit()?;
    Ok(())
}

pub(super) fn record_triages(client: &mut Client, records: &[TriageRecord]) -> Result<()> {
    let mut tx = client.transaction()?;
    let insert = tx.prepare(
        "INSERT INTO triage_records (triage_id, tenant, external_id, created_at, model_version, labels_json, suggestions_json, text, no_good_fix)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )?;
    for r in records {
        tx.execute(
            &insert,
            &[
                &r.triage_id,
                &r.tenant.as_ref().map(TenantId::as_str),
                &r.external_id,
                &r.created_at,
                &r.model_version,
                &serde_json::to_string(&r.labels)?,
                &serde_json::to_string(&r.suggestions)?,
                &r.text,
                &r.no_good_fix,
            ],
        )?;
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn triage_record(client: &mut Client, tenant: Option<&TenantId>, triage_id: &str) -> Result<Option<TriageRecord>> {
    let row = client.query_opt(
        "SELECT triage_id, tenant, external_id, created_at, model_version, labels_json, suggestions_json, text, no_good_fix
         FROM triage_records WHERE triage_id = $1 AND tenant IS NOT DISTINCT FROM $2",
        &[&triage_id, &tenant.map(TenantId::as_str)],
    )?;
    row.map(|r| {
        Ok(TriageRecord {
            triage_id: r.get(0),
            tenant: tenant_of(r.get(1))?,
            external_id: r.get(2),
            created_at: r.get(3),
            model_version: r.get(4),
            labels: serde_json::from_str(r.get(5))?,
            suggestions: serde_json::from_str(r.get(6))?,
            text: r.get(7),
            no_good_fix: r.get(8),
        })
    })
    .transpose()
}

pub(super) fn add_feedback(client: &mut Client, origin: &str, f: &Feedback) -> Result<FeedbackWrite> {
    let mut tx = client.transaction()?;
    let labels = serde_json::to_string(&f.corrected_labels)?;
    let earlier = tx.query_opt(
        "SELECT id, corrected_json FROM feedback WHERE triage_id = $1 AND COALESCE(suggestion, '') = COALESCE($2, '') AND outcome = $3
         FOR UPDATE",
        &[&f.triage_id, &f.suggestion, &f.outcome.as_str()],
    )?;
    let write = match earlier {
        Some(r) if r.get::<_, String>(1) == labels => return Ok(FeedbackWrite::Repeated),
        Some(r) => {
            // new labels for the same outcome: the latest wins, and is the newest row
            tx.execute("DELETE FROM feedback WHERE id = $1", &[&r.get::<_, i64>(0)])?;
            FeedbackWrite::Updated
        }
        None => FeedbackWrite::New,
    };
    // another replica may have stored the same feedback since the read: then it is a repeat
    let n = tx.execute(
        "INSERT INTO feedback (triage_id, tenant, suggestion, outcome, corrected_json, created_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (triage_id, COALESCE(suggestion, ''), outcome) DO NOTHING",
        &[&f.triage_id, &f.tenant.as_ref().map(TenantId::as_str), &f.suggestion, &f.outcome.as_str(), &labels, &f.created_at],
    )?;
    if let (true, FeedbackWrite::New, Some(s)) = (n > 0, write, &f.suggestion) {
        let detail = crate::changes::feedback_detail(f.outcome, s);
        let change = NewChange {
            kind: ChangeKind::Feedback,
            tenant: f.tenant.as_ref().map(TenantId::as_str),
            subject: &f.triage_id,
            detail: Some(&detail),
        };
        super::changes::append(&mut tx, origin, &now(), &[change])?;
    }
    tx.commit()?;
    Ok(if n == 0 { FeedbackWrite::Repeated } else { write })
}

pub(super) fn corrections(client: &mut Client) -> Result<Vec<Correction>> {
    let rows = client.query(
        "SELECT t.tenant, t.external_id, t.text, f.corrected_json FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
         WHERE f.corrected_json <> '{}' AND t.text IS NOT NULL
           AND f.id = (SELECT MAX(id) FROM feedback g WHERE g.triage_id = f.triage_id AND g.corrected_json <> '{}')
         ORDER BY f.id",
        &[],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Correction { tenant: tenant_of(r.get(0))?, external_id: r.get(1), text: r.get(2), labels: serde_json::from_str(r.get(3))? })
        })
        .collect()
}

fn add_count(c: &mut FeedbackCounts, outcome: &str, n: i64) -> Result<()> {
    match outcome_of(outcome)? {
        Outcome::Resolved => c.resolved += n as u64,
        Outcome::Helpful => c.helpful += n as u64,
        Outcome::NotHelpful => c.not_helpful += n as u64,
        Outcome::Corrected => {}
    }
    Ok(())
}

pub(super) fn feedback_counts_for(client: &mut Client, suggestions: &[String]) -> Result<Vec<(String, FeedbackCounts)>> {
    let rows = client.query(
        "SELECT suggestion, outcome, COUNT(*) FROM feedback WHERE suggestion = ANY($1) GROUP BY suggestion, outcome ORDER BY suggestion",
        &[&suggestions],
    )?;
    fold_counts(&rows)
}

pub(super) fn feedback_counts(client: &mut Client) -> Result<Vec<(String, FeedbackCounts)>> {
    let rows = client.query(
        "SELECT suggestion, outcome, COUNT(*) FROM feedback WHERE suggestion IS NOT NULL GROUP BY suggestion, outcome ORDER BY suggestion",
        &[],
    )?;
    fold_counts(&rows)
}

/// (suggestion, outcome, count) rows ordered by suggestion -> counts per suggestion.
fn fold_counts(rows: &[Row]) -> Result<Vec<(String, FeedbackCounts)>> {
    let mut out: Vec<(String, FeedbackCounts)> = Vec::new();
    for r in rows {
        let suggestion: String = r.get(0);
        if out.last().is_none_or(|(s, _)| *s != suggestion) {
            out.push((suggestion, FeedbackCounts::default()));
        }
        add_count(&mut out.last_mut().expect("just pushed").1, r.get(1), r.get(2))?;
    }
    Ok(out)
}

pub(super) fn suggestion_usage(client: &mut Client, tenant: Option<&TenantId>, from: Option<&Timestamp>) -> Result<Vec<SuggestionUsage>> {
    let tenant = tenant.map(TenantId::as_str);
    let from = from.map(Timestamp::to_stored);
    let mut usage: std::collections::BTreeMap<String, SuggestionUsage> = std::collections::BTreeMap::new();
    let offered = client.query(
        "SELECT j.value, COUNT(*), COUNT(*) FILTER (WHERE j.n = 1)
         FROM triage_records t, jsonb_array_elements_text(t.suggestions_json::jsonb) WITH ORDINALITY AS j(value, n)
         WHERE ($1::TEXT IS NULL OR t.tenant = $1) AND ($2::TEXT IS NULL OR t.created_at >= $2) GROUP BY j.value",
        &[&tenant, &from],
    )?;
    for r in offered {
        let suggestion: String = r.get(0);
        let u = usage.entry(suggestion.clone()).or_insert_with(|| SuggestionUsage { suggestion, ..Default::default() });
        u.offered = r.get::<_, i64>(1) as u64;
        u.offered_first = r.get::<_, i64>(2) as u64;
    }
    let said = client.query(
        "SELECT suggestion, outcome, COUNT(*) FROM feedback
         WHERE suggestion IS NOT NULL AND ($1::TEXT IS NULL OR tenant = $1) AND ($2::TEXT IS NULL OR created_at >= $2)
         GROUP BY suggestion, outcome",
        &[&tenant, &from],
    )?;
    for r in said {
        let suggestion: String = r.get(0);
        let u = usage.entry(suggestion.clone()).or_insert_with(|| SuggestionUsage { suggestion, ..Default::default() });
        add_count(&mut u.feedback, r.get(1), r.get(2))?;
    }
    Ok(usage.into_values().collect())
}

pub(super) fn for_each_article_feedback(client: &mut Client, f: &mut dyn FnMut(ArticleFeedback)) -> Result<()> {
    let rows = client.query(
        "SELECT t.tenant, f.triage_id, f.suggestion, f.outcome, t.text, f.created_at FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
         WHERE f.suggestion LIKE 'article:%' AND f.outcome IN ('resolved', 'helpful', 'not_helpful') AND t.tenant IS NOT NULL AND t.text IS NOT NULL
         ORDER BY f.id",
        &[],
    )?;
    for r in rows {
        let tenant: String = r.get(0);
        f(ArticleFeedback {
            tenant: TenantId::parse(&tenant).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            triage_id: r.get(1),
            suggestion: r.get(2),
            outcome: outcome_of(r.get(3))?,
            text: r.get(4),
            created_at: r.get(5),
        });
    }
    Ok(())
}

pub(super) fn feedback_for(client: &mut Client, triage_id: &str) -> Result<Vec<Feedback>> {
    let rows = client.query(
        "SELECT triage_id, tenant, suggestion, outcome, corrected_json, created_at FROM feedback WHERE triage_id = $1 ORDER BY id",
        &[&triage_id],
    )?;
    rows.iter()
        .map(|r| {
            Ok(Feedback {
                triage_id: r.get(0),
                tenant: tenant_of(r.get(1))?,
                suggestion: r.get(2),
                outcome: outcome_of(r.get(3))?,
                corrected_labels: serde_json::from_str(r.get(4))?,
                created_at: r.get(5),
            })
        })
        .collect()
}

pub(super) fn gap_candidates(
    client: &mut Client,
    tenant: &TenantId,
    from: Option<&Timestamp>,
    to: Option<&Timestamp>,
    max: usize,
) -> Result<Vec<GapCandidate>> {
    let rows = client.query(
        "SELECT t.triage_id, t.external_id, t.created_at, t.text, t.no_good_fix,
                EXISTS (SELECT 1 FROM feedback f WHERE f.triage_id = t.triage_id AND f.outcome = 'not_helpful'),
                t.labels_json::jsonb -> 'category' ->> 'label', t.labels_json::jsonb -> 'assignment_group' ->> 'label',
                r.resolution_notes
         FROM triage_records t
         LEFT JOIN resolved_tickets r ON r.tenant = t.tenant AND r.external_id = t.external_id
         WHERE t.tenant = $1 AND t.text IS NOT NULL AND ($2::TEXT IS NULL OR t.created_at >= $2) AND ($3::TEXT IS NULL OR t.created_at < $3)
           AND (t.no_good_fix OR EXISTS (SELECT 1 FROM feedback f WHERE f.triage_id = t.triage_id AND f.outcome = 'not_helpful'))
         ORDER BY t.created_at DESC, t.triage_id LIMIT $4",
        &[&tenant.as_str(), &from.map(Timestamp::to_stored), &to.map(Timestamp::to_stored), &limit(max)],
    )?;
    Ok(rows
        .iter()
        .map(|r| GapCandidate {
            triage_id: r.get(0),
            external_id: r.get(1),
            created_at: r.get(2),
            text: r.get(3),
            no_good_fix: r.get(4),
            not_helpful: r.get(5),
            category: r.get(6),
            assignment_group: r.get(7),
            resolution_notes: r.get::<_, Option<String>>(8).filter(|n| !n.trim().is_empty()),
        })
        .collect())
}

pub(super) fn register_model(client: &mut Client, m: &ModelRecord) -> Result<()> {
    // never a replace: a registered (perhaps live) version keeps its bundle and report
    let inserted = client.execute(
        "INSERT INTO models (version, path, created_at, status, report_json) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
        &[&m.version, &m.path, &m.created_at, &m.status.as_str(), &serde_json::to_string(&m.report)?],
    )?;
    if inserted == 0 {
        return Err(StoreError::ModelExists(m.version.clone()));
    }
    Ok(())
}

pub(super) fn models(client: &mut Client) -> Result<Vec<ModelRecord>> {
    let rows =
        client.query("SELECT version, path, created_at, status, report_json FROM models ORDER BY created_at DESC, version DESC", &[])?;
    rows.iter()
        .map(|r| {
            let status: &str = r.get(3);
            Ok(ModelRecord {
                version: r.get(0),
                path: r.get(1),
                created_at: r.get(2),
                status: ModelStatus::parse(status).ok_or_else(|| StoreError::Corrupt(format!("unknown model status `{status}`")))?,
                report: serde_json::from_str(r.get(4))?,
            })
        })
        .collect()
}

pub(super) fn set_live(client: &mut Client, origin: &str, version: &str, action: &str) -> Result<()> {
    let mut tx = client.transaction()?;
    // one version goes live at a time across replicas: at most one `live` row, whatever the race
    tx.batch_execute("LOCK TABLE models IN SHARE ROW EXCLUSIVE MODE")?;
    if tx.query_opt("SELECT 1 FROM models WHERE version = $1", &[&version])?.is_none() {
        return Err(StoreError::UnknownModel(version.to_owned()));
    }
    tx.execute("UPDATE models SET status = 'retired' WHERE status = 'live'", &[])?;
    tx.execute("UPDATE models SET status = 'live' WHERE version = $1", &[&version])?;
    tx.execute("INSERT INTO live_history (version, action, at) VALUES ($1, $2, $3)", &[&version, &action, &now()])?;
    let change = NewChange { kind: ChangeKind::ModelLive, tenant: None, subject: version, detail: Some(action) };
    super::changes::append(&mut tx, origin, &now(), &[change])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn create_key(client: &mut Client, origin: &str, k: &ApiKeyRecord) -> Result<()> {
    let mut tx = client.transaction()?;
    tx.execute(
        "INSERT INTO api_keys (id, hash, tenant, role, label, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&k.id, &k.hash, &k.tenant.as_ref().map(TenantId::as_str), &k.role.as_str(), &k.label, &k.created_at, &k.revoked_at],
    )?;
    let change =
        NewChange { kind: ChangeKind::Key, tenant: k.tenant.as_ref().map(TenantId::as_str), subject: &k.id, detail: Some("created") };
    super::changes::append(&mut tx, origin, &now(), &[change])?;
    tx.commit()?;
    Ok(())
}

pub(super) fn revoke_key(client: &mut Client, origin: &str, tenant: Option<&TenantId>, id: &str) -> Result<bool> {
    let mut tx = client.transaction()?;
    let n = tx.execute(
        "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND ($2::TEXT IS NULL OR tenant = $2) AND revoked_at IS NULL",
        &[&id, &tenant.map(TenantId::as_str), &now()],
    )?;
    if n > 0 {
        let change = NewChange { kind: ChangeKind::Key, tenant: tenant.map(TenantId::as_str), subject: id, detail: Some("revoked") };
        super::changes::append(&mut tx, origin, &now(), &[change])?;
    }
    tx.commit()?;
    Ok(n > 0)
}

pub(super) fn resolved_tickets(client: &mut Client, keys: &[(TenantId, String)]) -> Result<Vec<ResolvedTicket>> {
    let tenants: Vec<&str> = keys.iter().map(|(t, _)| t.as_str()).collect();
    let ids: Vec<&str> = keys.iter().map(|(_, id)| id.as_str()).collect();
    let rows = client.query(
        &format!(
            "SELECT {} FROM resolved_tickets WHERE (tenant, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
            crate::sqlite::TICKET_COLUMNS
        ),
        &[&tenants, &ids],
    )?;
    rows.iter().map(row_to_ticket).collect()
}

pub(super) fn resolved_ticket(client: &mut Client, tenant: &TenantId, external_id: &str) -> Result<Option<ResolvedTicket>> {
    let row = client.query_opt(
        &format!("SELECT {} FROM resolved_tickets WHERE tenant = $1 AND external_id = $2", crate::sqlite::TICKET_COLUMNS),
        &[&tenant.as_str(), &external_id],
    )?;
    row.as_ref().map(row_to_ticket).transpose()
}

pub(super) fn keys(client: &mut Client, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>> {
    let rows = client.query(
        "SELECT id, hash, tenant, role, label, created_at, revoked_at FROM api_keys WHERE ($1::TEXT IS NULL OR tenant = $1)
         ORDER BY created_at DESC, id",
        &[&tenant.map(TenantId::as_str)],
    )?;
    rows.iter()
        .map(|r| {
            let role: &str = r.get(3);
            Ok(ApiKeyRecord {
                id: r.get(0),
                hash: r.get(1),
                tenant: tenant_of(r.get(2))?,
                role: triage_core::auth::Role::parse(role).ok_or_else(|| StoreError::Corrupt(format!("unknown role `{role}`")))?,
                label: r.get(4),
                created_at: r.get(5),
                revoked_at: r.get(6),
            })
        })
        .collect()
}

pub(super) fn audit_log(client: &mut impl GenericClient, tenant: Option<&TenantId>, max: usize) -> Result<Vec<AuditEntry>> {
    let rows = client.query(
        "SELECT at, key_id, tenant, action, target, outcome FROM audit WHERE ($1::TEXT IS NULL OR tenant = $1) ORDER BY id DESC LIMIT $2",
        &[&tenant.map(TenantId::as_str), &limit(max)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(AuditEntry {
                at: r.get(0),
                key_id: r.get(1),
                tenant: tenant_of(r.get(2))?,
                action: r.get(3),
                target: r.get(4),
                outcome: r.get(5),
            })
        })
        .collect()
}
