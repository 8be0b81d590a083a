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

pub(crate) fn compute_stats(conn: &Connection, q: &StatsQuery) -> Result<Stats> {
    let tenant = q.tenant.as_ref().map(TenantId::as_str);
    let from = q.from.as_ref().map_or_else(String::new, Timestamp::to_stored);
    let to = q.to.as_ref().map_or_else(|| "\u{10ffff}".to_owned(), Timestamp::to_stored);
    let (from, to) = (from.as_str(), to.as_str());
    let mut stats = Stats::default();
    let mut days: BTreeMap<String, (u64, Fcr)> = BTreeMap::new();

    // resolved tickets: FCR overall, per category, per day; final labels for auto accuracy
    let mut finals: HashMap<(String, String), HashMap<&'static str, String>> = HashMap::new();
    let mut overall = Fcr::default();
    let mut categories: BTreeMap<String, Fcr> = BTreeMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT tenant, external_id, category, priority, assignment_group, first_contact, COALESCE(resolved_at, updated_at)
             FROM resolved_tickets WHERE (?1 IS NULL OR tenant = ?1)",
        )?;
        let mut rows = stmt.query(params![tenant])?;
        while let Some(r) = rows.next()? {
            let (t, ext): (String, String) = (r.get(0)?, r.get(1)?);
            let (cat, pri, grp): (Option<String>, Option<String>, Option<String>) = (r.get(2)?, r.get(3)?, r.get(4)?);
            let flag = r.get::<_, Option<i64>>(5)?.map(|v| v != 0);
            let at: String = r.get(6)?;
            let labels: HashMap<&'static str, String> = [("category", cat.clone()), ("priority", pri), ("assignment_group", grp)]
                .into_iter()
                .filter_map(|(h, v)| v.map(|v| (h, v)))
                .collect();
            finals.insert((t, ext), labels);
            if at.as_str() < from || at.as_str() >= to {
                continue;
            }
            overall.add(flag);
            categories.entry(cat.unwrap_or_else(|| "(none)".into())).or_default().add(flag);
            days.entry(day_of(&at, &q.time_zone)).or_default().1.add(flag);
        }
    }
    stats.resolved = overall.resolved;
    stats.first_contact_rate = overall.rate();
    stats.per_category = categories
        .into_iter()
        .map(|(category, f)| CategoryStats { category, resolved: f.resolved, first_contact_rate: f.rate() })
        .collect();

    // triages: volume per day, auto decisions per head and their accuracy
    let mut triage_ids = HashSet::new();
    {
        let mut stmt = conn.prepare(
            "SELECT triage_id, tenant, external_id, created_at, labels_json FROM triage_records
             WHERE (?1 IS NULL OR tenant = ?1) AND created_at >= ?2 AND created_at < ?3",
        )?;
        let mut rows = stmt.query(params![tenant, from, to])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let t: Option<String> = r.get(1)?;
            let ext: Option<String> = r.get(2)?;
            let at: String = r.get(3)?;
            let labels: serde_json::Value = serde_json::from_str(&r.get::<_, String>(4)?)?;
            stats.triages += 1;
            triage_ids.insert(id);
            days.entry(day_of(&at, &q.time_zone)).or_default().0 += 1;
            let final_labels = match (t, ext) {
                (Some(t), Some(e)) => finals.get(&(t, e)),
                _ => None,
            };
            if let Some(obj) = labels.as_object() {
                for (head, p) in obj {
                    let h = stats.auto.entry(head.clone()).or_default();
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
        }
    }
    for h in stats.auto.values_mut() {
        h.auto_share = ratio(h.auto, h.decisions);
        h.auto_accuracy = ratio(h.auto_correct, h.auto_checked);
    }

    // feedback on the triages of the window
    let (mut with_feedback, mut accepted) = (HashSet::new(), HashSet::new());
    {
        let mut stmt = conn.prepare(
            "SELECT f.triage_id, f.outcome FROM feedback f JOIN triage_records t ON t.triage_id = f.triage_id
             WHERE (?1 IS NULL OR t.tenant = ?1) AND t.created_at >= ?2 AND t.created_at < ?3",
        )?;
        let mut rows = stmt.query(params![tenant, from, to])?;
        while let Some(r) = rows.next()? {
            let id: String = r.get(0)?;
            let outcome: String = r.get(1)?;
            if outcome == "resolved" || outcome == "helpful" {
                accepted.insert(id.clone());
            }
            with_feedback.insert(id);
        }
    }
    stats.feedback_rate = ratio(with_feedback.len() as u64, stats.triages);
    stats.acceptance_rate = ratio(accepted.len() as u64, with_feedback.len() as u64);
    stats.per_day =
        days.into_iter().map(|(day, (triages, f))| DayStats { day, triages, resolved: f.resolved, first_contact_rate: f.rate() }).collect();
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Feedback, Outcome, TriageRecord};
    use crate::{SqliteStore, Store};
    use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};

    fn resolved(tenant: &str, id: &str, category: &str, fcr: Option<bool>, at: &str) -> ResolvedTicket {
        ResolvedTicket::parse(&RawResolved {
            tenant,
            external_id: id,
            title: Some("t"),
            category: Some(category),
            resolved_at_first_contact: fcr,
            resolved_at: Some(at),
            ..RawResolved::default()
        })
        .unwrap()
    }

    fn triage(id: &str, tenant: &str, ext: &str, at: &str, label: &str, decision: &str) -> TriageRecord {
        TriageRecord {
            triage_id: id.into(),
            tenant: Some(TenantId::parse(tenant).unwrap()),
            external_id: Some(ext.into()),
            created_at: at.into(),
            model_version: Some("v1".into()),
            labels: serde_json::json!({"category": {"label": label, "decision": decision}}),
            suggestions: vec![],
            text: None,
            no_good_fix: false,
        }
    }

    #[test]
    fn stats_match_a_hand_made_history() {
        let s = SqliteStore::open_in_memory().unwrap();
        // northmoor: 4 resolved in the window (3 flagged, 2 at first contact), 1 outside it
        s.upsert_resolved(&[
            resolved("northmoor", "A", "printing", Some(true), "2026-11-20T09:00:00Z"),
            resolved("northmoor", "B", "printing", Some(false), "2026-11-20T10:00:00Z"),
            resolved("northmoor", "C", "accounts", Some(true), "2026-11-21T09:00:00Z"),
            resolved("northmoor", "D", "accounts", None, "2026-11-21T11:00:00Z"),
            resolved("northmoor", "OLD", "accounts", Some(false), "2026-10-01T09:00:00Z"),
            resolved("eastbrook", "X", "printing", Some(false), "2026-11-20T09:00:00Z"),
        ])
        .unwrap();
        // triages: A auto right, B auto wrong, C suggest, E auto without a resolved ticket
        for r in [
            triage("t1", "northmoor", "A", "2026-11-20T08:00:00Z", "printing", "auto"),
            triage("t2", "northmoor", "B", "2026-11-20T08:30:00Z", "network", "auto"),
            triage("t3", "northmoor", "C", "2026-11-21T08:00:00Z", "accounts", "suggest"),
            triage("t4", "northmoor", "E", "2026-11-21T08:10:00Z", "printing", "auto"),
            triage("t5", "eastbrook", "X", "2026-11-20T08:00:00Z", "printing", "auto"),
        ] {
            s.record_triage(&r).unwrap();
        }
        for (id, outcome) in [("t1", Outcome::Resolved), ("t2", Outcome::NotHelpful), ("t5", Outcome::Helpful)] {
            let f = Feedback {
                triage_id: id.into(),
                tenant: None,
                suggestion: None,
                outcome,
                corrected_labels: Default::default(),
                created_at: "2026-11-22T00:00:00Z".into(),
            };
            s.add_feedback(&f).unwrap();
        }
        let q = StatsQuery {
            tenant: Some(TenantId::parse("northmoor").unwrap()),
            from: Some(Timestamp::parse("2026-11-01T00:00:00Z").unwrap()),
            to: Some(Timestamp::parse("2026-12-01T00:00:00Z").unwrap()),
            time_zone: DeskTimeZone::default(),
        };
        let st = s.stats(&q).unwrap();
        assert_eq!(st.triages, 4);
        assert_eq!(st.resolved, 4);
        assert_eq!(st.first_contact_rate, Some(2.0 / 3.0));
        assert_eq!(st.feedback_rate, Some(0.5));
        assert_eq!(st.acceptance_rate, Some(0.5));
        let cat = &st.auto["category"];
        assert_eq!((cat.decisions, cat.auto, cat.auto_checked, cat.auto_correct), (4, 3, 2, 1));
        assert_eq!(cat.auto_share, Some(0.75));
        assert_eq!(cat.auto_accuracy, Some(0.5));
        assert_eq!(
            st.per_category,
            vec![
                CategoryStats { category: "accounts".into(), resolved: 2, first_contact_rate: Some(1.0) },
                CategoryStats { category: "printing".into(), resolved: 2, first_contact_rate: Some(0.5) },
            ]
        );
        assert_eq!(
            st.per_day.iter().map(|d| (d.day.as_str(), d.triages, d.resolved)).collect::<Vec<_>>(),
            vec![("2026-11-20", 2, 2), ("2026-11-21", 2, 2)]
        );
        let everyone = s.stats(&StatsQuery { from: q.from, ..StatsQuery::default() }).unwrap();
        assert_eq!((everyone.triages, everyone.resolved), (5, 5));
    }

    #[test]
    fn per_day_rows_count_each_record_on_its_day_in_the_desk_time_zone() {
        let s = SqliteStore::open_in_memory().unwrap();
        s.upsert_resolved(&[
            resolved("northmoor", "BST", "printing", Some(true), "2026-07-01T00:30:00+01:00"),
            resolved("northmoor", "GMT", "printing", Some(true), "2026-01-15T00:30:00Z"),
        ])
        .unwrap();
        s.record_triage(&triage("t1", "northmoor", "BST", "2026-06-30T23:10:00Z", "printing", "auto")).unwrap();
        let per_day = |zone: &str| {
            let q = StatsQuery { time_zone: DeskTimeZone::parse(zone).unwrap(), ..StatsQuery::default() };
            s.stats(&q).unwrap().per_day.into_iter().map(|d| (d.day, d.triages, d.resolved)).collect::<Vec<_>>()
        };
        let days = |rows: &[(&str, u64, u64)]| rows.iter().map(|(d, t, r)| ((*d).to_owned(), *t, *r)).collect::<Vec<_>>();
        assert_eq!(
            per_day("Europe/London"),
            days(&[("2026-01-15", 0, 1), ("2026-07-01", 1, 1)]),
            "00:30 BST and 00:10 BST are on the UK day; 00:30 GMT too"
        );
        assert_eq!(per_day("UTC"), days(&[("2026-01-15", 0, 1), ("2026-06-30", 1, 1)]), "the same records on UTC days");
        assert_eq!(
            per_day("America/St_Johns"),
            days(&[("2026-01-14", 0, 1), ("2026-06-30", 1, 1)]),
            "a half-hour zone (UTC-03:30 in winter, -02:30 in summer)"
        );
    }

    #[test]
    fn window_bounds_compare_instants_not_the_text_that_was_sent() {
        let s = SqliteStore::open_in_memory().unwrap();
        s.upsert_resolved(&[resolved("northmoor", "A", "printing", None, "2026-07-01T00:30:00+01:00")]).unwrap();
        let count = |from: &str, to: &str| {
            let q = StatsQuery {
                from: Some(Timestamp::parse(from).unwrap()),
                to: Some(Timestamp::parse(to).unwrap()),
                ..StatsQuery::default()
            };
            s.stats(&q).unwrap().resolved
        };
        assert_eq!(count("2026-06-30T23:00:00Z", "2026-07-01T00:00:00Z"), 1, "23:30 UTC is inside the last hour of 30 June");
        assert_eq!(count("2026-07-01T00:00:00+01:00", "2026-07-02T00:00:00+01:00"), 1, "and inside 1 July BST");
        assert_eq!(count("2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"), 0, "but not inside 1 July UTC");
    }
}
