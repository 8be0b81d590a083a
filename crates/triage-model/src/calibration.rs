//! Turning decision scores into calibrated probabilities, and choosing per-class thresholds
//! for automatic decisions.
//!
//! Probabilities are a softmax of the one-vs-rest scores divided by a temperature, fitted by
//! minimising the negative log-likelihood of out-of-fold scores (scores of rows the model did
//! not train on). For each class, the `auto` threshold is the lowest probability at which the
//! out-of-fold predictions of that class still reach the target precision.

use serde::{Deserialize, Serialize};

/// Probabilities from scores: softmax(scores / temperature), written into `out`.
pub fn softmax(scores: &[f32], temperature: f32, out: &mut [f32]) {
    let t = temperature.max(1e-4);
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for (o, &s) in out.iter_mut().zip(scores) {
        *o = ((s - max) / t).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// Mean negative log-likelihood of the true classes at a temperature.
fn nll(scores: &[Vec<f32>], truth: &[usize], t: f32) -> f64 {
    let mut p = vec![0.0; scores.first().map_or(0, Vec::len)];
    let mut total = 0.0f64;
    for (s, &y) in scores.iter().zip(truth) {
        softmax(s, t, &mut p);
        total -= f64::from(p[y].max(1e-7)).ln();
    }
    total / scores.len().max(1) as f64
}

/// The temperature minimising NLL, by golden-section search on log(T) in [0.01, 100].
pub fn fit_temperature(scores: &[Vec<f32>], truth: &[usize]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let (mut lo, mut hi) = ((0.01f64).ln(), (100.0f64).ln());
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let f = |x: f64| nll(scores, truth, x.exp() as f32);
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (f(a), f(b));
    for _ in 0..60 {
        if fa < fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = f(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = f(b);
        }
    }
    ((lo + hi) / 2.0).exp() as f32
}

/// A threshold that can never be reached: the class is never decided automatically.
pub const NEVER: f32 = 1.01;

/// Per-class `auto` thresholds reaching `target` precision on out-of-fold predictions
/// `(predicted class, probability, correct)`. A class needs `min_support` predictions above
/// its threshold, else it is never automatic.
pub fn precision_thresholds(preds: &[(usize, f32, bool)], n_classes: usize, target: f32, min_support: usize) -> Vec<f32> {
    (0..n_classes)
        .map(|c| {
            let mut mine: Vec<(f32, bool)> = preds.iter().filter(|p| p.0 == c).map(|p| (p.1, p.2)).collect();
            mine.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut correct = 0usize;
            let mut best = NEVER;
            for (i, &(p, ok)) in mine.iter().enumerate() {
                correct += usize::from(ok);
                let n = i + 1;
                // only cut between distinct probabilities, so the threshold admits exactly this set
                let boundary = mine.get(i + 1).is_none_or(|next| next.0 < p);
                if boundary && n >= min_support && correct as f32 / n as f32 >= target {
                    best = p;
                }
            }
            best
        })
        .collect()
}

/// Calibration of one head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Softmax temperature fitted on out-of-fold scores; larger values flatten the probabilities.
    pub temperature: f32,
    /// Per class, the probability from which a prediction is `auto`.
    pub auto_thresholds: Vec<f32>,
    /// The precision `auto` decisions were calibrated to reach (0.5..=1).
    pub target_precision: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_temperature_sharpens() {
        let mut p = [0.0; 3];
        softmax(&[2.0, 1.0, 0.0], 1.0, &mut p);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let soft = p[0];
        softmax(&[2.0, 1.0, 0.0], 0.1, &mut p);
        assert!(p[0] > soft && p[0] > 0.99);
    }

    #[test]
    fn temperature_fit_recovers_overconfident_scores() {
        // scores say 10:0 but the first class is right only 70% of the time
        let scores: Vec<Vec<f32>> = (0..100).map(|_| vec![10.0, 0.0]).collect();
        let truth: Vec<usize> = (0..100).map(|i| usize::from(i >= 70)).collect();
        let t = fit_temperature(&scores, &truth);
        let mut p = [0.0; 2];
        softmax(&scores[0], t, &mut p);
        assert!((p[0] - 0.7).abs() < 0.02, "calibrated p {} at T {t}", p[0]);
    }

    #[test]
    fn thresholds_reach_the_target_precision_or_never() {
        // class 0: top 10 all right, then 10 at 50%; class 1: always 50% right
        let mut preds = Vec::new();
        for i in 0..10 {
            preds.push((0, 0.9 - i as f32 * 0.01, true));
        }
        for i in 0..10 {
            preds.push((0, 0.5 - i as f32 * 0.01, i % 2 == 0));
        }
        for i in 0..20 {
            preds.push((1, 0.9 - i as f32 * 0.01, i % 2 == 0));
        }
        let t = precision_thresholds(&preds, 3, 0.9, 5);
        // 10 right, then right, wrong, right: 12/13 = 0.92 at p 0.48; 12/14 falls below 0.9
        assert!((t[0] - 0.48).abs() < 1e-6, "{t:?}");
        assert_eq!(t[1], NEVER);
        assert_eq!(t[2], NEVER, "no predictions at all");
    }
}
