//! Online major-incident detection over the stream of triages, all tenants together. Pure: no
//! threads, no store, time passed in, so `triage eval incidents` replays a stream through the
//! same code the service runs.
//!
//! # Algorithm
//!
//! Each ticket (its analysed terms, as a TF-IDF unit vector: [`super::vectors`]) goes through:
//!
//! 1. **Active incidents.** Its cosine with each active incident's centroid (the sum of its
//!    members' vectors); the best at or above [`IncidentParams::similarity`] takes it as a member
//!    (and its vector moves the centroid, for the first [`CENTROID_MEMBERS`] members). Active:
//!    `suspected` or `confirmed`, or `resolved` less than `resolved_grace_minutes` ago; never
//!    `dismissed`. Members never count as background (window clusters, baseline history).
//! 2. **Window clusters.** Otherwise it joins the cluster of recent tickets (arrived within
//!    `window_minutes`) whose centroid is nearest by cosine, if that reaches `similarity`, else it
//!    starts its own; a cluster it joined merges with any other cluster it touched whose centroid
//!    is now as similar. Tickets leave their cluster, and move to the baseline history, as they
//!    leave the window. Single-pass clustering on centroids, because callers describe one
//!    fault in different words: two paraphrases are often far apart (median cosine 0.27 on
//!    StackFAQ), while one is near the centroid of the others (median 0.42).
//! 3. **Surge test.** A cluster with at least `min_tickets` tickets in the window opens a
//!    `suspected` incident when its count is far above the desk's normal rate for that kind of
//!    ticket. The normal rate is the cluster's share of the baseline history (tickets of the
//!    last `baseline_days` that were not incident members; the newest 5,000 of them), `h` of `H`
//!    tickets with cosine at least `similarity` to the cluster's centroid (measured again once
//!    the cluster has doubled, or after 10 minutes), smoothed towards `prior_share` with the weight
//!    of `prior_tickets` tickets: `share = (h + prior_tickets * prior_share) / (H + prior_tickets)`.
//!    The expected count is `share * W` (`W`: tickets in the window), so a busy Monday morning
//!    raises the expectation with the volume. The incident opens when
//!    `count >= rate_ratio * expected` and a Poisson tail `P(X >= count | expected) <= max_p_value`.
//!    An ordinary Monday's password resets are a large share of history and never fire.
//!    Until the history holds `min_history` tickets nothing opens (a fresh desk has no baseline;
//!    the service seeds it from stored triages and resolved tickets).
//!
//! Suspected incidents with no new member for `quiet_hours` resolve by themselves.

use std::collections::{BTreeSet, VecDeque};

use serde::Serialize;

use super::vectors::{Centroid, IdMap, SparseVec, Vocab};

/// Members whose vectors shape an incident's centroid (later members still link).
pub const CENTROID_MEMBERS: usize = 200;
/// Top terms shown per incident.
pub const TOP_TERMS: usize = 6;
/// Incidents closed (resolved or dismissed) longer than this are dropped from memory.
const KEEP_CLOSED_SECS: i64 = 30 * 86_400;

