//! Learned phrasing through the engine: resolved tickets, erasure, feedback, a restart.

use triage_core::tenant::TenantId;
use triage_core::ticket::{Channel, NewTicket};
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_kb::KbQuery;
use triage_store::Outcome;

use crate::{EngineParams, FeedbackInput, TriageEngine};

const ARTICLE: &str = "mfd-paper-jam-toner-fault";
const PARAPHRASE: &str = "the big beige beast by the stairwell keeps blinking amber";

fn params() -> EngineParams {
    EngineParams::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base"), tempfile::tempdir().unwrap().keep())
}

fn resolved(tenant: &str, id: &str, kb_article: Option<&str>) -> ResolvedTicket {
    ResolvedTicket::parse(&RawResolved {
        tenant,
        external_id: id,
        title: Some("beige beast blinking amber"),
        description: Some("The big beige beast by the stairwell is blinking amber again."),
        resolution_notes: Some("cleared the jam"),
        kb_article,
        resolved_at: Some("2026-11-20T10:00:00Z"),
        ..RawResolved::default()
    })
    .unwrap()
}

fn first_article(engine: &TriageEngine, tenant: &str) -> Option<String> {
    let ticket = NewTicket::parse(Some(PARAPHRASE), None, Some(tenant), Channel::Phone, None, None).unwrap();
    engine
        .triage(&ticket)
        .unwrap()
        .suggestions
        .into_iter()
        .find(|s| s.kind == triage_core::suggestion::SuggestionKind::Article)
        .map(|s| s.id)
}

fn first_searched(engine: &TriageEngine, tenant: &TenantId) -> Option<String> {
    engine.search(&KbQuery::new(PARAPHRASE).tenant(Some(tenant))).unwrap().into_iter().next().map(|s| s.id)
}

#[test]
fn a_resolved_ticket_naming_its_article_makes_it_rank_first_for_its_tenant_until_erased() {
    let (engine, _) = TriageEngine::open(&params()).unwrap();
    let north = TenantId::parse("northmoor").unwrap();
    assert_ne!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE), "not first before anything is learned");
    engine.ingest_resolved(&[resolved("northmoor", "INC1", Some(ARTICLE))]).unwrap();
    assert_eq!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE), "triage ranks the learned article first");
    assert_eq!(first_searched(&engine, &north).as_deref(), Some(ARTICLE), "and so does the tenant's search");
    assert_ne!(first_article(&engine, "eastbrook").as_deref(), Some(ARTICLE), "another tenant learned nothing");
    assert_ne!(
        engine.search(&KbQuery::new(PARAPHRASE)).unwrap().first().map(|s| s.id.as_str()),
        Some(ARTICLE),
        "a search without a tenant neither"
    );
    engine.erase_resolved(&north, "INC1").unwrap();
    assert_ne!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE), "an erased ticket stops contributing");
    engine.ingest_resolved(&[resolved("northmoor", "INC2", Some(ARTICLE))]).unwrap();
    engine.ingest_resolved(&[resolved("northmoor", "INC2", None)]).unwrap();
    assert_ne!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE), "a ticket updated to name no article is forgotten");
}

#[test]
fn learned_phrasing_is_loaded_again_from_the_store_after_a_restart() {
    let params = params();
    {
        let (engine, _) = TriageEngine::open(&params).unwrap();
        engine.ingest_resolved(&[resolved("northmoor", "INC1", Some(ARTICLE))]).unwrap();
    }
    let (engine, _) = TriageEngine::open(&params).unwrap();
    engine.load_ticket_scorer().unwrap();
    assert_eq!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE));
}

#[test]
fn resolved_feedback_teaches_the_article_and_not_helpful_takes_it_back() {
    let params = params();
    let (engine, _) = TriageEngine::open(&params).unwrap();
    // a triage whose text names the printer, so the article is offered and can get feedback
    let text = format!("{PARAPHRASE}; the printer has a paper jam");
    let ticket = NewTicket::parse(Some(&text), None, Some("northmoor"), Channel::Phone, None, None).unwrap();
    let outcome = engine.triage(&ticket).unwrap();
    let key = format!("article:{ARTICLE}");
    assert!(outcome.suggestions.iter().any(|s| crate::fusion::suggestion_key(s) == key), "{:?}", outcome.suggestions);
    let north = TenantId::parse("northmoor").unwrap();
    let feedback = |o: Outcome| FeedbackInput { suggestion: Some(key.clone()), outcome: o, corrected_labels: Default::default() };
    engine.add_feedback(Some(&north), &outcome.triage_id.to_string(), feedback(Outcome::Resolved)).unwrap();
    assert_eq!(first_article(&engine, "northmoor").as_deref(), Some(ARTICLE), "learned from `resolved`");
    let before = engine.learned.boosts(&north, &triage_kb::KbIndex::query_terms(PARAPHRASE), crate::learned::today());
    engine.add_feedback(Some(&north), &outcome.triage_id.to_string(), feedback(Outcome::NotHelpful)).unwrap();
    let after = engine.learned.boosts(&north, &triage_kb::KbIndex::query_terms(PARAPHRASE), crate::learned::today());
    let of = |b: &[triage_kb::ArticleBoost]| b.iter().find(|x| x.article == ARTICLE).map_or(0.0, |x| x.upper());
    assert!(of(&after) < of(&before), "`not_helpful` counts against: {} then {}", of(&before), of(&after));
    drop(engine);
    let (engine, _) = TriageEngine::open(&params).unwrap();
    engine.load_ticket_scorer().unwrap();
    let reloaded = engine.learned.boosts(&north, &triage_kb::KbIndex::query_terms(PARAPHRASE), crate::learned::today());
    assert!((of(&reloaded) - of(&after)).abs() < 1e-3, "feedback is learned again at start: {} vs {}", of(&reloaded), of(&after));
}

#[test]
fn the_fix_refit_searches_a_ticket_without_any_learned_copy_of_its_own_words() {
    let params = params();
    let (engine, _) = TriageEngine::open(&params).unwrap();
    let north = TenantId::parse("northmoor").unwrap();
    // triaged as INC9, the article marked `resolved` (learned once), then INC9 arrives resolved
    // naming it (learned again, under its own key): two copies of the same words
    let text = format!("{PARAPHRASE}; the printer has a paper jam");
    let ticket = NewTicket::parse(Some(&text), None, Some("northmoor"), Channel::Phone, None, Some("INC9")).unwrap();
    let outcome = engine.triage(&ticket).unwrap();
    let key = format!("article:{ARTICLE}");
    let feedback = FeedbackInput { suggestion: Some(key), outcome: Outcome::Resolved, corrected_labels: Default::default() };
    engine.add_feedback(Some(&north), &outcome.triage_id.to_string(), feedback).unwrap();
    let mut inc9 = resolved("northmoor", "INC9", Some(ARTICLE));
    inc9.title = PARAPHRASE.to_owned();
    engine.ingest_resolved(&[inc9]).unwrap();
    engine.load_ticket_scorer().unwrap();
    let history = engine.fix_history().unwrap();
    // one ranked query (the ticket) and one verdict (the feedback); neither finds its own words
    assert_eq!(history.len(), 2, "{history:?}");
    for q in &history {
        for f in &q.hits {
            assert_eq!(f[13], 0.0, "learned evidence from its own copies: {q:?}");
        }
    }
    // while the copies still count for a new ticket in the same words
    let (boosts, has) = engine.learned.boosts_except(&north, &triage_kb::KbIndex::query_terms(PARAPHRASE), crate::learned::today(), &[]);
    assert!(has && boosts.iter().any(|b| b.article == ARTICLE && b.upper() > 0.0));
}
