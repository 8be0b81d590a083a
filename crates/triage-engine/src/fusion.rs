//! Ranking articles and similar resolved tickets together, and the first-contact prediction.
//!
//! **The score.** Articles and tickets come from two BM25 indexes whose scores are not on one
//! scale, so they are fused by rank (reciprocal rank fusion) and weighted by agent feedback:
//!
//! `score = source_weight x feedback_factor / (60 + rank)`
//!
//! with `rank` the 1-based rank within its own source, `source_weight` 1.0 for both sources (so
//! without feedback they interleave: article 1, ticket 1, article 2, ...; ties keep articles
//! first), and `feedback_factor = 0.5 + (positive + 2) / (total + 4)` in 0.5..1.5 (1.0 without
//! feedback; `resolved` counts twice as positive, `helpful` once, `not_helpful` against).
//! A resolved ticket is only offered when it matches well: it shares at least
//! [`MIN_TICKET_TERMS`] distinct query terms (fewer only when the query has fewer) and scores at
//! least half the best ticket's BM25, so a tenant with few tickets is not shown weak matches just
//! because they rank first among tickets. (A BM25 floor would not do: scores grow with the
//! number of tickets indexed.)

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use triage_core::article::Article;
use triage_core::suggestion::{Suggestion, SuggestionKind};
use triage_kb::{KbHit, TicketHit};
use triage_model::classifier::{Decision, HeadPrediction};
use triage_store::FeedbackCounts;

/// Rank constant of reciprocal rank fusion (the usual 60).
pub const RRF_K: f32 = 60.0;
/// Weight of the article ranking in the fusion.
pub const ARTICLE_WEIGHT: f32 = 1.0;
/// Weight of the similar-ticket ranking in the fusion.
pub const TICKET_WEIGHT: f32 = 1.0;
/// Fewest distinct query terms a resolved ticket must share to be suggested.
pub const MIN_TICKET_TERMS: usize = 2;
/// `no_good_fix` when no suggestion's `fix_probability` reaches this (the default of
/// `triage.no_good_fix_below`).
pub const NO_GOOD_FIX_BELOW: f64 = 0.3;
/// Name of the head trained on `resolved_at_first_contact` (labels `yes` / `no`).
pub const FIRST_CONTACT_HEAD: &str = "first_contact";

/// `kind:id` of a suggestion, the key feedback is counted under.
pub fn suggestion_key(s: &Suggestion) -> String {
    let kind = match s.kind {
        SuggestionKind::Article => "article",
        SuggestionKind::Ticket => "ticket",
        SuggestionKind::Incident => "incident",
    };
    format!("{kind}:{}", s.id)
}

pub(crate) fn article_suggestion(hit: KbHit, articles: &HashMap<String, Arc<Article>>) -> Option<Suggestion> {
    let article = articles.get(&hit.id)?;
    Some(Suggestion {
        kind: SuggestionKind::Article,
        id: hit.id,
        title: hit.title,
        score: hit.score,
        fix_probability: None,
        snippet: hit.snippet,
        steps: article.steps.clone(),
        category: article.category.clone(),
        escalation_group: article.escalation_group.clone(),
    })
}

fn ticket_suggestion(hit: &TicketHit) -> Suggestion {
    Suggestion {
        kind: SuggestionKind::Ticket,
        id: hit.external_id.clone(),
        title: hit.title.clone(),
        score: hit.score,
        fix_probability: None,
        snippet: triage_kb::escape_html(&hit.resolution_notes),
        steps: if hit.resolution_notes.is_empty() { Vec::new() } else { vec![hit.resolution_notes.clone()] },
        category: hit.category.clone(),
        escalation_group: String::new(),
    }
}

/// What the fix-probability features need besides the hits.
pub(crate) struct FixContext<'a> {
    /// Distinct analysed query terms.
    pub query_terms: usize,
    /// The predicted category and its probability, if a model answered.
    pub category: Option<(&'a str, f32)>,
    /// The model.
    pub model: &'a crate::fix::FixModel,
    /// The query's learned-phrasing boosts (empty without history).
    pub boosts: &'a [triage_kb::ArticleBoost],
    /// Whether the tenant has learned phrasing at all.
    pub history: bool,
    /// The tenant of the request, and whether it sees shared articles (which articles it may be
    /// shown, for the best learned evidence).
    pub tenant: Option<&'a triage_core::tenant::TenantId>,
    /// See `tenant`.
    pub include_shared: bool,
}