/// How incidents are detected. Every field is a `[incidents]` setting of the same name. The
/// defaults were chosen with `triage eval incidents` over 20 seeds (benches/README.md, "Major-incident
/// detection offline (issue 14)"): `similarity` 0.4 keeps one surge from absorbing the next about the same product,
/// `min_tickets` 4 brings detection to about the fourth ticket, `max_p_value` 1e-4 removes the
/// false alarms 1e-3 let through, `quiet_hours` 4 closes a suspected incident that has gone
/// quiet before it absorbs a later, different fault.
///
/// | name | default | purpose |
/// |---|---|---|
/// | `enabled` | true | detect incidents at all |
/// | `window_minutes` | 60 | sliding window of recent tickets a surge is counted in |
/// | `min_tickets` | 4 | tickets in the window a cluster needs before the surge test |
/// | `similarity` | 0.4 | cosine a ticket needs with a cluster's or an incident's centroid to join it |
/// | `rate_ratio` | 4.0 | a surge is at least this many times the expected count |
/// | `max_p_value` | 0.0001 | and that count is this unlikely under the normal rate (Poisson) |
/// | `baseline_days` | 7 | history that gives the normal rate |
/// | `prior_share` | 0.002 | share of traffic assumed for a kind of ticket history has not seen |
/// | `prior_tickets` | 200 | weight of that assumption, in tickets |
/// | `min_history` | 500 | history tickets needed before any incident opens |
/// | `resolved_grace_minutes` | 60 | a resolved incident still links new tickets this long |
/// | `quiet_hours` | 4 | a suspected incident with no new member this long resolves itself |
/// | `max_window_tickets` | 2000 | tickets kept in the window (the oldest leave first) |
/// | `max_history_tickets` | 100000 | tickets kept in the history (the oldest leave first) |
/// | `max_per_second` | 100 | tickets a second the service's detector takes; beyond, the rest of that second is left out (counted) |
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentParams {
    /// Detect incidents at all.
    pub enabled: bool,
    /// Sliding window of recent tickets.
    pub window_minutes: u32,
    /// Tickets a cluster needs in the window before the surge test.
    pub min_tickets: usize,
    /// Cosine with a centroid to join a cluster or an incident.
    pub similarity: f32,
    /// Count over expected count needed.
    pub rate_ratio: f64,
    /// Poisson tail needed.
    pub max_p_value: f64,
    /// Days of history behind the normal rate.
    pub baseline_days: u32,
    /// Share assumed for an unseen kind of ticket.
    pub prior_share: f64,
    /// Weight of `prior_share`, in tickets.
    pub prior_tickets: f64,
    /// History needed before any incident opens.
    pub min_history: usize,
    /// Minutes a resolved incident still links new tickets.
    pub resolved_grace_minutes: u32,
    /// Hours without a new member after which a suspected incident resolves itself.
    pub quiet_hours: u32,
    /// Most tickets in the window.
    pub max_window_tickets: usize,
    /// Most tickets in the history.
    pub max_history_tickets: usize,
    /// Tickets a second the service's detector takes (a desk's real rate is far lower: 4
    /// councils send about one a minute); beyond, tickets are left out of detection, counted in
    /// `triage_incident_tickets_dropped_total`, so a flood of triages cannot make detection a
    /// second workload. Their answers still name an active incident.
    pub max_per_second: u32,
}

impl Default for IncidentParams {
    fn default() -> Self {
        Self {
            enabled: true,
            window_minutes: 60,
            min_tickets: 4,
            similarity: 0.4,
            rate_ratio: 4.0,
            max_p_value: 1e-4,
            baseline_days: 7,
            prior_share: 0.002,
            prior_tickets: 200.0,
            min_history: 500,
            resolved_grace_minutes: 60,
            quiet_hours: 4,
            max_window_tickets: 2_000,
            max_history_tickets: 100_000,
            max_per_second: 100,
        }
    }
}

impl IncidentParams {
    /// Checks every range; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        let fail = |name: &str, range: &str| Err(format!("incidents.{name} must be {range}"));
        if !(1..=24 * 60).contains(&self.window_minutes) {
            return fail("window_minutes", "1..=1440");
        }
        if !(2..=1000).contains(&self.min_tickets) {
            return fail("min_tickets", "2..=1000");
        }
        if !(self.similarity > 0.0 && self.similarity < 1.0) {
            return fail("similarity", "between 0 and 1 (exclusive)");
        }
        if !(self.rate_ratio >= 1.0 && self.rate_ratio.is_finite()) {
            return fail("rate_ratio", "at least 1");
        }
        if !(self.max_p_value > 0.0 && self.max_p_value <= 1.0) {
            return fail("max_p_value", "in (0, 1]");
        }
        if !(1..=90).contains(&self.baseline_days) {
            return fail("baseline_days", "1..=90");
        }
        if !(self.prior_share > 0.0 && self.prior_share < 1.0) {
            return fail("prior_share", "between 0 and 1 (exclusive)");
        }
        if !(self.prior_tickets >= 0.0 && self.prior_tickets.is_finite()) {
            return fail("prior_tickets", "0 or more");
        }
        if self.max_window_tickets < self.min_tickets {
            return fail("max_window_tickets", "at least min_tickets");
        }
        if self.max_history_tickets == 0 {
            return fail("max_history_tickets", "at least 1");
        }
        if self.max_per_second == 0 {
            return fail("max_per_second", "at least 1");
        }
        Ok(())
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Opened by the detector; nobody has looked yet.
    Suspected,
    /// An admin or operator confirmed it (usually with a message for agents).
    Confirmed,
    /// Over; links new tickets for a grace period.
    Resolved,
    /// Not an incident; links nothing.
    Dismissed,
}

impl Status {
    /// The status as written in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Suspected => "suspected",
            Status::Confirmed => "confirmed",
            Status::Resolved => "resolved",
            Status::Dismissed => "dismissed",
        }
    }

    /// Parses [`Status::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Status::Suspected, Status::Confirmed, Status::Resolved, Status::Dismissed].into_iter().find(|x| x.as_str() == s)
    }
}

