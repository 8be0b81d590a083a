//! Resolved tickets in, feedback in: what the engine learns from.

use std::collections::BTreeMap;

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::{ResolvedTicket, parse_corrected_label};
use triage_kb::TicketDoc;
use triage_store::{Feedback, Outcome, UpsertReport};

use crate::{EngineError, Result, TriageEngine};

/// The index form of a resolved ticket.
pub(crate) fn ticket_doc(t: &ResolvedTicket) -> TicketDoc {
    TicketDoc {
        tenant: t.tenant.clone(),
        external_id: t.external_id.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
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
    pub outcome: Outcome,
    pub corrected_labels: BTreeMap<String, String>,
}

impl TriageEngine {
    /// Stores resolved tickets (idempotent on tenant + external id) and indexes them. The store
    /// commits first; if the process dies before the index commits, the next start sees the
    /// counts disagree and rebuilds the index from the store.
    #[tracing::instrument(skip_all, fields(tickets = tickets.len()))]
    pub fn ingest_resolved(&self, tickets: &[ResolvedTicket]) -> Result<UpsertReport> {
        let report = self.store.upsert_resolved(tickets)?;
        let docs: Vec<TicketDoc> = tickets.iter().map(ticket_doc).collect();
        self.tickets.upsert(&docs)?;
        tracing::debug!(inserted = report.inserted, updated = report.updated, "resolved tickets ingested");
        Ok(report)
    }

    /// Deletes one resolved ticket from the store and the index (right to erasure).
    pub fn erase_resolved(&self, tenant: &TenantId, external_id: &str) -> Result<bool> {
        let existed = self.store.delete_resolved(tenant, external_id)?;
        self.tickets.delete(tenant, external_id)?;
        Ok(existed)
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
    /// missing one. The suggestion, when given, must be one the triage offered.
    pub fn add_feedback(&self, tenant: Option<&TenantId>, triage_id: &str, input: FeedbackInput) -> Result<()> {
        self.recorder.flush();
        let record = self.store.triage_record(tenant, triage_id)?.ok_or(EngineError::NotFound("triage"))?;
        if let Some(s) = &input.suggestion
            && !record.suggestions.contains(s)
        {
            return Err(EngineError::Invalid(format!(
                "suggestion `{s}` was not offered by triage {triage_id}; use one of {:?}",
                record.suggestions
            )));
        }
        let corrected_labels = self.check_corrections(input.corrected_labels)?;
        self.store.add_feedback(&Feedback {
            triage_id: triage_id.to_owned(),
            tenant: tenant.cloned(),
            suggestion: input.suggestion.clone(),
            outcome: input.outcome,
            corrected_labels,
            created_at: triage_core::time::rfc3339_utc(std::time::SystemTime::now()),
        })?;
        if let Some(s) = input.suggestion {
            let mut counts = self.feedback.write().unwrap_or_else(|p| p.into_inner());
            let c = counts.entry(s).or_default();
            match input.outcome {
                Outcome::Resolved => c.resolved += 1,
                Outcome::Helpful => c.helpful += 1,
                Outcome::NotHelpful => c.not_helpful += 1,
                Outcome::Corrected => {}
            }
        }
        Ok(())
    }
}
