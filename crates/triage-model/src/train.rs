//! Training a classifier: fit the vocabulary once, then per head: out-of-fold scores for
//! calibration and thresholds, and the final model on every row.

use std::collections::BTreeMap;
use std::time::Instant;

use linfa::ParamGuard;
use linfa::dataset::DatasetBase;
use linfa::traits::Fit;
use ndarray::Array1;
use serde::{Deserialize, Serialize};
use triage_core::article::content_hash;
use triage_core::clean::{boilerplate, clean_joined};
use triage_core::redact::redact;

use crate::bundle::{FORMAT, FeatureInfo, HeadInfo, Manifest, ModelBundle, TrainingInfo};
use crate::calibration::{Calibration, fit_temperature, precision_thresholds, softmax};
use crate::classifier::{Classifier, HeadModel, SUGGEST_MIN_TOP3};
use crate::features::{FeatureParams, Vectorizer};
use crate::metrics::{Scored, head_metrics};
use crate::sparse::CsrMatrix;
use crate::svm::{LinearSvm, LinearSvmParams, argmax};
use crate::{ModelError, Result};

/// One labelled training text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingRow {
    /// Row id: the ticket id column, or the line number when there is none. Part of the training-data hash.
    pub id: String,
    /// The ticket text (columns joined with new lines); redacted before analysis.
    pub text: String,
    /// Head name -> label. A row may lack a label for some heads.
    pub labels: BTreeMap<String, String>,
}

/// Training hyper-parameters.
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `features` | see [`FeatureParams`] | text features | |
/// | `c` | 0.5 | SVM regularisation | > 0 |
/// | `seed` | 42 | update order and fold assignment | any |
/// | `threads` | 2 | parallel classes and featurisation | 1..=64 |
/// | `calibration_folds` | 3 | folds for out-of-fold scores | 2..=10 |
/// | `target_precision` | 0.9 per head | precision `auto` decisions must reach | 0.5..=1 |
/// | `min_auto_support` | 5 | out-of-fold predictions a class needs to be `auto` | >= 1 |
#[derive(Debug, Clone)]
pub struct TrainParams {
    /// Text feature settings.
    pub features: FeatureParams,
    /// SVM regularisation (> 0).
    pub c: f32,
    /// Seed for update order and fold assignment.
    pub seed: u64,
    /// Threads for parallel classes and featurisation (1..=64).
    pub threads: usize,
    /// Folds for out-of-fold scores (2..=10).
    pub calibration_folds: usize,
    /// Precision `auto` decisions must reach for heads not in `target_precision` (0.5..=1).
    pub default_target_precision: f32,
    /// Precision per head name, overriding `default_target_precision` (each 0.5..=1).
    pub target_precision: BTreeMap<String, f32>,
    /// Out-of-fold predictions a class needs before it may be decided `auto` (>= 1).
    pub min_auto_support: usize,
}

impl Default for TrainParams {
    fn default() -> Self {
        Self {
            features: FeatureParams::default(),
            c: 0.5,
            seed: 42,
            threads: 2,
            calibration_folds: 3,
            default_target_precision: 0.9,
            target_precision: BTreeMap::new(),
            min_auto_support: 5,
        }
    }
}

impl TrainParams {
    fn target_for(&self, head: &str) -> f32 {
        self.target_precision.get(head).copied().unwrap_or(self.default_target_precision)
    }

    /// Checks the feature settings, `calibration_folds` and every target precision; `c` and `threads` are checked when the SVM trains.
    pub fn check(&self) -> Result<()> {
        self.features.check()?;
        if !(2..=10).contains(&self.calibration_folds) {
            return Err(ModelError::InvalidParams("calibration_folds must be 2..=10".into()));
        }
        for t in self.target_precision.values().chain([&self.default_target_precision]) {
            if !(0.5..=1.0).contains(t) {
                return Err(ModelError::InvalidParams(format!("target precision {t} must be in 0.5..=1")));
            }
        }
        Ok(())
    }
}