/// One ticket offered to the detector.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The triage's id.
    pub triage_id: String,
    /// The ticket's tenant.
    pub tenant: Option<String>,
    /// Arrival, seconds since the Unix epoch.
    pub at: i64,
    /// Analysed terms (distinct), as for search.
    pub terms: Vec<String>,
    /// First line of the redacted text (at most 100 characters).
    pub title: String,
    /// The incident the triage answer named (matched on the request path): linked to it while
    /// it is active, so an answer that named an incident always makes the ticket its member.
    pub hint: Option<String>,
}

/// A ticket linked to an incident.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Member {
    /// The triage's id.
    pub triage_id: String,
    /// Its tenant.
    pub tenant: Option<String>,
    /// Arrival, seconds since the Unix epoch.
    pub at: i64,
    /// Cosine with the incident's centroid when it was linked.
    pub similarity: f32,
    /// First line of its redacted text.
    pub title: String,
}

/// An incident, as the detector holds it.
#[derive(Debug, Clone)]
pub struct Incident {
    /// `inc-` and 12 hex digits.
    pub id: String,
    /// Where it is in its life.
    pub status: Status,
    /// Linked tickets, in arrival order.
    pub members: Vec<Member>,
    /// When the status last changed (seconds since the epoch).
    pub status_at: i64,
    /// When it opened.
    pub opened_at: i64,
    /// For agents: workaround and status, written by an admin.
    pub message: Option<String>,
    /// Tickets expected in the window at opening (the normal rate).
    pub expected_at_open: f64,
    pub(crate) centroid: Centroid,
    /// Vectors of the first [`CENTROID_MEMBERS`] members (for the representative ticket).
    pub(crate) vectors: Vec<SparseVec>,
}

impl Incident {
    /// Whether new tickets can link to it at `now`.
    pub fn active(&self, now: i64, params: &IncidentParams) -> bool {
        match self.status {
            Status::Suspected | Status::Confirmed => true,
            Status::Resolved => now - self.status_at < i64::from(params.resolved_grace_minutes) * 60,
            Status::Dismissed => false,
        }
    }

    /// Whether it is open (suspected or confirmed).
    pub fn open(&self) -> bool {
        matches!(self.status, Status::Suspected | Status::Confirmed)
    }

    /// The tenants of its members.
    pub fn tenants(&self) -> BTreeSet<String> {
        self.members.iter().filter_map(|m| m.tenant.clone()).collect()
    }

    /// First and last arrival.
    pub fn seen(&self) -> (i64, i64) {
        (self.members.first().map_or(self.opened_at, |m| m.at), self.members.last().map_or(self.opened_at, |m| m.at))
    }

    /// Index of the member nearest the centroid among `visible` members (of the first
    /// [`CENTROID_MEMBERS`]), if any.
    pub fn representative(&self, visible: impl Fn(&Member) -> bool) -> Option<&Member> {
        self.members
            .iter()
            .zip(&self.vectors)
            .filter(|(m, _)| visible(m))
            .max_by(|a, b| self.centroid.cosine(a.1).total_cmp(&self.centroid.cosine(b.1)))
            .map(|(m, _)| m)
            .or_else(|| self.members.iter().find(|m| visible(m)))
    }

    /// Arrivals per 10 minutes from the first member on.
    pub fn arrivals_per_10_min(&self, visible: impl Fn(&Member) -> bool) -> Vec<u32> {
        let (first, last) = self.seen();
        let mut bins = vec![0u32; ((last - first) / 600 + 1).clamp(1, 1000) as usize];
        for m in self.members.iter().filter(|m| visible(m)) {
            let i = (((m.at - first) / 600).max(0) as usize).min(bins.len() - 1);
            bins[i] += 1;
        }
        bins
    }
}

/// What one observation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The incident the ticket was linked to, and its cosine with the centroid.
    pub linked: Option<(String, f32)>,
    /// An incident this ticket's arrival opened (the ticket is one of its members).
    pub opened: Option<String>,
    /// Incidents that resolved themselves (quiet too long).
    pub quieted: Vec<String>,
}

struct WindowTicket {
    seq: u64,
    at: i64,
    triage_id: String,
    tenant: Option<String>,
    title: String,
    vec: SparseVec,
    cluster: Option<u32>,
    in_incident: bool,
}

struct Cluster {
    centroid: Centroid,
    members: Vec<u64>,
    tested_at: usize,
    /// The cluster's share of the baseline history, when last measured: (share, size, time).
    baseline: Option<(f64, usize, i64)>,
}

