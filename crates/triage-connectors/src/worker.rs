//! The connector runtime: per connector, an event thread (inbound events to triages or resolved
//! tickets), an outbox thread (write-back with retries) and, for pull kinds, a poller.
//!
//! Guarantees, and how they are kept:
//! - **An accepted event is processed**: it is committed to the store before the webhook is
//!   answered (or the poll cursor moves), and processing marks it done in the same transaction
//!   that queues its actions.
//! - **A retried event is processed once**: events are keyed by the source's event key.
//! - **No action is lost, no note posted twice**: actions are committed before delivery; a row
//!   found still `sending` (a crash mid-delivery) or after an answer that never came is *in
//!   doubt*, and its note is looked for on the ticket (by its marker) before it is sent again.
//! - **No loops**: events authored by the connector's own user are ignored, and a ticket is
//!   re-triaged only when its title or description changed (a hash of the text is kept).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use sha2::Digest;
use triage_core::tenant::TenantId;
use triage_core::ticket::{Channel, NewTicket};
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_engine::connector_store::{
    ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, NewConnectorEvent, NewOutboxAction, OutboxAction, OutboxState,
    OutboxUpdate,
};
use triage_engine::{FeedbackInput, Outcome, TriageEngine};

use crate::config::{Connector, Policy};
use crate::http::{CallError, Http};
use crate::kinds::{Action, Headers, InboundEvent, Resolution, System, WebhookError};

/// How the runtime reaches the engine (it may still be loading when the threads start).
pub type EngineSource = Arc<dyn Fn() -> Option<Arc<TriageEngine>> + Send + Sync>;

/// Heads whose labels a connector can write back and read back.
pub const HEADS: [&str; 3] = ["category", "priority", "assignment_group"];

/// Every configured connector, running.
pub struct Connectors {
    runtimes: Vec<Arc<Runtime>>,
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.runtimes.iter().map(|r| r.name())).finish()
    }
}

impl Connectors {
    /// No connectors.
    pub fn none() -> Self {
        Self { runtimes: Vec::new(), stop: Arc::new(AtomicBool::new(false)), threads: Mutex::new(Vec::new()) }
    }

    /// Starts the threads of every connector.
    pub fn start(connectors: Vec<Connector>, engine: EngineSource) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut runtimes = Vec::new();
        for connector in connectors {
            let rt = Arc::new(Runtime::new(connector, engine.clone(), stop.clone()));
            let name = rt.name().to_owned();
            let r = rt.clone();
            threads.push(std::thread::Builder::new().name(format!("conn-events-{name}")).spawn(move || r.event_loop())?);
            let r = rt.clone();
            threads.push(std::thread::Builder::new().name(format!("conn-outbox-{name}")).spawn(move || r.outbox_loop())?);
            if !rt.connector.spec.kind.is_push() {
                let r = rt.clone();
                threads.push(std::thread::Builder::new().name(format!("conn-poll-{name}")).spawn(move || r.poll_loop())?);
            }
            tracing::info!(connector = %name, kind = rt.connector.spec.kind.as_str(), base_url = %rt.connector.base_url, "connector started");
            runtimes.push(rt);
        }
        Ok(Self { runtimes, stop, threads: Mutex::new(threads) })
    }

    /// One connector by name.
    pub fn get(&self, name: &str) -> Option<&Arc<Runtime>> {
        self.runtimes.iter().find(|r| r.name() == name)
    }

    /// Every connector, in configuration order.
    pub fn all(&self) -> &[Arc<Runtime>] {
        &self.runtimes
    }

    /// Stops the threads (each finishes the call it is in) and waits for them.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        for r in &self.runtimes {
            r.wake_events.notify();
            r.wake_outbox.notify();
            r.wake_poll.notify();
        }
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
    }
}

/// A wake-up flag with a timeout.
#[derive(Default)]
struct Signal {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Signal {
    fn notify(&self) {
        *self.set.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }
    fn wait(&self, timeout: Duration) {
        let guard = self.set.lock().unwrap_or_else(|p| p.into_inner());
        let (mut guard, _) = self.cv.wait_timeout_while(guard, timeout, |set| !*set).unwrap_or_else(|p| p.into_inner());
        *guard = false;
    }
}

/// What the status shows besides the store's counts.
#[derive(Debug, Clone, Default, Serialize)]
struct Live {
    last_poll_at: Option<String>,
    last_error: Option<String>,
    paused_until_ms: Option<i64>,
}

/// A connector's status for the admin API and the console.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectorStatus {
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: crate::config::Kind,
    /// Base URL.
    pub base_url: String,
    /// Tickets arrive by webhook (`push`) or are polled (`pull`).
    pub inbound: &'static str,
    /// Event and outbox counts.
    #[serde(flatten)]
    pub counts: ConnectorCounts,
    /// Seconds the oldest waiting action has waited.
    pub lag_seconds: Option<u64>,
    /// When the last poll finished.
    pub last_poll_at: Option<String>,
    /// The last failure (polling, processing or delivering).
    pub last_error: Option<String>,
    /// Write-back per head.
    pub write_back: BTreeMap<String, Policy>,
    /// Write-back paused by an admin.
    pub paused: bool,
}

