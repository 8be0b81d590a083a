//! What the triage pipeline suggests: fixes that are likely to resolve the ticket.

use serde::{Deserialize, Serialize};

/// Where a suggested fix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionKind {
    /// A knowledge-base article.
    Article,
    /// A similar resolved ticket and its resolution notes.
    Ticket,
    /// A major incident under way that the ticket belongs to; its steps carry the agent message.
    Incident,
}

/// One suggested fix, ranked by `score` (higher is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Whether this is a knowledge-base article or a similar resolved ticket.
    pub kind: SuggestionKind,
    /// Article id, or the resolved ticket's external id.
    pub id: String,
    /// Title of the article or of the resolved ticket.
    pub title: String,
    /// Ranking score; comparable within one answer only.
    pub score: f32,
    /// How likely it is to fix the ticket (0..=1, calibrated); set in triage answers, `None` in
    /// a plain search.
    #[serde(default)]
    pub fix_probability: Option<f32>,
    /// HTML fragment with matched words in `<b>`; all other text escaped.
    pub snippet: String,
    /// Resolution steps, in order.
    pub steps: Vec<String>,
    /// Category of the article or of the resolved ticket; empty when the ticket had none.
    pub category: String,
    /// The team to pass the ticket to if the steps do not fix it.
    pub escalation_group: String,
}
