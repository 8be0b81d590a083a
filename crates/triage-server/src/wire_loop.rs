//! Wire types of the learning loop: resolved tickets, feedback, statistics, models and jobs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use utoipa::ToSchema;

use crate::problem::{ApiError, ErrorCode};

/// One resolved ticket from the ticketing system.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolvedTicketWire {
    /// The tenant the ticket belongs to: 1-64 lower-case letters, digits or hyphens.
    #[schema(example = "northmoor")]
    pub tenant: String,
    /// 1-64 characters of `A-Z a-z 0-9 . _ : / # -`.
    #[schema(example = "INC0012345")]
    pub external_id: String,
    /// Title (at most 500 characters); a ticket needs a title or a description.
    pub title: Option<String>,
    /// Description; its first line serves as the title when no title is sent.
    pub description: Option<String>,
    /// `text` or `html`, as for a triage request; when absent, HTML is recognised by its start
    /// or its block tags and converted to plain text before the ticket is redacted and stored.
    #[schema(value_type = Option<String>, example = "html")]
    pub description_format: Option<crate::html::DescriptionFormat>,
    /// Category the ticket was filed under (at most 200 characters); trains the `category` head.
    pub category: Option<String>,
    /// Priority the ticket had (at most 200 characters).
    pub priority: Option<String>,
    /// Team that resolved the ticket (at most 200 characters).
    pub assignment_group: Option<String>,
    /// What the agent did (at most 20,000 characters); offered to agents with similar tickets. Personal data is redacted before it is stored.
    pub resolution_notes: Option<String>,
    /// Whether the first person to take the ticket resolved it; trains the first-contact prediction.
    pub resolved_at_first_contact: Option<bool>,
    /// Id of the knowledge-base article used, if any.
    pub kb_article: Option<String>,
    /// RFC 3339 with `Z` or an offset, e.g. `2026-11-25T09:30:00Z` or
    /// `2026-11-25T10:30:00+01:00`; stored in UTC, whole seconds.
    pub opened_at: Option<String>,
    /// Same form as `opened_at`.
    pub resolved_at: Option<String>,
}

impl ResolvedTicketWire {
    pub(crate) fn parse(&self) -> Result<ResolvedTicket, triage_core::CoreError> {
        let description = self.description.as_deref().map(|d| self.description_format.unwrap_or_default().to_text(d));
        ResolvedTicket::parse(&RawResolved {
            tenant: &self.tenant,
            external_id: &self.external_id,
            title: self.title.as_deref(),
            description: description.as_deref(),
            category: self.category.as_deref(),
            priority: self.priority.as_deref(),
            assignment_group: self.assignment_group.as_deref(),
            resolution_notes: self.resolution_notes.as_deref(),
            resolved_at_first_contact: self.resolved_at_first_contact,
            kb_article: self.kb_article.as_deref(),
            opened_at: self.opened_at.as_deref(),
            resolved_at: self.resolved_at.as_deref(),
        })
    }
}

/// A batch of resolved tickets. All are checked first; one bad ticket refuses the batch (the
/// problem names it) and nothing is stored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResolvedBatch {
    /// The resolved tickets (at most `ingest.max_batch`, 1000 by default). One invalid ticket refuses the whole batch.
    pub tickets: Vec<ResolvedTicketWire>,
}

impl ResolvedBatch {
    pub(crate) fn parse(&self, max: usize) -> Result<Vec<ResolvedTicket>, ApiError> {
        if self.tickets.len() > max {
            return Err(ApiError::new(
                ErrorCode::BatchTooLarge,
                format!("{} tickets in one batch; send at most {max} per request", self.tickets.len()),
            ));
        }
        if self.tickets.is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidRequest, "the batch is empty; send at least one ticket"));
        }
        self.tickets
            .iter()
            .enumerate()
            .map(|(i, t)| t.parse().map_err(|e| ApiError::new(ApiError::from(e.clone()).code, format!("tickets[{i}]: {e}"))))
            .collect()
    }
}

/// What an ingestion did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IngestResponse {
    /// Tickets new to the service.
    pub inserted: usize,
    /// Tickets that replaced one sent before with the same tenant and `external_id`.
    pub updated: usize,
    /// `current`: searchable now; `pending`: stored, and indexed by a repair in the background.
    pub index: &'static str,
}

/// `article` or `ticket` and its id, as offered in the triage answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SuggestionRef {
    /// `article` or `ticket`.
    #[schema(example = "article")]
    pub kind: String,
    /// Article id, or the resolved ticket's id in the ticketing system.
    #[schema(example = "account-locked-out")]
    pub id: String,
}

/// What worked, from the agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedbackRequest {
    /// Tenant of the triage (until API keys carry it).
    pub tenant: Option<String>,
    /// The suggestion used, if any.
    pub suggestion: Option<SuggestionRef>,
    /// `resolved`, `helpful` or `not_helpful` (of the suggestion), or `corrected` (labels only).
    #[schema(example = "resolved")]
    pub outcome: String,
    /// Head -> corrected label. Heads: those of the live model, or `category`, `priority`,
    /// `assignment_group`; labels 1-64 characters without control characters, redacted before
    /// they are stored.
    #[serde(default)]
    pub corrected_labels: BTreeMap<String, String>,
}

/// Parses the window bound `name` (a day such as `2026-11-01`, or an RFC 3339 time) and places
/// it in time: a day starts at its first moment in the desk's time zone.
pub(crate) fn parse_window_bound(
    name: &str,
    bound: &str,
    zone: &triage_core::time::DeskTimeZone,
) -> Result<triage_core::time::Timestamp, ApiError> {
    use triage_core::time::WindowBound;
    match WindowBound::parse(bound) {
        Ok(b) => Ok(b.start_in(zone)),
        Err(e) => {
            Err(ApiError::new(ErrorCode::InvalidQuery, format!("`{name}` is not a valid day or time: {e}; {}", WindowBound::EXPECTED)))
        }
    }
}

/// Query string of `GET /v1/stats`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsParams {
    /// One tenant; all tenants when absent.
    pub tenant: Option<String>,
    /// Inclusive start: a day (`2026-11-01`, from its start in the desk's time zone) or an RFC
    /// 3339 time.
    pub from: Option<String>,
    /// Exclusive end, in the same forms: `to=2026-12-01` stops at the start of 1 December, so
    /// `from=2026-11-01&to=2026-12-01` is the whole of November.
    pub to: Option<String>,
}

/// Options of a retraining job.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TrainRequestWire {
    /// Version name of the candidate (default `m-<UTC time>`).
    pub version: Option<String>,
}

/// A started job.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobStarted {
    /// Id of the job; follow it at `status_url`.
    pub job_id: String,
    /// Where to follow it.
    pub status_url: String,
}

/// Query string of the promotion endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct PromoteParams {
    /// Promote even if the candidate is worse than the live model by more than the margin.
    pub force: Option<bool>,
}

/// The registry.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ModelsResponse {
    /// Version of the live model; absent when none is live.
    pub live: Option<String>,
    /// Every registered version, with its status and evaluation report.
    #[schema(value_type = Vec<Object>)]
    pub models: Vec<triage_engine::ModelRecord>,
    /// The candidate running in shadow mode, if any: its agreement with the live model per
    /// head, both models' accuracy on shadowed tickets whose labels arrived, and both projected
    /// first-contact rates (in memory since it started).
    #[schema(value_type = Option<Object>)]
    pub shadow: Option<triage_engine::ShadowStatus>,
}
