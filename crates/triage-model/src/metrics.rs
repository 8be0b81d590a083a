//! Classification metrics: accuracy, macro- and weighted-F1, per-class precision / recall / F1,
//! confusion matrix, expected calibration error, and coverage / precision of `auto` decisions.

use serde::{Deserialize, Serialize};

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// The class label.
    pub label: String,
    /// Share of predictions of this class that were right (0..=1; 0 when never predicted).
    pub precision: f64,
    /// Share of rows of this class that were predicted right (0..=1).
    pub recall: f64,
    /// Harmonic mean of precision and recall (0..=1).
    pub f1: f64,
    /// Number of rows whose true label is this class.
    pub support: usize,
}

/// Metrics of one head on one test set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadMetrics {
    /// Share of rows predicted right (0..=1).
    pub accuracy: f64,
    /// F1 averaged over classes with equal weight (0..=1).
    pub macro_f1: f64,
    /// F1 averaged over classes weighted by their support (0..=1).
    pub weighted_f1: f64,
    /// Expected calibration error of the top-1 probability (10 equal-width bins).
    pub ece: f64,
    /// Share of rows decided `auto`.
    pub auto_coverage: f64,
    /// Accuracy of the `auto` rows (0 when there are none).
    pub auto_precision: f64,
    /// Share of rows where the true label was among the top 3.
    pub top3_accuracy: f64,
    /// Number of rows scored.
    pub rows: usize,
    /// Figures per class, in the head's label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`, in the order of `per_class`.
    pub confusion: Vec<Vec<usize>>,
    /// Reliability diagram of the top-1 probability: the non-empty bins of 10 equal-width ones.
    #[serde(default)]
    pub reliability: Vec<ReliabilityBin>,
}

/// One bin of a reliability diagram: predictions whose top-1 probability fell in
/// `lower..upper`, their mean probability and how many were right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lowest top-1 probability of the bin (inclusive).
    pub lower: f64,
    /// Upper end of the bin (exclusive, except 1.0 for the last bin).
    pub upper: f64,
    /// Number of predictions in the bin.
    pub count: usize,
    /// Mean top-1 probability of those predictions.
    pub mean_probability: f64,
    /// Share of those predictions that were right.
    pub accuracy: f64,
}

/// One scored row: truth, prediction, its probability, whether it was `auto`, whether the
/// truth was in the top 3.
#[derive(Debug, Clone, Copy)]
pub struct Scored {
    /// Index of the true class.
    pub truth: usize,
    /// Index of the predicted class.
    pub predicted: usize,
    /// Calibrated probability of the prediction (0..=1).
    pub probability: f32,
    /// Whether the prediction was decided `auto`.
    pub auto: bool,
    /// Whether the true class was among the three most probable.
    pub truth_in_top3: bool,
}

/// Computes the metrics over `rows` for classes named `labels`. Macro-F1 averages over the
/// classes that occur in the truth or the predictions (as scikit-learn does).
pub fn head_metrics(labels: &[String], rows: &[Scored]) -> HeadMetrics {
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for r in rows {
        confusion[r.truth][r.predicted] += 1;
    }
    let n = rows.len();
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    let mut per_class = Vec::with_capacity(k);
    let (mut f1_sum, mut f1_count, mut weighted) = (0.0, 0usize, 0.0);
    for c in 0..k {
        let tp = confusion[c][c] as f64;
        let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
        let support: usize = confusion[c].iter().sum();
        let precision = if predicted == 0 { 0.0 } else { tp / predicted as f64 };
        let recall = if support == 0 { 0.0 } else { tp / support as f64 };
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        if support > 0 || predicted > 0 {
            f1_sum += f1;
            f1_count += 1;
        }
        weighted += f1 * support as f64;
        per_class.push(ClassMetrics { label: labels[c].clone(), precision, recall, f1, support });
    }
    let autos: Vec<&Scored> = rows.iter().filter(|r| r.auto).collect();
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    HeadMetrics {
        accuracy: ratio(correct, n),
        macro_f1: if f1_count == 0 { 0.0 } else { f1_sum / f1_count as f64 },
        weighted_f1: if n == 0 { 0.0 } else { weighted / n as f64 },
        ece: expected_calibration_error(rows, 10),
        reliability: reliability(rows, 10),
        auto_coverage: ratio(autos.len(), n),
        auto_precision: ratio(autos.iter().filter(|r| r.truth == r.predicted).count(), autos.len()),
        top3_accuracy: ratio(rows.iter().filter(|r| r.truth_in_top3).count(), n),
        rows: n,
        per_class,
        confusion,
    }
}

