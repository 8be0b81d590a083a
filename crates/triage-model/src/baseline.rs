//! The baseline the evaluation report compares with: linfa's multinomial Naive Bayes.
//!
//! linfa's models are dense, so the baseline uses a small vocabulary (the 5,000 most frequent
//! words, TF-IDF) and trains and predicts in batches of rows to keep memory flat
//! (30k x 5k dense f32 would be 600 MB at once). linfa-bayes 0.8.1's stray `dbg!` is patched
//! out (`vendor/linfa-bayes`).

use std::time::Instant;

use linfa::ParamGuard;
use linfa::dataset::DatasetBase;
use linfa::traits::{FitWith, Predict};
use linfa_bayes::{MultinomialNb, MultinomialNbParams};
use ndarray::{Array1, Array2};
use serde::Serialize;

use crate::features::{FeatureParams, Vectorizer};
use crate::metrics::{Scored, head_metrics};
use crate::sparse::CsrMatrix;
use crate::train::TrainingRow;
use crate::{ModelError, Result};

/// Rows per dense batch.
const BATCH: usize = 1024;
/// Vocabulary size of the baseline.
pub const BASELINE_FEATURES: usize = 5_000;

/// Baseline figures for one head.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    /// What the baseline was, in words (learner and features).
    pub model: &'static str,
    /// Share of test rows whose label was predicted right (0..=1).
    pub accuracy: f64,
    /// F1 averaged over classes with equal weight (0..=1).
    pub macro_f1: f64,
    /// F1 averaged over classes weighted by their support (0..=1).
    pub weighted_f1: f64,
    /// Wall-clock seconds the baseline took to train.
    pub train_seconds: f64,
}

fn dense(x: &CsrMatrix, rows: std::ops::Range<usize>) -> Array2<f32> {
    let mut out = Array2::zeros((rows.len(), x.n_cols()));
    for (r, i) in rows.enumerate() {
        let (idx, val) = x.row(i);
        for (&j, &v) in idx.iter().zip(val) {
            out[[r, j as usize]] = v;
        }
    }
    out
}

/// Trains multinomial NB for `head` on `train` and scores `test`.
pub fn naive_bayes(train: &[TrainingRow], test: &[TrainingRow], head: &str) -> Result<BaselineReport> {
    let started = Instant::now();
    let mut labels: Vec<String> = train.iter().filter_map(|r| r.labels.get(head).cloned()).collect();
    labels.sort();
    labels.dedup();
    let train: Vec<(&TrainingRow, usize)> =
        train.iter().filter_map(|r| r.labels.get(head).map(|l| (r, labels.binary_search(l).expect("label in set")))).collect();
    let params = FeatureParams { word_ngram_max: 1, char_ngram_min: 0, char_ngram_max: 0, min_df: 2, max_features: BASELINE_FEATURES };
    let texts: Vec<&str> = train.iter().map(|(r, _)| r.text.as_str()).collect();
    let vectorizer = Vectorizer::fit(params, &texts, |_| {})?;
    let x = vectorizer.transform_batch(&texts, 2);
    let nb = MultinomialNbParams::<f32, usize>::new().alpha(0.1).check().map_err(|e| ModelError::InvalidParams(e.to_string()))?;
    let mut model: Option<MultinomialNb<f32, usize>> = None;
    for start in (0..x.n_rows()).step_by(BATCH) {
        let end = (start + BATCH).min(x.n_rows());
        let y: Array1<usize> = train[start..end].iter().map(|(_, c)| *c).collect();
        let ds = DatasetBase::new(dense(&x, start..end), y);
        model = Some(nb.fit_with(model, &ds).map_err(|e| ModelError::InvalidParams(format!("naive bayes: {e}")))?);
    }
    let model = model.ok_or_else(|| ModelError::Untrainable { head: head.to_owned(), reason: "no training rows".into() })?;
    let train_seconds = started.elapsed().as_secs_f64();
    let test: Vec<(&TrainingRow, &String)> = test.iter().filter_map(|r| r.labels.get(head).map(|l| (r, l))).collect();
    let test_texts: Vec<&str> = test.iter().map(|(r, _)| r.text.as_str()).collect();
    let tx = vectorizer.transform_batch(&test_texts, 2);
    let mut all_labels = labels.clone();
    let mut scored = Vec::with_capacity(test.len());
    for start in (0..tx.n_rows()).step_by(BATCH) {
        let end = (start + BATCH).min(tx.n_rows());
        let pred: Array1<usize> = model.predict(&dense(&tx, start..end));
        for (k, &p) in pred.iter().enumerate() {
            let truth_label = test[start + k].1;
            let truth = all_labels.iter().position(|l| l == truth_label).unwrap_or_else(|| {
                all_labels.push(truth_label.clone());
                all_labels.len() - 1
            });
            scored.push(Scored { truth, predicted: p, probability: 0.0, auto: false, truth_in_top3: false });
        }
    }
    let m = head_metrics(&all_labels, &scored);
    Ok(BaselineReport {
        model: "linfa MultinomialNb (top-5k word TF-IDF, alpha 0.1)",
        accuracy: m.accuracy,
        macro_f1: m.macro_f1,
        weighted_f1: m.weighted_f1,
        train_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn naive_bayes_baseline_learns_an_easy_split() {
        let mk = |i: usize, t: &str, l: &str| TrainingRow {
            id: i.to_string(),
            text: t.into(),
            labels: BTreeMap::from([("h".into(), l.into())]),
        };
        let mut train = Vec::new();
        for i in 0..20 {
            train.push(mk(i, "printer toner paper jam", "print"));
            train.push(mk(i + 100, "vpn home connection token", "remote"));
        }
        let test = vec![mk(1, "printer jam", "print"), mk(2, "vpn token", "remote")];
        let r = naive_bayes(&train, &test, "h").unwrap();
        assert_eq!(r.accuracy, 1.0);
    }
}
