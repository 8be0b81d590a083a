//! Wire types: what goes over HTTP. Converted to and from domain types at the edge.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use triage_core::article::Article;
use triage_core::suggestion::{Suggestion, SuggestionKind};
use triage_core::ticket::{Channel, NewTicket};
use triage_engine::{Decision, HeadPrediction};
use utoipa::ToSchema;

use crate::problem::ApiError;

/// A new ticket to triage. `title` or `description` must hold text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    /// Short summary, as the caller wrote it (at most 500 characters).
    #[schema(example = "Locked out of my account")]
    pub title: Option<String>,
    /// Full description (at most 20,000 characters).
    #[schema(example = "It says my account has been locked after I mistyped my password")]
    pub description: Option<String>,
    /// `text` or `html`; when absent the description is taken for HTML if it starts with
    /// `<html` or `<!DOCTYPE`, or has block tags (`<p>`, `<div>`, `<br>`, ...) and a closing tag.
    /// HTML is converted to plain text (paragraphs and list items as lines, links as their
    /// text, quoted blocks as `> ` lines, scripts and styles dropped) before triage.
    #[schema(value_type = Option<String>, example = "html")]
    pub description_format: Option<crate::html::DescriptionFormat>,
    /// Tenant (organisation) the ticket belongs to; without it only shared articles are used.
    #[schema(example = "northmoor")]
    pub tenant: Option<String>,
    /// How the ticket arrived.
    #[schema(value_type = Option<String>, example = "phone")]
    pub channel: Option<ChannelWire>,
    /// Caller reference from the ticketing system (not personal data, please).
    pub caller: Option<String>,
    /// The ticket's id in the ticketing system: 1-64 characters of `A-Z a-z 0-9 . _ : / # -`.
    #[schema(example = "INC0012345")]
    pub external_id: Option<String>,
}

/// `email`, `phone`, `portal`, `chat`, `walk_in` or `other`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelWire {
    Email,
    Phone,
    Portal,
    Chat,
    WalkIn,
    Other,
}

impl From<ChannelWire> for Channel {
    fn from(c: ChannelWire) -> Self {
        match c {
            ChannelWire::Email => Channel::Email,
            ChannelWire::Phone => Channel::Phone,
            ChannelWire::Portal => Channel::Portal,
            ChannelWire::Chat => Channel::Chat,
            ChannelWire::WalkIn => Channel::WalkIn,
            ChannelWire::Other => Channel::Other,
        }
    }
}

impl TryFrom<TriageRequest> for NewTicket {
    type Error = ApiError;
    fn try_from(r: TriageRequest) -> Result<Self, ApiError> {
        let format = r.description_format.unwrap_or_default();
        let description = r.description.as_deref().map(|d| format.to_text(d));
        Ok(NewTicket::parse(
            r.title.as_deref(),
            description.as_deref(),
            r.tenant.as_deref(),
            r.channel.map(Channel::from).unwrap_or_default(),
            r.caller.as_deref(),
            r.external_id.as_deref(),
        )?)
    }
}

/// The answer to a triage request. New sections (labels, first-contact prediction) are added as
/// new keys; existing keys keep their meaning.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TriageResponse {
    /// Id of this triage, for feedback and audit (UUID v7, time-ordered).
    pub triage_id: String,
    /// The tenant named in the request, if any.
    pub tenant: Option<String>,
    /// The ticket's id in the ticketing system, as sent, if any.
    pub external_id: Option<String>,
    /// Suggested fixes, best first.
    pub suggestions: Vec<SuggestionView>,
    /// Predictions keyed by head (`category`, `priority`, `assignment_group`, ...): the heads of
    /// the live model. Empty when no model is configured.
    pub labels: BTreeMap<String, LabelView>,
    /// Version of the model that produced `labels`.
    pub model_version: Option<String>,
    /// Present when `labels` is empty because the model cannot be served (the service runs
    /// degraded: suggestions work, `/readyz` says why); the text says why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels_unavailable: Option<String>,
    /// How likely the ticket is to be resolved at first contact with the suggested fix.
    pub first_contact: FirstContactView,
    /// For a raw e-mail (`Content-Type: message/rfc822`) only: which body part was read, and
    /// the attachments, named but never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<crate::email::EmailView>,
    /// What was cleaned off the description before analysis (always present).
    pub cleaning: CleaningView,
    /// No suggestion's `fix_probability` reaches `triage.no_good_fix_below`: the knowledge base
    /// has no fix the engine trusts for this ticket (route it rather than suggest).
    pub no_good_fix: bool,
    /// Present when the ticket belongs to a major incident under way (suspected, confirmed, or
    /// resolved within its grace period); the first suggestion (`kind: "incident"`) then names it
    /// and carries the agent message. See `GET /v1/incidents/{id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentRefView>,
}

