//! A trained classifier: one vectorizer shared by several heads (category, priority,
//! assignment group, ...), each a linear model with calibrated probabilities and per-class
//! thresholds for `auto` decisions.

use serde::{Deserialize, Serialize};

use crate::calibration::{Calibration, softmax};
use crate::features::{Features, Scratch, Vectorizer};
use crate::metrics::HeadMetrics;
use crate::svm::LinearSvm;

/// What the engine should do with a head's prediction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Confident enough to apply without an agent (probability over the class's threshold).
    Auto,
    /// Show the top three to the agent.
    Suggest,
    /// Not sure: no label should be shown as likely.
    Abstain,
}

/// When the top three together are less likely than this, the head abstains.
pub const SUGGEST_MIN_TOP3: f32 = 0.5;
/// Terms reported in an explanation.
pub const EXPLANATION_TERMS: usize = 5;

/// One candidate label and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelProbability {
    /// The label.
    pub label: String,
    /// Calibrated probability of the label (0..=1).
    pub probability: f32,
}

/// A term that pushed the decision, and how much it added to the winning class's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The word n-gram, as the analyzer wrote it.
    pub term: String,
    /// How much the term added to the winning class's decision score.
    pub weight: f32,
}

/// The prediction of one head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadPrediction {
    /// Name of the head that made the prediction.
    pub head: String,
    /// The most probable label among those allowed.
    pub label: String,
    /// Calibrated probability of `label` (0..=1).
    pub probability: f32,
    /// Whether the label may be applied automatically, only suggested, or should not be offered.
    pub decision: Decision,
    /// The top three labels (the first is `label`).
    pub alternatives: Vec<LabelProbability>,
    /// Up to [`EXPLANATION_TERMS`] terms that pushed the decision most.
    pub explanation: Vec<Contribution>,
}

/// One trained head.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadModel {
    /// Head name, such as `category`.
    pub name: String,
    /// The labels, in class-index order.
    pub labels: Vec<String>,
    /// The one-vs-rest linear model, one class per label.
    pub svm: LinearSvm,
    /// Temperature and per-class `auto` thresholds.
    pub calibration: Calibration,
    /// Metrics on out-of-fold predictions during training (the model card's figures).
    pub cv_metrics: Option<HeadMetrics>,
}

/// Probabilities and the top index of one head for one vector.
pub struct HeadScores {
    /// Calibrated probability of each label, in class-index order; sums to 1.
    pub probabilities: Vec<f32>,
    /// Index of the most probable label.
    pub top: usize,
}

impl HeadModel {
    /// Calibrated probabilities for a vectorised text.
    pub fn scores(&self, f: &Features) -> HeadScores {
        let mut raw = vec![0.0; self.labels.len()];
        self.svm.decision(&f.vector.indices, &f.vector.values, &mut raw);
        let mut probabilities = vec![0.0; raw.len()];
        softmax(&raw, self.calibration.temperature, &mut probabilities);
        let top = crate::svm::argmax(&probabilities);
        HeadScores { probabilities, top }
    }

    /// The decision for a top class with probability `p`, given the top-3 mass.
    pub fn decide(&self, f: &Features, top: usize, p: f32, top3_mass: f32) -> Decision {
        if f.known_words == 0 || top3_mass < SUGGEST_MIN_TOP3 {
            Decision::Abstain
        } else if p >= self.calibration.auto_thresholds[top] {
            Decision::Auto
        } else {
            Decision::Suggest
        }
    }

    /// Predicts this head for a vectorised text, over every label.
    pub fn predict(&self, f: &Features, vectorizer: &Vectorizer) -> HeadPrediction {
        self.predict_allowed(f, vectorizer, &|_| true)
    }

