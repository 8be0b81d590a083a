//! Records kept by the store.

use serde::{Deserialize, Serialize};
use triage_core::tenant::TenantId;

/// What an upsert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertReport {
    pub inserted: usize,
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
    pub triage_id: String,
    pub tenant: Option<TenantId>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub model_version: Option<String>,
    /// Head -> (label, decision), as JSON.
    pub labels: serde_json::Value,
    /// Suggested `kind:id` in rank order.
    pub suggestions: Vec<String>,
    /// Title and description, personal data redacted (for training on agents' corrections).
    #[serde(default)]
    pub text: Option<String>,
}

/// A label correction from an agent, with the redacted text it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    pub tenant: Option<TenantId>,
    pub external_id: Option<String>,
    pub text: String,
    pub labels: std::collections::BTreeMap<String, String>,
}

/// How a suggestion worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    Helpful,
    NotHelpful,
    /// Labels corrected only; says nothing of the suggestions.
    Corrected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Helpful => "helpful",
            Outcome::NotHelpful => "not_helpful",
            Outcome::Corrected => "corrected",
        }
    }

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
    pub triage_id: String,
    pub tenant: Option<TenantId>,
    /// `kind:id` of the suggestion used, if any.
    pub suggestion: Option<String>,
    pub outcome: Outcome,
    /// Head -> corrected label.
    pub corrected_labels: std::collections::BTreeMap<String, String>,
    pub created_at: String,
}

/// Feedback totals for one suggestion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackCounts {
    pub resolved: u64,
    pub helpful: u64,
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
}

/// Use of one suggestion over a window: how often it was offered (and offered first) and the
/// feedback agents gave on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuggestionUsage {
    /// `kind:id`, e.g. `article:account-locked-out`.
    pub suggestion: String,
    pub offered: u64,
    pub offered_first: u64,
    #[serde(flatten)]
    pub feedback: FeedbackCounts,
}

/// Lifecycle of a model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStatus {
    Candidate,
    Live,
    Retired,
}

impl ModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Candidate => "candidate",
            ModelStatus::Live => "live",
            ModelStatus::Retired => "retired",
        }
    }

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
    pub version: String,
    /// Bundle folder, relative to the data directory or absolute. Never sent to clients.
    #[serde(skip_serializing, default)]
    pub path: String,
    pub created_at: String,
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
    pub id: String,
    #[serde(skip)]
    pub hash: String,
    pub tenant: Option<TenantId>,
    pub role: triage_core::auth::Role,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// One administrative action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: String,
    pub key_id: Option<String>,
    pub tenant: Option<TenantId>,
    pub action: String,
    pub target: String,
    pub outcome: String,
}