/// Whether a request of `tenant` may be shown `article`: it exists, its audience admits the
/// tenant, and it is not a shared article for a tenant that opted out of them.
pub(crate) fn article_shown(
    articles: &HashMap<String, Arc<Article>>,
    article: &str,
    tenant: Option<&triage_core::tenant::TenantId>,
    include_shared: bool,
) -> bool {
    articles.get(article).is_some_and(|a| a.audience.admits(tenant) && (include_shared || a.audience != triage_core::tenant::Audience::All))
}

/// Fuses both sources into one ranking (see the module docs); keeps `limit`. Each suggestion
/// gets its `fix_probability` (see `fix`); the ranking is by reciprocal rank fusion.
pub(crate) fn fuse(
    kb: &[KbHit],
    tickets: &[TicketHit],
    articles: &HashMap<String, Arc<Article>>,
    feedback: &HashMap<String, FeedbackCounts>,
    limit: usize,
    context: &FixContext<'_>,
) -> Vec<Suggestion> {
    let mut all: Vec<Suggestion> = Vec::with_capacity(kb.len() + tickets.len());
    let factor = |s: &Suggestion| feedback.get(&suggestion_key(s)).map_or(1.0, FeedbackCounts::ranking_factor);
    let verdict = |s: &Suggestion| feedback.get(&suggestion_key(s)).map_or(0.0, FeedbackCounts::verdict);
    let agreement = |category: &str| match context.category {
        Some((predicted, p)) if !category.is_empty() => {
            if predicted == category {
                f64::from(p)
            } else {
                -f64::from(p)
            }
        }
        _ => 0.0,
    };
    let scores: Vec<f32> = kb.iter().map(|h| h.score).collect();
    let best_learned =
        crate::fix::best_learned_evidence(context.boosts, |a| article_shown(articles, a, context.tenant, context.include_shared));
    for (rank, hit) in kb.iter().enumerate() {
        if let Some(mut s) = article_suggestion(hit.clone(), articles) {
            s.score = ARTICLE_WEIGHT * factor(&s) / (RRF_K + rank as f32 + 1.0);
            let f = crate::fix::article_features(
                &scores,
                hit.coverage,
                hit.query_known,
                rank,
                context.query_terms,
                agreement(&s.category),
                verdict(&s),
            );
            let f = crate::fix::with_learned(f, crate::fix::learned_evidence(context.boosts, &hit.id), best_learned, context.history);
            s.fix_probability = Some(context.model.probability(&f) as f32);
            all.push(s);
        }
    }
    let best_ticket = tickets.first().map_or(0.0, |t| t.score);
    let strong = tickets.iter().filter(|t| t.matched_terms >= MIN_TICKET_TERMS.min(t.query_terms) && t.score >= 0.5 * best_ticket);
    for (rank, hit) in strong.enumerate() {
        let mut s = ticket_suggestion(hit);
        s.score = TICKET_WEIGHT * factor(&s) / (RRF_K + rank as f32 + 1.0);
        let f =
            crate::fix::ticket_features(hit.score, best_ticket, hit.matched_terms, hit.query_terms, agreement(&s.category), verdict(&s));
        s.fix_probability = Some(context.model.probability(&f) as f32);
        all.push(s);
    }
    // stable sort: on equal scores articles (pushed first) stay ahead
    all.sort_by(|a, b| b.score.total_cmp(&a.score));
    all.truncate(limit);
    all
}

/// Whether no suggestion is likely enough to fix the ticket.
pub(crate) fn no_good_fix(suggestions: &[Suggestion], below: f64) -> bool {
    suggestions.iter().all(|s| f64::from(s.fix_probability.unwrap_or(0.0)) < below)
}

/// How likely the ticket is to be resolved at first contact with the suggested fix.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FirstContact {
    /// Probability of resolution at first contact (0..=1).
    pub probability: f32,
    /// Whether the estimate is confident enough to act on (`auto`), a hint (`suggest`), or no estimate (`abstain`).
    pub decision: Decision,
    /// `model` (a head trained on `resolved_at_first_contact`), `fix_probability` (the best
    /// suggestion's) or `incident` (a confirmed incident with an agent message).
    pub source: &'static str,
}

/// The suggestion naming the incident a ticket belongs to (first in the answer).
pub(crate) fn incident_suggestion(m: &crate::incidents::IncidentMatch) -> Suggestion {
    use crate::incidents::Status;
    let what = if m.status == Status::Suspected { "Suspected major incident" } else { "Known major incident" };
    let headline = m.message.as_deref().and_then(|t| t.lines().map(str::trim).find(|l| !l.is_empty()));
    let title = match headline {
        Some(line) => format!("{what}: {}", line.chars().take(120).collect::<String>()),
        None => format!("{what}: {}", m.top_terms.join(", ")),
    };
    Suggestion {
        kind: SuggestionKind::Incident,
        id: m.id.clone(),
        title,
        score: m.similarity,
        fix_probability: None,
        snippet: triage_kb::escape_html(m.message.as_deref().unwrap_or("Many similar tickets are arriving; the desk is investigating.")),
        steps: m.message.iter().cloned().collect(),
        category: String::new(),
        escalation_group: String::new(),
    }
}

