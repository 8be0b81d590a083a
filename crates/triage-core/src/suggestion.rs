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
}

/// One suggested fix, ranked by `score` (higher is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub kind: SuggestionKind,
    pub id: String,
    pub title: String,
    /// Ranking score; comparable within one answer only.
    pub score: f32,
    /// HTML fragment with matched words in `<b>`; all other text escaped.
    pub snippet: String,
    /// Resolution steps, in order.
    pub steps: Vec<String>,
    pub category: String,
    /// The team to pass the ticket to if the steps do not fix it.
    pub escalation_group: String,
}
