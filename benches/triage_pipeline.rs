//! The whole triage pipeline in-process (analysis, KB search, similar-ticket search, three-head
//! classification... as many heads as the model has, fusion, the triage record), and
//! similar-ticket search alone, with 10k / 50k / 200k resolved tickets indexed.
//!
//! Tickets come from the deterministic generator in `triage_engine::synthetic`, so the bench
//! runs anywhere. `TRIAGE_BENCH_SIZES=10000,50000` picks the sizes (default all three; 200k
//! takes ~30 s to ingest). A quarter of the tickets name an article (`kb_article`), so learned
//! phrasing is scored on every triage.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group};
use triage_core::tenant::TenantId;
use triage_core::ticket::{Channel, NewTicket};
use triage_engine::TriageEngine;
use triage_model::bundle::ModelBundle;

const QUERIES: &[&str] = &[
    "locked out of my account after too many attempts this morning",
    "printer on floor 2 says offline and nothing prints",
    "vpn keeps dropping when working from home, teams calls cut out",
    "council tax screen frozen again in the revenues system",
    "outlook stuck loading profile since the update",
];

fn engine_with(n: usize) -> TriageEngine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let articles = triage_kb::loader::load_dir(&root.join("knowledge-base")).unwrap().into_valid().unwrap();
    let model = ModelBundle::load(&root.join("models/starter")).unwrap();
    // a quarter of the tickets name the article that fixed them, so learned phrasing (issue 13)
    // has documents to score: the first article of the ticket's category, when there is one
    let by_category: std::collections::HashMap<String, String> =
        articles.iter().rev().map(|a| (a.category.clone(), a.id.clone())).collect();
    let engine = TriageEngine::in_memory(articles, 5).unwrap().with_model(model);
    let mut tickets = triage_engine::synthetic::resolved_tickets("northmoor", n, 42);
    for t in tickets.iter_mut().step_by(4) {
        t.kb_article = t.category.as_ref().and_then(|c| by_category.get(c)).cloned();
    }
    for chunk in tickets.chunks(10_000) {
        engine.ingest_resolved(chunk).unwrap();
    }
    assert_eq!(engine.ticket_count(), n as u64);
    engine
}

fn sizes() -> Vec<usize> {
    std::env::var("TRIAGE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 200_000])
}

fn bench(c: &mut Criterion) {
    let tenant = TenantId::parse("northmoor").unwrap();
    let tickets: Vec<NewTicket> =
        QUERIES.iter().map(|q| NewTicket::parse(Some(q), None, Some("northmoor"), Channel::Phone, None, None).unwrap()).collect();
    let mut group = c.benchmark_group("pipeline");
    group.sample_size(30);
    for n in sizes() {
        let engine = engine_with(n);
        group.bench_function(BenchmarkId::new("similar_tickets", format!("{n}_tickets")), |b| {
            let mut i = 0;
            b.iter(|| {
                let terms = triage_kb::KbIndex::query_terms(QUERIES[i % QUERIES.len()]);
                i += 1;
                let hits = engine.similar_tickets(&terms, &tenant, 5).unwrap();
                assert!(hits.len() <= 5);
                black_box(hits)
            })
        });
        group.bench_function(BenchmarkId::new("triage", format!("{n}_tickets")), |b| {
            let mut i = 0;
            b.iter(|| {
                let out = engine.triage(&tickets[i % tickets.len()]).unwrap();
                i += 1;
                assert!(!out.suggestions.is_empty());
                black_box(out)
            })
        });
    }
    group.finish();
}

criterion_group!(pipeline, bench);

fn main() {
    pipeline();
    Criterion::default().configure_from_args().final_summary();
}