/// What a webhook delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Received {
    /// New events stored.
    pub accepted: usize,
    /// Events seen before (retries): dropped.
    pub duplicates: usize,
}

/// Why a webhook delivery is refused.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    /// Signature or payload.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
    /// The store failed: the source should retry.
    #[error("the event could not be stored: {0}")]
    Store(String),
}

/// One running connector.
pub struct Runtime {
    connector: Connector,
    system: Box<dyn System>,
    http: Http,
    engine: EngineSource,
    stop: Arc<AtomicBool>,
    wake_events: Signal,
    wake_outbox: Signal,
    wake_poll: Signal,
    live: Mutex<Live>,
    paused: AtomicBool,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn now_text() -> String {
    triage_core::time::rfc3339_utc(SystemTime::now())
}

impl Runtime {
    fn new(connector: Connector, engine: EngineSource, stop: Arc<AtomicBool>) -> Self {
        Self {
            system: crate::kinds::system(connector.spec.kind),
            http: Http::new(&connector),
            connector,
            engine,
            stop,
            wake_events: Signal::default(),
            wake_outbox: Signal::default(),
            wake_poll: Signal::default(),
            live: Mutex::new(Live::default()),
            paused: AtomicBool::new(false),
        }
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        self.connector.name()
    }

    /// The store key of the connector's pause (kept beside its poll cursor).
    fn pause_key(&self) -> String {
        format!("{}#paused", self.name())
    }

    /// Pauses or resumes write-back (a maintenance window on the remote system): actions keep
    /// queueing and wait. Kept in the store, so it survives a restart and holds on every
    /// replica (each outbox thread reads it before each delivery).
    pub fn set_paused(&self, engine: &TriageEngine, paused: bool) -> Result<(), String> {
        engine.store().set_connector_cursor(&self.pause_key(), if paused { "1" } else { "0" }).map_err(|e| e.to_string())?;
        self.paused.store(paused, Ordering::SeqCst);
        self.wake_outbox.notify();
        Ok(())
    }

    /// Whether write-back is paused, as the store says (the last value read when the store
    /// cannot be read).
    pub fn is_paused(&self, engine: &TriageEngine) -> bool {
        if let Ok(value) = engine.store().connector_cursor(&self.pause_key()) {
            self.paused.store(value.as_deref() == Some("1"), Ordering::SeqCst);
        }
        self.paused.load(Ordering::SeqCst)
    }

    /// The checked configuration.
    pub fn connector(&self) -> &Connector {
        &self.connector
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn note_error(&self, error: &str) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).last_error = Some(format!("{} {error}", now_text()));
    }