/// A cluster's baseline share is measured again once it has doubled, or after this long.
const BASELINE_TTL_SECS: i64 = 600;
/// Heaviest centroid terms a cluster's share is measured with.
const BASELINE_TERMS: usize = 32;
/// A cluster's share is measured on the newest this many history tickets.
const BASELINE_SAMPLE: usize = 5_000;
/// Heaviest terms of a ticket that look for the clusters it may join.
const PROBE_TERMS: usize = 10;
/// Terms no ticket of the window or history holds are forgotten once the vocabulary has grown
/// by this many past twice its size at the last compaction (memory follows the window and the
/// history, not every word ever sent).
const VOCAB_SLACK: usize = 65_536;

struct HistoryTicket {
    at: i64,
    vec: SparseVec,
}

/// The detector's state. Not thread-safe by itself: the service keeps it behind a lock.
pub struct Detector {
    params: IncidentParams,
    vocab: Vocab,
    window: VecDeque<WindowTicket>,
    next_seq: u64,
    window_postings: IdMap<u32, VecDeque<u64>>,
    clusters: IdMap<u32, Cluster>,
    next_cluster: u32,
    history: VecDeque<HistoryTicket>,
    history_base: u64,
    /// Term -> (history sequence, the term's weight in that ticket's vector), oldest first.
    history_postings: IdMap<u32, VecDeque<(u64, f32)>>,
    incidents: Vec<Incident>,
    now: i64,
    /// Reused accumulator of `history_similar`.
    scratch: Vec<f32>,
    /// Terms kept at the last [`Detector::compact_vocab`].
    vocab_compacted: usize,
    /// [`VOCAB_SLACK`] (tests use less).
    vocab_slack: usize,
}

impl Detector {
    /// An empty detector.
    pub fn new(params: IncidentParams) -> Self {
        Self {
            params,
            vocab: Vocab::default(),
            window: VecDeque::new(),
            next_seq: 0,
            window_postings: IdMap::default(),
            clusters: IdMap::default(),
            next_cluster: 0,
            history: VecDeque::new(),
            history_base: 0,
            history_postings: IdMap::default(),
            incidents: Vec::new(),
            now: 0,
            scratch: Vec::new(),
            vocab_compacted: 0,
            vocab_slack: VOCAB_SLACK,
        }
    }

    /// The parameters.
    pub fn params(&self) -> &IncidentParams {
        &self.params
    }

    /// The vocabulary (for matching on the request path).
    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    /// Tickets in the baseline history.
    pub fn history_len(&self) -> usize {
        self.history.len()
    }

    /// Tickets in the window.
    pub fn window_len(&self) -> usize {
        self.window.len()
    }

    /// Every incident held (open, and closed in the last 30 days), oldest first.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// One incident.
    pub fn incident(&self, id: &str) -> Option<&Incident> {
        self.incidents.iter().find(|i| i.id == id)
    }

    /// One incident, to change it.
    pub fn incident_mut(&mut self, id: &str) -> Option<&mut Incident> {
        self.incidents.iter_mut().find(|i| i.id == id)
    }

    /// Adds a ticket straight to the baseline history (seeding it from the store at start-up).
    /// Tickets must come oldest first; ones older than the baseline are ignored.
    pub fn seed_history(&mut self, at: i64, terms: &[String]) {
        let (vec, ids) = self.vocab.vector(terms);
        if vec.is_empty() {
            return;
        }
        self.vocab.add_doc(&ids);
        self.push_history(at, vec);
        self.now = self.now.max(at);
        self.trim_history();
    }

    /// Restores an incident kept in the store, with its members' terms (for the centroid).
    pub fn restore(
        &mut self,
        id: String,
        status: Status,
        status_at: i64,
        opened_at: i64,
        message: Option<String>,
        members: Vec<(Member, Vec<String>)>,
    ) {
        let mut incident = Incident {
            id,
            status,
            members: Vec::new(),
            status_at,
            opened_at,
            message,
            expected_at_open: 0.0,
            centroid: Centroid::default(),
            vectors: Vec::new(),
        };
        for (member, terms) in members {
            if incident.vectors.len() < CENTROID_MEMBERS {
                let (vec, _) = self.vocab.vector(&terms);
                incident.centroid.add(&vec);
                incident.vectors.push(vec);
            }
            incident.members.push(member);
        }
        self.incidents.retain(|i| i.id != incident.id);
        self.incidents.push(incident);
    }

