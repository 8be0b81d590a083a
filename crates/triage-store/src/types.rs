//! Records kept by the store.

use serde::{Deserialize, Serialize};
use triage_core::tenant::TenantId;

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertReport {
    /// Tickets that were new to the store.
    pub inserted: usize,
    /// Tickets that replaced a stored one with the same tenant and external id.
    pub updated: usize,
    /// The resolved-ticket change sequence after this write (see [`crate::Store::resolved_seq`]).
    pub seq: u64,
}

/// What storing one piece of feedback did. Feedback is idempotent: one row per triage,
/// suggestion and outcome, so a retried request is stored (and counted) once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedbackWrite {
    /// First time this outcome was given for this suggestion of this triage.
    New,
    /// The same feedback again (a retry): nothing changed.
    Repeated,
    /// The same outcome with other corrected labels: the latest labels replaced the earlier.
    Updated,
}

/// One triage answer as given, for feedback, audit and statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriageRecord {
    /// The triage's id (a UUID v7, as text), which feedback refers to.
    pub triage_id: String,
    /// The tenant of the ticket; `None` when the caller named none.
    pub tenant: Option<TenantId>,
    /// The ticket's id in the ticketing system, if the caller sent one.
    pub external_id: Option<String>,
    /// When the answer was given, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// The model version that answered; `None` when no model was loaded.
    pub model_version: Option<String>,
    /// Head -> (label, decision), as JSON.
    pub labels: serde_json::Value,
    /// Suggested `kind:id` in rank order.
    pub suggestions: Vec<String>,
    /// Title and description, personal data redacted (for training on agents' corrections).
    #[serde(default)]
    pub text: Option<String>,
    /// The answer said no suggestion was likely to fix the ticket (a knowledge-base gap).
    #[serde(default)]
    pub no_good_fix: bool,
}

/// A triage that may show a knowledge-base gap: answered `no_good_fix`, or a suggestion of it
/// was marked `not_helpful`; with the resolution notes of its ticket once resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GapCandidate {
    /// The triage's id.
    pub triage_id: String,
    /// The ticket's id in the ticketing system, if the caller sent one.
    pub external_id: Option<String>,
    /// When the triage was answered, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Title and description, redacted.
    pub text: String,
    /// The answer said `no_good_fix`.
    pub no_good_fix: bool,
    /// An agent marked a suggestion of it `not_helpful`.
    pub not_helpful: bool,
    /// The category the model predicted, if any.
    pub category: Option<String>,
    /// The assignment group the model predicted, if any.
    pub assignment_group: Option<String>,
    /// Resolution notes of the resolved ticket with the same tenant and external id, if any.
    pub resolution_notes: Option<String>,
}

/// Feedback on an article suggestion, with the redacted text of the triage it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleFeedback {
    /// The tenant of the triage.
    pub tenant: TenantId,
    /// The triage the feedback is about.
    pub triage_id: String,
    /// `article:<id>`, as the suggestion was keyed.
    pub suggestion: String,
    /// `resolved`, `helpful` or `not_helpful`.
    pub outcome: Outcome,
    /// Title and description of the triaged ticket, redacted.
    pub text: String,
    /// When the feedback was stored, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
}

/// A label correction from an agent, with the redacted text it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The tenant of the triaged ticket, if any.
    pub tenant: Option<TenantId>,
    /// The ticket's id in the ticketing system, if any.
    pub external_id: Option<String>,
    /// Title and description of the triaged ticket, redacted.
    pub text: String,
    /// Head name -> the label the agent says is right.
    pub labels: std::collections::BTreeMap<String, String>,
}

/// How a suggestion worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The suggestion resolved the ticket.
    Resolved,
    /// The suggestion helped, but did not resolve the ticket on its own.
    Helpful,
    /// The suggestion did not help.
    NotHelpful,
    /// Labels corrected only; says nothing of the suggestions.
    Corrected,
}

impl Outcome {
    /// The `snake_case` name used in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Helpful => "helpful",
            Outcome::NotHelpful => "not_helpful",
            Outcome::Corrected => "corrected",
        }
    }

    /// The outcome named `s` (as [`Outcome::as_str`] writes it); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "resolved" => Some(Outcome::Resolved),
            "helpful" => Some(Outcome::Helpful),
            "not_helpful" => Some(Outcome::NotHelpful),
            "corrected" => Some(Outcome::Corrected),
            _ => None,
        }
    }
}

/// Feedback from an agent on one triage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The triage the feedback is about.
    pub triage_id: String,
    /// The tenant of that triage; `None` for a triage without one.
    pub tenant: Option<TenantId>,
    /// `kind:id` of the suggestion used, if any.
    pub suggestion: Option<String>,
    /// How the suggestion, or the triage as a whole, worked out.
    pub outcome: Outcome,
    /// Head -> corrected label.
    pub corrected_labels: std::collections::BTreeMap<String, String>,
    /// When the feedback was stored, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
}

