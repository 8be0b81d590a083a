//! Offline evaluation of major-incident detection (issue 14): a timestamped stream
//! ([`super::incidents_stream`]) replayed through the service's own [`Detector`], scored against
//! the surges the stream holds.
//!
//! Each ticket's text is analysed as the service does: `NewTicket::parse` (checks and cleaning),
//! title + description, [`redact`], then [`KbIndex::query_terms`] (a tenant's learned
//! boilerplate, which the service also removes, does not exist offline). The replay then offers
//! every ticket to one detector, all tenants together, in time order, with the arrival time as
//! its clock.
//!
//! # Scoring rules
//!
//! Only incidents opened at or after the end of the warm-up are scored; surges are the tickets
//! sharing an `incident` id, and only those whose first ticket arrives after the warm-up count.
//!
//! - **Which surge an incident detects.** An incident opened in the scored period *detects*
//!   surge X when more than half of its members at opening belong to X. Otherwise it is a
//!   **false alarm**. Incidents are taken in opening order; one matching a surge already
//!   detected is a **duplicate**.
//! - **Incident recall** = surges detected / surges. **Incident precision** = first detections /
//!   incidents opened, so duplicates and false alarms both count against it (`None` when nothing
//!   opened).
//! - **Tickets to detect**: the 1-based index, among the surge's tickets, of the ticket at whose
//!   arrival the incident opened (when a background ticket tipped it, the number of the surge's
//!   tickets that had arrived). **Minutes to detect**: from the surge's first ticket to the
//!   opening. Both are medians over detected surges (`None` when none was).
//! - **False alarms per week** = false alarms / scored days * 7.
//! - **Member linking**, pooled over detected surges: every ticket linked to any incident that
//!   matched surge X (the first and its duplicates, members at opening and later links) is a
//!   member; precision = members belonging to X / members; recall = X's tickets linked to one of
//!   those incidents / X's tickets.
//! - **Cost**: mean wall-clock microseconds per `Detector::observe` over the replay (text
//!   analysis excluded).

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Serialize;
use triage_core::redact::redact;
use triage_core::ticket::{Channel, NewTicket};
use triage_kb::KbIndex;

use super::incidents_stream::{Stream, StreamTicket};
use crate::incidents::{Detector, IncidentParams, Observation};
use crate::{EngineError, Result};

/// The detector's terms and title for one stream ticket, analysed as the service does; `None`
/// when the service would refuse the ticket (empty or too long).
pub fn analyse(ticket: &StreamTicket) -> Option<(Vec<String>, String)> {
    let parsed = NewTicket::parse(ticket.title.as_deref(), ticket.description.as_deref(), None, Channel::Other, None, None).ok()?;
    let redacted = redact(&parsed.full_text()).into_owned();
    let terms = KbIndex::query_terms(&redacted);
    let title = redacted.lines().next().unwrap_or_default().chars().take(100).collect();
    Some((terms, title))
}

/// What the detector did over a replay: the incidents it opened, with members as stream indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplayOutcome {
    /// Incidents in opening order.
    pub incidents: Vec<OpenedIncident>,
    /// Tickets offered to `observe`.
    pub observed: usize,
    /// Tickets the service would refuse (not offered).
    pub refused: usize,
    /// Wall-clock seconds in `observe`, in total.
    pub observe_seconds: f64,
    /// Wall-clock seconds of text analysis, in total.
    pub analysis_seconds: f64,
}

/// One incident the detector opened.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedIncident {
    /// The detector's id.
    pub id: String,
    /// When it opened (seconds since the epoch).
    pub opened_at: i64,
    /// Stream index of the ticket whose arrival opened it.
    pub opener: usize,
    /// Stream indexes of its members at opening.
    pub at_open: Vec<usize>,
    /// Stream indexes of every member: at opening and linked later.
    pub members: Vec<usize>,
}

/// Replays `stream` through a new detector; `on_progress(tickets done)` now and then.
pub fn replay(stream: &Stream, params: &IncidentParams, mut on_progress: impl FnMut(usize)) -> Result<ReplayOutcome> {
    params.validate().map_err(EngineError::Invalid)?;
    let started = Instant::now();
    let analysed: Vec<Option<(Vec<String>, String)>> = stream.tickets.iter().map(analyse).collect();
    let mut outcome = ReplayOutcome { analysis_seconds: started.elapsed().as_secs_f64(), ..ReplayOutcome::default() };
    let mut detector = Detector::new(params.clone());
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, (ticket, analysed)) in stream.tickets.iter().zip(analysed).enumerate() {
        if i % 1000 == 0 {
            on_progress(i);
        }
        let Some((terms, title)) = analysed else {
            outcome.refused += 1;
            continue;
        };
        let triage_id = format!("t{i}");
        index_of.insert(triage_id.clone(), i);
        // no hint: the service's request-path match is the same cosine on a snapshot of the
        // active incidents, so the detector's own choice stands in for it
        let observation = Observation { triage_id, tenant: ticket.tenant.clone(), at: ticket.at, terms, title, hint: None };
        let t0 = Instant::now();
        let observed = detector.observe(observation);
        outcome.observe_seconds += t0.elapsed().as_secs_f64();
        outcome.observed += 1;
        if let Some(id) = observed.opened {
            let incident = detector.incident(&id).ok_or_else(|| EngineError::Invalid(format!("incident {id} opened but not held")))?;
            let at_open: Vec<usize> = incident.members.iter().filter_map(|m| index_of.get(&m.triage_id).copied()).collect();
            by_id.insert(id.clone(), outcome.incidents.len());
            outcome.incidents.push(OpenedIncident { id, opened_at: ticket.at, opener: i, members: at_open.clone(), at_open });
        } else if let Some((id, _)) = observed.linked
            && let Some(&n) = by_id.get(&id)
        {
            outcome.incidents[n].members.push(i);
        }
    }
    on_progress(stream.tickets.len());
    Ok(outcome)
}

