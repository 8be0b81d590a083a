//! Resolved tickets in, feedback in: what the engine learns from.

use std::collections::BTreeMap;

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::{ResolvedTicket, parse_corrected_label};
use triage_kb::TicketDoc;
use triage_store::{Feedback, FeedbackWrite, Outcome};

use crate::{EngineError, Result, TriageEngine};

/// The index form of a resolved ticket.
/// The description is cleaned again: tickets stored before cleaning existed (or before a rule
/// was added) are indexed without their e-mail tails; for the rest it changes nothing.
pub(crate) fn ticket_doc(t: &ResolvedTicket) -> TicketDoc {
    TicketDoc {
        tenant: t.tenant.clone(),
        external_id: t.external_id.clone(),
        title: t.title.clone(),
        description: triage_core::clean::clean_body(&t.description, triage_core::clean::boilerplate()).text.into_owned(),
        resolution_notes: t.resolution_notes.clone(),
        category: t.category.clone().unwrap_or_default(),
    }
}

/// Heads a correction may name even when the live model lacks them: a retraining learns them.
const CORRECTABLE_HEADS: [&str; 3] = ["category", "priority", "assignment_group"];

/// Feedback as it arrives, before it is checked against the triage it refers to.
#[derive(Debug, Clone)]
pub struct FeedbackInput {
    /// `kind:id` of the suggestion used (`article:account-locked-out`, `ticket:INC001`).
    pub suggestion: Option<String>,
    /// How the suggestion, or the triage, worked out.
    pub outcome: Outcome,
    /// Head name -> the label the agent says is right; only the heads of [`TriageEngine::correction_heads`] are accepted.
    pub corrected_labels: BTreeMap<String, String>,
}

/// What storing resolved tickets did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestReport {
    /// Tickets new to the store.
    pub inserted: usize,
    /// Tickets that replaced a stored one with the same tenant and external id.
    pub updated: usize,
    /// The tickets are stored but the ticket index did not take them (it is repaired in the
    /// background from the store; until then they are not offered as similar tickets).
    pub index_pending: bool,
}

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erasure {
    /// Whether the ticket existed (it is gone from the store either way).
    pub existed: bool,
    /// The index did not commit the removal; the ticket is already left out of every search,
    /// and the index is repaired in the background.
    pub index_pending: bool,
}

impl TriageEngine {
    /// Stores resolved tickets (idempotent on tenant + external id) and indexes them. The store
    /// commits first, with the change sequence the index then records; if the index write
    /// fails (or the process dies before it), the index is behind the store: the report says
    /// so, and a repair (in the background, or at the next start) rebuilds it from the store.
    #[tracing::instrument(skip_all, fields(tickets = tickets.len()))]
    pub fn ingest_resolved(&self, tickets: &[ResolvedTicket]) -> Result<IngestReport> {
        let _writes = self.index_writes.lock().unwrap_or_else(|p| p.into_inner());
        let stored = self.store.upsert_resolved(tickets)?;
        for t in tickets {
            self.learner.observe(&t.tenant, &t.description, t.category.as_deref().or(t.assignment_group.as_deref()));
        }
        let docs: Vec<TicketDoc> = tickets.iter().map(ticket_doc).collect();
        let index_pending = self.index_result(self.tickets.upsert_at(&docs, Some(stored.seq)));
        for t in tickets {
            self.learn_from_ticket(t);
            // a shadowed ticket's labels have arrived: both models are scored on it
            let truth: std::collections::BTreeMap<String, String> =
                [("category", &t.category), ("priority", &t.priority), ("assignment_group", &t.assignment_group)]
                    .into_iter()
                    .filter_map(|(h, l)| l.clone().map(|l| (h.to_owned(), l)))
                    .collect();
            self.shadow.resolved(t.tenant.as_str(), &t.external_id, &truth);
        }
        tracing::debug!(inserted = stored.inserted, updated = stored.updated, index_pending, "resolved tickets ingested");
        Ok(IngestReport { inserted: stored.inserted, updated: stored.updated, index_pending })
    }

    /// Deletes one resolved ticket from the store and the index (right to erasure). Once the
    /// store has committed, the ticket is never offered again, even if the index write fails.
    pub fn erase_resolved(&self, tenant: &TenantId, external_id: &str) -> Result<Erasure> {
        let _writes = self.index_writes.lock().unwrap_or_else(|p| p.into_inner());
        let (existed, seq) = self.store.delete_resolved(tenant, external_id)?;
        let index_pending = self.index_result(self.tickets.delete_at(tenant, external_id, Some(seq)));
        self.learned.remove(tenant, &crate::learned::ticket_key(external_id));
        Ok(Erasure { existed, index_pending })
    }

