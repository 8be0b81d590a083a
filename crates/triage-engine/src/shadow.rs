//! Shadow mode: a registered candidate model answers beside the live one on live traffic, off
//! the request path, so a desk sees how it would have done before promoting it.
//!
//! A triage offers its (cleaned, redacted) text and the live labels to the shadow thread through
//! a bounded queue; when the queue is full the ticket is skipped and counted (`dropped`), so the
//! request never waits. The thread predicts with the candidate and counts, per head, how often
//! the two agree. When the truth arrives (a resolved ticket with the same tenant and external
//! id, or an agent's label correction on the triage), both models' answers on that ticket are
//! scored. The projected first-contact rate is the mean first-contact probability each model
//! would have given (the candidate's own `first_contact` head when it has one).
//!
//! The figures live in memory (a restart, a promotion or a stop starts them again); at most
//! [`REMEMBERED`] shadowed tickets are kept for scoring, oldest forgotten first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use triage_model::bundle::ModelBundle;

/// Tickets waiting for the shadow thread before new ones are skipped.
const QUEUE: usize = 1024;
/// Shadowed tickets remembered for scoring when their labels arrive.
pub(crate) const REMEMBERED: usize = 50_000;
/// Heads scored against resolved tickets and corrections.
const SCORED_HEADS: [&str; 3] = ["category", "priority", "assignment_group"];

/// One triage offered to the shadow.
pub(crate) struct ShadowJob {
    pub triage_id: String,
    pub ticket_key: Option<(String, String)>,
    pub text: String,
    pub live: BTreeMap<String, String>,
    pub live_first_contact: f32,
}

/// Both models' labels for one shadowed ticket.
#[derive(Debug, Clone)]
struct Answers {
    live: BTreeMap<String, String>,
    candidate: BTreeMap<String, String>,
    scored: bool,
}

#[derive(Debug, Default)]
struct Figures {
    triages: u64,
    dropped: u64,
    agree: BTreeMap<String, (u64, u64)>,
    labelled: BTreeMap<String, (u64, u64, u64)>,
    first_contact: (f64, f64, u64),
    by_triage: HashMap<String, Answers>,
    by_ticket: HashMap<(String, String), String>,
    order: VecDeque<String>,
}

impl Figures {
    fn remember(&mut self, triage_id: String, key: Option<(String, String)>, answers: Answers) {
        if let Some(k) = key {
            self.by_ticket.insert(k, triage_id.clone());
        }
        self.by_triage.insert(triage_id.clone(), answers);
        self.order.push_back(triage_id);
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.by_triage.remove(&old);
            }
        }
        if self.by_ticket.len() > 2 * REMEMBERED {
            let kept = &self.by_triage;
            self.by_ticket.retain(|_, t| kept.contains_key(t));
        }
    }

    fn score(&mut self, triage_id: &str, truth: &BTreeMap<String, String>) {
        let Some(a) = self.by_triage.get_mut(triage_id) else { return };
        if a.scored {
            return;
        }
        a.scored = true;
        for head in SCORED_HEADS {
            let Some(right) = truth.get(head) else { continue };
            let e = self.labelled.entry(head.to_owned()).or_default();
            e.0 += 1;
            e.1 += u64::from(a.live.get(head) == Some(right));
            e.2 += u64::from(a.candidate.get(head) == Some(right));
        }
    }
}

/// One head's shadow figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowHead {
    /// Tickets both models labelled.
    pub compared: u64,
    /// Share of those where they gave the same label.
    pub agreement: Option<f64>,
    /// Tickets whose true label is known (resolved, or corrected by an agent).
    pub labelled: u64,
    /// The live model's accuracy on them.
    pub live_accuracy: Option<f64>,
    /// The candidate's accuracy on the same tickets.
    pub candidate_accuracy: Option<f64>,
}

/// Where a shadow run stands.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ShadowStatus {
    /// The candidate's version.
    pub version: String,
    /// When it started (UTC).
    pub started_at: String,
    /// Tickets the candidate answered.
    pub triages: u64,
    /// Tickets skipped because the shadow queue was full (the request never waits).
    pub dropped: u64,
    /// Per head.
    pub heads: BTreeMap<String, ShadowHead>,
    /// Mean first-contact probability the live model gave on the shadowed tickets.
    pub live_first_contact: Option<f64>,
    /// The same for the candidate (its `first_contact` head, else the live figure).
    pub candidate_first_contact: Option<f64>,
}

struct Running {
    version: String,
    started_at: String,
    tx: SyncSender<ShadowJob>,
    figures: Arc<Mutex<Figures>>,
}

/// The engine's shadow slot: empty, or one candidate running.
#[derive(Default)]
pub(crate) struct Shadow {
    running: Mutex<Option<Running>>,
}