    /// The best active incident for `vec`, with its cosine, if it reaches the threshold.
    fn best_incident(&self, vec: &[(u32, f32)], now: i64) -> Option<(usize, f32)> {
        self.incidents
            .iter()
            .enumerate()
            .filter(|(_, i)| i.active(now, &self.params))
            .map(|(n, i)| (n, i.centroid.cosine(vec)))
            .filter(|(_, s)| *s >= self.params.similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Offers one ticket (observations must come in time order; an earlier time is taken as
    /// the latest seen).
    pub fn observe(&mut self, obs: Observation) -> Observed {
        let now = obs.at.max(self.now);
        self.now = now;
        let mut out = Observed::default();
        self.expire(now);
        self.compact_vocab();
        out.quieted = self.quiet(now);
        let (vec, ids) = self.vocab.vector(&obs.terms);
        if vec.is_empty() {
            return out;
        }
        self.vocab.add_doc(&ids);
        let seq = self.next_seq;
        self.next_seq += 1;
        let triage_id = obs.triage_id.clone();
        let mut ticket = WindowTicket {
            seq,
            at: now,
            triage_id: obs.triage_id,
            tenant: obs.tenant,
            title: obs.title,
            vec,
            cluster: None,
            in_incident: false,
        };
        let hinted = obs.hint.as_deref().and_then(|id| {
            let n = self.incidents.iter().position(|i| i.id == id && i.active(now, &self.params))?;
            Some((n, self.incidents[n].centroid.cosine(&ticket.vec)))
        });
        if let Some((n, similarity)) = hinted.or_else(|| self.best_incident(&ticket.vec, now)) {
            let incident = &mut self.incidents[n];
            link(incident, &ticket, similarity);
            ticket.in_incident = true;
            out.linked = Some((incident.id.clone(), similarity));
            self.push_window(ticket);
            return out;
        }
        // nearest window cluster, over clusters sharing a term with the ticket
        let touched = self.touched_clusters(&ticket.vec);
        let best = touched
            .iter()
            .map(|&c| (c, self.clusters[&c].centroid.cosine(&ticket.vec)))
            .filter(|(_, s)| *s >= self.params.similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let cluster_id = match best {
            Some((c, _)) => c,
            None => {
                let c = self.next_cluster;
                self.next_cluster += 1;
                self.clusters.insert(c, Cluster { centroid: Centroid::default(), members: Vec::new(), tested_at: 0, baseline: None });
                c
            }
        };
        {
            let cluster = self.clusters.get_mut(&cluster_id).expect("cluster exists");
            cluster.centroid.add(&ticket.vec);
            cluster.members.push(seq);
        }
        ticket.cluster = Some(cluster_id);
        self.push_window(ticket);
        // merge with the other touched clusters now as near
        for other in touched {
            if other == cluster_id || !self.clusters.contains_key(&other) {
                continue;
            }
            let near = self.clusters[&cluster_id].centroid.cosine_centroid(&self.clusters[&other].centroid) >= self.params.similarity;
            if near {
                self.merge_clusters(cluster_id, other);
            }
        }
        if let Some(id) = self.surge_test(cluster_id, now) {
            out.linked =
                self.incident(&id).and_then(|i| i.members.iter().find(|m| m.triage_id == triage_id).map(|m| (id.clone(), m.similarity)));
            out.opened = Some(id);
        }
        out
    }

    fn push_window(&mut self, ticket: WindowTicket) {
        for &(id, _) in &ticket.vec {
            self.window_postings.entry(id).or_default().push_back(ticket.seq);
        }
        self.window.push_back(ticket);
        while self.window.len() > self.params.max_window_tickets {
            self.pop_window();
        }
    }

    fn window_index(&self, seq: u64) -> Option<usize> {
        let front = self.window.front()?.seq;
        let i = seq.checked_sub(front)? as usize;
        (i < self.window.len()).then_some(i)
    }

    /// Clusters sharing one of the ticket's [`PROBE_TERMS`] heaviest terms, leaving out terms in
    /// more than a twentieth of the window (too common to say anything about a surge on their
    /// own; a cluster found only through them would not reach the threshold anyway).
    fn touched_clusters(&mut self, vec: &[(u32, f32)]) -> Vec<u32> {
        let front = self.window.front().map_or(u64::MAX, |t| t.seq);
        let limit = (self.window.len() / 20).max(20);
        let mut probes: Vec<(u32, f32)> = vec.to_vec();
        probes.sort_by(|a, b| b.1.total_cmp(&a.1));
        probes.truncate(PROBE_TERMS);
        let mut out = Vec::new();
        for (id, _) in probes {
            let Some(list) = self.window_postings.get_mut(&id) else { continue };
            while list.front().is_some_and(|&s| s < front) {
                list.pop_front();
            }
            if list.len() > limit {
                continue;
            }
            for &seq in list.iter() {
                let i = (seq - front) as usize;
                if let Some(c) = self.window.get(i).and_then(|t| t.cluster) {
                    out.push(c);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    fn merge_clusters(&mut self, into: u32, from: u32) {
        let Some(gone) = self.clusters.remove(&from) else { return };
        for &seq in &gone.members {
            if let Some(i) = self.window_index(seq) {
                self.window[i].cluster = Some(into);
            }
        }
        let target = self.clusters.get_mut(&into).expect("target cluster exists");
        target.centroid.merge(&gone.centroid);
        target.members.extend(gone.members);
        target.members.sort_unstable();
    }

    fn surge_test(&mut self, cluster_id: u32, now: i64) -> Option<String> {
        let params = self.params.clone();
        let cluster = self.clusters.get(&cluster_id)?;
        let count = cluster.members.len();
        if count < params.min_tickets || count <= cluster.tested_at || self.history.len() < params.min_history {
            return None;
        }
        // the share changes slowly: measured again once the cluster doubled, or after a while
        let share = match cluster.baseline {
            Some((share, size, at)) if count < 2 * size && now - at < BASELINE_TTL_SECS => share,
            _ => {
                let centroid = cluster.centroid.clone();
                let (similar, total) = self.history_similar(&centroid);
                let total = total as f64;
                let share = (similar as f64 + params.prior_tickets * params.prior_share) / (total + params.prior_tickets);
                self.clusters.get_mut(&cluster_id)?.baseline = Some((share, count, now));
                share
            }
        };
        let expected = share * self.window.len() as f64;
        let fires = count as f64 >= params.rate_ratio * expected && poisson_tail(count, expected) <= params.max_p_value;
        self.clusters.get_mut(&cluster_id)?.tested_at = count;
        tracing::debug!(count, expected, share, fires, "incident surge test");
        if !fires {
            return None;
        }
        Some(self.open_incident(cluster_id, now, expected))
    }

    /// Of the newest [`BASELINE_SAMPLE`] history tickets, those with cosine at least
    /// `similarity` to `centroid`, and how many were looked at.
    fn history_similar(&mut self, centroid: &Centroid) -> (usize, usize) {
        let base = self.history_base;
        let end = base + self.history.len() as u64;
        let start = end.saturating_sub(BASELINE_SAMPLE as u64).max(base);
        let mut scores = std::mem::take(&mut self.scratch);
        scores.clear();
        scores.resize((end - start) as usize, 0.0);
        // the centroid's heaviest terms, as a unit vector: the rest weigh little, and common
        // terms' postings are long
        let mut top = centroid.top(BASELINE_TERMS);
        super::vectors::normalise(&mut top);
        for (id, w) in top {
            if let Some(list) = self.history_postings.get_mut(&id) {
                while list.front().is_some_and(|&(s, _)| s < base) {
                    list.pop_front();
                }
                // newest first, down to the sample's start
                for &(seq, x) in list.iter().rev().take_while(|(s, _)| *s >= start) {
                    scores[(seq - start) as usize] += w * x;
                }
            }
        }
        let out = (scores.iter().filter(|&&s| s >= self.params.similarity).count(), scores.len());
        self.scratch = scores;
        out
    }

    fn open_incident(&mut self, cluster_id: u32, now: i64, expected: f64) -> String {
        let cluster = self.clusters.remove(&cluster_id).expect("cluster exists");
        let first =
            cluster.members.first().and_then(|&s| self.window_index(s)).map(|i| self.window[i].triage_id.clone()).unwrap_or_default();
        let id = format!("inc-{}", &triage_core::article::content_hash(first.as_bytes())[..12]);
        let mut incident = Incident {
            id: id.clone(),
            status: Status::Suspected,
            members: Vec::new(),
            status_at: now,
            opened_at: now,
            message: None,
            expected_at_open: expected,
            centroid: cluster.centroid,
            vectors: Vec::new(),
        };
        for seq in cluster.members {
            if let Some(i) = self.window_index(seq) {
                let t = &mut self.window[i];
                t.cluster = None;
                t.in_incident = true;
                let similarity = incident.centroid.cosine(&t.vec);
                incident.members.push(Member {
                    triage_id: t.triage_id.clone(),
                    tenant: t.tenant.clone(),
                    at: t.at,
                    similarity,
                    title: t.title.clone(),
                });
                if incident.vectors.len() < CENTROID_MEMBERS {
                    incident.vectors.push(t.vec.clone());
                }
            }
        }
        tracing::info!(incident = %id, tickets = incident.members.len(), expected, "suspected major incident opened");
        self.incidents.push(incident);
        id
    }

    fn pop_window(&mut self) {
        let Some(t) = self.window.pop_front() else { return };
        // the oldest ticket leaves its terms' postings (their fronts)
        for &(id, _) in &t.vec {
            if let Some(list) = self.window_postings.get_mut(&id) {
                while list.front().is_some_and(|&s| s <= t.seq) {
                    list.pop_front();
                }
                if list.is_empty() {
                    self.window_postings.remove(&id);
                }
            }
        }
        if let Some(c) = t.cluster
            && let Some(cluster) = self.clusters.get_mut(&c)
        {
            cluster.centroid.remove(&t.vec);
            cluster.members.retain(|&s| s != t.seq);
            cluster.tested_at = cluster.tested_at.min(cluster.members.len());
            if cluster.members.is_empty() {
                self.clusters.remove(&c);
            }
        }
        if t.in_incident {
            // members are not background: they leave the vocabulary's counts with the window
            self.vocab.remove_doc(t.vec.iter().map(|(id, _)| *id));
        } else {
            self.push_history(t.at, t.vec);
        }
    }

    fn push_history(&mut self, at: i64, vec: SparseVec) {
        let seq = self.history_base + self.history.len() as u64;
        for &(id, w) in &vec {
            self.history_postings.entry(id).or_default().push_back((seq, w));
        }
        self.history.push_back(HistoryTicket { at, vec });
    }

    fn trim_history(&mut self) {
        let horizon = self.now - i64::from(self.params.baseline_days) * 86_400;
        while self.history.front().is_some_and(|h| h.at < horizon) || self.history.len() > self.params.max_history_tickets {
            let h = self.history.pop_front().expect("history is not empty");
            self.history_base += 1;
            for &(id, _) in &h.vec {
                if let Some(list) = self.history_postings.get_mut(&id) {
                    while list.front().is_some_and(|&(s, _)| s < self.history_base) {
                        list.pop_front();
                    }
                    if list.is_empty() {
                        self.history_postings.remove(&id);
                    }
                }
            }
            self.vocab.remove_doc(h.vec.iter().map(|(id, _)| *id));
        }
    }

    /// Forgets the terms no window or history ticket, cluster or incident holds, and renumbers
    /// the rest everywhere (in their order, so nothing else changes), once the vocabulary has
    /// grown by [`VOCAB_SLACK`] past twice its size at the last compaction.
    fn compact_vocab(&mut self) {
        if self.vocab.len() < 2 * self.vocab_compacted + self.vocab_slack {
            return;
        }
        // window and history tickets are counted in the document frequencies
        let mut keep: Vec<bool> = (0..self.vocab.len()).map(|id| self.vocab.df(id as u32) > 0).collect();
        for c in self.clusters.values() {
            c.centroid.terms().for_each(|id| keep[id as usize] = true);
        }
        for i in &self.incidents {
            i.centroid.terms().for_each(|id| keep[id as usize] = true);
            i.vectors.iter().flatten().for_each(|&(id, _)| keep[id as usize] = true);
        }
        let map = self.vocab.compact(&keep);
        let renumber = |v: &mut SparseVec| v.iter_mut().for_each(|(id, _)| *id = map[*id as usize]);
        self.window.iter_mut().for_each(|t| renumber(&mut t.vec));
        self.history.iter_mut().for_each(|h| renumber(&mut h.vec));
        self.clusters.values_mut().for_each(|c| c.centroid.remap(&map));
        for i in &mut self.incidents {
            i.centroid.remap(&map);
            i.vectors.iter_mut().for_each(renumber);
        }
        let moved = |id: u32| Some(map[id as usize]).filter(|&n| n != u32::MAX);
        self.window_postings = std::mem::take(&mut self.window_postings).into_iter().filter_map(|(id, l)| Some((moved(id)?, l))).collect();
        self.history_postings =
            std::mem::take(&mut self.history_postings).into_iter().filter_map(|(id, l)| Some((moved(id)?, l))).collect();
        self.vocab_compacted = self.vocab.len();
    }

    fn expire(&mut self, now: i64) {
        let start = now - i64::from(self.params.window_minutes) * 60;
        while self.window.front().is_some_and(|t| t.at < start) {
            self.pop_window();
        }
        self.trim_history();
        self.incidents.retain(|i| i.open() || now - i.status_at < KEEP_CLOSED_SECS);
    }

    fn quiet(&mut self, now: i64) -> Vec<String> {
        let limit = i64::from(self.params.quiet_hours) * 3600;
        let mut out = Vec::new();
        for i in &mut self.incidents {
            if i.status == Status::Suspected && now - i.seen().1 >= limit {
                i.status = Status::Resolved;
                i.status_at = now;
                out.push(i.id.clone());
            }
        }
        out
    }

    /// Terms interned, and entries in the window's and the history's postings (tests).
    #[cfg(test)]
    pub(crate) fn footprint(&self) -> (usize, usize, usize) {
        let entries = |m: &IdMap<u32, VecDeque<u64>>| m.len() + m.values().map(VecDeque::len).sum::<usize>();
        let history = self.history_postings.len() + self.history_postings.values().map(VecDeque::len).sum::<usize>();
        (self.vocab.len(), entries(&self.window_postings), history)
    }

    /// Heaviest terms of an incident's centroid.
    pub fn top_terms(&self, incident: &Incident) -> Vec<String> {
        incident.centroid.top(TOP_TERMS).into_iter().map(|(id, _)| self.vocab.term(id).to_owned()).collect()
    }

    /// Heaviest terms of an incident a viewer may see: terms of the viewer's own member
    /// tickets (`visible`), and terms in member tickets of at least two tenants. A word only one
    /// tenant's callers wrote (a host name, a street, a name redaction missed) never reaches
    /// another tenant. Judged on the members whose vectors are kept (the first
    /// [`CENTROID_MEMBERS`]).
    pub fn top_terms_for(&self, incident: &Incident, visible: impl Fn(&Member) -> bool) -> Vec<String> {
        let shown = |id: u32| {
            let mut tenants: Vec<Option<&str>> = Vec::new();
            for (m, v) in incident.members.iter().zip(&incident.vectors) {
                if v.binary_search_by_key(&id, |(t, _)| *t).is_err() {
                    continue;
                }
                if visible(m) {
                    return true;
                }
                if !tenants.contains(&m.tenant.as_deref()) {
                    tenants.push(m.tenant.as_deref());
                    if tenants.len() >= 2 {
                        return true;
                    }
                }
            }
            false
        };
        incident
            .centroid
            .top(TOP_TERMS * 5)
            .into_iter()
            .filter(|(id, _)| shown(*id))
            .take(TOP_TERMS)
            .map(|(id, _)| self.vocab.term(id).to_owned())
            .collect()
    }

    /// A member's analysed terms, space-separated, while its vector is kept (the first
    /// [`CENTROID_MEMBERS`]); empty after that. Stored, so the centroid survives a restart.
    pub fn member_terms(&self, incident: &Incident, triage_id: &str) -> String {
        incident
            .members
            .iter()
            .zip(&incident.vectors)
            .find(|(m, _)| m.triage_id == triage_id)
            .map(|(_, v)| v.iter().map(|(id, _)| self.vocab.term(*id)).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// The centroid of an incident as (term, weight) pairs, heaviest first (at most `n`).
    pub fn centroid_terms(&self, incident: &Incident, n: usize) -> Vec<(String, f32)> {
        incident.centroid.top(n).into_iter().map(|(id, w)| (self.vocab.term(id).to_owned(), w)).collect()
    }
}

fn link(incident: &mut Incident, ticket: &WindowTicket, similarity: f32) {
    if incident.vectors.len() < CENTROID_MEMBERS {
        incident.centroid.add(&ticket.vec);
        incident.vectors.push(ticket.vec.clone());
    }
    incident.members.push(Member {
        triage_id: ticket.triage_id.clone(),
        tenant: ticket.tenant.clone(),
        at: ticket.at,
        similarity,
        title: ticket.title.clone(),
    });
}

/// `P(X >= k)` for `X ~ Poisson(lambda)`, summed from `k` up in log space (no cancellation).
pub fn poisson_tail(k: usize, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    let ln_factorial: f64 = (2..=k).map(|i| (i as f64).ln()).sum();
    let mut term = (-lambda + k as f64 * lambda.ln() - ln_factorial).exp();
    let mut total = term;
    let mut i = k;
    while (i as f64) <= lambda || term > total * 1e-12 {
        i += 1;
        term *= lambda / i as f64;
        total += term;
        if i > k + 100_000 {
            break;
        }
    }
    total.min(1.0)
}

#[cfg(test)]
#[path = "detector_tests.rs"]
mod tests;
