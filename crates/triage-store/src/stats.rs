//! Desk statistics: triage volume, first-contact resolution, suggestion acceptance, and how often
//! `auto` decisions were made and were right, per category and per day.
//!
//! Definitions (all within the window `from <= time < to`; stored times are UTC in one fixed-width
//! form, so they are compared as text; `per_day` puts each record on its day in the desk's time
//! zone, and a legacy time that cannot be parsed on the day of its first ten characters):
//! - first-contact resolution rate = resolved tickets flagged resolved at first contact /
//!   resolved tickets that carry the flag (tickets without it are not counted either way);
//! - feedback rate = triages with any feedback / triages; acceptance = triages whose feedback
//!   says `resolved` or `helpful` / triages with feedback;
//! - auto share = `auto` decisions / decisions of that head; auto accuracy = `auto` labels equal
//!   to the final label of the resolved ticket with the same tenant and external id / `auto`
//!   decisions whose ticket has a final label.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::{Connection, params};
use serde::Serialize;
use triage_core::tenant::TenantId;
use triage_core::time::{DeskTimeZone, Timestamp};

use crate::Result;

/// Which slice of history to summarise.
#[derive(Debug, Clone, Default)]
pub struct StatsQuery {
    /// One tenant, or every tenant (operators).
    pub tenant: Option<TenantId>,
    /// Inclusive lower bound.
    pub from: Option<Timestamp>,
    /// Exclusive upper bound.
    pub to: Option<Timestamp>,
    /// The zone whose days `per_day` counts in.
    pub time_zone: DeskTimeZone,
}

/// The day of a stored time in `zone`; a legacy time that cannot be parsed falls on the day of its
/// first ten characters.
fn day_of(at: &str, zone: &DeskTimeZone) -> String {
    Timestamp::parse(at).map_or_else(|_| at.chars().take(10).collect(), |t| t.day_in(zone))
}

/// How one head's decisions split between `auto` and the rest, and how often `auto` was right.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HeadAutoStats {
    /// Decisions this head made in the window.
    pub decisions: u64,
    /// Decisions that were `auto`.
    pub auto: u64,
    /// `auto / decisions`; `None` when there were no decisions.
    pub auto_share: Option<f64>,
    /// `auto` decisions whose ticket has a final label.
    pub auto_checked: u64,
    /// Checked `auto` decisions whose label equals the ticket's final label.
    pub auto_correct: u64,
    /// `auto_correct / auto_checked`; `None` when no `auto` decision could be checked.
    pub auto_accuracy: Option<f64>,
}

/// Resolved tickets and first-contact resolution of one category.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryStats {
    /// Category name; `(none)` for tickets filed without one.
    pub category: String,
    /// Resolved tickets of this category in the window.
    pub resolved: u64,
    /// First-contact resolution rate (0..=1); `None` when no ticket carried the flag.
    pub first_contact_rate: Option<f64>,
}

/// Volume of one day in the desk's time zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayStats {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Triages answered that day.
    pub triages: u64,
    /// Tickets resolved that day.
    pub resolved: u64,
    /// First-contact resolution rate of that day's resolved tickets (0..=1); `None` when none carried the flag.
    pub first_contact_rate: Option<f64>,
}

/// Desk statistics over one window; see the module docs for how each figure is defined.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Triages answered in the window.
    pub triages: u64,
    /// Tickets resolved in the window.
    pub resolved: u64,
    /// First-contact resolution rate (0..=1); `None` when no resolved ticket carried the flag.
    pub first_contact_rate: Option<f64>,
    /// Share of triages with any feedback (0..=1); `None` when there were no triages.
    pub feedback_rate: Option<f64>,
    /// Share of triages with feedback whose feedback says `resolved` or `helpful` (0..=1); `None` when none had feedback.
    pub acceptance_rate: Option<f64>,
    /// `auto` decisions per head name.
    pub auto: BTreeMap<String, HeadAutoStats>,
    /// Per category, sorted by name.
    pub per_category: Vec<CategoryStats>,
    /// Per day with any triage or resolved ticket, oldest first.
    pub per_day: Vec<DayStats>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[derive(Default)]