/// Progress of a training run: phase name, done, total.
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// SHA-256 over the training rows as the model sees them (ids, cleaned and redacted text, labels).
pub fn training_data_hash(rows: &[TrainingRow]) -> String {
    let mut buf = String::new();
    for r in rows {
        buf.push_str(&r.id);
        buf.push('\u{1f}');
        buf.push_str(&redact(&clean_joined(&r.text, boilerplate())));
        for (h, l) in &r.labels {
            buf.push('\u{1e}');
            buf.push_str(h);
            buf.push('=');
            buf.push_str(l);
        }
        buf.push('\n');
    }
    content_hash(buf.as_bytes())
}

/// Trains a bundle with one head per name in `heads`.
pub fn train(
    rows: &[TrainingRow],
    heads: &[String],
    params: &TrainParams,
    version: &str,
    sources: Vec<String>,
    progress: Progress<'_>,
) -> Result<ModelBundle> {
    params.check()?;
    let started = Instant::now();
    if heads.is_empty() {
        return Err(ModelError::InvalidParams("name at least one head to train (--label HEAD=COLUMN)".into()));
    }
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let vectorizer = Vectorizer::fit(params.features, &texts, |done| progress("vocabulary", done, texts.len()))?;
    progress("features", 0, texts.len());
    let x = vectorizer.transform_batch(&texts, params.threads);
    progress("features", texts.len(), texts.len());
    let mut models = Vec::with_capacity(heads.len());
    for head in heads {
        models.push(train_head(head, rows, &x, params, progress)?);
    }
    let classifier = Classifier { vectorizer, heads: models };
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: version.to_owned(),
        created: triage_core::time::rfc3339_utc(std::time::SystemTime::now()),
        analysis_version: triage_core::analysis::ANALYSIS_VERSION,
        redaction_version: triage_core::redact::BUILTIN_VERSION,
        redaction_extra: triage_core::redact::extra_fingerprint(),
        training: TrainingInfo {
            data_sha256: training_data_hash(rows),
            rows: rows.len(),
            sources,
            c: params.c,
            seed: params.seed,
            calibration_folds: params.calibration_folds,
            train_seconds: started.elapsed().as_secs_f64(),
        },
        features: FeatureInfo {
            params: params.features,
            n_features: classifier.vectorizer.n_features(),
            n_word_features: classifier.vectorizer.n_word_features(),
        },
        heads: classifier
            .heads
            .iter()
            .map(|h| HeadInfo {
                name: h.name.clone(),
                labels: h.labels.clone(),
                calibration: h.calibration.clone(),
                cv_metrics: h.cv_metrics.clone(),
            })
            .collect(),
        weights_sha256: String::new(),
    };
    Ok(ModelBundle { manifest, classifier })
}

fn fit_svm(x: &CsrMatrix, y: Vec<usize>, n_classes: usize, params: &TrainParams) -> Result<LinearSvm> {
    let ds = DatasetBase::new(x.clone(), Array1::from(y));
    LinearSvmParams::new(n_classes).c(params.c).seed(params.seed).threads(params.threads).check()?.fit(&ds)
}