    /// Learns (or forgets) a resolved ticket's phrasing for the article it names: its cleaned,
    /// redacted title and description (the caller's words, not the agent's notes), dated when
    /// it was resolved. A ticket that no longer names a learnable article is forgotten.
    pub(crate) fn learn_from_ticket(&self, t: &ResolvedTicket) {
        let key = crate::learned::ticket_key(&t.external_id);
        match t.kb_article.as_deref().filter(|a| self.learnable_article(a)) {
            Some(article) => {
                let description = triage_core::clean::clean_body(&t.description, triage_core::clean::boilerplate()).text;
                let text = format!("{}\n{description}", t.title);
                let day = t.resolved_at.as_deref().or(t.opened_at.as_deref()).and_then(crate::learned::day_of);
                self.learned.add(&t.tenant, &key, article, &text, 1.0, day.unwrap_or_else(crate::learned::today));
            }
            None => {
                self.learned.remove(&t.tenant, &key);
            }
        }
    }

    /// Whether an article may learn phrasing: it exists, and it is scoped to tenants or shared
    /// articles learn too (`learning.shared_articles`).
    fn learnable_article(&self, id: &str) -> bool {
        self.articles.get(id).is_some_and(|a| self.params.learning.shared_articles || a.audience != triage_core::tenant::Audience::All)
    }

    /// Learns from one article feedback on a triage of `tenant` with redacted `text`.
    pub(crate) fn learn_from_feedback(&self, tenant: &TenantId, triage_id: &str, suggestion: &str, outcome: Outcome, text: &str, day: f64) {
        let Some(article) = suggestion.strip_prefix("article:").filter(|a| self.learnable_article(a)) else { return };
        let p = self.learned.params();
        let weight = match outcome {
            Outcome::Resolved => 1.0,
            Outcome::Helpful => p.helpful_weight,
            Outcome::NotHelpful => -p.not_helpful_weight,
            Outcome::Corrected => return,
        };
        self.learned.add(tenant, &crate::learned::feedback_key(triage_id, article, outcome.as_str()), article, text, weight, day);
    }

    /// Learns from every stored article feedback (at start, after the resolved tickets), and
    /// marks learned phrasing as loaded from the store.
    pub(crate) fn load_learned_feedback(&self) -> Result<()> {
        if self.learned.params().enabled {
            self.store.for_each_article_feedback(&mut |f| {
                let day = crate::learned::day_of(&f.created_at).unwrap_or_else(crate::learned::today);
                self.learn_from_feedback(&f.tenant, &f.triage_id, &f.suggestion, f.outcome, &f.text, day);
            })?;
        }
        self.learned.set_loaded();
        Ok(())
    }

    /// What the boilerplate detector learned for `tenant` from its resolved tickets (counted
    /// since the start, and at start from the store once the similar-ticket scorer loads; see
    /// [`TriageEngine::count_boilerplate`] for offline tools).
    pub fn learned_boilerplate(&self, tenant: &TenantId) -> crate::LearnedBoilerplate {
        self.learner.report(tenant)
    }

    /// Counts every stored resolved ticket for the boilerplate detector from scratch (offline
    /// tools; the service does it while loading the similar-ticket scorer).
    pub fn count_boilerplate(&self) -> Result<()> {
        self.learner.clear();
        self.store.for_each_resolved(&mut |t| {
            self.learner.observe(&t.tenant, &t.description, t.category.as_deref().or(t.assignment_group.as_deref()))
        })?;
        self.learner.settle();
        Ok(())
    }

    /// `text` of `tenant` with its learned boilerplate removed as well (cleaning is idempotent:
    /// text cleaned before loses only the learned sentences).
    pub(crate) fn clean_learned(&self, tenant: &TenantId, text: String) -> String {
        match self.learner.for_tenant(tenant) {
            Some(learned) => match triage_core::clean::clean_body(&text, &learned).text {
                std::borrow::Cow::Borrowed(_) => text,
                std::borrow::Cow::Owned(cleaned) => cleaned,
            },
            None => text,
        }
    }

    /// Notes a failed index write after the store committed; whether the index is now behind.
    pub(crate) fn index_result(&self, result: triage_kb::Result<()>) -> bool {
        match result {
            Ok(()) => false,
            Err(e) => {
                tracing::error!(error = %e, "the ticket index did not take a write the store committed; it will be rebuilt from the store");
                *self.index_lag.write().unwrap_or_else(|p| p.into_inner()) = Some("a write to the ticket index failed".into());
                true
            }
        }
    }

