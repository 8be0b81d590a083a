//! The detector inside the service: fed off the request path, persisted, matched on it.
//!
//! - **Request path**: [`Incidents::matching`] reads a lock-free snapshot (the active incidents'
//!   centroids and the vocabulary's IDF) and says which incident a ticket belongs to; with no
//!   active incident it costs one atomic load. [`Incidents::offer`] queues the ticket for the
//!   detector and returns (a bounded queue: when full, the ticket is dropped from detection,
//!   counted, and logged; the triage answer is not affected).
//! - **Detector thread**: drains the queue in batches (woken by the first ticket, it lingers
//!   [`LINGER`] so under load it is not woken per request), runs [`Detector::observe`], writes
//!   new incidents and links to the store, and publishes a new snapshot when incidents changed.
//! - **Admin actions** (confirm, dismiss, resolve, message) lock the detector briefly, write the
//!   store, and publish.
//! - **Start-up**: incidents open or changed in the last 30 days come back from the store with
//!   their members (their centroids rebuilt from the members' stored terms); the baseline is
//!   seeded from the triage records of the last `baseline_days`, and from resolved tickets when
//!   those are fewer than `min_history` (an install that imported its history has a baseline on
//!   day one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::Serialize;
use triage_core::tenant::TenantId;
use triage_core::time::Timestamp;
use triage_store::{IncidentMemberRow, IncidentRow, Store};

use super::detector::{Detector, Incident, IncidentParams, Member, Observation, Status};
use crate::{EngineError, Resource, Result};

/// Tickets waiting for the detector; beyond this they are dropped from detection.
const QUEUE: usize = 16_384;
/// How long the detector thread lets a batch fill after the first ticket.
const LINGER: Duration = Duration::from_millis(20);
/// Links alone (a centroid moving a little) are published at most this often; an incident that
/// opens or closes is published at once.
const LINKS_REPUBLISH: Duration = Duration::from_secs(5);
/// How often the request path's IDF table is rebuilt while incidents are active.
const IDF_REFRESH: Duration = Duration::from_secs(30);
/// Terms of a centroid kept for matching on the request path (the heaviest).
const MATCH_TERMS: usize = 200;
/// Closed incidents changed this recently come back at start-up.
const RELOAD_DAYS: i64 = 30;

/// The incident a triage answer names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentMatch {
    /// The incident's id.
    pub id: String,
    /// `suspected`, `confirmed` or `resolved` (in its grace period).
    pub status: Status,
    /// Cosine of the ticket with the incident's centroid.
    pub similarity: f32,
    /// The agent message (workaround and status), once an admin wrote one.
    pub message: Option<String>,
    /// The incident's heaviest terms.
    pub top_terms: Vec<String>,
}

/// An incident as the API shows it to one viewer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentView {
    /// `inc-` and 12 hex digits.
    pub id: String,
    /// Where it is in its life.
    pub status: Status,
    /// The first line of the most representative ticket the viewer may see.
    pub title: String,
    /// The heaviest terms of its centroid (analysed form).
    pub top_terms: Vec<String>,
    /// Tenants with a member ticket.
    pub tenants: Vec<String>,
    /// Member tickets, all tenants.
    pub count: usize,
    /// First member's arrival.
    pub first_seen: String,
    /// Latest member's arrival.
    pub last_seen: String,
    /// When the detector opened it.
    pub opened_at: String,
    /// When its status last changed.
    pub status_changed_at: String,
    /// Members per 10 minutes from `first_seen` (all tenants).
    pub arrivals_per_10_min: Vec<u32>,
    /// For agents: workaround and status.
    pub message: Option<String>,
    /// Tickets the baseline expected in the window when it opened.
    pub expected_at_open: f64,
    /// The member tickets the viewer may see (details only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberView>>,
}

/// A member ticket as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberView {
    /// The triage's id.
    pub triage_id: String,
    /// Its tenant.
    pub tenant: Option<String>,
    /// When it arrived.
    pub at: String,
    /// Cosine with the centroid when linked.
    pub similarity: f32,
    /// First line of its redacted text.
    pub title: String,
}

/// What an admin does to an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentAction {
    /// Confirm it (optionally with the agent message).
    Confirm(Option<String>),
    /// Not an incident (optionally why).
    Dismiss(Option<String>),
    /// It is over (optionally with a final message).
    Resolve(Option<String>),
    /// Set the agent message.
    Message(String),
}