    /// The engine, waiting for it while it loads; `None` when stopping.
    fn wait_engine(&self) -> Option<Arc<TriageEngine>> {
        loop {
            if self.stopping() {
                return None;
            }
            if let Some(e) = (self.engine)() {
                return Some(e);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A webhook delivery: verified, parsed, stored; processing happens on the event thread.
    pub fn receive(&self, engine: &TriageEngine, headers: &Headers, body: &[u8]) -> Result<Received, ReceiveError> {
        let events = self.system.parse_webhook(&self.connector, headers, body)?;
        let mut received = Received { accepted: 0, duplicates: 0 };
        for e in events {
            let new = NewConnectorEvent {
                connector: self.name().to_owned(),
                event_key: e.event_key.clone(),
                external_id: e.external_id.clone(),
                payload: serde_json::to_value(&e).map_err(|e| ReceiveError::Store(e.to_string()))?,
            };
            if engine.store().connector_event_insert(&new).map_err(|e| ReceiveError::Store(e.to_string()))? {
                received.accepted += 1;
            } else {
                received.duplicates += 1;
            }
        }
        if received.accepted > 0 {
            self.wake_events.notify();
        }
        Ok(received)
    }

    /// Status for the admin API.
    pub fn status(&self, engine: &TriageEngine) -> Result<ConnectorStatus, String> {
        let counts = engine.store().connector_counts(self.name()).map_err(|e| e.to_string())?;
        let lag_seconds = counts.oldest_pending_at.as_deref().and_then(|t| {
            let at = triage_core::time::Timestamp::parse(t).ok()?;
            let now = triage_core::time::Timestamp::now();
            Some(now.seconds_since(&at).max(0) as u64)
        });
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(ConnectorStatus {
            name: self.name().to_owned(),
            kind: self.connector.spec.kind,
            base_url: self.connector.base_url.clone(),
            inbound: if self.connector.spec.kind.is_push() { "push" } else { "pull" },
            counts,
            lag_seconds,
            last_poll_at: live.last_poll_at,
            last_error: live.last_error,
            write_back: self.connector.spec.write_back.clone(),
            paused: self.is_paused(engine),
        })
    }

    /// The outbox, newest first.
    pub fn outbox(&self, engine: &TriageEngine, state: Option<OutboxState>, limit: usize) -> Result<Vec<OutboxAction>, String> {
        engine.store().outbox_list(self.name(), state, limit).map_err(|e| e.to_string())
    }

    /// Puts a dead letter back in the queue; whether it was one.
    pub fn retry(&self, engine: &TriageEngine, id: i64) -> Result<bool, String> {
        let ok = engine.store().outbox_retry(self.name(), id, now_ms()).map_err(|e| e.to_string())?;
        if ok {
            self.wake_outbox.notify();
        }
        Ok(ok)
    }

    /// A connector added or changed since the last start is an audit entry (the configuration
    /// is the only way to change one). Its fingerprint is kept beside the poll cursors.
    fn audit_configuration(&self, engine: &TriageEngine) {
        let spec = serde_json::to_string(&self.connector.spec).unwrap_or_default();
        let digest: String = sha2::Sha256::digest(spec.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect();
        let key = format!("config:{}", self.name());
        let store = engine.store();
        match store.connector_cursor(&key) {
            Ok(Some(previous)) if previous == digest => {}
            Ok(previous) => {
                let action = if previous.is_some() { "connector.changed" } else { "connector.added" };
                engine.audit(
                    None,
                    None,
                    action,
                    self.name(),
                    &format!("kind {}, configuration {digest}", self.connector.spec.kind.as_str()),
                );
                if let Err(e) = store.set_connector_cursor(&key, &digest) {
                    tracing::warn!(connector = self.name(), error = %e, "could not record the connector's configuration");
                }
            }
            Err(e) => tracing::warn!(connector = self.name(), error = %e, "could not read the connector's configuration record"),
        }
    }

    /// Retention: processed events and delivered actions older than `retention_days` go (at
    /// start, then hourly); what waits, and dead letters, stay.
    fn prune(&self, engine: &TriageEngine) {
        let age = Duration::from_secs(u64::from(self.connector.spec.retention_days) * 86_400);
        let before = triage_core::time::rfc3339_utc(SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH));
        match engine.store().connector_prune(self.name(), &before) {
            Ok((0, 0)) => {}
            Ok((events, actions)) => tracing::info!(connector = self.name(), events, actions, before = %before, "connector history pruned"),
            Err(e) => tracing::warn!(connector = self.name(), error = %e, "connector history not pruned; will try again in an hour"),
        }
    }

    /// Whether this replica processes the connector's events and polls its system: with
    /// several replicas on one database, one at a time does (the `connector:<name>`
    /// leadership; another takes over when it dies). Webhooks are received by any replica and
    /// outbox actions delivered by all (each claim is exclusive); a single process always leads.
    fn leads(&self, engine: &TriageEngine) -> bool {
        match engine.store().hold_leadership(&format!("connector:{}", self.name())) {
            Ok(leads) => leads,
            Err(e) => {
                tracing::warn!(connector = self.name(), error = %e, "cannot tell whether this replica leads the connector; waiting");
                false
            }
        }
    }

    // ---- the event thread ------------------------------------------------------------------

    fn event_loop(&self) {
        let Some(engine) = self.wait_engine() else { return };
        self.audit_configuration(&engine);
        let mut pruned_at: Option<std::time::Instant> = None;
        let mut notified = std::collections::HashSet::new();
        while !self.stopping() {
            if !self.leads(&engine) {
                self.wake_events.wait(Duration::from_secs(1));
                continue;
            }
            if pruned_at.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
                self.prune(&engine);
                pruned_at = Some(std::time::Instant::now());
            }
            let pending = match engine.store().connector_events(self.name(), Some(EventState::Pending), 50) {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(connector = self.name(), error = %e, "cannot read connector events");
                    self.wake_events.wait(Duration::from_secs(5));
                    continue;
                }
            };
            let mut blocked = false;
            for ev in &pending {
                if self.stopping() {
                    return;
                }
                match self.process(&engine, ev) {
                    Ok(()) => {}
                    Err(CallError::Transient { message, .. }) => {
                        // the source is unreachable: keep the event, try again shortly
                        tracing::warn!(connector = self.name(), event = %ev.event_key, error = %message, "event waits for the source");
                        self.note_error(&message);
                        blocked = true;
                        break;
                    }
                    Err(CallError::Permanent(message)) => {
                        tracing::warn!(connector = self.name(), event = %ev.event_key, error = %message, "event failed");
                        self.note_error(&message);
                        let _ = engine.store().connector_event_finish(ev.id, EventState::Failed, Some(&message));
                    }
                }
            }
            self.incident_notes(&engine, &mut notified);
            if pending.is_empty() || blocked {
                self.wake_events.wait(if blocked { Duration::from_secs(5) } else { Duration::from_secs(1) });
            }
        }
    }

    /// One event to a triage (new or changed text), a resolved ticket, or nothing.
    fn process(&self, engine: &TriageEngine, stored: &ConnectorEvent) -> Result<(), CallError> {
        let store = engine.store();
        let storage = |e: triage_engine::connector_store::StoreError| CallError::Transient {
            message: format!("store: {e}"),
            retry_after: None,
            in_doubt: false,
        };
        let mut event: InboundEvent = serde_json::from_value(stored.payload.clone())
            .map_err(|e| CallError::Permanent(format!("stored event is not readable: {e}")))?;
        if !event.complete {
            self.system.complete(&self.http, &self.connector, &mut event)?;
        }
        let known = store.connector_ticket(self.name(), &event.external_id).map_err(storage)?;
        let ignore = |why: &str| {
            tracing::debug!(connector = self.name(), ticket = %event.external_id, why, "event ignored");
            store.connector_event_finish(stored.id, EventState::Ignored, Some(why)).map_err(storage)
        };
        let tenant =
            known.as_ref().and_then(|k| k.tenant.clone()).or_else(|| self.connector.tenant_for(event.source.as_deref()).map(String::from));
        let Some(tenant) = tenant else {
            return ignore(&format!("source {:?} maps to no tenant", event.source.as_deref().unwrap_or("")));
        };
        if event.resolution.is_some() {
            if known.as_ref().is_some_and(|k| k.resolved)
                && known.as_ref().and_then(|k| k.state.get("resolved_hash")).and_then(|v| v.as_str()) == Some(&resolution_hash(&event))
            {
                return ignore("resolution already stored");
            }
            return self.resolve(engine, stored, &event, &tenant, known);
        }
        if self.connector.spec.user.is_some() && event.author == self.connector.spec.user {
            return ignore("our own change");
        }
        let text_hash = text_hash(&event);
        if known.as_ref().is_some_and(|k| k.text_hash == text_hash) {
            return ignore("text unchanged");
        }
        let description = event.description_text();
        let external_id = self.external_id(&event.external_id);
        let ticket =
            match NewTicket::parse(event.title.as_deref(), description.as_deref(), Some(&tenant), Channel::Other, None, Some(&external_id))
            {
                Ok(t) => t,
                Err(e) => return Err(CallError::Permanent(format!("ticket refused: {e}"))),
            };
        let outcome = engine.triage(&ticket).map_err(|e| CallError::Permanent(format!("triage failed: {e}")))?;
        let marker = format!("{}:{}", self.name(), outcome.triage_id);
        // the note carries its own action's marker, which `has_marker` looks for
        let note_marker = format!("{marker}:note");
        let mut actions = vec![NewOutboxAction {
            connector: self.name().to_owned(),
            external_id: event.external_id.clone(),
            action: "note".into(),
            payload: serde_json::to_value(Action::Note {
                text: self.connector.template.render(&outcome, self.connector.spec.note_fixes, &note_marker),
            })
            .expect("an action serialises"),
            marker: note_marker,
        }];
        let mut set = serde_json::Map::new();
        let mut fields = BTreeMap::new();
        for p in &outcome.labels {
            let policy = self.connector.spec.write_back.get(&p.head).copied().unwrap_or(Policy::Never);
            if let (true, Some((field, value))) = (policy.allows(p.decision), self.connector.field_value(&p.head, &p.label)) {
                set.insert(p.head.clone(), serde_json::json!({"label": p.label, "field": field, "value": value}));
                fields.insert(field.to_owned(), value);
            }
        }
        if !fields.is_empty() {
            actions.push(NewOutboxAction {
                connector: self.name().to_owned(),
                external_id: event.external_id.clone(),
                action: "fields".into(),
                payload: serde_json::to_value(Action::Fields { fields }).expect("an action serialises"),
                marker: format!("{marker}:fields"),
            });
        }
        let mut state = known.as_ref().map(|k| k.state.clone()).unwrap_or_else(|| serde_json::json!({}));
        state["set"] = serde_json::Value::Object(set);
        if state.get("first_fields").is_none() {
            state["first_fields"] = serde_json::to_value(&event.fields).unwrap_or_default();
        }
        let record = ConnectorTicket {
            connector: self.name().to_owned(),
            external_id: event.external_id.clone(),
            tenant: Some(tenant),
            text_hash,
            triage_id: Some(outcome.triage_id.to_string()),
            state,
            resolved: false,
        };
        let queued = store.connector_apply(&record, &actions, Some(stored.id)).map_err(storage)?;
        tracing::info!(connector = self.name(), ticket = %event.external_id, triage_id = %outcome.triage_id, queued, "source ticket triaged");
        self.wake_outbox.notify();
        Ok(())
    }

    /// Internal notes for this connector's tickets that became members of a major incident:
    /// one when it opens (for tickets triaged before it opened: later ones were told in their
    /// own triage note) and one when it is confirmed with a message (for tickets triaged before
    /// the confirmation). Each note's marker names the incident, its status and the triage, so
    /// the outbox writes it once however often this runs. `done` remembers members already
    /// seen, so each is looked up once.
    fn incident_notes(&self, engine: &TriageEngine, done: &mut std::collections::HashSet<String>) {
        use triage_engine::incidents::Status;
        if !self.connector.spec.incident_notes {
            return;
        }
        if done.len() > 100_000 {
            done.clear();
        }
        let incidents = engine.incidents();
        let prefix = format!("{}:", self.name());
        let mut queued = 0;
        for summary in incidents.list(None, None) {
            let Ok(incident) = incidents.get(&summary.id, None) else { continue };
            let (status, since) = match (incident.status, &incident.message) {
                (Status::Suspected, _) => ("suspected", &incident.opened_at),
                (Status::Confirmed, Some(_)) => ("confirmed", &incident.status_changed_at),
                _ => continue,
            };
            for m in incident.members.as_deref().unwrap_or_default() {
                let marker = format!("{}:{}:{status}:{}", self.name(), incident.id, m.triage_id);
                if done.contains(&marker) {
                    continue;
                }
                let Some(tenant) = m.tenant.as_deref().and_then(|t| TenantId::parse(t).ok()) else {
                    done.insert(marker);
                    continue;
                };
                let store = engine.store();
                // the member's triage record may not be written yet (records are written in
                // batches, and under load a batch can trail the detector): look again next pass
                // rather than decide now; every decision below is final and remembered
                let Ok(Some(record)) = store.triage_record(Some(&tenant), &m.triage_id) else { continue };
                done.insert(marker.clone());
                if m.at.as_str() > since.as_str() {
                    continue;
                }
                let Some(source_id) = record.external_id.as_deref().and_then(|e| e.strip_prefix(&prefix)) else { continue };
                let Ok(Some(ticket)) = store.connector_ticket(self.name(), source_id) else { continue };
                // another tenant may name its own tickets like ours: the note goes only to a
                // source ticket of the member's own tenant
                if ticket.resolved || ticket.tenant.as_deref() != Some(tenant.as_str()) {
                    continue;
                }
                // the note shows the incident as the member's tenant sees it (its own terms and
                // terms shared by two tenants, never another tenant's own words)
                let Ok(seen) = incidents.get(&incident.id, Some(&tenant)) else { continue };
                let action = NewOutboxAction {
                    connector: self.name().to_owned(),
                    external_id: source_id.to_owned(),
                    action: "note".into(),
                    payload: serde_json::to_value(Action::Note { text: crate::note::incident_note(&seen, &marker) })
                        .expect("an action serialises"),
                    marker: marker.clone(),
                };
                match store.connector_apply(&ticket, &[action], None) {
                    Ok(n) => queued += n,
                    Err(e) => {
                        // not remembered: the next pass tries again (the marker keeps it once)
                        done.remove(&marker);
                        tracing::error!(connector = self.name(), incident = %incident.id, error = %e, "cannot queue an incident note")
                    }
                }
            }
        }
        if queued > 0 {
            tracing::info!(connector = self.name(), queued, "incident notes queued");
            self.wake_outbox.notify();
        }
    }

    /// Our external id for a source ticket: the connector's name and the source id, so two
    /// systems' ticket 123 never overwrite each other.
    fn external_id(&self, source_id: &str) -> String {
        format!("{}:{source_id}", self.name())
    }

    /// A resolved source ticket becomes a resolved ticket of ours; fields an agent changed
    /// after we set them (under whichever policy allowed the write) become label corrections.
    fn resolve(
        &self,
        engine: &TriageEngine,
        stored: &ConnectorEvent,
        event: &InboundEvent,
        tenant: &str,
        known: Option<ConnectorTicket>,
    ) -> Result<(), CallError> {
        let mut resolution = event.resolution.clone().unwrap_or_default();
        let ours = known.as_ref().and_then(|k| k.state.get("set")).and_then(|s| s.as_object());
        resolution.first_contact = first_contact_with_our_routing(&resolution, ours, &event.fields);
        let label = |head: &str| {
            let field = &self.connector.spec.fields.get(head)?.field;
            self.connector.label_for(head, event.fields.get(field)?)
        };
        let (category, priority, group) = (label("category"), label("priority"), label("assignment_group"));
        let description = event.description_text();
        let external_id = self.external_id(&event.external_id);
        let notes = if resolution.notes.trim().is_empty() { "(resolved without a note)".to_owned() } else { resolution.notes.clone() };
        let raw = RawResolved {
            tenant,
            external_id: &external_id,
            title: event.title.as_deref(),
            description: description.as_deref(),
            category: category.as_deref(),
            priority: priority.as_deref(),
            assignment_group: group.as_deref(),
            resolution_notes: Some(&notes),
            resolved_at_first_contact: resolution.first_contact,
            kb_article: None,
            opened_at: resolution.opened_at.as_deref(),
            resolved_at: resolution.resolved_at.as_deref(),
        };
        let ticket = ResolvedTicket::parse(&raw).map_err(|e| CallError::Permanent(format!("resolved ticket refused: {e}")))?;
        engine.ingest_resolved(std::slice::from_ref(&ticket)).map_err(|e| CallError::Transient {
            message: format!("storing the resolved ticket failed: {e}"),
            retry_after: None,
            in_doubt: false,
        })?;
        // fields we set that an agent changed since: the agent's value is the label
        let mut corrected = BTreeMap::new();
        if let Some(k) = &known
            && let Some(set) = k.state.get("set").and_then(|s| s.as_object())
        {
            for (head, what) in set {
                let (Some(field), Some(value)) = (what["field"].as_str(), what["value"].as_str()) else { continue };
                if let Some(now) = event.fields.get(field).filter(|now| now.as_str() != value)
                    && let Some(label) = self.connector.label_for(head, now)
                {
                    corrected.insert(head.clone(), label);
                }
            }
        }
        if let (false, Some(triage_id)) = (corrected.is_empty(), known.as_ref().and_then(|k| k.triage_id.as_deref())) {
            let tenant_id = TenantId::parse(tenant).ok();
            let input = FeedbackInput { suggestion: None, outcome: Outcome::Corrected, corrected_labels: corrected.clone() };
            match engine.add_feedback(tenant_id.as_ref(), triage_id, input) {
                Ok(_) => {
                    tracing::info!(connector = self.name(), ticket = %event.external_id, heads = ?corrected.keys().collect::<Vec<_>>(), "agent's change recorded as a label correction")
                }
                Err(e) => tracing::warn!(connector = self.name(), ticket = %event.external_id, error = %e, "label correction not recorded"),
            }
        }
        let mut state = known.as_ref().map(|k| k.state.clone()).unwrap_or_else(|| serde_json::json!({}));
        state["resolved_hash"] = serde_json::Value::String(resolution_hash(event));
        let record = ConnectorTicket {
            connector: self.name().to_owned(),
            external_id: event.external_id.clone(),
            tenant: Some(tenant.to_owned()),
            text_hash: known.as_ref().map_or_else(|| text_hash(event), |k| k.text_hash.clone()),
            triage_id: known.as_ref().and_then(|k| k.triage_id.clone()),
            state,
            resolved: true,
        };
        engine.store().connector_apply(&record, &[], Some(stored.id)).map_err(|e| CallError::Transient {
            message: format!("store: {e}"),
            retry_after: None,
            in_doubt: false,
        })?;
        tracing::info!(connector = self.name(), ticket = %event.external_id, first_contact = ?resolution.first_contact, "source ticket stored as resolved");
        Ok(())
    }

    // ---- the outbox thread -----------------------------------------------------------------

    fn outbox_loop(&self) {
        let Some(engine) = self.wait_engine() else { return };
        while !self.stopping() {
            if self.is_paused(&engine) {
                self.wake_outbox.wait(Duration::from_secs(1));
                continue;
            }
            let paused = self.live.lock().unwrap_or_else(|p| p.into_inner()).paused_until_ms.filter(|&t| t > now_ms());
            if let Some(until) = paused {
                self.wake_outbox.wait(Duration::from_millis((until - now_ms()).clamp(1, 60_000) as u64));
                continue;
            }
            // one at a time: a rate limit or an outage stops the queue before it burns tries
            // a lease only where other replicas could claim too: on SQLite (one process) a row
            // still `sending` is always a dead worker's, taken back at once, in doubt
            let lease = if engine.store().shared() { self.connector.claim_lease_ms() } else { 0 };
            let claimed = match engine.store().outbox_claim(self.name(), now_ms(), 1, lease) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(connector = self.name(), error = %e, "cannot read the outbox");
                    self.wake_outbox.wait(Duration::from_secs(5));
                    continue;
                }
            };
            let Some(action) = claimed.into_iter().next() else {
                self.wake_outbox.wait(Duration::from_millis(500));
                continue;
            };
            let update = self.deliver(&engine, &action);
            match engine.store().outbox_update(action.id, action.attempts, &update) {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    connector = self.name(),
                    action = action.id,
                    "the action's lease ended before its delivery was recorded; another claim holds it, so this result is dropped"
                ),
                Err(e) => {
                    // the row stays `sending`: once its lease is over the next claim treats it as
                    // in doubt and checks first
                    tracing::error!(connector = self.name(), action = action.id, error = %e, "cannot record a delivery");
                    self.wake_outbox.wait(Duration::from_secs(5));
                }
            }
        }
    }

    fn deliver(&self, engine: &TriageEngine, a: &OutboxAction) -> OutboxUpdate {
        let action: Action = match serde_json::from_value(a.payload.clone()) {
            Ok(x) => x,
            Err(e) => return self.dead(engine, a, format!("unreadable action: {e}")),
        };
        let started = std::time::Instant::now();
        let result = match (&action, a.in_doubt) {
            // an earlier attempt may have posted it: look before posting again
            (Action::Note { .. }, true) => match self.system.has_marker(&self.http, &a.external_id, &a.marker) {
                Ok(true) => {
                    tracing::info!(connector = self.name(), action = a.id, "note found on the ticket: not posted again");
                    Ok(())
                }
                Ok(false) => self.system.deliver(&self.http, &a.external_id, &action),
                Err(e) => Err(e),
            },
            _ => self.system.deliver(&self.http, &a.external_id, &action),
        };
        match result {
            Ok(()) => {
                tracing::info!(connector = self.name(), action = a.id, kind = action.name(), ticket = %a.external_id, attempts = a.attempts, millis = started.elapsed().as_millis() as u64, "action delivered");
                OutboxUpdate::Delivered
            }
            Err(CallError::Permanent(error)) => self.dead(engine, a, error),
            Err(CallError::Transient { message, retry_after, in_doubt }) => {
                self.note_error(&message);
                if a.attempts >= self.connector.spec.max_attempts {
                    return self.dead(engine, a, format!("{message} (after {} tries)", a.attempts));
                }
                let delay = backoff(self.connector.spec.retry_base_ms, self.connector.spec.retry_max_ms, a.attempts, jitter());
                let delay = retry_after.map_or(delay, |r| delay.max(r.as_millis() as u64));
                if let Some(r) = retry_after {
                    self.live.lock().unwrap_or_else(|p| p.into_inner()).paused_until_ms = Some(now_ms() + r.as_millis() as i64);
                }
                tracing::warn!(connector = self.name(), action = a.id, attempts = a.attempts, retry_in_ms = delay, in_doubt, error = %message, "delivery failed; will retry");
                OutboxUpdate::Retry { next_attempt_ms: now_ms() + delay as i64, error: message, in_doubt: in_doubt || a.in_doubt }
            }
        }
    }

    fn dead(&self, engine: &TriageEngine, a: &OutboxAction, error: String) -> OutboxUpdate {
        tracing::error!(connector = self.name(), action = a.id, ticket = %a.external_id, error = %error, "action is a dead letter");
        self.note_error(&error);
        engine.audit(None, None, "connector.dead_letter", &format!("{}/outbox/{}", self.name(), a.id), &error);
        OutboxUpdate::Dead { error }
    }

    // ---- the poller ------------------------------------------------------------------------

    fn poll_loop(&self) {
        let Some(engine) = self.wait_engine() else { return };
        let interval = Duration::from_secs(self.connector.spec.poll_interval_secs);
        while !self.stopping() {
            if !self.leads(&engine) {
                self.wake_poll.wait(interval.min(Duration::from_secs(1)));
                continue;
            }
            match self.poll_once(&engine) {
                Ok(n) if n > 0 => self.wake_events.notify(),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(connector = self.name(), error = %e, "poll failed; will try again");
                    self.note_error(&e);
                }
            }
            self.wake_poll.wait(interval);
        }
    }

    /// One poll: changed tickets stored as events, then the cursor moved. Events first, so a
    /// crash between the two re-reads a page (deduplicated by key) rather than skipping one.
    pub fn poll_once(&self, engine: &TriageEngine) -> Result<usize, String> {
        let store = engine.store();
        let cursor = store.connector_cursor(self.name()).map_err(|e| e.to_string())?;
        let poll = self.system.poll(&self.http, &self.connector, cursor.as_deref()).map_err(|e| e.to_string())?;
        let mut new = 0;
        for e in &poll.events {
            let event = NewConnectorEvent {
                connector: self.name().to_owned(),
                event_key: e.event_key.clone(),
                external_id: e.external_id.clone(),
                payload: serde_json::to_value(e).map_err(|e| e.to_string())?,
            };
            new += usize::from(store.connector_event_insert(&event).map_err(|e| e.to_string())?);
        }
        if let Some(c) = &poll.cursor {
            store.set_connector_cursor(self.name(), c).map_err(|e| e.to_string())?;
        }
        self.live.lock().unwrap_or_else(|p| p.into_inner()).last_poll_at = Some(now_text());
        Ok(new)
    }

    /// Wakes the poller now (tests, and an admin's "poll now").
    pub fn poll_now(&self) {
        self.wake_poll.notify();
    }
}