impl Shadow {
    /// Starts shadowing with `bundle` (replacing a running shadow).
    pub(crate) fn start(&self, version: &str, bundle: Arc<ModelBundle>) -> std::io::Result<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ShadowJob>(QUEUE);
        let figures = Arc::new(Mutex::new(Figures::default()));
        let shared = figures.clone();
        std::thread::Builder::new().name(format!("shadow-{version}")).spawn(move || {
            // ends when the sender goes (stop, or another start)
            while let Ok(job) = rx.recv() {
                let predictions = bundle.classifier.predict_cleaned_with(&job.text, &|_, _| true);
                let candidate: BTreeMap<String, String> = predictions.iter().map(|p| (p.head.clone(), p.label.clone())).collect();
                let candidate_fc = predictions
                    .iter()
                    .find(|p| p.head == crate::fusion::FIRST_CONTACT_HEAD)
                    .map(|p| p.alternatives.iter().find(|a| a.label == "yes").map_or(0.0, |a| a.probability))
                    .unwrap_or(job.live_first_contact);
                let mut f = shared.lock().unwrap_or_else(|p| p.into_inner());
                f.triages += 1;
                for (head, label) in &job.live {
                    if let Some(c) = candidate.get(head) {
                        let e = f.agree.entry(head.clone()).or_default();
                        e.0 += 1;
                        e.1 += u64::from(c == label);
                    }
                }
                f.first_contact.0 += f64::from(job.live_first_contact);
                f.first_contact.1 += f64::from(candidate_fc);
                f.first_contact.2 += 1;
                f.remember(job.triage_id, job.ticket_key, Answers { live: job.live, candidate, scored: false });
            }
        })?;
        let started_at = triage_core::time::rfc3339_utc(std::time::SystemTime::now());
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = Some(Running { version: version.to_owned(), started_at, tx, figures });
        Ok(())
    }

    /// Stops the shadow; whether one was running.
    pub(crate) fn stop(&self) -> bool {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).take().is_some()
    }

    /// Offers a triage; never blocks (the job is built only while a shadow runs).
    pub(crate) fn offer(&self, job: impl FnOnce() -> ShadowJob) {
        let guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Some(r) = guard.as_ref() else { return };
        if let Err(TrySendError::Full(_)) = r.tx.try_send(job()) {
            r.figures.lock().unwrap_or_else(|p| p.into_inner()).dropped += 1;
        }
    }

    /// A resolved ticket's labels: scores both models' answers on it, if it was shadowed.
    pub(crate) fn resolved(&self, tenant: &str, external_id: &str, truth: &BTreeMap<String, String>) {
        let guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Some(r) = guard.as_ref() else { return };
        let mut f = r.figures.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(triage_id) = f.by_ticket.get(&(tenant.to_owned(), external_id.to_owned())).cloned() {
            f.score(&triage_id, truth);
        }
    }

    /// An agent's corrected labels on a triage.
    pub(crate) fn corrected(&self, triage_id: &str, truth: &BTreeMap<String, String>) {
        let guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let Some(r) = guard.as_ref() else { return };
        r.figures.lock().unwrap_or_else(|p| p.into_inner()).score(triage_id, truth);
    }

    /// The running shadow's figures.
    pub(crate) fn status(&self) -> Option<ShadowStatus> {
        let guard = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let r = guard.as_ref()?;
        let f = r.figures.lock().unwrap_or_else(|p| p.into_inner());
        let share = |a: u64, n: u64| (n > 0).then(|| a as f64 / n as f64);
        let mut heads: BTreeMap<String, ShadowHead> = f
            .agree
            .iter()
            .map(|(h, &(n, same))| {
                (
                    h.clone(),
                    ShadowHead { compared: n, agreement: share(same, n), labelled: 0, live_accuracy: None, candidate_accuracy: None },
                )
            })
            .collect();
        for (h, &(n, live, cand)) in &f.labelled {
            let e = heads.entry(h.clone()).or_insert(ShadowHead {
                compared: 0,
                agreement: None,
                labelled: 0,
                live_accuracy: None,
                candidate_accuracy: None,
            });
            e.labelled = n;
            e.live_accuracy = share(live, n);
            e.candidate_accuracy = share(cand, n);
        }
        let (live_fc, cand_fc, n_fc) = f.first_contact;
        Some(ShadowStatus {
            version: r.version.clone(),
            started_at: r.started_at.clone(),
            triages: f.triages,
            dropped: f.dropped,
            heads,
            live_first_contact: (n_fc > 0).then(|| live_fc / n_fc as f64),
            candidate_first_contact: (n_fc > 0).then(|| cand_fc / n_fc as f64),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(h, l)| ((*h).to_owned(), (*l).to_owned())).collect()
    }

    #[test]
    fn answers_are_scored_once_when_the_truth_arrives_and_old_ones_are_forgotten() {
        let mut f = Figures::default();
        let answers = Answers { live: labels(&[("category", "network")]), candidate: labels(&[("category", "accounts")]), scored: false };
        f.remember("t1".into(), Some(("northmoor".into(), "INC1".into())), answers);
        f.score("t1", &labels(&[("category", "accounts")]));
        f.score("t1", &labels(&[("category", "network")]));
        assert_eq!(f.labelled["category"], (1, 0, 1), "scored once: the candidate was right, the live model wrong");
        f.score("unknown", &labels(&[("category", "x")]));
        assert_eq!(f.labelled["category"].0, 1);
        for i in 0..REMEMBERED + 5 {
            f.remember(format!("n{i}"), None, Answers { live: BTreeMap::new(), candidate: BTreeMap::new(), scored: false });
        }
        assert_eq!(f.by_triage.len(), REMEMBERED);
        assert!(!f.by_triage.contains_key("t1"), "the oldest is forgotten first");
    }
}