/// How one surge fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurgeScore {
    /// The surge's id in the stream.
    pub incident: String,
    /// Its tickets.
    pub tickets: usize,
    /// Tenants it came from.
    pub tenants: usize,
    /// Minutes from its first to its last ticket.
    pub minutes: f64,
    /// Whether an incident detected it.
    pub detected: bool,
    /// Tickets to detect (see the module docs).
    pub tickets_to_detect: Option<usize>,
    /// Minutes from its first ticket to the opening.
    pub minutes_to_detect: Option<f64>,
    /// Incidents that matched it (the first and its duplicates).
    pub incidents: usize,
    /// Its tickets linked to those incidents.
    pub linked: usize,
    /// Members of those incidents from elsewhere (background or another surge).
    pub foreign_members: usize,
    /// Its tickets linked to another incident (one that matched another surge, a false alarm,
    /// or one opened in the warm-up): how a missed surge was absorbed.
    pub linked_elsewhere: usize,
}

/// The figures of one replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentScores {
    /// The stream's seed (`None` for a replay file).
    pub seed: Option<u64>,
    /// Tickets in the stream.
    pub tickets: usize,
    /// Of which background.
    pub background_tickets: usize,
    /// Of which in scored surges.
    pub surge_tickets: usize,
    /// Tickets the service would refuse (empty or too long), not offered.
    pub refused_tickets: usize,
    /// Days scored (after the warm-up).
    pub scored_days: f64,
    /// Surges scored.
    pub surges: usize,
    /// Surges detected.
    pub detected: usize,
    /// Incidents opened in the scored period.
    pub incidents_opened: usize,
    /// Incidents matching a surge already detected.
    pub duplicates: usize,
    /// Incidents matching no surge.
    pub false_alarms: usize,
    /// Incidents opened during the warm-up (not scored).
    pub warmup_incidents: usize,
    /// Missed surges with at least half of their tickets linked to another incident (absorbed
    /// by one still active, rather than never clustered).
    pub missed_absorbed: usize,
    /// Surges detected / surges (1 when there is no surge).
    pub recall: f64,
    /// First detections / incidents opened; `None` when nothing opened.
    pub precision: Option<f64>,
    /// Median tickets to detect over detected surges.
    pub median_tickets_to_detect: Option<f64>,
    /// Median minutes to detect over detected surges.
    pub median_minutes_to_detect: Option<f64>,
    /// False alarms per 7 scored days.
    pub false_alarms_per_week: f64,
    /// Member-linking precision over detected surges.
    pub linking_precision: Option<f64>,
    /// Member-linking recall over detected surges.
    pub linking_recall: Option<f64>,
    /// Mean microseconds per `observe`.
    pub observe_mean_micros: f64,
    /// Seconds of text analysis (not in the mean above).
    pub analysis_seconds: f64,
    /// Per surge.
    pub per_surge: Vec<SurgeScore>,
}

