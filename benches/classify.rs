//! Single-ticket classification in-process: vectorise, then every head.
//!
//! Uses a model trained on `../shared/datasets/endava-topics/train.csv` when the shared data is
//! present (the figure the issue asks for), and always the bundled starter model.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group};
use triage_model::bundle::ModelBundle;
use triage_model::classifier::Classifier;
use triage_model::dataset::{ColumnMapping, load_files};
use triage_model::features::{Features, Scratch};
use triage_model::train::{TrainParams, train};

fn repo(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn endava() -> Option<(Classifier, Vec<String>)> {
    let dir = repo("../shared/datasets/endava-topics");
    if !dir.exists() {
        eprintln!("classify bench: {} absent; endava benches skipped", dir.display());
        return None;
    }
    let mapping = ColumnMapping { text: vec!["text".into()], labels: vec![("topic_group".into(), "topic_group".into())], id: None };
    let rows = load_files(&[dir.join("train.csv")], &mapping).unwrap().rows;
    let test: Vec<String> = load_files(&[dir.join("dev.csv")], &mapping).unwrap().rows.into_iter().take(2000).map(|r| r.text).collect();
    let bundle = train(&rows, &["topic_group".into()], &TrainParams::default(), "bench", vec![], &mut |_, _, _| {}).unwrap();
    Some((bundle.classifier, test))
}

fn bench_classifier(c: &mut Criterion, name: &str, classifier: &Classifier, texts: &[String]) {
    let mut group = c.benchmark_group("classify");
    group.bench_function(BenchmarkId::new("featurize", name), |b| {
        let (mut scratch, mut f, mut i) = (Scratch::default(), Features::default(), 0);
        b.iter(|| {
            classifier.vectorizer.transform_into(&texts[i % texts.len()], &mut scratch, &mut f);
            i += 1;
            assert!(f.vector.nnz() < 100_000);
            black_box(f.vector.nnz())
        })
    });
    let mut f = Features::default();
    classifier.vectorizer.transform_into(&texts[0], &mut Scratch::default(), &mut f);
    for head in &classifier.heads {
        group.bench_function(BenchmarkId::new(format!("predict_head/{}", head.name), name), |b| {
            b.iter(|| {
                let p = head.predict(&f, &classifier.vectorizer);
                assert!(p.probability > 0.0);
                black_box(p)
            })
        });
    }
    group.bench_function(BenchmarkId::new("whole_ticket_all_heads", name), |b| {
        let mut i = 0;
        b.iter(|| {
            let p = classifier.predict(&texts[i % texts.len()]);
            i += 1;
            assert_eq!(p.len(), classifier.heads.len());
            black_box(p)
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let starter = ModelBundle::load(&repo("models/starter")).expect("models/starter");
    let tickets: Vec<String> = [
        "printer on floor 2 says offline and nothing prints",
        "locked out of my account after too many password attempts, cannot log in to my laptop this morning",
        "vpn keeps dropping when working from home, teams calls cut out",
        "council tax screen frozen again in the revenues system, need it for a customer on the phone",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    bench_classifier(c, "starter", &starter.classifier, &tickets);
    if let Some((classifier, test)) = endava() {
        bench_classifier(c, "endava_topics", &classifier, &test);
    }
}

criterion_group!(classify, benches);

fn main() {
    classify();
    Criterion::default().configure_from_args().final_summary();
}