struct Fcr {
    resolved: u64,
    flagged: u64,
    first_contact: u64,
}

impl Fcr {
    fn add(&mut self, flag: Option<bool>) {
        self.resolved += 1;
        if let Some(f) = flag {
            self.flagged += 1;
            self.first_contact += u64::from(f);
        }
    }
    fn rate(&self) -> Option<f64> {
        ratio(self.first_contact, self.flagged)
    }
}

/// Builds [`Stats`] from the rows of one window, whatever database they come from: resolved
/// tickets first (they give the final labels), then triages, then feedback.
pub(crate) struct StatsBuilder<'q> {
    q: &'q StatsQuery,
    from: String,
    to: String,
    stats: Stats,
    days: BTreeMap<String, (u64, Fcr)>,
    finals: HashMap<(String, String), HashMap<&'static str, String>>,
    overall: Fcr,
    categories: BTreeMap<String, Fcr>,
    with_feedback: HashSet<String>,
    accepted: HashSet<String>,
}

/// One resolved ticket as [`StatsBuilder::add_resolved`] reads it.
pub(crate) struct ResolvedRow {
    pub(crate) tenant: String,
    pub(crate) external_id: String,
    pub(crate) category: Option<String>,
    pub(crate) priority: Option<String>,
    pub(crate) assignment_group: Option<String>,
    pub(crate) first_contact: Option<bool>,
    /// `resolved_at`, else `updated_at`.
    pub(crate) at: String,
}

impl<'q> StatsBuilder<'q> {
    pub(crate) fn new(q: &'q StatsQuery) -> Self {
        Self {
            q,
            from: q.from.as_ref().map_or_else(String::new, Timestamp::to_stored),
            to: q.to.as_ref().map_or_else(|| "\u{10ffff}".to_owned(), Timestamp::to_stored),
            stats: Stats::default(),
            days: BTreeMap::new(),
            finals: HashMap::new(),
            overall: Fcr::default(),
            categories: BTreeMap::new(),
            with_feedback: HashSet::new(),
            accepted: HashSet::new(),
        }
    }

    /// The tenant filter and the window bounds in stored form (`to` exclusive), for the queries.
    pub(crate) fn bounds(&self) -> (Option<&'q str>, String, String) {
        (self.q.tenant.as_ref().map(TenantId::as_str), self.from.clone(), self.to.clone())
    }

    /// A resolved ticket of the tenant (any time: outside the window it still gives final labels).
    pub(crate) fn add_resolved(&mut self, r: ResolvedRow) {
        let labels: HashMap<&'static str, String> =
            [("category", r.category.clone()), ("priority", r.priority), ("assignment_group", r.assignment_group)]
                .into_iter()
                .filter_map(|(h, v)| v.map(|v| (h, v)))
                .collect();
        self.finals.insert((r.tenant, r.external_id), labels);
        if r.at.as_str() < self.from.as_str() || r.at.as_str() >= self.to.as_str() {
            return;
        }
        self.overall.add(r.first_contact);
        self.categories.entry(r.category.unwrap_or_else(|| "(none)".into())).or_default().add(r.first_contact);
        self.days.entry(day_of(&r.at, &self.q.time_zone)).or_default().1.add(r.first_contact);
    }