fn train_head(head: &str, rows: &[TrainingRow], x_all: &CsrMatrix, params: &TrainParams, progress: Progress<'_>) -> Result<HeadModel> {
    let labelled: Vec<(usize, &str)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.labels.get(head).map(|l| l.trim()).filter(|l| !l.is_empty()).map(|l| (i, l)))
        .collect();
    let mut labels: Vec<String> = labelled.iter().map(|(_, l)| (*l).to_owned()).collect();
    labels.sort();
    labels.dedup();
    if labels.len() < 2 {
        let reason = match labels.first() {
            Some(only) => format!("every labelled row has the same label `{only}`; a classifier needs at least two labels"),
            None => "no row has a label for it; check the --label column name".to_owned(),
        };
        return Err(ModelError::Untrainable { head: head.to_owned(), reason });
    }
    let k = labels.len();
    let index: Vec<usize> = labelled.iter().map(|(i, _)| *i).collect();
    let y: Vec<usize> = labelled.iter().map(|(_, l)| labels.binary_search(&(*l).to_owned()).expect("label is in the set")).collect();
    let x = x_all.select(&index);
    let folds = params.calibration_folds;
    let fold_of = fold_assignment(x.n_rows(), folds, params.seed);
    let mut oof: Vec<Vec<f32>> = vec![Vec::new(); x.n_rows()];
    for f in 0..folds {
        progress(&format!("{head}: calibration fold"), f, folds);
        let train_rows: Vec<usize> = (0..x.n_rows()).filter(|&i| fold_of[i] != f).collect();
        let test_rows: Vec<usize> = (0..x.n_rows()).filter(|&i| fold_of[i] == f).collect();
        let ty: Vec<usize> = train_rows.iter().map(|&i| y[i]).collect();
        if ty.iter().all(|&c| c == ty[0]) {
            continue;
        }
        let model = fit_svm(&x.select(&train_rows), ty, k, params)?;
        let mut scores = vec![0.0; k];
        for &i in &test_rows {
            let (idx, val) = x.row(i);
            model.decision(idx, val, &mut scores);
            oof[i] = scores.clone();
        }
    }
    progress(&format!("{head}: calibration fold"), folds, folds);
    let scored_rows: Vec<usize> = (0..x.n_rows()).filter(|&i| !oof[i].is_empty()).collect();
    let oof_scores: Vec<Vec<f32>> = scored_rows.iter().map(|&i| oof[i].clone()).collect();
    let oof_truth: Vec<usize> = scored_rows.iter().map(|&i| y[i]).collect();
    let temperature = fit_temperature(&oof_scores, &oof_truth);
    let mut probs = vec![0.0; k];
    let mut preds = Vec::with_capacity(oof_scores.len());
    for (s, &t) in oof_scores.iter().zip(&oof_truth) {
        softmax(s, temperature, &mut probs);
        let top = argmax(&probs);
        preds.push((top, probs[top], top == t, top3_mass(&probs), in_top3(&probs, t)));
    }
    let target = params.target_for(head);
    let thresholds = precision_thresholds(&preds.iter().map(|p| (p.0, p.1, p.2)).collect::<Vec<_>>(), k, target, params.min_auto_support);
    let scored: Vec<Scored> = preds
        .iter()
        .zip(&oof_truth)
        .map(|(p, &truth)| Scored {
            truth,
            predicted: p.0,
            probability: p.1,
            auto: p.3 >= SUGGEST_MIN_TOP3 && p.1 >= thresholds[p.0],
            truth_in_top3: p.4,
        })
        .collect();
    let cv_metrics = Some(head_metrics(&labels, &scored));
    progress(&format!("{head}: final model"), 0, 1);
    let svm = fit_svm(&x, y, k, params)?;
    progress(&format!("{head}: final model"), 1, 1);
    Ok(HeadModel {
        name: head.to_owned(),
        labels,
        svm,
        calibration: Calibration { temperature, auto_thresholds: thresholds, target_precision: target },
        cv_metrics,
    })
}

/// Sum of the three largest probabilities.
pub fn top3_mass(p: &[f32]) -> f32 {
    let mut top = [0.0f32; 3];
    for &v in p {
        if v > top[2] {
            top[2] = v;
            top.sort_by(|a, b| b.total_cmp(a));
        }
    }
    top.iter().sum()
}

/// Whether class `t` is among the three most probable.
pub fn in_top3(p: &[f32], t: usize) -> bool {
    p.iter().filter(|&&v| v > p[t]).count() < 3
}