impl IncidentAction {
    /// The audit log's action name.
    pub fn audit_name(&self) -> &'static str {
        match self {
            IncidentAction::Confirm(_) => "incident.confirm",
            IncidentAction::Dismiss(_) => "incident.dismiss",
            IncidentAction::Resolve(_) => "incident.resolve",
            IncidentAction::Message(_) => "incident.message",
        }
    }
}

/// Longest agent message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4_000;

#[derive(Default)]
struct Snapshot {
    incidents: Vec<Active>,
    /// Term -> (index in `incidents`, weight in its unit centroid): one lookup per query term.
    postings: HashMap<String, Vec<(usize, f32)>>,
    idf: Arc<HashMap<String, f32>>,
    unseen_idf: f32,
    similarity: f32,
}

struct Active {
    id: String,
    status: Status,
    /// Until when it links (seconds since the epoch): `i64::MAX` while open.
    until: i64,
    message: Option<String>,
    top_terms: Vec<String>,
}

struct Shared {
    detector: Mutex<Detector>,
    snapshot: ArcSwap<Snapshot>,
    store: Arc<dyn Store>,
    idf_built: Mutex<Option<Instant>>,
    dropped: AtomicU64,
    /// Rate bound of `offer`: seconds since `started` of the current window, tickets taken in it.
    started: Instant,
    second: AtomicU64,
    taken: AtomicU64,
    max_per_second: u64,
    /// Whether this replica's detector leads (replicas only; see `feed_from_store`).
    leading: std::sync::atomic::AtomicBool,
    /// Held from reading an incident's row to committing it, by the detector thread and by
    /// admin actions alike, so the store ends with the row the detector holds in memory.
    writing: Mutex<()>,
    /// Tests: the detector thread reports here and waits before it writes a batch.
    #[cfg(test)]
    before_write: Mutex<Option<(std::sync::mpsc::Sender<()>, Receiver<()>)>>,
}

/// Major-incident detection in the service.
pub struct Incidents {
    shared: Arc<Shared>,
    tx: Option<SyncSender<Msg>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

enum Msg {
    Observe(Box<Observation>),
    Flush(std::sync::mpsc::Sender<()>),
}

impl Incidents {
    /// Starts detection (a thread), restoring incidents and the baseline from `store`. Disabled
    /// params: nothing runs, nothing matches.
    pub(crate) fn start(params: IncidentParams, store: Arc<dyn Store>) -> Result<Self> {
        let enabled = params.enabled;
        let similarity = params.similarity;
        let max_per_second = params.max_per_second;
        let shared = Arc::new(Shared {
            detector: Mutex::new(Detector::new(params)),
            snapshot: ArcSwap::from_pointee(Snapshot { similarity, ..Snapshot::default() }),
            store,
            idf_built: Mutex::new(None),
            dropped: AtomicU64::new(0),
            started: Instant::now(),
            second: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            max_per_second: u64::from(max_per_second),
            leading: std::sync::atomic::AtomicBool::new(false),
            writing: Mutex::new(()),
            #[cfg(test)]
            before_write: Mutex::new(None),
        });
        if !enabled {
            return Ok(Self { shared, tx: None, handle: Mutex::new(None) });
        }
        restore(&shared)?;
        shared.publish(true);
        let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let worker = shared.clone();
        let handle = std::thread::Builder::new().name("triage-incidents".into()).spawn(move || run(&worker, &rx))?;
        Ok(Self { shared, tx: Some(tx), handle: Mutex::new(Some(handle)) })
    }

    /// Whether detection runs.
    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// The active incident `terms` (a ticket's analysed terms) belong to, if any. Lock-free.
    pub fn matching(&self, terms: &[String], now: i64) -> Option<IncidentMatch> {
        let snapshot = self.shared.snapshot.load();
        if snapshot.incidents.is_empty() || terms.is_empty() {
            return None;
        }
        let mut norm = 0.0f32;
        let mut dots = vec![0.0f32; snapshot.incidents.len()];
        for t in terms {
            let w = snapshot.idf.get(t).copied().unwrap_or(snapshot.unseen_idf);
            norm += w * w;
            for &(i, c) in snapshot.postings.get(t).map_or(&[][..], Vec::as_slice) {
                dots[i] += w * c;
            }
        }
        let norm = norm.sqrt();
        if norm == 0.0 {
            return None;
        }
        snapshot
            .incidents
            .iter()
            .zip(dots)
            .filter(|(a, _)| now < a.until)
            .map(|(a, dot)| (a, dot / norm))
            .filter(|(_, s)| *s >= snapshot.similarity)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(a, similarity)| IncidentMatch {
                id: a.id.clone(),
                status: a.status,
                similarity,
                message: a.message.clone(),
                top_terms: a.top_terms.clone(),
            })
    }