/// Scores `outcome` against the surges of `stream` (rules in the module docs).
pub fn score(stream: &Stream, outcome: &ReplayOutcome, seed: Option<u64>) -> IncidentScores {
    let label = |i: usize| stream.tickets[i].incident.as_deref();
    // surges scored: the ones starting after the warm-up, with their tickets in stream order
    let mut surge_tickets: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in stream.tickets.iter().enumerate() {
        if let Some(id) = t.incident.as_deref() {
            surge_tickets.entry(id).or_default().push(i);
        }
    }
    let warm = |at: i64| at < stream.warmup_end;
    surge_tickets.retain(|_, tickets| !warm(stream.tickets[tickets[0]].at));
    let mut matched: BTreeMap<&str, Vec<&OpenedIncident>> = BTreeMap::new();
    let (mut opened, mut duplicates, mut false_alarms, mut warmup_incidents) = (0, 0, 0, 0);
    for incident in &outcome.incidents {
        if warm(incident.opened_at) {
            warmup_incidents += 1;
            continue;
        }
        opened += 1;
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for &m in &incident.at_open {
            if let Some(id) = label(m) {
                *counts.entry(id).or_default() += 1;
            }
        }
        let majority = counts.into_iter().find(|(_, n)| 2 * n > incident.at_open.len()).map(|(id, _)| id);
        match majority.filter(|id| surge_tickets.contains_key(id)) {
            Some(id) => {
                let list = matched.entry(id).or_default();
                if !list.is_empty() {
                    duplicates += 1;
                }
                list.push(incident);
            }
            None => false_alarms += 1,
        }
    }
    let mut incident_of: HashMap<usize, &str> = HashMap::new();
    for incident in &outcome.incidents {
        for &m in &incident.members {
            incident_of.insert(m, incident.id.as_str());
        }
    }
    let per_surge: Vec<SurgeScore> = surge_tickets
        .iter()
        .map(|(&id, tickets)| {
            let first = stream.tickets[tickets[0]].at;
            let incidents = matched.get(id).map(Vec::as_slice).unwrap_or_default();
            let detection = incidents.first().map(|inc| {
                let arrived = tickets.iter().filter(|&&i| i <= inc.opener).count();
                (arrived, (inc.opened_at - first) as f64 / 60.0)
            });
            let members: std::collections::BTreeSet<usize> = incidents.iter().flat_map(|inc| inc.members.iter().copied()).collect();
            let linked = members.iter().filter(|&&m| label(m) == Some(id)).count();
            let own = |inc: &str| incidents.iter().any(|i| i.id == inc);
            let linked_elsewhere = tickets.iter().filter(|i| incident_of.get(i).is_some_and(|inc| !own(inc))).count();
            let mut tenants: Vec<&str> = tickets.iter().filter_map(|&i| stream.tickets[i].tenant.as_deref()).collect();
            tenants.sort_unstable();
            tenants.dedup();
            SurgeScore {
                incident: id.to_owned(),
                tickets: tickets.len(),
                tenants: tenants.len(),
                minutes: (stream.tickets[tickets[tickets.len() - 1]].at - first) as f64 / 60.0,
                detected: detection.is_some(),
                tickets_to_detect: detection.map(|d| d.0),
                minutes_to_detect: detection.map(|d| d.1),
                incidents: incidents.len(),
                linked,
                foreign_members: members.len() - linked,
                linked_elsewhere,
            }
        })
        .collect();
    let detected: Vec<&SurgeScore> = per_surge.iter().filter(|s| s.detected).collect();
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    let linked: usize = detected.iter().map(|s| s.linked).sum();
    let members: usize = detected.iter().map(|s| s.linked + s.foreign_members).sum();
    let detected_tickets: usize = detected.iter().map(|s| s.tickets).sum();
    let scored_days = stream.scored_days();
    IncidentScores {
        seed,
        tickets: stream.tickets.len(),
        background_tickets: stream.tickets.iter().filter(|t| t.incident.is_none()).count(),
        surge_tickets: surge_tickets.values().map(Vec::len).sum(),
        refused_tickets: outcome.refused,
        scored_days,
        surges: per_surge.len(),
        detected: detected.len(),
        incidents_opened: opened,
        duplicates,
        false_alarms,
        warmup_incidents,
        missed_absorbed: per_surge.iter().filter(|s| !s.detected && 2 * s.linked_elsewhere >= s.tickets).count(),
        recall: ratio(detected.len(), per_surge.len()).unwrap_or(1.0),
        precision: ratio(detected.len(), opened),
        median_tickets_to_detect: median(detected.iter().filter_map(|s| s.tickets_to_detect.map(|t| t as f64)).collect()),
        median_minutes_to_detect: median(detected.iter().filter_map(|s| s.minutes_to_detect).collect()),
        false_alarms_per_week: if scored_days > 0.0 { false_alarms as f64 / scored_days * 7.0 } else { 0.0 },
        linking_precision: ratio(linked, members),
        linking_recall: ratio(linked, detected_tickets),
        observe_mean_micros: if outcome.observed > 0 { outcome.observe_seconds * 1e6 / outcome.observed as f64 } else { 0.0 },
        analysis_seconds: outcome.analysis_seconds,
        per_surge,
    }
}

/// Median (mean of the middle two for an even count); `None` when empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 })
}

/// Replays and scores one stream.
pub fn evaluate(stream: &Stream, params: &IncidentParams, seed: Option<u64>, on_progress: impl FnMut(usize)) -> Result<IncidentScores> {
    let outcome = replay(stream, params, on_progress)?;
    Ok(score(stream, &outcome, seed))
}

#[path = "incidents_summary.rs"]
mod summary;
pub use summary::{MeanWorst, Summary, TargetCheck, summarise, targets};

#[cfg(test)]
#[path = "incidents_tests.rs"]
mod tests;