    /// A triage of the window: volume per day, auto decisions per head and their accuracy.
    pub(crate) fn add_triage(&mut self, tenant: Option<String>, external_id: Option<String>, at: &str, labels_json: &str) -> Result<()> {
        let labels: serde_json::Value = serde_json::from_str(labels_json)?;
        self.stats.triages += 1;
        self.days.entry(day_of(at, &self.q.time_zone)).or_default().0 += 1;
        let final_labels = match (tenant, external_id) {
            (Some(t), Some(e)) => self.finals.get(&(t, e)),
            _ => None,
        };
        if let Some(obj) = labels.as_object() {
            for (head, p) in obj {
                let h = self.stats.auto.entry(head.clone()).or_default();
                h.decisions += 1;
                if p["decision"] == "auto" {
                    h.auto += 1;
                    if let Some(truth) = final_labels.and_then(|f| f.get(head.as_str())) {
                        h.auto_checked += 1;
                        h.auto_correct += u64::from(p["label"].as_str() == Some(truth.as_str()));
                    }
                }
            }
        }
        Ok(())
    }

    /// A feedback row on a triage of the window.
    pub(crate) fn add_feedback(&mut self, triage_id: String, outcome: &str) {
        if outcome == "resolved" || outcome == "helpful" {
            self.accepted.insert(triage_id.clone());
        }
        self.with_feedback.insert(triage_id);
    }

    pub(crate) fn finish(self) -> Stats {
        let mut stats = self.stats;
        stats.resolved = self.overall.resolved;
        stats.first_contact_rate = self.overall.rate();
        stats.per_category = self
            .categories
            .into_iter()
            .map(|(category, f)| CategoryStats { category, resolved: f.resolved, first_contact_rate: f.rate() })
            .collect();
        for h in stats.auto.values_mut() {
            h.auto_share = ratio(h.auto, h.decisions);
            h.auto_accuracy = ratio(h.auto_correct, h.auto_checked);
        }
        stats.feedback_rate = ratio(self.with_feedback.len() as u64, stats.triages);
        stats.acceptance_rate = ratio(self.accepted.len() as u64, self.with_feedback.len() as u64);
        stats.per_day = self
            .days
            .into_iter()
            .map(|(day, (triages, f))| DayStats { day, triages, resolved: f.resolved, first_contact_rate: f.rate() })
            .collect();
        stats
    }
}

/// Statistics from a SQLite connection.
pub(crate) fn compute_stats(conn: &Connection, q: &StatsQuery) -> Result<Stats> {
    let mut b = StatsBuilder::new(q);
    let (tenant, from, to) = b.bounds();
    {
        let mut stmt = conn.prepare(
            "SELECT tenant, external_id, category, priority, assignment_group, first_contact, COALESCE(resolved_at, updated_at)
             FROM resolved_tickets WHERE (?1 IS NULL OR tenant = ?1)",
        )?;
        let mut rows = stmt.query(params![tenant])?;
        while let Some(r) = rows.next()? {
            b.add_resolved(ResolvedRow {
                tenant: r.get(0)?,
                external_id: r.get(1)?,
                category: r.get(2)?,
                priority: r.get(3)?,
                assignment_group: r.get(4)?,
                first_contact: r.get::<_, Option<i64>>(5)?.map(|v| v != 0),
                at: r.get(6)?,
            });
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT tenant, external_id, created_at, labels_json FROM triage_records
             WHERE (?1 IS NULL OR tenant = ?1) AND created_at >= ?2 AND created_at < ?3",
        )?;
        let mut rows = stmt.query(params![tenant, from, to])?;
        while let Some(r) = rows.next()? {
            b.add_triage(r.get(0)?, r.get(1)?, &r.get::<_, String>(2)?, &r.get::<_, String>(3)?)?;
        }
    }
    {
        let mut stmt = conn.prepare(
            "SELECT f.triage_id, f.outcome FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
             WHERE (?1 IS NULL OR t.tenant = ?1) AND t.created_at >= ?2 AND t.created_at < ?3",
        )?;
        let mut rows = stmt.query(params![tenant, from, to])?;
        while let Some(r) = rows.next()? {
            b.add_feedback(r.get(0)?, &r.get::<_, String>(1)?);
        }
    }
    Ok(b.finish())
}