/// The major incident a ticket belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IncidentRefView {
    /// The incident's id (`inc-` and 12 hex digits).
    pub id: String,
    /// `suspected`, `confirmed` or `resolved`.
    pub status: &'static str,
    /// Cosine of the ticket with the incident's centre (0..1).
    pub similarity: f32,
}

/// What cleaning removed from the description before analysis: the e-mail tail (quoted
/// history, signature, disclaimers, auto-replies, boilerplate). The stored text is the cleaned one.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CleaningView {
    /// Kinds removed, in a fixed order: `quote`, `signature`, `disclaimer`, `auto_reply`,
    /// `boilerplate`; empty when nothing was removed.
    #[schema(example = json!(["quote", "signature", "disclaimer"]))]
    pub removed: Vec<&'static str>,
    /// Characters of the description kept.
    pub kept_chars: usize,
    /// Characters of the description removed.
    pub removed_chars: usize,
}

impl From<triage_core::clean::CleaningReport> for CleaningView {
    fn from(r: triage_core::clean::CleaningReport) -> Self {
        Self { removed: r.removed.iter().map(|k| k.as_str()).collect(), kept_chars: r.kept_chars, removed_chars: r.removed_chars }
    }
}

/// First-contact prediction: from the model's `first_contact` head once resolved tickets with
/// `resolved_at_first_contact` have been trained on (`source: "model"`), else from the best
/// suggestion's `fix_probability` (`source: "fix_probability"`; `auto` only when that is 0.8 or
/// more and the routing is itself `auto`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FirstContactView {
    /// Probability that the ticket is resolved at first contact (0 to 1).
    pub probability: f32,
    /// `auto`: confident enough to act on; `suggest`: a hint for the agent; `abstain`: no useful estimate.
    pub decision: DecisionWire,
    /// `model`, `fix_probability`, or `incident` (the ticket belongs to a confirmed incident whose
    /// agent message tells the caller what to do).
    pub source: &'static str,
}

impl From<triage_engine::FirstContact> for FirstContactView {
    fn from(f: triage_engine::FirstContact) -> Self {
        Self { probability: f.probability, decision: f.decision.into(), source: f.source }
    }
}

impl From<Decision> for DecisionWire {
    fn from(d: Decision) -> Self {
        match d {
            Decision::Auto => DecisionWire::Auto,
            Decision::Suggest => DecisionWire::Suggest,
            Decision::Abstain => DecisionWire::Abstain,
        }
    }
}

/// `auto` (confident enough to apply), `suggest` (show the alternatives) or `abstain` (not sure).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DecisionWire {
    Auto,
    Suggest,
    Abstain,
}

/// A candidate label with its calibrated probability.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlternativeView {
    /// The label.
    pub label: String,
    /// Calibrated probability of the label (0 to 1).
    pub probability: f32,
}

/// A word that pushed the decision, with its contribution to the winning label's score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ExplanationTerm {
    /// The word or word pair, as analysed (lower case, normalised).
    pub term: String,
    /// How much it added to the winning label's score.
    pub weight: f32,
}

/// One head's prediction.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LabelView {
    /// The most probable label.
    pub label: String,
    /// Calibrated probability of `label`.
    pub probability: f32,
    /// `auto`: may be applied without review; `suggest`: show to the agent; `abstain`: the model does not know.
    pub decision: DecisionWire,
    /// The top three labels with probabilities (the first is `label`).
    pub alternatives: Vec<AlternativeView>,
    /// The terms that pushed the decision.
    pub explanation: Vec<ExplanationTerm>,
}

impl From<HeadPrediction> for LabelView {
    fn from(p: HeadPrediction) -> Self {
        Self {
            label: p.label,
            probability: p.probability,
            decision: p.decision.into(),
            alternatives: p.alternatives.into_iter().map(|a| AlternativeView { label: a.label, probability: a.probability }).collect(),
            explanation: p.explanation.into_iter().map(|c| ExplanationTerm { term: c.term, weight: c.weight }).collect(),
        }
    }
}

/// `article`, `ticket` or `incident`.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SuggestionKindWire {
    Article,
    Ticket,
    Incident,
}

