//! Following the change feed (issue 15): several replicas share one database, each keeps its
//! own indexes and in-memory state, and each applies what the others wrote.
//!
//! A thread per replica reads the feed ([`triage_store::Store::changes_since`]) from the last
//! sequence it applied, woken by PostgreSQL's `NOTIFY` (the store's `wait_for_changes`) and
//! polling at [`FollowParams::poll`] as the fallback, and applies each batch:
//!
//! | change | what the replica does |
//! |---|---|
//! | resolved ticket upserted or erased | reads the ticket's current row; indexes it (ticket index, similar-ticket scorer, boilerplate, learned phrasing) or removes it; the index commit records the resolved-ticket sequence |
//! | feedback | re-reads the counts of the suggestions concerned; learns article phrasing from it |
//! | model went live | loads the registry's live version (a bundle that cannot load degrades, the current model keeps serving) |
//! | key created or revoked | reloads the active keys |
//! | incident | takes the stored status and message, or restores an incident it does not hold |
//!
//! Entries the replica wrote itself (same `origin`) were applied when written and are skipped.
//! Every application reads the store's current state, so applying one twice is harmless: the
//! engine reads the feed's head *before* it loads anything at start, and what commits between
//! the two is applied again. A replica that finds entries pruned beyond its position (down for
//! longer than [`FollowParams::retain`]) reloads all of it from the store instead.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde::Serialize;
use triage_core::tenant::TenantId;
use triage_store::{Change, ChangeKind, Outcome};

use crate::{Result, TriageEngine};

/// Changes read (and applied) at once.
const BATCH: usize = 500;
/// How often the incident leader reads every replica's new triages (detection works in minutes).
const INCIDENT_FEED_EVERY: Duration = Duration::from_secs(1);

/// How a replica follows the change feed.
///
/// | name | default | purpose |
/// |---|---|---|
/// | `enabled` | auto | `None`: follow when the store is PostgreSQL (shared by replicas); `Some` forces it |
/// | `poll` | 250 ms | longest wait between two reads of the feed when no notification arrives |
/// | `retain` | 7 days | changes older than this are pruned; a replica down longer reloads at start |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowParams {
    /// Whether to follow the feed; `None`: when the store is shared (PostgreSQL).
    pub enabled: Option<bool>,
    /// Longest wait between two reads when no notification arrives.
    pub poll: Duration,
    /// How long changes are kept in the feed.
    pub retain: Duration,
}

impl Default for FollowParams {
    fn default() -> Self {
        Self { enabled: None, poll: Duration::from_millis(250), retain: Duration::from_secs(7 * 86_400) }
    }
}

/// Where this replica is in the feed.
#[derive(Debug, Default)]
pub(crate) struct FollowState {
    applied: AtomicU64,
    head: AtomicU64,
    applied_total: AtomicU64,
    running: AtomicBool,
    last_error: Mutex<Option<String>>,
}

impl FollowState {
    pub(crate) fn at(seq: u64) -> Self {
        let state = Self::default();
        state.applied.store(seq, Ordering::Release);
        state.head.store(seq, Ordering::Release);
        state
    }
}

/// Where this replica is in the change feed (for health and metrics).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FollowStatus {
    /// Whether a thread follows the feed.
    pub following: bool,
    /// Last sequence applied (or skipped as this replica's own).
    pub applied_seq: u64,
    /// Newest sequence seen in the store.
    pub head_seq: u64,
    /// Changes applied since the start.
    pub applied_changes: u64,
    /// Why the last read or application failed, until one succeeds.
    pub last_error: Option<String>,
}

/// What one batch asks of the replica, gathered before anything is applied.
#[derive(Default)]
struct Work {
    /// Resolved tickets other replicas changed, and the batch's highest resolved-ticket
    /// sequence (this replica's own writes included).
    resolved: ResolvedChanges,
    suggestions: HashSet<String>,
    feedback: Vec<(TenantId, String, String, Outcome)>,
    model: bool,
    keys: bool,
    incidents: HashSet<String>,
}

/// The resolved tickets a batch of changes touched: (tenant, external id) keys, and the highest
/// resolved-ticket sequence among them.
#[derive(Default)]
struct ResolvedChanges {
    keys: BTreeSet<(TenantId, String)>,
    seq: Option<u64>,
}