/// The non-empty bins of `bins` equal-width bins of the top-1 probability.
pub fn reliability(rows: &[Scored], bins: usize) -> Vec<ReliabilityBin> {
    let mut count = vec![0usize; bins];
    let mut conf = vec![0.0f64; bins];
    let mut hits = vec![0usize; bins];
    for r in rows {
        let b = ((r.probability as f64 * bins as f64) as usize).min(bins - 1);
        count[b] += 1;
        conf[b] += f64::from(r.probability);
        hits[b] += usize::from(r.truth == r.predicted);
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| {
            let n = count[b] as f64;
            ReliabilityBin {
                lower: b as f64 / bins as f64,
                upper: (b + 1) as f64 / bins as f64,
                count: count[b],
                mean_probability: conf[b] / n,
                accuracy: hits[b] as f64 / n,
            }
        })
        .collect()
}

/// ECE: sum over equal-width probability bins of |accuracy - mean confidence| x bin share.
pub fn expected_calibration_error(rows: &[Scored], bins: usize) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    reliability(rows, bins).iter().map(|b| (b.accuracy - b.mean_probability).abs() * b.count as f64 / rows.len() as f64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(truth: usize, predicted: usize, probability: f32) -> Scored {
        Scored { truth, predicted, probability, auto: probability >= 0.8, truth_in_top3: true }
    }

    #[test]
    fn metrics_match_a_hand_computed_case() {
        // truth:     a a a b b c
        // predicted: a a b b c c
        let labels: Vec<String> = ["a", "b", "c"].iter().map(|x| x.to_string()).collect();
        let rows = [s(0, 0, 0.9), s(0, 0, 0.9), s(0, 1, 0.6), s(1, 1, 0.9), s(1, 2, 0.6), s(2, 2, 0.9)];
        let m = head_metrics(&labels, &rows);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        // a: p 1, r 2/3, f1 0.8; b: p 1/2, r 1/2, f1 0.5; c: p 1/2, r 1, f1 2/3
        let f1s: Vec<f64> = m.per_class.iter().map(|c| c.f1).collect();
        assert!((f1s[0] - 0.8).abs() < 1e-12 && (f1s[1] - 0.5).abs() < 1e-12 && (f1s[2] - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.macro_f1 - (0.8 + 0.5 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert!((m.weighted_f1 - (0.8 * 3.0 + 0.5 * 2.0 + 2.0 / 3.0) / 6.0).abs() < 1e-12);
        assert_eq!(m.confusion, vec![vec![2, 1, 0], vec![0, 1, 1], vec![0, 0, 1]]);
        assert!((m.auto_coverage - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.auto_precision, 1.0);
        // bins: 0.9 x4 all right -> |1 - 0.9| x 4/6; 0.6 x2 all wrong -> |0 - 0.6| x 2/6
        assert!((m.ece - (0.1 * 4.0 / 6.0 + 0.6 * 2.0 / 6.0)).abs() < 1e-6, "{}", m.ece);
        let bins: Vec<(usize, f64)> = m.reliability.iter().map(|b| (b.count, b.accuracy)).collect();
        assert_eq!(bins, vec![(2, 0.0), (4, 1.0)], "two non-empty bins: the 0.6s, all wrong, and the 0.9s, all right");
        assert!((m.reliability[1].upper - m.reliability[1].lower - 0.1).abs() < 1e-12);
        assert!((m.reliability[1].mean_probability - 0.9).abs() < 1e-6 && (m.reliability[0].mean_probability - 0.6).abs() < 1e-6);
    }

    #[test]
    fn classes_absent_from_truth_and_predictions_do_not_dilute_macro_f1() {
        let labels: Vec<String> = ["a", "b", "unused"].iter().map(|x| x.to_string()).collect();
        let m = head_metrics(&labels, &[s(0, 0, 0.9), s(1, 1, 0.9)]);
        assert_eq!(m.macro_f1, 1.0);
    }
}