    /// As [`HeadModel::predict`], over the labels `allow` accepts only.
    pub fn predict_allowed(&self, f: &Features, vectorizer: &Vectorizer, allow: &dyn Fn(&str) -> bool) -> HeadPrediction {
        let mut s = self.scores(f);
        let mut restricted = false;
        for (p, label) in s.probabilities.iter_mut().zip(&self.labels) {
            if !allow(label) {
                *p = 0.0;
                restricted = true;
            }
        }
        let mass: f32 = s.probabilities.iter().sum();
        if restricted && mass > 0.0 {
            s.probabilities.iter_mut().for_each(|p| *p /= mass);
        }
        let mut order: Vec<usize> = (0..self.labels.len()).collect();
        order.sort_by(|&a, &b| s.probabilities[b].total_cmp(&s.probabilities[a]).then(a.cmp(&b)));
        order.truncate(3);
        let top3_mass: f32 = order.iter().map(|&c| s.probabilities[c]).sum();
        let top = order[0];
        let p = s.probabilities[top];
        HeadPrediction {
            head: self.name.clone(),
            label: self.labels[top].clone(),
            probability: p,
            decision: if mass <= 0.0 { Decision::Abstain } else { self.decide(f, top, p, top3_mass) },
            alternatives: order
                .iter()
                .map(|&c| LabelProbability { label: self.labels[c].clone(), probability: s.probabilities[c] })
                .collect(),
            explanation: self.explain(f, top, vectorizer),
        }
    }

    /// Word features with the largest positive contribution to class `c`.
    fn explain(&self, f: &Features, c: usize, vectorizer: &Vectorizer) -> Vec<Contribution> {
        let mut contributions: Vec<(u32, f32)> = f
            .vector
            .indices
            .iter()
            .zip(&f.vector.values)
            .filter(|(j, _)| (**j as usize) < vectorizer.n_word_features())
            .map(|(&j, &x)| (j, x * self.svm.weight(j as usize, c)))
            .filter(|(_, w)| *w > 0.0)
            .collect();
        contributions.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        contributions
            .into_iter()
            .take(EXPLANATION_TERMS)
            .filter_map(|(j, w)| vectorizer.word_name(j).map(|t| Contribution { term: t.to_owned(), weight: w }))
            .collect()
    }
}

/// The classifier: vectorizer and heads. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Classifier {
    /// Turns text into the feature vectors every head scores.
    pub vectorizer: Vectorizer,
    /// The heads, in the order of the bundle's manifest.
    pub heads: Vec<HeadModel>,
}

impl Classifier {
    /// Predicts every head, offering only labels `allow(head, label)` accepts (for example a
    /// tenant's own assignment groups): the other labels' probabilities are set to zero and the
    /// rest renormalised. A head with no allowed label abstains.
    pub fn predict_with(&self, text: &str, allow: &dyn Fn(&str, &str) -> bool) -> Vec<HeadPrediction> {
        self.predict_text(text, false, allow)
    }

    /// As [`Classifier::predict_with`], for text already cleaned of e-mail tails
    /// (`triage_core::clean`, as `NewTicket::parse` does): it is not cleaned again.
    pub fn predict_cleaned_with(&self, text: &str, allow: &dyn Fn(&str, &str) -> bool) -> Vec<HeadPrediction> {
        self.predict_text(text, true, allow)
    }

    fn predict_text(&self, text: &str, cleaned: bool, allow: &dyn Fn(&str, &str) -> bool) -> Vec<HeadPrediction> {
        // the analysis buffers are kept per thread, so a request worker allocates them once
        thread_local! {
            static BUFFERS: std::cell::RefCell<(Scratch, Features)> = std::cell::RefCell::new((Scratch::default(), Features::default()));
        }
        BUFFERS.with(|b| {
            let (scratch, f) = &mut *b.borrow_mut();
            scratch.cleaned = cleaned;
            self.vectorizer.transform_into(text, scratch, f);
            scratch.cleaned = false;
            self.heads.iter().map(|h| h.predict_allowed(f, &self.vectorizer, &|label| allow(&h.name, label))).collect()
        })
    }

    /// Predicts every head for one ticket text, over every label.
    pub fn predict(&self, text: &str) -> Vec<HeadPrediction> {
        self.predict_with(text, &|_, _| true)
    }

    /// The head named `name`, if the classifier has one.
    pub fn head(&self, name: &str) -> Option<&HeadModel> {
        self.heads.iter().find(|h| h.name == name)
    }
}