    /// Why the ticket index is behind the store, if it is.
    pub fn ticket_index_lag(&self) -> Option<String> {
        self.index_lag.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Rebuilds the ticket index from the store when it is behind (a failed write); then loads
    /// the similar-ticket scorer again. Whether it rebuilt.
    pub fn repair_ticket_index(&self) -> Result<bool> {
        if self.ticket_index_lag().is_none() {
            return Ok(false);
        }
        {
            let _writes = self.index_writes.lock().unwrap_or_else(|p| p.into_inner());
            let started = std::time::Instant::now();
            crate::engine::rebuild_ticket_index(self.store.as_ref(), &self.tickets)?;
            *self.index_lag.write().unwrap_or_else(|p| p.into_inner()) = None;
            tracing::info!(
                tickets = self.tickets.num_docs(),
                millis = started.elapsed().as_millis() as u64,
                "ticket index repaired from the store"
            );
        }
        self.load_ticket_scorer()?;
        Ok(true)
    }

    /// Heads an agent may correct: those a retraining learns from corrections (`category`,
    /// `priority`, `assignment_group`) and any other head of the live model.
    pub fn correction_heads(&self) -> Vec<String> {
        let mut heads: Vec<String> = CORRECTABLE_HEADS.iter().map(|h| (*h).to_owned()).collect();
        if let Some(model) = self.model.load().as_ref() {
            for h in &model.manifest.heads {
                if !heads.contains(&h.name) {
                    heads.push(h.name.clone());
                }
            }
        }
        heads
    }

    /// Refuses corrections of unknown heads and checks and redacts each label.
    fn check_corrections(&self, corrections: BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
        let known = self.correction_heads();
        let mut checked = BTreeMap::new();
        for (head, label) in corrections {
            if !known.contains(&head) {
                let head: String = head.chars().take(40).filter(|c| !c.is_control()).collect();
                return Err(EngineError::Invalid(format!(
                    "corrected_labels: head `{head}` is not known; correct one of {}",
                    known.join(", ")
                )));
            }
            let label = parse_corrected_label(&label).map_err(|e| EngineError::Invalid(format!("corrected_labels.{head}: {e}")))?;
            checked.insert(head, label);
        }
        Ok(checked)
    }

    /// Records feedback on a triage of `tenant`. Another tenant's triage is `NotFound`, as a
    /// missing one. The suggestion, when given, must be one the triage offered. Idempotent: the
    /// same outcome for the same suggestion of a triage is stored and counted once (a retried
    /// request changes nothing; new corrected labels replace the earlier ones).
    pub fn add_feedback(&self, tenant: Option<&TenantId>, triage_id: &str, input: FeedbackInput) -> Result<FeedbackWrite> {
        self.recorder.flush();
        let record = self.store.triage_record(tenant, triage_id)?.ok_or(EngineError::NotFound(crate::Resource::Triage))?;
        if let Some(s) = &input.suggestion
            && !record.suggestions.contains(s)
        {
            return Err(EngineError::Invalid(format!(
                "suggestion `{s}` was not offered by triage {triage_id}; use one of {:?}",
                record.suggestions
            )));
        }
        let corrected_labels = self.check_corrections(input.corrected_labels)?;
        if !corrected_labels.is_empty() {
            self.shadow.corrected(triage_id, &corrected_labels);
        }
        let write = self.store.add_feedback(&Feedback {
            triage_id: triage_id.to_owned(),
            tenant: tenant.cloned(),
            suggestion: input.suggestion.clone(),
            outcome: input.outcome,
            corrected_labels,
            created_at: triage_core::time::rfc3339_utc(std::time::SystemTime::now()),
        })?;
        if let (Some(s), Some(t), Some(text)) =
            (input.suggestion.as_deref().filter(|_| write == FeedbackWrite::New), &record.tenant, &record.text)
        {
            self.learn_from_feedback(t, triage_id, s, input.outcome, text, crate::learned::today());
        }
        if let Some(s) = input.suggestion.filter(|_| write == FeedbackWrite::New) {
            let mut counts = self.feedback.write().unwrap_or_else(|p| p.into_inner());
            let c = counts.entry(s).or_default();
            match input.outcome {
                Outcome::Resolved => c.resolved += 1,
                Outcome::Helpful => c.helpful += 1,
                Outcome::NotHelpful => c.not_helpful += 1,
                Outcome::Corrected => {}
            }
        }
        Ok(write)
    }
}