    /// Queues a triaged ticket for detection (`make` is called only when it is taken); never
    /// blocks. At most `max_per_second` a second are taken (a fixed one-second window; the
    /// rest are counted as dropped).
    pub fn offer(&self, make: impl FnOnce() -> Observation) {
        if self.tx.is_none() || !self.take_one() {
            return;
        }
        self.enqueue(make());
    }

    /// Whether the rate bound takes one more ticket this second (counted as dropped if not).
    fn take_one(&self) -> bool {
        let second = self.shared.started.elapsed().as_secs();
        let current = self.shared.second.load(Ordering::Relaxed);
        if current != second && self.shared.second.compare_exchange(current, second, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.shared.taken.store(0, Ordering::Relaxed);
        }
        if self.shared.taken.fetch_add(1, Ordering::Relaxed) >= self.shared.max_per_second {
            let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "more triages a second than incidents.max_per_second; the excess is left out of incident detection"
                );
            }
            return false;
        }
        true
    }

    /// Queues an observation without waiting (dropped and counted when the queue is full).
    fn enqueue(&self, observation: Observation) {
        let Some(tx) = &self.tx else { return };
        match tx.try_send(Msg::Observe(Box::new(observation))) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let n = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_power_of_two() {
                    tracing::warn!(dropped = n, "incident detection is behind; tickets are being left out of detection");
                }
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits until every ticket offered so far went through the detector (tests, evaluation).
    pub fn flush(&self) {
        let Some(tx) = &self.tx else { return };
        let (ack, done) = std::sync::mpsc::channel();
        if tx.send(Msg::Flush(ack)).is_ok() {
            let _ = done.recv();
        }
    }

    /// Tickets left out of detection because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Incidents open now (suspected or confirmed), by status, for the metrics gauge.
    pub fn open_counts(&self) -> (usize, usize) {
        let d = self.shared.lock();
        let count = |s| d.incidents().iter().filter(|i| i.status == s).count();
        (count(Status::Suspected), count(Status::Confirmed))
    }

    /// Incidents the viewer may see (`None`: an operator, all), newest first, filtered by status
    /// (`None`: open ones).
    pub fn list(&self, viewer: Option<&TenantId>, statuses: Option<&[Status]>) -> Vec<IncidentView> {
        let d = self.shared.lock();
        let mut out: Vec<IncidentView> = d
            .incidents()
            .iter()
            .filter(|i| statuses.map_or(i.open(), |s| s.contains(&i.status)))
            .filter_map(|i| view(&d, i, viewer, false))
            .collect();
        out.sort_by(|a, b| b.opened_at.cmp(&a.opened_at).then(b.id.cmp(&a.id)));
        out
    }

    /// One incident with the members the viewer may see; `NotFound` when it does not touch the
    /// viewer's tenant.
    pub fn get(&self, id: &str, viewer: Option<&TenantId>) -> Result<IncidentView> {
        let d = self.shared.lock();
        d.incident(id).and_then(|i| view(&d, i, viewer, true)).ok_or(EngineError::NotFound(Resource::Incident))
    }

    /// Applies an admin's action; the viewer must be able to see the incident.
    pub fn act(&self, id: &str, viewer: Option<&TenantId>, action: &IncidentAction) -> Result<IncidentView> {
        let writing = self.shared.lock_writing();
        let row = {
            let mut d = self.shared.lock();
            let now = Timestamp::now().unix_seconds();
            // an incident the viewer may not see is not found, whatever the body says
            let visible = d.incident(id).and_then(|i| view(&d, i, viewer, false)).is_some();
            let incident = d.incident_mut(id).filter(|_| visible).ok_or(EngineError::NotFound(Resource::Incident))?;
            check_action_text(action)?;
            let from = incident.status;
            // a blank optional message is no message (it must not stand in for a workaround)
            let given = |m: &Option<String>| m.as_deref().map(str::trim).filter(|m| !m.is_empty()).map(str::to_owned);
            let (to, message) = match action {
                IncidentAction::Confirm(m) => (Status::Confirmed, given(m)),
                IncidentAction::Dismiss(_) => (Status::Dismissed, None),
                IncidentAction::Resolve(m) => (Status::Resolved, given(m)),
                IncidentAction::Message(m) => (from, Some(m.clone())),
            };
            let allowed = match action {
                IncidentAction::Confirm(_) => from != Status::Dismissed,
                IncidentAction::Dismiss(_) | IncidentAction::Resolve(_) => incident.open(),
                IncidentAction::Message(_) => from != Status::Dismissed,
            };
            if !allowed {
                return Err(EngineError::Transition(format!(
                    "incident {id} is {}; it cannot be {}",
                    from.as_str(),
                    match action {
                        IncidentAction::Confirm(_) => "confirmed",
                        IncidentAction::Dismiss(_) => "dismissed",
                        IncidentAction::Resolve(_) => "resolved",
                        IncidentAction::Message(_) => "given a message",
                    }
                )));
            }
            if to != from {
                incident.status = to;
                incident.status_at = now;
            }
            if let Some(m) = message {
                incident.message = Some(m.trim().to_owned());
            }
            row_of(incident)
        };
        self.shared.store.incident_save(&row, &[])?;
        drop(writing);
        self.shared.publish(false);
        self.get(id, viewer)
    }
}