impl ResolvedChanges {
    /// Notes one change if it is a resolved-ticket upsert or erasure; its key only when `keep`
    /// (the sequence always: a replica's own writes moved its index on too).
    fn note(&mut self, c: &Change, keep: bool) {
        if !matches!(c.kind, ChangeKind::Resolved | ChangeKind::ResolvedErased) {
            return;
        }
        self.seq = self.seq.max(c.detail.as_deref().and_then(|d| d.parse::<u64>().ok()));
        if let (true, Some(tenant)) = (keep, &c.tenant) {
            self.keys.insert((tenant.clone(), c.subject.clone()));
        }
    }
}

impl Work {
    fn gather(changes: &[Change], origin: &str) -> Self {
        let mut work = Work::default();
        for c in changes {
            let own = c.origin == origin;
            work.resolved.note(c, !own);
            match c.kind {
                ChangeKind::Feedback if !own => {
                    let Some((outcome, suggestion)) = c.feedback_parts() else { continue };
                    work.suggestions.insert(suggestion.to_owned());
                    if let (Some(tenant), Some(outcome)) = (&c.tenant, Outcome::parse(outcome)) {
                        work.feedback.push((tenant.clone(), c.subject.clone(), suggestion.to_owned(), outcome));
                    }
                }
                ChangeKind::ModelLive if !own => work.model = true,
                ChangeKind::Key if !own => work.keys = true,
                ChangeKind::Incident if !own => {
                    work.incidents.insert(c.subject.clone());
                }
                _ => {}
            }
        }
        work
    }
}

/// Changed tickets as stored now, and the (tenant, external id) keys no longer stored.
type StoredAndErased = (Vec<triage_core::ticket_resolved::ResolvedTicket>, Vec<(TenantId, String)>);

/// The changed tickets as the store holds them now (one read), and the keys it no longer holds.
fn stored_and_erased(store: &dyn triage_store::Store, changed: &BTreeSet<(TenantId, String)>) -> Result<StoredAndErased> {
    let keys: Vec<(TenantId, String)> = changed.iter().cloned().collect();
    let stored = store.resolved_tickets(&keys)?;
    let present: HashSet<(&str, &str)> = stored.iter().map(|t| (t.tenant.as_str(), t.external_id.as_str())).collect();
    let erased = keys.iter().filter(|(t, id)| !present.contains(&(t.as_str(), id.as_str()))).cloned().collect();
    Ok((stored, erased))
}

/// At start, brings a ticket index that applied resolved-ticket sequence `indexed` up to the
/// store from the change feed: the tickets changed since, as they are in the store now.
/// `Some(changes applied)` when the index ends level with the store (same sequence and count);
/// `None` when the feed no longer holds every change since (pruned), or the index still
/// disagrees with the store: the caller rebuilds it.
pub(crate) fn catch_up_index(store: &dyn triage_store::Store, tickets: &triage_kb::TicketIndex, indexed: u64) -> Result<Option<usize>> {
    let Some((first, resolved)) = store.resolved_changes_after(indexed)? else { return Ok(None) };
    if resolved != indexed + 1 {
        return Ok(None); // the changes of the writes in between were pruned
    }
    let started = std::time::Instant::now();
    let (mut after, mut applied) = (first - 1, 0usize);
    loop {
        let changes = store.changes_since(after, BATCH)?;
        let Some(last) = changes.last().map(|c| c.seq) else { break };
        // every origin's changes: the index applied none of them
        let mut resolved = ResolvedChanges::default();
        for c in &changes {
            resolved.note(c, true);
        }
        let (keys, seq) = (resolved.keys, resolved.seq);
        let (stored, erased) = stored_and_erased(store, &keys)?;
        for (tenant, external_id) in erased {
            tickets.delete_at(&tenant, &external_id, seq)?;
        }
        let docs: Vec<_> = stored.iter().map(crate::ingest::ticket_doc).collect();
        if !docs.is_empty() {
            tickets.upsert_at(&docs, seq)?;
        }
        applied += keys.len();
        after = last;
    }
    let level = tickets.applied_seq() == Some(store.resolved_seq()?) && tickets.num_docs() == store.resolved_count(None)?;
    tracing::info!(
        from = indexed,
        tickets = applied,
        level,
        millis = started.elapsed().as_millis() as u64,
        "resolved-ticket index caught up from the change feed"
    );
    Ok(level.then_some(applied))
}

