//! Resolved tickets in, feedback in: what the engine learns from.

use std::collections::BTreeMap;

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::ResolvedTicket;
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
        self.store.add_feedback(&Feedback {
            triage_id: triage_id.to_owned(),
            tenant: tenant.cloned(),
            suggestion: input.suggestion.clone(),
            outcome: input.outcome,
            corrected_labels: input.corrected_labels,
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