/// How far back each read of the store's triages reaches past the newest one already read:
/// records are written a recorder batch behind their answer, and replicas' clocks differ a
/// little, so one stamped a moment earlier may commit after a later one was read.
const FEED_MARGIN_SECONDS: i64 = 2;
/// Triage records read per call of [`Incidents::feed_from_store`].
const FEED_BATCH: usize = 5_000;

/// The leader's place in the store's triages (issue 15): with several replicas, one detector
/// (on the replica holding the `incidents` leadership) sees every replica's triages, read from
/// the store, instead of each seeing the share its load balancer sent it.
#[derive(Debug, Default)]
pub(crate) struct StoreFeed {
    /// Seconds since the epoch of the newest record read; `None` until this replica leads.
    cursor: Option<i64>,
    /// Triages already offered within the reread margin.
    seen: HashMap<String, i64>,
}

impl Incidents {
    /// On the leading replica, offers detection every triage any replica recorded since the
    /// last call, each once (on taking the lead: those of the last window, so a replica that
    /// takes over from a dead one sees the surge under way); elsewhere forgets its place. How
    /// many it offered. Never waits: new triages go through the same rate bound as a single
    /// process's (`max_per_second`), the window read on taking the lead only through the
    /// queue's bound, and what does not fit is counted as dropped, so a flood never holds up
    /// the thread that also follows the change feed.
    pub(crate) fn feed_from_store(&self, feed: &mut StoreFeed, leading: bool) -> Result<usize> {
        if self.tx.is_none() {
            return Ok(0);
        }
        self.shared.leading.store(leading, Ordering::Release);
        if !leading {
            *feed = StoreFeed::default();
            return Ok(0);
        }
        let now = Timestamp::now().unix_seconds();
        let window = i64::from(self.shared.lock().params().window_minutes) * 60;
        let taking_over = feed.cursor.is_none();
        let from = feed.cursor.map_or(now - window, |c| c - FEED_MARGIN_SECONDS);
        let records = self.shared.store.triage_records_since(&stored(from), FEED_BATCH)?;
        let mut offered = 0;
        for r in records {
            let Some(at) = parse_time(&r.created_at) else { continue };
            feed.cursor = Some(feed.cursor.map_or(at, |c| c.max(at)));
            if feed.seen.insert(r.triage_id.clone(), at).is_some() {
                continue;
            }
            let text = r.text.unwrap_or_default();
            let observation = Observation {
                triage_id: r.triage_id,
                tenant: r.tenant.map(|t| t.as_str().to_owned()),
                at,
                terms: triage_kb::KbIndex::query_terms(&text),
                title: text.lines().next().unwrap_or_default().chars().take(100).collect(),
                hint: r.suggestions.iter().find_map(|s| s.strip_prefix("incident:")).map(str::to_owned),
            };
            if taking_over || self.take_one() {
                self.enqueue(observation);
                offered += 1;
            }
        }
        let cursor = *feed.cursor.get_or_insert(now);
        feed.seen.retain(|_, at| *at >= cursor - 2 * FEED_MARGIN_SECONDS);
        Ok(offered)
    }

