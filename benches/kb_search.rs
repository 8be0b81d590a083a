//! Knowledge-base search over the bundled articles: the query each ticket runs.
//!
//! Queries are the articles' own symptom phrases plus whole ticket-like sentences, rotated so
//! caches cannot serve one query forever. After the criterion groups, a sampling pass prints
//! p50 / p99 / p99.9 latency of single searches (criterion reports means and medians only).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, criterion_group};
use triage_kb::{KbDocument, KbIndex, KbQuery};

fn setup() -> (KbIndex, Vec<String>) {
    let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base");
    let articles = triage_kb::loader::load_dir(&kb).expect("bundled knowledge base").into_valid().expect("valid articles");
    let docs: Vec<KbDocument> = articles.iter().map(KbDocument::from).collect();
    let index = KbIndex::create_in_ram().unwrap();
    index.sync(&docs).unwrap();
    let mut queries: Vec<String> = articles.iter().flat_map(|a| a.symptoms.iter().cloned()).collect();
    queries.extend(articles.iter().map(|a| format!("{} - {}. {}", a.title, a.summary, a.symptoms.join(", "))));
    (index, queries)
}

fn bench_search(c: &mut Criterion) {
    let (index, queries) = setup();
    let docs = index.num_docs();
    let mut group = c.benchmark_group("kb_search");
    for snippets in [false, true] {
        let name = if snippets { "with_snippets" } else { "ids_only" };
        group.bench_function(BenchmarkId::new(name, format!("{docs}_articles")), |b| {
            let mut i = 0;
            b.iter(|| {
                let q = &queries[i % queries.len()];
                i += 1;
                let hits = index.search(&KbQuery::new(q).limit(5).snippets(snippets)).unwrap();
                assert!(hits.len() <= 5);
                black_box(hits)
            })
        });
    }
    group.finish();
}

fn print_latency_percentiles() {
    let (index, queries) = setup();
    let mut samples = Vec::with_capacity(20_000);
    for i in 0..20_000 {
        let q = &queries[i % queries.len()];
        let t = Instant::now();
        let hits = index.search(&KbQuery::new(q).limit(5)).unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1e6);
        assert!(!hits.is_empty() || q.trim().is_empty());
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| samples[((q * samples.len() as f64) as usize).min(samples.len() - 1)];
    println!(
        "kb_search latency over {} searches with snippets ({} articles): p50 {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs",
        samples.len(),
        index.num_docs(),
        p(0.50),
        p(0.99),
        p(0.999)
    );
}

criterion_group!(benches, bench_search);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    print_latency_percentiles();
}