/// One suggested fix.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SuggestionView {
    /// `article` (a knowledge-base article), `ticket` (a similar resolved ticket) or `incident`
    /// (a major incident the ticket belongs to: always first, its steps hold the agent message).
    pub kind: SuggestionKindWire,
    /// Article id, or the resolved ticket's id in the ticketing system.
    pub id: String,
    /// Title of the article or of the resolved ticket.
    pub title: String,
    /// 1-based position in the answer.
    pub rank: usize,
    /// Triage answers: how likely this suggestion is to fix the ticket (0..1, calibrated: of the
    /// suggestions given 0.8, about 8 in 10 fix the ticket). Absent in a search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix_probability: Option<f32>,
    /// Searches: BM25 over weighted fields, comparable within one answer only. Absent in a
    /// triage answer (use `fix_probability`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// HTML fragment: matched words in `<b>`, everything else escaped.
    pub snippet: String,
    /// Numbered resolution steps, in order.
    pub steps: Vec<String>,
    /// Category of the article or of the resolved ticket; empty when the ticket had none.
    pub category: String,
    /// The team to pass the ticket to if the steps do not fix it; empty for resolved tickets.
    pub escalation_group: String,
}

impl SuggestionView {
    /// The suggestion at 1-based `rank`.
    pub(crate) fn ranked(rank: usize, s: Suggestion) -> Self {
        Self {
            rank,
            kind: match s.kind {
                SuggestionKind::Article => SuggestionKindWire::Article,
                SuggestionKind::Ticket => SuggestionKindWire::Ticket,
                SuggestionKind::Incident => SuggestionKindWire::Incident,
            },
            id: s.id,
            title: s.title,
            // a triage answer carries the probability, a search its BM25 score
            score: if s.fix_probability.is_some() || s.kind == SuggestionKind::Incident { None } else { Some(s.score) },
            fix_probability: s.fix_probability.map(|p| (p * 1000.0).round() / 1000.0),
            snippet: s.snippet,
            steps: s.steps,
            category: s.category,
            escalation_group: s.escalation_group,
        }
    }
}

/// Query string of `GET /v1/kb/search`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    /// Search text.
    pub q: String,
    /// Tenant: adds that tenant's own articles to the shared ones.
    pub tenant: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// Number of results (1..=`search.max_limit`).
    pub limit: Option<usize>,
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SearchResponse {
    /// Matching articles, best first.
    pub results: Vec<SuggestionView>,
}

/// Query string of `GET /v1/kb/articles/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArticleParams {
    /// Tenant asking; tenant-scoped articles of other tenants answer 404.
    pub tenant: Option<String>,
}

/// A knowledge-base article.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ArticleView {
    /// Article id.
    pub id: String,
    /// Title.
    pub title: String,
    /// One or two sentences on what the article fixes.
    pub summary: String,
    /// Category slug.
    pub category: String,
    /// Search keywords; may be empty.
    pub tags: Vec<String>,
    /// `["all"]` or the tenant ids that may see it.
    pub tenants: Vec<String>,
    /// How users describe the problem.
    pub symptoms: Vec<String>,
    /// The team to pass the ticket to if the steps do not fix it.
    pub escalation_group: String,
    /// Date of the last review, `YYYY-MM-DD`.
    pub updated: String,
    /// The numbered steps of the article's `## Resolution` section, in order.
    pub steps: Vec<String>,
    /// Markdown body.
    pub body: String,
}

impl From<&Article> for ArticleView {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            category: a.category.clone(),
            tags: a.tags.clone(),
            tenants: a.audience.index_terms().into_iter().map(str::to_owned).collect(),
            symptoms: a.symptoms.clone(),
            escalation_group: a.escalation_group.clone(),
            updated: a.updated.clone(),
            steps: a.steps.clone(),
            body: a.body.clone(),
        }
    }
}

/// Health and readiness.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StatusView {
    /// `ok` from `/healthz`; `ready` from `/readyz`.
    pub status: &'static str,
    /// Number of knowledge-base articles loaded (`/readyz` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub articles: Option<usize>,
    /// `loading` while the in-memory similar-ticket scorer fills after a start (the index
    /// answers meanwhile, more slowly), then `ready`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similar_tickets: Option<&'static str>,
    /// `current`, or `repairing` after a failed index write (the store has every ticket; the
    /// index is being rebuilt from it in the background).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_index: Option<&'static str>,
    /// `ok`, `none` (no model configured) or `degraded` (labels come from a fallback model,
    /// or are omitted); readiness stays 200 because suggestions and search keep working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'static str>,
    /// Why the model part is degraded, and what is served instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_reason: Option<String>,
    /// Advice about a model that is served (`model: ok`): trained before this build's cleaning
    /// rules, so retraining is recommended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_note: Option<String>,
    /// Replicas only: `following` the change feed other replicas write, or `failing` (it cannot
    /// be read; this replica answers from what it has and catches up when it can). Readiness
    /// stays 200 either way: every replica would fail alike, and answers still work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_feed: Option<&'static str>,
    /// Version of the service.
    pub version: &'static str,
}