    /// Takes the incidents `ids` as another replica stored them (issue 15). A replica that does
    /// not lead detection takes each whole, with its stored members (it then matches, lists and
    /// counts as the leader does); the leader takes only the stored status and message (an
    /// admin's action on another replica), keeping the members it linked (they reach the store
    /// with its next write). A no-op while detection is off.
    pub(crate) fn apply_stored(&self, ids: &std::collections::HashSet<String>) -> Result<usize> {
        if self.tx.is_none() || ids.is_empty() {
            return Ok(0);
        }
        let now = Timestamp::now().unix_seconds();
        let rows = self.shared.store.incidents(&stored(now - RELOAD_DAYS * 86_400))?;
        let writing = self.shared.lock_writing();
        let mut applied = 0;
        {
            let mut d = self.shared.lock();
            for (row, members) in rows.into_iter().filter(|(r, _)| ids.contains(&r.id)) {
                let Some(status) = Status::parse(&row.status) else { continue };
                let status_at = parse_time(&row.status_at).unwrap_or(now);
                applied += 1;
                if let Some(incident) = d.incident_mut(&row.id).filter(|_| self.shared.leading.load(Ordering::Acquire)) {
                    incident.status = status;
                    incident.status_at = status_at;
                    incident.message = row.message;
                    continue;
                }
                let opened_at = parse_time(&row.opened_at).unwrap_or(now);
                d.restore(row.id, status, status_at, opened_at, row.message, stored_members(members, now));
            }
        }
        drop(writing);
        self.shared.publish(true);
        Ok(applied)
    }
}

/// Stored members as the detector holds them.
fn stored_members(members: Vec<triage_store::IncidentMemberRow>, now: i64) -> Vec<(Member, Vec<String>)> {
    members
        .into_iter()
        .map(|m| {
            let terms: Vec<String> = m.terms.split_whitespace().map(str::to_owned).collect();
            let member = Member {
                triage_id: m.triage_id,
                tenant: m.tenant,
                at: parse_time(&m.at).unwrap_or(now),
                similarity: m.similarity,
                title: m.title,
            };
            (member, terms)
        })
        .collect()
}

/// The message or reason of an action: within [`MAX_MESSAGE_CHARS`], no control characters
/// but new lines and tabs; a set message is not blank.
fn check_action_text(action: &IncidentAction) -> Result<()> {
    let text = match action {
        IncidentAction::Confirm(m) | IncidentAction::Dismiss(m) | IncidentAction::Resolve(m) => m.as_deref(),
        IncidentAction::Message(m) => Some(m.as_str()),
    };
    let Some(t) = text.map(str::trim) else { return Ok(()) };
    if t.is_empty() && matches!(action, IncidentAction::Message(_)) {
        return Err(EngineError::Invalid("message must not be empty".into()));
    }
    if t.chars().count() > MAX_MESSAGE_CHARS {
        return Err(EngineError::Invalid(format!("message is longer than {MAX_MESSAGE_CHARS} characters")));
    }
    if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(EngineError::Invalid("message must not contain control characters".into()));
    }
    Ok(())
}