impl TriageEngine {
    /// Whether this engine follows the change feed (see [`FollowParams::enabled`]).
    pub fn follows_changes(&self) -> bool {
        self.params.follow.enabled.unwrap_or(self.params.store_url.is_some())
    }

    /// Starts the thread that follows the change feed, when [`TriageEngine::follows_changes`];
    /// it stops when the engine is dropped. Whether it started.
    pub fn start_following(self: &Arc<Self>) -> Result<bool> {
        if !self.follows_changes() || self.follow.running.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let engine: Weak<Self> = Arc::downgrade(self);
        let poll = self.params.follow.poll;
        let store = Arc::clone(&self.store);
        std::thread::Builder::new().name("triage-follow".into()).spawn(move || {
            let mut last_prune = std::time::Instant::now() - Duration::from_secs(3_600);
            let mut last_feed = std::time::Instant::now() - INCIDENT_FEED_EVERY;
            let mut feed = crate::incidents::StoreFeed::default();
            loop {
                let more = {
                    let Some(engine) = engine.upgrade() else { break };
                    if last_prune.elapsed() >= Duration::from_secs(3_600) {
                        last_prune = std::time::Instant::now();
                        engine.prune_changes();
                    }
                    if last_feed.elapsed() >= INCIDENT_FEED_EVERY {
                        last_feed = std::time::Instant::now();
                        engine.feed_incidents(&mut feed);
                    }
                    match engine.follow_once() {
                        Ok(n) => n == BATCH,
                        Err(e) => {
                            tracing::warn!(error = %e, "following the change feed failed; retrying");
                            *engine.follow.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                            false
                        }
                    }
                };
                if !more {
                    store.wait_for_changes(poll);
                }
            }
        })?;
        tracing::info!(poll_ms = poll.as_millis() as u64, from = self.follow.applied.load(Ordering::Acquire), "following the change feed");
        Ok(true)
    }