/// Deterministic fold of each row: a seeded shuffle dealt round-robin.
fn fold_assignment(n: usize, folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let mut fold = vec![0; n];
    for (pos, &row) in order.iter().enumerate() {
        fold[row] = pos % folds;
    }
    fold
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rows() -> Vec<TrainingRow> {
        let data = [
            ("printer offline cannot print", "printing"),
            ("printer jammed paper stuck", "printing"),
            ("toner empty on the printer", "printing"),
            ("scan to email from printer not arriving", "printing"),
            ("printer queue stuck nothing prints", "printing"),
            ("cannot print to floor two printer", "printing"),
            ("vpn will not connect from home", "remote-access"),
            ("vpn keeps dropping at home", "remote-access"),
            ("remote access token expired vpn", "remote-access"),
            ("vpn connected but no drives", "remote-access"),
            ("working from home vpn slow", "remote-access"),
            ("vpn error certificate", "remote-access"),
            ("account locked out password", "accounts"),
            ("forgot my password reset please", "accounts"),
            ("password expired cannot log in", "accounts"),
            ("locked out of my account again", "accounts"),
            ("mfa prompt not arriving password", "accounts"),
            ("reset password for new phone mfa", "accounts"),
        ];
        let mut out = Vec::new();
        for rep in 0..3 {
            for (i, (t, l)) in data.iter().enumerate() {
                let mut labels = BTreeMap::new();
                labels.insert("category".to_owned(), (*l).to_owned());
                out.push(TrainingRow { id: format!("{rep}-{i}"), text: format!("{t} {}", ["", "please help", "urgent"][rep]), labels });
            }
        }
        out
    }

    fn small_params() -> TrainParams {
        TrainParams { features: FeatureParams { min_df: 1, ..FeatureParams::default() }, min_auto_support: 2, ..TrainParams::default() }
    }

    #[test]
    fn training_learns_the_categories() {
        let bundle = train(&rows(), &["category".to_owned()], &small_params(), "t1", vec![], &mut |_, _, _| {}).unwrap();
        let p = &bundle.classifier.predict("the printer is jammed")[0];
        assert_eq!(p.label, "printing");
        assert_eq!(p.alternatives.len(), 3);
        assert!(p.explanation.iter().any(|c| c.term.contains("printer")), "{:?}", p.explanation);
        let cv = bundle.manifest.heads[0].cv_metrics.as_ref().unwrap();
        assert!(cv.accuracy > 0.8, "{cv:?}");
    }

    #[test]
    fn gibberish_is_abstained_on() {
        let bundle = train(&rows(), &["category".to_owned()], &small_params(), "t1", vec![], &mut |_, _, _| {}).unwrap();
        let p = &bundle.classifier.predict("qzxv wptk lmnrr ghjj")[0];
        assert_eq!(p.decision, crate::classifier::Decision::Abstain, "{p:?}");
    }

    #[test]
    fn restricted_predictions_offer_only_allowed_labels_renormalised() {
        let bundle = train(&rows(), &["category".to_owned()], &small_params(), "t1", vec![], &mut |_, _, _| {}).unwrap();
        let p = &bundle.classifier.predict_with("the printer is jammed", &|_, label| label != "printing")[0];
        assert_ne!(p.label, "printing");
        assert!(p.alternatives.iter().all(|a| a.label != "printing" || a.probability == 0.0));
        let total: f32 = p.alternatives.iter().map(|a| a.probability).sum();
        assert!((total - 1.0).abs() < 1e-4, "two allowed labels carry all the mass: {total}");
        let none = &bundle.classifier.predict_with("the printer is jammed", &|_, _| false)[0];
        assert_eq!(none.decision, crate::classifier::Decision::Abstain);
    }

    #[test]
    fn a_head_with_one_label_is_refused_with_the_reason() {
        let mut rs = rows();
        for r in &mut rs {
            r.labels.insert("priority".into(), "p3".into());
        }
        let err = train(&rs, &["priority".to_owned()], &small_params(), "t1", vec![], &mut |_, _, _| {}).unwrap_err();
        assert!(err.to_string().contains("same label `p3`"), "{err}");
    }

    #[test]
    fn folds_are_balanced_and_deterministic() {
        let a = fold_assignment(10, 3, 7);
        assert_eq!(a, fold_assignment(10, 3, 7));
        let counts: Vec<usize> = (0..3).map(|f| a.iter().filter(|&&x| x == f).count()).collect();
        assert_eq!(counts.iter().sum::<usize>(), 10);
        assert!(counts.iter().all(|&c| c == 3 || c == 4));
    }

    #[test]
    fn top3_helpers_agree_with_sorting() {
        let p = [0.1, 0.4, 0.05, 0.3, 0.15];
        assert!((top3_mass(&p) - 0.85).abs() < 1e-6);
        assert!(in_top3(&p, 4) && !in_top3(&p, 0));
    }
}