/// Feedback totals for one suggestion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackCounts {
    /// Times agents said the suggestion resolved the ticket.
    pub resolved: u64,
    /// Times agents said the suggestion helped.
    pub helpful: u64,
    /// Times agents said the suggestion did not help.
    pub not_helpful: u64,
}

impl FeedbackCounts {
    /// Ranking factor in 0.5..1.5 (1.0 with no feedback): 0.5 + (positive + 2) / (total + 4),
    /// where `resolved` counts twice as positive. The +2/+4 prior keeps one vote from swinging
    /// the ranking.
    pub fn ranking_factor(&self) -> f32 {
        let positive = (2 * self.resolved + self.helpful) as f32;
        let total = positive + self.not_helpful as f32;
        0.5 + (positive + 2.0) / (total + 4.0)
    }

    /// Agents' verdict in -1..1 (0 with no feedback): (positive - not helpful) / (total + 2), with
    /// `resolved` counted twice; a feature of the fix probability.
    pub fn verdict(&self) -> f64 {
        let positive = (2 * self.resolved + self.helpful) as f64;
        let negative = self.not_helpful as f64;
        (positive - negative) / (positive + negative + 2.0)
    }
}

/// Use of one suggestion over a window: how often it was offered (and offered first) and the
/// feedback agents gave on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuggestionUsage {
    /// `kind:id`, e.g. `article:account-locked-out`.
    pub suggestion: String,
    /// Triages that offered this suggestion in the window.
    pub offered: u64,
    /// Triages that offered it in first place.
    pub offered_first: u64,
    /// Feedback agents gave on it (serialised inline, not nested).
    #[serde(flatten)]
    pub feedback: FeedbackCounts,
}

/// Lifecycle of a model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    /// Registered but not serving; may be promoted.
    Candidate,
    /// The version that answers triage requests; at most one at a time.
    Live,
    /// Served before and replaced; a rollback may make it live again.
    Retired,
}

impl ModelStatus {
    /// The `snake_case` name used in the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Candidate => "candidate",
            ModelStatus::Live => "live",
            ModelStatus::Retired => "retired",
        }
    }

    /// The status named `s` (as [`ModelStatus::as_str`] writes it); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "candidate" => Some(ModelStatus::Candidate),
            "live" => Some(ModelStatus::Live),
            "retired" => Some(ModelStatus::Retired),
            _ => None,
        }
    }
}

/// A registered model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Version name, unique in the registry.
    pub version: String,
    /// Bundle folder, relative to the data directory or absolute. Never sent to clients.
    #[serde(skip_serializing, default)]
    pub path: String,
    /// When the version was registered, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Where the version is in its lifecycle.
    pub status: ModelStatus,
    /// Evaluation report (champion / challenger figures), as JSON.
    pub report: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_factor_is_neutral_without_feedback_and_bounded() {
        assert_eq!(FeedbackCounts::default().ranking_factor(), 1.0);
        let good = FeedbackCounts { resolved: 100, helpful: 0, not_helpful: 0 };
        let bad = FeedbackCounts { resolved: 0, helpful: 0, not_helpful: 100 };
        assert!(good.ranking_factor() > 1.45 && good.ranking_factor() <= 1.5);
        assert!(bad.ranking_factor() < 0.55 && bad.ranking_factor() >= 0.5);
        let one = FeedbackCounts { resolved: 0, helpful: 0, not_helpful: 1 };
        assert!((one.ranking_factor() - 0.9).abs() < 1e-6, "one vote moves it a little");
    }
}

/// A stored API key (never the key itself, only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Public key id, shown in listings and the audit log.
    pub id: String,
    /// Hex SHA-256 of the key (see `triage_core::auth::hash_key`). Never serialised.
    #[serde(skip)]
    pub hash: String,
    /// The tenant the key acts for; `None` only for operator keys.
    pub tenant: Option<TenantId>,
    /// What the key may do.
    pub role: triage_core::auth::Role,
    /// Free-text note on who or what holds the key (at most 100 characters); may be empty.
    pub label: String,
    /// When the key was created, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// When the key was revoked; `None` while it is valid.
    pub revoked_at: Option<String>,
}

/// One administrative action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the action happened, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// The key that acted; `None` for the service itself (start-up, fallbacks).
    pub key_id: Option<String>,
    /// The tenant the action concerned, or the acting key's tenant; `None` for service-wide actions.
    pub tenant: Option<TenantId>,
    /// What was done, as `object.verb` (`key.create`, `model.promote`, ...).
    pub action: String,
    /// What it was done to: a key id, a model version, a ticket id, a path.
    pub target: String,
    /// How it ended, in a few words (`ok`, `not found`, a reason).
    pub outcome: String,
}