impl Drop for Incidents {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(h) = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Detector> {
        self.detector.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Taken before [`Shared::lock`] when both are held.
    fn lock_writing(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publishes the active incidents for the request path; the IDF table is rebuilt when
    /// `force`, when it is older than [`IDF_REFRESH`], or when it is needed for the first time.
    fn publish(&self, force: bool) {
        let d = self.lock();
        let now = Timestamp::now().unix_seconds();
        let params = d.params();
        let grace = i64::from(params.resolved_grace_minutes) * 60;
        let mut postings: HashMap<String, Vec<(usize, f32)>> = HashMap::new();
        let incidents: Vec<Active> = d
            .incidents()
            .iter()
            .filter(|i| i.active(now, params))
            .enumerate()
            .map(|(n, i)| {
                for (term, w) in d.centroid_terms(i, MATCH_TERMS) {
                    postings.entry(term).or_default().push((n, w));
                }
                Active {
                    id: i.id.clone(),
                    status: i.status,
                    until: if i.open() { i64::MAX } else { i.status_at + grace },
                    message: i.message.clone(),
                    // answers reach any tenant: only words of two tenants' tickets
                    top_terms: d.top_terms_for(i, |_| false),
                }
            })
            .collect();
        let old = self.snapshot.load();
        let mut built = self.idf_built.lock().unwrap_or_else(|p| p.into_inner());
        let stale = built.is_none_or(|t| t.elapsed() >= IDF_REFRESH) || old.idf.is_empty();
        let idf = if !incidents.is_empty() && (force || stale) {
            *built = Some(Instant::now());
            Arc::new(d.vocab().idf_table())
        } else {
            old.idf.clone()
        };
        self.snapshot.store(Arc::new(Snapshot {
            incidents,
            postings,
            idf,
            unseen_idf: d.vocab().unseen_idf(),
            similarity: params.similarity,
        }));
    }
}

fn run(shared: &Shared, rx: &Receiver<Msg>) {
    // links alone move centroids a little: published at most every LINKS_REPUBLISH
    let mut links_pending = false;
    let mut published = Instant::now();
    while let Ok(first) = rx.recv() {
        std::thread::sleep(LINGER);
        let mut batch = vec![first];
        batch.extend(rx.try_iter().take(QUEUE));
        let mut changed = Change::None;
        let mut acks = Vec::new();
        // one store transaction per incident touched in the batch, not one per ticket
        let mut writes: Vec<(IncidentRow, Vec<IncidentMemberRow>)> = Vec::new();
        for msg in batch {
            match msg {
                Msg::Observe(obs) => changed = changed.max(observe(shared, *obs, &mut writes)),
                Msg::Flush(ack) => acks.push(ack),
            }
        }
        #[cfg(test)]
        if !writes.is_empty()
            && let Some((reached, go)) = shared.before_write.lock().unwrap_or_else(|p| p.into_inner()).take()
        {
            let _ = reached.send(());
            let _ = go.recv();
        }
        let writing = shared.lock_writing();
        for (row, members) in writes {
            // an admin may have changed the incident since it was observed: write it as it is now
            let row = shared.lock().incident(&row.id).map(row_of).unwrap_or(row);
            if let Err(e) = shared.store.incident_save(&row, &members) {
                tracing::error!(incident = %row.id, error = %e, "cannot store an incident; it stays in memory until restart");
            }
        }
        drop(writing);
        links_pending |= changed == Change::Linked;
        if changed == Change::Structure || (links_pending && published.elapsed() >= LINKS_REPUBLISH) {
            shared.publish(false);
            published = Instant::now();
            links_pending = false;
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// What an observation changed, for publishing: ordered, so a batch keeps its largest change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    None,
    /// A ticket joined an incident (its centroid moved a little).
    Linked,
    /// An incident opened or resolved itself: the request path must know at once.
    Structure,
}

/// One observation through the detector; what the store needs is merged into `pending` (the
/// latest row of each incident, with its new members).
fn observe(shared: &Shared, obs: Observation, pending: &mut Vec<(IncidentRow, Vec<IncidentMemberRow>)>) -> Change {
    let triage_id = obs.triage_id.clone();
    let mut writes: Vec<(IncidentRow, Vec<IncidentMemberRow>)> = Vec::new();
    let changed = {
        let mut d = shared.lock();
        let out = d.observe(obs);
        if let Some(id) = &out.opened {
            if let Some(i) = d.incident(id) {
                let members = i.members.iter().map(|m| member_row(m, &d.member_terms(i, &m.triage_id))).collect();
                writes.push((row_of(i), members));
            }
        } else if let Some((id, _)) = &out.linked
            && let Some(i) = d.incident(id)
            && let Some(m) = i.members.iter().rev().find(|m| m.triage_id == triage_id)
        {
            writes.push((row_of(i), vec![member_row(m, &d.member_terms(i, &triage_id))]));
        }
        for id in &out.quieted {
            if let Some(i) = d.incident(id) {
                tracing::info!(incident = %id, "suspected incident resolved itself: no new ticket for quiet_hours");
                writes.push((row_of(i), Vec::new()));
            }
        }
        if out.opened.is_some() || !out.quieted.is_empty() {
            Change::Structure
        } else if out.linked.is_some() {
            Change::Linked
        } else {
            Change::None
        }
    };
    for (row, members) in writes {
        match pending.iter_mut().find(|(r, _)| r.id == row.id) {
            Some((r, m)) => {
                *r = row;
                m.extend(members);
            }
            None => pending.push((row, members)),
        }
    }
    changed
}

fn stored(at: i64) -> String {
    Timestamp::from_unix_seconds(at).to_stored()
}

fn row_of(i: &Incident) -> IncidentRow {
    IncidentRow {
        id: i.id.clone(),
        status: i.status.as_str().to_owned(),
        opened_at: stored(i.opened_at),
        status_at: stored(i.status_at),
        message: i.message.clone(),
        expected_at_open: i.expected_at_open,
    }
}

fn member_row(m: &Member, terms: &str) -> IncidentMemberRow {
    IncidentMemberRow {
        triage_id: m.triage_id.clone(),
        tenant: m.tenant.clone(),
        at: stored(m.at),
        similarity: m.similarity,
        title: m.title.clone(),
        terms: terms.to_owned(),
    }
}

fn view(d: &Detector, i: &Incident, viewer: Option<&TenantId>, details: bool) -> Option<IncidentView> {
    let own = |m: &Member| viewer.is_none_or(|v| m.tenant.as_deref() == Some(v.as_str()));
    if viewer.is_some() && !i.members.iter().any(own) {
        return None;
    }
    let (first, last) = i.seen();
    Some(IncidentView {
        id: i.id.clone(),
        status: i.status,
        title: i.representative(own).map(|m| m.title.clone()).unwrap_or_default(),
        top_terms: d.top_terms_for(i, own),
        tenants: i.tenants().into_iter().collect(),
        count: i.members.len(),
        first_seen: stored(first),
        last_seen: stored(last),
        opened_at: stored(i.opened_at),
        status_changed_at: stored(i.status_at),
        arrivals_per_10_min: i.arrivals_per_10_min(|_| true),
        message: i.message.clone(),
        expected_at_open: (i.expected_at_open * 100.0).round() / 100.0,
        members: details.then(|| {
            i.members
                .iter()
                .filter(|m| own(m))
                .map(|m| MemberView {
                    triage_id: m.triage_id.clone(),
                    tenant: m.tenant.clone(),
                    at: stored(m.at),
                    similarity: (m.similarity * 1000.0).round() / 1000.0,
                    title: m.title.clone(),
                })
                .collect()
        }),
    })
}

fn parse_time(s: &str) -> Option<i64> {
    Timestamp::parse(s).ok().map(|t| t.unix_seconds())
}

/// Incidents from the store, then the baseline from recent triages (and resolved tickets when
/// those are too few).
fn restore(shared: &Shared) -> Result<()> {
    let started = Instant::now();
    let now = Timestamp::now().unix_seconds();
    let rows = shared.store.incidents(&stored(now - RELOAD_DAYS * 86_400))?;
    let mut d = shared.lock();
    let params = d.params().clone();
    let since = stored(now - i64::from(params.baseline_days) * 86_400);
    let mut seeded = 0usize;
    shared.store.for_each_triage_text(&since, params.max_history_tickets, &mut |at, text| {
        if let Some(at) = parse_time(at) {
            d.seed_history(at, &triage_kb::KbIndex::query_terms(text));
            seeded += 1;
        }
    })?;
    if seeded < params.min_history {
        // resolved tickets carry no arrival time the detector can trust: they enter the history
        // as of now, so they give the share of each kind of ticket, not a rate
        let mut extra = 0usize;
        let wanted = params.min_history.saturating_mul(4).min(params.max_history_tickets);
        shared.store.for_each_resolved(&mut |t| {
            if extra < wanted {
                d.seed_history(now - 1, &triage_kb::KbIndex::query_terms(&format!("{}\n{}", t.title, t.description)));
                extra += 1;
            }
        })?;
        seeded += extra;
    }
    let incidents = rows.len();
    for (row, members) in rows {
        let Some(status) = Status::parse(&row.status) else { continue };
        let members = stored_members(members, now);
        d.restore(
            row.id,
            status,
            parse_time(&row.status_at).unwrap_or(now),
            parse_time(&row.opened_at).unwrap_or(now),
            row.message,
            members,
        );
    }
    tracing::info!(incidents, baseline = seeded, millis = started.elapsed().as_millis() as u64, "incident detection ready");
    Ok(())
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