/// The system's first-contact verdict with our own routing discounted: where the system counts
/// moves between assignment groups itself (ServiceNow), one move is allowed only when it was
/// ours, that is we set the assignment group and the ticket still has the group we set.
fn first_contact_with_our_routing(
    resolution: &Resolution,
    ours: Option<&serde_json::Map<String, serde_json::Value>>,
    fields_now: &BTreeMap<String, String>,
) -> Option<bool> {
    let verdict = resolution.first_contact?;
    match resolution.group_moves {
        Some(moves) if verdict && moves > 0 => {
            let ours_holds = ours.and_then(|set| set.get("assignment_group")).is_some_and(|what| {
                matches!((what["field"].as_str(), what["value"].as_str()),
                    (Some(field), Some(value)) if fields_now.get(field).map(String::as_str) == Some(value))
            });
            Some(moves == 1 && ours_holds)
        }
        _ => Some(verdict),
    }
}
/// Hash of what is triaged: a change to anything else does not re-triage.
fn text_hash(e: &InboundEvent) -> String {
    let mut h = sha2::Sha256::new();
    h.update(e.title.as_deref().unwrap_or_default());
    h.update([0]);
    h.update(e.description.as_deref().unwrap_or_default());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Hash of a resolution and the fields it was resolved with (a second, identical resolved
/// event is not stored again; a reopened and re-resolved ticket is).
fn resolution_hash(e: &InboundEvent) -> String {
    let mut h = sha2::Sha256::new();
    h.update(serde_json::to_string(&(&e.resolution, &e.fields, &e.title)).unwrap_or_default());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Exponential back-off with jitter: `base * 2^(attempt-1)`, capped at `max`, then scaled by
/// `jitter` in [0.5, 1.0] so that many actions failing together do not retry together.
pub fn backoff(base_ms: u64, max_ms: u64, attempt: u32, jitter: f64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(30));
    let capped = exp.min(max_ms) as f64;
    (capped * jitter.clamp(0.5, 1.0)) as u64
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    0.5 + f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_group_move_breaks_first_contact_unless_it_was_our_routing_and_still_holds() {
        let resolution = |first_contact, group_moves| Resolution { first_contact, group_moves, ..Resolution::default() };
        let set = serde_json::json!({"assignment_group": {"field": "assignment_group", "value": "Network"}});
        let ours = set.as_object();
        let now = |group: &str| BTreeMap::from([("assignment_group".to_owned(), group.to_owned())]);
        let verdict = |r: &Resolution, ours, group| first_contact_with_our_routing(r, ours, &now(group));

        assert_eq!(verdict(&resolution(Some(true), Some(0)), ours, "Network"), Some(true), "never moved");
        assert_eq!(verdict(&resolution(Some(true), Some(1)), ours, "Network"), Some(true), "the one move was our routing");
        assert_eq!(verdict(&resolution(Some(true), Some(1)), None, "Network"), Some(false), "we set no group: a person moved it");
        assert_eq!(verdict(&resolution(Some(true), Some(1)), ours, "Desktop"), Some(false), "moved away from the group we set");
        assert_eq!(verdict(&resolution(Some(true), Some(2)), ours, "Network"), Some(false), "moved away and back");
        assert_eq!(verdict(&resolution(Some(false), Some(1)), ours, "Network"), Some(false), "reopened stays no");
        assert_eq!(verdict(&resolution(None, Some(1)), ours, "Network"), None, "unknown stays unknown");
        assert_eq!(verdict(&resolution(Some(true), None), None, "Desktop"), Some(true), "systems that exempt our routing themselves");
    }

    #[test]
    fn a_pause_is_kept_in_the_store_so_it_survives_a_restart_and_holds_on_every_replica() {
        let connector = || {
            crate::config::validate(
                &[crate::config::tests::spec(crate::config::Kind::Zammad)],
                &|t| t == "northmoor",
                &HEADS,
                &crate::config::tests::env,
            )
            .unwrap()
            .remove(0)
        };
        let engine = Arc::new(TriageEngine::in_memory(Vec::new(), 5).unwrap());
        let source: EngineSource = {
            let engine = engine.clone();
            Arc::new(move || Some(engine.clone()))
        };
        let stop = Arc::new(AtomicBool::new(false));
        let first = Runtime::new(connector(), source.clone(), stop.clone());
        assert!(!first.is_paused(&engine));
        first.set_paused(&engine, true).unwrap();
        // another runtime on the same store: a restarted process, or another replica
        let second = Runtime::new(connector(), source, stop);
        assert!(second.is_paused(&engine), "the pause is read from the store");
        second.set_paused(&engine, false).unwrap();
        assert!(!first.is_paused(&engine), "and a resume on one is seen by the other");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_only_shortens() {
        assert_eq!(backoff(1000, 60_000, 1, 1.0), 1000);
        assert_eq!(backoff(1000, 60_000, 2, 1.0), 2000);
        assert_eq!(backoff(1000, 60_000, 4, 1.0), 8000);
        assert_eq!(backoff(1000, 60_000, 20, 1.0), 60_000);
        assert_eq!(backoff(1000, 60_000, 4, 0.5), 4000);
        assert_eq!(backoff(1000, 60_000, 4, 0.1), 4000, "jitter is clamped to [0.5, 1]");
        let j = jitter();
        assert!((0.5..=1.0).contains(&j));
    }

    #[test]
    fn only_title_and_description_make_the_text_hash() {
        let a = InboundEvent { title: Some("VPN".into()), description: Some("drops".into()), ..Default::default() };
        let mut b = a.clone();
        b.fields.insert("Queue".into(), "Network".into());
        b.author = Some("agent".into());
        assert_eq!(text_hash(&a), text_hash(&b), "a field change is not a text change");
        b.description = Some("drops hourly".into());
        assert_ne!(text_hash(&a), text_hash(&b));
        let c = InboundEvent { title: Some("VPNdrops".into()), description: None, ..Default::default() };
        let d = InboundEvent { title: Some("VPN".into()), description: Some("drops".into()), ..Default::default() };
        assert_ne!(text_hash(&c), text_hash(&d), "title and description are kept apart");
    }
}
