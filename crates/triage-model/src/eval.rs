//! Scoring a trained classifier on a labelled test set, and the Markdown report.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;

use crate::classifier::{Classifier, Decision};
use crate::features::{Features, Scratch};
use crate::metrics::{HeadMetrics, Scored, head_metrics};
use crate::train::TrainingRow;

/// The result of scoring one test set.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Metrics per head name.
    pub heads: BTreeMap<String, HeadMetrics>,
    /// Wall-clock seconds training took, as passed in by the caller.
    pub train_seconds: f64,
    /// Single-threaded, one ticket at a time: vectorise + every head.
    pub predict_per_second: f64,
    /// Median time to predict one ticket, in microseconds.
    pub predict_p50_micros: f64,
    /// 99th-percentile time to predict one ticket, in microseconds.
    pub predict_p99_micros: f64,
    /// Number of rows the model was trained on, as passed in by the caller.
    pub train_rows: usize,
    /// Number of rows in the test set.
    pub test_rows: usize,
    /// Number of feature columns of the classifier.
    pub n_features: usize,
    /// Baselines per head (linfa's multinomial Naive Bayes), when computed.
    pub baselines: BTreeMap<String, crate::baseline::BaselineReport>,
}

/// Scores `test` with `classifier`. Test labels unseen in training count as errors.
pub fn evaluate(classifier: &Classifier, test: &[TrainingRow], train_seconds: f64, train_rows: usize) -> EvalReport {
    let mut per_head: BTreeMap<String, (Vec<String>, Vec<Scored>)> =
        classifier.heads.iter().map(|h| (h.name.clone(), (h.labels.clone(), Vec::new()))).collect();
    let mut latencies = Vec::with_capacity(test.len());
    let mut scratch = Scratch::default();
    let mut features = Features::default();
    let started = Instant::now();
    for row in test {
        let t = Instant::now();
        classifier.vectorizer.transform_into(&row.text, &mut scratch, &mut features);
        let predictions: Vec<_> = classifier.heads.iter().map(|h| h.predict(&features, &classifier.vectorizer)).collect();
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        for (head, p) in classifier.heads.iter().zip(predictions) {
            let Some(truth_label) = row.labels.get(&head.name) else { continue };
            let (labels, scored) = per_head.get_mut(&head.name).expect("head present");
            let truth = match labels.iter().position(|l| l == truth_label) {
                Some(i) => i,
                None => {
                    labels.push(truth_label.clone());
                    labels.len() - 1
                }
            };
            let predicted = labels.iter().position(|l| *l == p.label).expect("predicted label is known");
            scored.push(Scored {
                truth,
                predicted,
                probability: p.probability,
                auto: p.decision == Decision::Auto,
                truth_in_top3: p.alternatives.iter().any(|a| &a.label == truth_label),
            });
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct =
        |q: f64| latencies.get(((q * latencies.len() as f64) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or(0.0);
    EvalReport {
        heads: per_head.into_iter().map(|(h, (labels, scored))| (h, head_metrics(&labels, &scored))).collect(),
        train_seconds,
        predict_per_second: if elapsed > 0.0 { test.len() as f64 / elapsed } else { 0.0 },
        predict_p50_micros: pct(0.5),
        predict_p99_micros: pct(0.99),
        train_rows,
        test_rows: test.len(),
        n_features: classifier.vectorizer.n_features(),
        baselines: BTreeMap::new(),
    }
}

/// The report as Markdown: summary per head, per-class table, confusion matrix.
pub fn markdown(report: &EvalReport, title: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {title}\n");
    let _ = writeln!(
        md,
        "{} training rows, {} test rows, {} features. Training {:.1} s; prediction {:.0} tickets/s one at a time (p50 {:.0} µs, p99 {:.0} µs).\n",
        report.train_rows,
        report.test_rows,
        report.n_features,
        report.train_seconds,
        report.predict_per_second,
        report.predict_p50_micros,
        report.predict_p99_micros
    );
    let _ = writeln!(md, "| head | accuracy | macro-F1 | weighted-F1 | top-3 accuracy | ECE | auto coverage | auto precision |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for (h, m) in &report.heads {
        let _ = writeln!(
            md,
            "| {h} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
            m.accuracy, m.macro_f1, m.weighted_f1, m.top3_accuracy, m.ece, m.auto_coverage, m.auto_precision
        );
    }
    if !report.baselines.is_empty() {
        let _ = writeln!(
            md,
            "\nBaselines on the same split:\n\n| head | model | accuracy | macro-F1 | weighted-F1 | train s |\n|---|---|---|---|---|---|"
        );
        for (h, b) in &report.baselines {
            let _ = writeln!(
                md,
                "| {h} | {} | {:.3} | {:.3} | {:.3} | {:.1} |",
                b.model, b.accuracy, b.macro_f1, b.weighted_f1, b.train_seconds
            );
        }
    }
    for (h, m) in &report.heads {
        let _ = writeln!(md, "\n## {h}\n\n| class | precision | recall | F1 | support |\n|---|---|---|---|---|");
        for c in &m.per_class {
            let _ = writeln!(md, "| {} | {:.3} | {:.3} | {:.3} | {} |", c.label, c.precision, c.recall, c.f1, c.support);
        }
        if m.per_class.len() <= 20 {
            let _ = writeln!(md, "\nConfusion matrix (rows: truth, columns: predicted, same order as above):\n");
            let _ = writeln!(md, "| | {} |", (0..m.per_class.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(" | "));
            let _ = writeln!(md, "|---|{}", "---|".repeat(m.per_class.len()));
            for (i, row) in m.confusion.iter().enumerate() {
                let _ = writeln!(
                    md,
                    "| {i} {} | {} |",
                    m.per_class[i].label,
                    row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")
                );
            }
        } else {
            let _ = writeln!(md, "\n({} classes: confusion matrix in the JSON report only.)", m.per_class.len());
        }
    }
    md
}