/// A ticket of a confirmed incident whose message tells agents what to say: the desk has the
/// answer, so first contact is likely (at least [`INCIDENT_FIRST_CONTACT`], `suggest` or better,
/// `source: incident`). A rule, not a fitted model: the desk's own record of such calls will say
/// how right it is.
pub(crate) fn first_contact_with_incident(fc: FirstContact, m: Option<&crate::incidents::IncidentMatch>) -> FirstContact {
    match m {
        Some(m) if m.status == crate::incidents::Status::Confirmed && m.message.is_some() => FirstContact {
            probability: fc.probability.max(INCIDENT_FIRST_CONTACT),
            decision: if fc.decision == Decision::Auto { Decision::Auto } else { Decision::Suggest },
            source: "incident",
        },
        _ => fc,
    }
}

/// First-contact probability of a ticket of a confirmed incident with an agent message.
pub const INCIDENT_FIRST_CONTACT: f32 = 0.9;

/// From the model's `first_contact` head when it has one (removing it from `labels`), else
/// from the fixes: `p` is the best suggestion's `fix_probability` (a ticket is resolved at first
/// contact when the agent has a fix that works); `auto` when `p >= 0.8` and the routing
/// (`assignment_group`) is itself `auto`, so the desk can act on the answer either way;
/// `suggest` when `p >= 0.5`; else `abstain`. `source` says which: `model` or `fix_probability`
/// ([`first_contact_with_incident`] may then make it `incident`).
pub(crate) fn first_contact(labels: &mut Vec<HeadPrediction>, suggestions: &[Suggestion]) -> FirstContact {
    if let Some(i) = labels.iter().position(|p| p.head == FIRST_CONTACT_HEAD) {
        let p = labels.remove(i);
        let yes = p.alternatives.iter().find(|a| a.label == "yes").map_or(0.0, |a| a.probability);
        return FirstContact { probability: yes, decision: p.decision, source: "model" };
    }
    let probability = suggestions.iter().filter_map(|s| s.fix_probability).fold(0.0f32, f32::max);
    let routed = labels.iter().any(|p| p.head == "assignment_group" && p.decision == Decision::Auto);
    let decision = if probability >= 0.8 && routed {
        Decision::Auto
    } else if probability >= 0.5 {
        Decision::Suggest
    } else {
        Decision::Abstain
    };
    FirstContact { probability, decision, source: "fix_probability" }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: FixContext<'static> = FixContext {
        query_terms: 4,
        category: None,
        model: &crate::fix::FixModel::DEFAULT,
        boosts: &[],
        history: false,
        tenant: None,
        include_shared: true,
    };

    #[test]
    fn every_suggestion_gets_a_fix_probability_and_no_good_fix_follows_the_threshold() {
        let out = fuse(
            &[kb_hit("art-a", 30.0), kb_hit("art-b", 10.0)],
            &[ticket_hit("T1")],
            &articles(&["art-a", "art-b"]),
            &HashMap::new(),
            5,
            &CONTEXT,
        );
        let p: Vec<f32> = out.iter().map(|s| s.fix_probability.expect("a probability")).collect();
        assert!(p.iter().all(|p| (0.0..=1.0).contains(p)), "{p:?}");
        let a = out.iter().find(|s| s.id == "art-a").unwrap().fix_probability.unwrap();
        let b = out.iter().find(|s| s.id == "art-b").unwrap().fix_probability.unwrap();
        assert!(a > b, "the stronger article is likelier to fix: {a} {b}");
        assert!(!no_good_fix(&out, f64::from(a) - 0.01));
        assert!(no_good_fix(&out, 1.0), "nothing reaches 1.0");
        assert!(no_good_fix(&[], 0.3), "no suggestion at all is no good fix");
    }

    #[test]
    fn a_strong_similar_ticket_is_a_fix_worth_trying_on_its_own() {
        // the best ticket, matching 3 of 4 words, and no article at all
        let out = fuse(&[], &[ticket_hit("T1")], &HashMap::new(), &HashMap::new(), 5, &CONTEXT);
        let p = out[0].fix_probability.unwrap();
        assert!(p > 0.3, "a resolved ticket that says what the caller says is a real suggestion: {p}");
        assert!(!no_good_fix(&out, NO_GOOD_FIX_BELOW));
        let weak = TicketHit { matched_terms: 2, score: 3.0, ..ticket_hit("T2") };
        let out = fuse(&[], &[ticket_hit("T1"), weak], &HashMap::new(), &HashMap::new(), 5, &CONTEXT);
        let (a, b) = (out[0].fix_probability.unwrap(), out[1].fix_probability.unwrap());
        assert!(a > b, "the weaker ticket is less likely: {a} {b}");
    }

    fn kb_hit(id: &str, score: f32) -> KbHit {
        KbHit { id: id.into(), title: id.into(), category: "c".into(), score, snippet: String::new(), coverage: 1.0, query_known: 1.0 }
    }

    fn ticket_hit(id: &str) -> TicketHit {
        TicketHit {
            matched_terms: 3,
            query_terms: 4,
            external_id: id.into(),
            title: id.into(),
            category: "c".into(),
            resolution_notes: "restarted <it>".into(),
            score: 5.0,
        }
    }

    fn articles(ids: &[&str]) -> HashMap<String, Arc<Article>> {
        ids.iter()
            .map(|id| {
                let src = format!(
                    "---\nid: {id}\ntitle: T\nsummary: S\ncategory: cat\ntags: []\ntenants: [all]\nsymptoms:\n  - a\n  - b\n  - c\nescalation_group: grp\nupdated: 2026-11-01\n---\n## Resolution\n1. Step.\n"
                );
                ((*id).to_owned(), Arc::new(Article::parse(&src).unwrap()))
            })
            .collect()
    }

    #[test]
    fn sources_interleave_by_rank_with_articles_first_on_ties() {
        let out = fuse(
            &[kb_hit("art-a", 30.0), kb_hit("art-b", 10.0)],
            &[ticket_hit("T1")],
            &articles(&["art-a", "art-b"]),
            &HashMap::new(),
            5,
            &CONTEXT,
        );
        let keys: Vec<String> = out.iter().map(suggestion_key).collect();
        assert_eq!(keys, vec!["article:art-a", "ticket:T1", "article:art-b"]);
        assert_eq!(out[1].snippet, "restarted &lt;it&gt;");
    }

    #[test]
    fn weak_ticket_matches_are_not_offered() {
        let mut weak = ticket_hit("T2");
        weak.score = 2.0;
        let mut one_word = ticket_hit("T3");
        one_word.matched_terms = 1;
        let out = fuse(&[], &[ticket_hit("T1"), weak, one_word], &HashMap::new(), &HashMap::new(), 5, &CONTEXT);
        assert_eq!(out.iter().map(suggestion_key).collect::<Vec<_>>(), vec!["ticket:T1"]);
    }

    #[test]
    fn feedback_moves_a_suggestion_up() {
        let mut fb = HashMap::new();
        fb.insert("article:art-b".to_owned(), FeedbackCounts { resolved: 20, helpful: 0, not_helpful: 0 });
        fb.insert("article:art-a".to_owned(), FeedbackCounts { resolved: 0, helpful: 0, not_helpful: 20 });
        let out = fuse(&[kb_hit("art-a", 30.0), kb_hit("art-b", 10.0)], &[], &articles(&["art-a", "art-b"]), &fb, 5, &CONTEXT);
        assert_eq!(out[0].id, "art-b");
    }

    #[test]
    fn first_contact_follows_the_best_fix_and_says_auto_only_with_confident_routing() {
        let with = |p: f32| {
            let mut s = article_suggestion(kb_hit("art-a", 10.0), &articles(&["art-a"])).unwrap();
            s.fix_probability = Some(p);
            vec![s]
        };
        let weak = first_contact(&mut Vec::new(), &with(0.3));
        let likely = first_contact(&mut Vec::new(), &with(0.9));
        assert_eq!((weak.decision, likely.decision), (Decision::Abstain, Decision::Suggest), "no routing: never auto");
        assert!((likely.probability - 0.9).abs() < 1e-6);
        assert_eq!(likely.source, "fix_probability");
        let routing = HeadPrediction {
            head: "assignment_group".into(),
            label: "service-desk".into(),
            probability: 0.95,
            decision: Decision::Auto,
            alternatives: Vec::new(),
            explanation: Vec::new(),
        };
        assert_eq!(first_contact(&mut vec![routing], &with(0.9)).decision, Decision::Auto);
        assert_eq!(first_contact(&mut Vec::new(), &[]).probability, 0.0, "no suggestion, no fix");
    }
}