    /// Where this replica is in the change feed.
    pub fn follow_status(&self) -> FollowStatus {
        FollowStatus {
            following: self.follow.running.load(Ordering::Acquire),
            applied_seq: self.follow.applied.load(Ordering::Acquire),
            head_seq: self.follow.head.load(Ordering::Acquire),
            applied_changes: self.follow.applied_total.load(Ordering::Acquire),
            last_error: self.follow.last_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    /// Reads and applies one batch of the change feed; how many changes it read. The follow
    /// thread calls it; tests call it to step replicas deterministically.
    #[tracing::instrument(skip_all, fields(changes))]
    pub fn follow_once(&self) -> Result<usize> {
        let after = self.follow.applied.load(Ordering::Acquire);
        let changes = self.store.changes_since(after, BATCH)?;
        let Some(last) = changes.last().map(|c| c.seq) else { return Ok(0) };
        tracing::Span::current().record("changes", changes.len());
        self.follow.head.fetch_max(last, Ordering::AcqRel);
        if changes[0].seq != after + 1 {
            tracing::warn!(after, first = changes[0].seq, "the change feed was pruned past this replica; reloading from the store");
            self.reload_followed_state()?;
        } else {
            self.apply(&Work::gather(&changes, self.store.origin()))?;
        }
        self.follow.applied.store(last, Ordering::Release);
        self.follow.applied_total.fetch_add(changes.len() as u64, Ordering::AcqRel);
        *self.follow.last_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(changes.len())
    }

    fn apply(&self, work: &Work) -> Result<()> {
        if !work.resolved.keys.is_empty() {
            self.apply_resolved(&work.resolved.keys, work.resolved.seq)?;
        }
        if !work.suggestions.is_empty() {
            let suggestions: Vec<String> = work.suggestions.iter().cloned().collect();
            let counts = self.store.feedback_counts_for(&suggestions)?;
            let mut feedback = self.feedback.write().unwrap_or_else(|p| p.into_inner());
            for (s, c) in counts {
                feedback.insert(s, c);
            }
        }
        for (tenant, triage_id, suggestion, outcome) in &work.feedback {
            if let Some(text) = self.store.triage_record(Some(tenant), triage_id)?.and_then(|r| r.text) {
                self.learn_from_feedback(tenant, triage_id, suggestion, *outcome, &text, crate::learned::today());
            }
        }
        if work.model {
            self.follow_live_model()?;
        }
        if work.keys {
            *self.keys.write().unwrap_or_else(|p| p.into_inner()) = crate::keys::load_keys(self.store.as_ref())?;
        }
        self.incidents.apply_stored(&work.incidents)?;
        Ok(())
    }

    /// Brings the resolved tickets other replicas changed into this replica's indexes, as they
    /// are in the store now (an upsert then an erasure in one batch is an erasure).
    fn apply_resolved(&self, changed: &BTreeSet<(TenantId, String)>, seq: Option<u64>) -> Result<()> {
        let _writes = self.index_writes.lock().unwrap_or_else(|p| p.into_inner());
        let (upserts, erased) = stored_and_erased(self.store.as_ref(), changed)?;
        // the index's recorded sequence never goes back (an own write may have moved it on)
        let seq = seq.max(self.tickets.applied_seq());
        if !upserts.is_empty() {
            for t in &upserts {
                self.learner.observe(&t.tenant, &t.description, t.category.as_deref().or(t.assignment_group.as_deref()));
            }
            let docs: Vec<_> = upserts.iter().map(crate::ingest::ticket_doc).collect();
            self.index_result(self.tickets.upsert_at(&docs, seq));
            for t in &upserts {
                self.learn_from_ticket(t);
            }
        }
        for (tenant, external_id) in erased {
            self.index_result(self.tickets.delete_at(&tenant, &external_id, seq));
            self.learned.remove(&tenant, &crate::learned::ticket_key(&external_id));
        }
        tracing::debug!(upserted = upserts.len(), "resolved tickets followed");
        Ok(())
    }

    /// Serves the registry's live version if it is not the one served.
    fn follow_live_model(&self) -> Result<()> {
        let Some(live) = self.store.models()?.into_iter().find(|m| m.status == triage_store::ModelStatus::Live) else { return Ok(()) };
        if self.model_version().as_deref() == Some(live.version.as_str()) {
            return Ok(());
        }
        match crate::model_load::load_record(self.store.as_ref(), &self.params, &live) {
            Ok(bundle) => {
                self.serve(bundle, &live);
                tracing::info!(version = %live.version, "model went live on another replica; serving it");
            }
            Err(reason) => {
                let served = self.model_version().unwrap_or_else(|| "(none)".into());
                tracing::error!(version = %live.version, %reason, served = %served, "model went live on another replica but cannot be loaded here");
                self.set_model_health(crate::ModelHealth::Degraded(format!("{reason}; still serving {served}")));
            }
        }
        Ok(())
    }

    /// Everything the feed carries, reloaded from the store (a replica the feed was pruned past).
    fn reload_followed_state(&self) -> Result<()> {
        *self.index_lag.write().unwrap_or_else(|p| p.into_inner()) = Some("this replica fell behind the change feed".into());
        self.repair_ticket_index()?;
        *self.feedback.write().unwrap_or_else(|p| p.into_inner()) = self.store.feedback_counts()?.into_iter().collect();
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = crate::keys::load_keys(self.store.as_ref())?;
        self.follow_live_model()?;
        // changed since a time no row has: the open incidents only
        let open: HashSet<String> = self.store.incidents("9999")?.into_iter().map(|(r, _)| r.id).collect();
        self.incidents.apply_stored(&open)?;
        Ok(())
    }

    /// Incident detection with replicas: the replica holding the `incidents` leadership feeds
    /// its detector every replica's triages from the store (see `Incidents::feed_from_store`);
    /// the others only follow the incidents it stores. A leader that dies releases the lock
    /// with its connection, and the next replica to ask takes over.
    pub(crate) fn feed_incidents(&self, feed: &mut crate::incidents::StoreFeed) {
        if !self.incidents.enabled() {
            return;
        }
        let leading = match self.store.hold_leadership("incidents") {
            Ok(leading) => leading,
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell whether this replica leads incident detection; retrying");
                false
            }
        };
        if let Err(e) = self.incidents.feed_from_store(feed, leading) {
            tracing::warn!(error = %e, "reading triages for incident detection failed; retrying");
        }
    }

    /// Retention of the change feed: entries older than [`FollowParams::retain`] go (any
    /// replica may run it; it is idempotent). The follower thread runs it hourly; a process
    /// that does not follow runs it from its own maintenance.
    pub fn prune_changes(&self) {
        let before = std::time::SystemTime::now().checked_sub(self.params.follow.retain).unwrap_or(std::time::UNIX_EPOCH);
        match self.store.prune_changes(&triage_core::time::rfc3339_utc(before)) {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "old change-feed entries pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning the change feed failed; it is retried in an hour"),
        }
    }
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
