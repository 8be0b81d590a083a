//! How likely each suggestion is to fix the ticket: a small logistic model over ranking features,
//! so that `fix_probability` 0.8 means "about 8 in 10 suggestions given 0.8 fix the ticket".
//!
//! **Features** (per suggestion, from its own source's ranking; all in about -1..1):
//!
//! | # | feature | why |
//! |---|---|---|
//! | 0 | article: `s / (s + 10)`, `s` its BM25 over the weighted fields | absolute strength of the match |
//! | 1 | article: `s / s_best` (1 for the best article) | how it compares with the best |
//! | 2 | article: `(s - s_next) / s` | the gap to the next article |
//! | 3 | article: `(s_best - s_second) / s_best` | how peaked the whole article list is: an answer that stands out |
//! | 4 | article: `1 / rank` within the articles | position |
//! | 5 | ticket: `s / s_best_ticket` | similar resolved tickets: relative strength |
//! | 6 | ticket: matched query terms / query terms | coverage of the caller's words |
//! | 7 | article: `min(query terms, 20) / 20` | longer tickets give BM25 more to go on |
//! | 8 | the predicted category agrees (+p) or disagrees (-p), `p` its probability; 0 unknown | routing and fix point the same way |
//! | 9 | agents' feedback on it: `(positive - negative) / (total + 2)` | the desk's own verdict |
//! | 10 | 1 for a ticket, 0 for an article | the two sources' base rates |
//! | 11 | article: its coverage of the query's matchable weight (`KbHit::coverage`) | a rare, telling word it lacks |
//! | 12 | share of the query's terms the knowledge base knows at all (`KbHit::query_known`) | words it never uses: a gap |
//! | 13 | article: its learned evidence `l / (l + 10)`, `l` the learned phrasing's score for the query (`ArticleBoost::upper`) | past tickets it fixed said this |
//! | 14 | article: `l / l_best`, against the best learned evidence of any article (0 when none) | the desk's past tickets point here rather than elsewhere |
//! | 15 | 1 when the tenant has learned phrasing at all, else 0 | without history, 13-14 say nothing; with it, no evidence is evidence |
//!
//! **Default model** ([`FixModel::DEFAULT`]): features 0-4, 7, 11-15 fitted by logistic
//! regression (L2 1e-3, Newton steps with step halving) on StackFAQ's public queries
//! (`../shared/datasets/stackfaq`, the odd lines of `queries.jsonl` (1st, 3rd, ...: 313 queries,
//! set A of benches/learned-phrasing.sh); the even lines, B, are held out as rows, though their
//! text is A's history), each ranked four
//! times: over the knowledge base with 13 of the 125 articles dropped (`--drop-articles 13
//! --seed 1`, so that queries without their article teach what a gap looks like) and over the
//! whole of it, each without history and with set B learned as history (`--history`, the
//! dropped articles' history unlearned), so the model sees a desk with and without learned
//! phrasing. The first [`FIT_DEPTH`] articles of each ranking are rows, labelled by whether each
//! is the query's article
//! (`triage eval retrieval --fit-fix`; benches/README.md has the commands). Public
//! data has no categories, feedback or resolved tickets, so features 5, 6, 8-10 carry documented
//! priors, and a desk's own refit ([`desk::fit`]) keeps them: it refits the article features 0-4,
//! 7, 11-14 only, as training ranks each resolved ticket's articles without a category
//! prediction or feedback counts (features 8 and 9 at 0; refitting them is future work). The
//! priors: a ticket that covers all the caller's words and
//! is the best ticket is a coin flip (p 0.5), a weak one far less; agreement with a confident
//! category adds up to +0.5 logits; feedback up to +-1.5 logits. A ticket's own intercept is
//! [`TICKET_INTERCEPT`]: feature 10's weight is `TICKET_INTERCEPT - bias`, a fit that moves the
//! bias (it sees article rows only) moves that weight with it, and a saved model is read the same
//! way ([`desk::from_report`]); tickets use none of the fitted features (0-4, 7, 11-15), so their
//! priors do not drift with the article fit.

use serde::Serialize;

/// Number of features.
pub const FEATURES: usize = 16;

/// Rows fitted per searched query: its first two hits, the suggestions an agent reads first
/// (fitting the whole top 10 calibrated the top suggestion worse: held-out ECE 0.060 against
/// 0.054 when it was measured, features 0-12, 2026-11-30).
pub const FIT_DEPTH: usize = 2;

/// The log-odds of a similar resolved ticket before its strength, coverage, category agreement
/// and feedback: `-4.8`, so that the best ticket covering all the caller's words (features 5
/// and 6 at 1: +2.2 +2.6) is a coin flip.
pub const TICKET_INTERCEPT: f64 = -4.8;

/// The logistic model: `p = sigmoid(bias + weights . features)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct FixModel {
    /// Intercept.
    pub bias: f64,
    /// One weight per feature (see the module table). A model saved before a feature existed
    /// (fewer weights) reads with 0 for the newer ones: it ignores them, as it did.
    #[serde(deserialize_with = "weights_of_any_age")]
    pub weights: [f64; FEATURES],
}

impl FixModel {
    /// Fitted on half of StackFAQ's public queries (see the module docs); priors for the rest.
    pub const DEFAULT: FixModel = FixModel {
        bias: -21.2012,
        weights: [
            7.4061, 12.8460, 0.1523, 6.4692, 0.4920, 2.2000, 2.6000, 0.2715, 0.5000, 1.5000, 16.4012, 2.7992, -0.3265, -0.3028, 0.4173,
            -0.4170,
        ],
    };

    /// Probability that a suggestion with these features fixes the ticket.
    pub fn probability(&self, features: &[f64; FEATURES]) -> f64 {
        let z = self.bias + self.weights.iter().zip(features).map(|(w, x)| w * x).sum::<f64>();
        1.0 / (1.0 + (-z).exp())
    }
}

/// Reads a model's weights, padding a shorter (older) list with zeros; a longer one is refused.
fn weights_of_any_age<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; FEATURES], D::Error> {
    let saved: Vec<f64> = serde::Deserialize::deserialize(d)?;
    if saved.len() > FEATURES {
        return Err(serde::de::Error::custom(format!("{} weights, this build knows {FEATURES} features", saved.len())));
    }
    let mut weights = [0.0; FEATURES];
    weights[..saved.len()].copy_from_slice(&saved);
    Ok(weights)
}

/// Sets the learned-phrasing features (13-15) of an article's features: `evidence` its learned
/// score for the query, `best` the best of any article's, `history` whether the tenant has
/// learned phrasing at all.
pub fn with_learned(mut f: [f64; FEATURES], evidence: f32, best: f32, history: bool) -> [f64; FEATURES] {
    let l = f64::from(evidence.max(0.0));
    f[13] = l / (l + 10.0);
    f[14] = if best > 0.0 { (l / f64::from(best)).min(1.0) } else { 0.0 };
    f[15] = if history { 1.0 } else { 0.0 };
    f
}

/// Learned evidence of `article` among a query's `boosts` (0 when it has none).
pub fn learned_evidence(boosts: &[triage_kb::ArticleBoost], article: &str) -> f32 {
    boosts.iter().find(|b| b.article == article).map_or(0.0, |b| b.upper().max(0.0))
}

/// The best learned evidence among a query's `boosts` of the articles the request may be shown
/// (`shown`: the article exists and its audience admits the request), so that an article deleted
/// since it was learned, or one the tenant does not see, cannot make the shown ones look weak.
pub fn best_learned_evidence(boosts: &[triage_kb::ArticleBoost], shown: impl Fn(&str) -> bool) -> f32 {
    boosts.iter().filter(|b| shown(&b.article)).map(|b| b.upper()).fold(0.0, f32::max)
}

/// Features of one article among a query's article hits (best first): its index `i`, each hit's
/// score and coverage, and the share of the query's terms the knowledge base knows.
pub fn article_features(
    scores: &[f32],
    coverage: f32,
    query_known: f32,
    i: usize,
    query_terms: usize,
    category: f64,
    feedback: f64,
) -> [f64; FEATURES] {
    let s = f64::from(scores[i]).max(0.0);
    let best = f64::from(scores[0]).max(1e-9);
    let second = scores.get(1).map_or(0.0, |&x| f64::from(x));
    let next = scores.get(i + 1).map_or(0.0, |&x| f64::from(x));
    let mut f = [0.0; FEATURES];
    f[0] = s / (s + 10.0);
    f[1] = s / best;
    f[2] = if s > 0.0 { ((s - next) / s).max(0.0) } else { 0.0 };
    f[3] = ((best - second) / best).max(0.0);
    f[4] = 1.0 / (i as f64 + 1.0);
    f[7] = query_terms.min(20) as f64 / 20.0;
    f[8] = category;
    f[9] = feedback;
    f[11] = f64::from(coverage);
    f[12] = f64::from(query_known);
    f
}

/// Features of one similar resolved ticket among the ticket hits (scores best first).
pub fn ticket_features(score: f32, best: f32, matched_terms: usize, query_terms: usize, category: f64, feedback: f64) -> [f64; FEATURES] {
    let mut f = [0.0; FEATURES];
    f[5] = f64::from(score) / f64::from(best).max(1e-9);
    f[6] = if query_terms == 0 { 0.0 } else { matched_terms as f64 / query_terms as f64 };
    // no feature 7 (query length): it is fitted on articles, and a ticket's prior must not move
    f[8] = category;
    f[9] = feedback;
    f[10] = 1.0;
    f
}

/// Logistic regression by Newton's method (with step halving, so it never diverges) and an L2
/// penalty, on the features marked in `use_mask`, starting from zero weights and the base rate;
/// the other features keep `start`'s weights and enter the fit as a fixed offset.
pub fn fit(rows: &[([f64; FEATURES], bool)], start: &FixModel, use_mask: &[bool; FEATURES], l2: f64, iterations: usize) -> FixModel {
    let idx: Vec<usize> = (0..FEATURES).filter(|&j| use_mask[j]).collect();
    let k = idx.len() + 1; // + bias
    let design: Vec<(Vec<f64>, f64, f64)> = rows
        .iter()
        .map(|(x, y)| {
            let mut xs = Vec::with_capacity(k);
            xs.push(1.0);
            xs.extend(idx.iter().map(|&j| x[j]));
            let offset: f64 = (0..FEATURES).filter(|j| !use_mask[*j]).map(|j| start.weights[j] * x[j]).sum();
            (xs, offset, if *y { 1.0 } else { 0.0 })
        })
        .collect();
    let loss = |beta: &[f64]| -> f64 {
        let data: f64 = design
            .iter()
            .map(|(xs, off, y)| {
                let z: f64 = beta.iter().zip(xs).map(|(b, v)| b * v).sum::<f64>() + off;
                // log(1 + e^z) - y z, computed stably
                (if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }) - y * z
            })
            .sum();
        data + 0.5 * l2 * beta[1..].iter().map(|b| b * b).sum::<f64>()
    };
    let rate = (design.iter().map(|(_, _, y)| y).sum::<f64>() / design.len().max(1) as f64).clamp(1e-6, 1.0 - 1e-6);
    let mut beta = vec![0.0; k];
    beta[0] = (rate / (1.0 - rate)).ln();
    let mut current = loss(&beta);
    for _ in 0..iterations {
        let mut grad = vec![0.0; k];
        let mut hess = vec![vec![0.0; k]; k];
        for (xs, off, y) in &design {
            let z: f64 = beta.iter().zip(xs).map(|(b, v)| b * v).sum::<f64>() + off;
            let p = 1.0 / (1.0 + (-z).exp());
            let w = (p * (1.0 - p)).max(1e-9);
            for a in 0..k {
                grad[a] += (p - y) * xs[a];
                for b in 0..k {
                    hess[a][b] += w * xs[a] * xs[b];
                }
            }
        }
        for a in 1..k {
            grad[a] += l2 * beta[a];
            hess[a][a] += l2;
        }
        let step = solve(hess, grad);
        let mut t = 1.0;
        let mut accepted = false;
        while t > 1e-6 {
            let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b - t * s).collect();
            let l = loss(&trial);
            if l.is_finite() && l <= current {
                let gain = current - l;
                beta = trial;
                current = l;
                accepted = gain > 1e-10;
                break;
            }
            t /= 2.0;
        }
        if !accepted {
            break;
        }
    }
    let mut model = *start;
    model.bias = beta[0];
    for (n, &j) in idx.iter().enumerate() {
        model.weights[j] = beta[n + 1];
    }
    // a ticket's intercept is bias + weight 10: keep it where `start` had it
    if !use_mask[10] {
        model.weights[10] = start.weights[10] + start.bias - model.bias;
    }
    model
}

/// Solves `a x = b` (Gaussian elimination with partial pivoting; `a` is small and positive definite).
#[allow(clippy::needless_range_loop)] // row operations read two rows of one matrix
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let d = if a[col][col].abs() < 1e-12 { 1e-12 } else { a[col][col] };
        for row in col + 1..n {
            let f = a[row][col] / d;
            for c in col..n {
                a[row][c] -= f * a[col][c];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|c| a[row][c] * x[c]).sum();
        let d = if a[row][row].abs() < 1e-12 { 1e-12 } else { a[row][row] };
        x[row] = (b[row] - s) / d;
    }
    x
}

/// One bin of a reliability table: the predictions whose probability fell in `[lower, lower +
/// 1/bins)`, their mean probability and the share that were right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBin {
    /// Lower edge of the bin.
    pub lower: f64,
    /// Predictions in the bin.
    pub count: usize,
    /// Their mean probability.
    pub mean_probability: f64,
    /// The share of them that were right.
    pub accuracy: f64,
}

/// The reliability table over `bins` equal-width bins (empty bins left out): what a
/// calibration plot draws, and what [`expected_calibration_error`] sums; tables of two runs
/// can be pooled by count.
pub fn reliability(predictions: &[(f64, bool)], bins: usize) -> Vec<ReliabilityBin> {
    let mut sum_p = vec![0.0; bins];
    let mut hits = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for &(p, y) in predictions {
        let b = ((p * bins as f64) as usize).min(bins - 1);
        sum_p[b] += p;
        hits[b] += if y { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| ReliabilityBin {
            lower: b as f64 / bins as f64,
            count: count[b],
            mean_probability: sum_p[b] / count[b] as f64,
            accuracy: hits[b] / count[b] as f64,
        })
        .collect()
}

/// Expected calibration error over `bins` equal-width bins: the mean |accuracy - confidence|
/// weighted by the share of predictions in each bin.
pub fn expected_calibration_error(predictions: &[(f64, bool)], bins: usize) -> f64 {
    let n = predictions.len() as f64;
    reliability(predictions, bins).iter().map(|b| (b.count as f64 / n) * (b.accuracy - b.mean_probability).abs()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stronger_more_peaked_article_is_more_likely_to_fix() {
        let m = FixModel::DEFAULT;
        let strong = m.probability(&article_features(&[30.0, 10.0, 9.0], 0.9, 1.0, 0, 8, 0.0, 0.0));
        let weak = m.probability(&article_features(&[6.0, 5.8, 5.5], 0.3, 0.6, 0, 8, 0.0, 0.0));
        let second = m.probability(&article_features(&[30.0, 10.0, 9.0], 0.5, 1.0, 1, 8, 0.0, 0.0));
        assert!(strong > weak && strong > second, "{strong} {weak} {second}");
        assert!((0.0..=1.0).contains(&weak));
        let liked = m.probability(&article_features(&[6.0, 5.8, 5.5], 0.3, 0.6, 0, 8, 0.0, 0.8));
        assert!(liked > weak, "positive feedback raises it");
    }

    #[test]
    fn with_history_the_article_the_desks_tickets_point_to_is_more_likely_than_one_they_never_name() {
        let m = FixModel::DEFAULT;
        let f = article_features(&[12.0, 11.0, 9.0], 0.6, 1.0, 0, 8, 0.0, 0.0);
        let pointed = m.probability(&with_learned(f, 20.0, 20.0, true));
        let unnamed = m.probability(&with_learned(f, 0.0, 20.0, true));
        assert!(pointed > unnamed, "{pointed} {unnamed}");
        let g = with_learned(f, 20.0, 40.0, true);
        assert!((g[13] - 20.0 / 30.0).abs() < 1e-9 && (g[14] - 0.5).abs() < 1e-9 && g[15] == 1.0, "{g:?}");
        let none = with_learned(f, 0.0, 0.0, false);
        assert_eq!(&none[13..], &[0.0, 0.0, 0.0], "no history: the features say nothing");
    }

    #[test]
    fn the_best_ticket_covering_every_word_is_a_coin_flip_and_a_refit_keeps_it_so() {
        let best = ticket_features(10.0, 10.0, 6, 6, 0.0, 0.0);
        let weak = ticket_features(3.0, 10.0, 2, 6, 0.0, 0.0);
        let m = FixModel::DEFAULT;
        assert!((m.bias + m.weights[10] - TICKET_INTERCEPT).abs() < 1e-3, "{m:?}");
        let p = m.probability(&best);
        assert!((0.45..0.65).contains(&p), "{p}");
        assert!(m.probability(&weak) < 0.15, "{}", m.probability(&weak));
        // article rows only: the fit moves the bias, the ticket's intercept stays
        let rows: Vec<([f64; FEATURES], bool)> =
            (0..200).map(|i| (article_features(&[10.0 + (i % 7) as f32, 9.0, 5.0], 0.5, 1.0, i % 2, 6, 0.0, 0.0), i % 3 == 0)).collect();
        let mut mask = [false; FEATURES];
        for j in [0, 7] {
            mask[j] = true;
        }
        let refit = fit(&rows, &m, &mask, 1e-3, 30);
        assert!((refit.bias - m.bias).abs() > 1.0, "the bias moved: {refit:?}");
        assert!((refit.probability(&best) - p).abs() < 1e-9, "{} {p}", refit.probability(&best));
        // a desk model saved while the intercept drifted (weight 10 at the old -3.9) reads with it restored
        let mut old: Vec<f64> = m.weights[..13].to_vec();
        old[10] = -3.9;
        let report = serde_json::json!({"fix_model": {"source": "desk", "model": {"bias": -20.0, "weights": old}}});
        let read = desk::from_report(&report);
        assert_eq!(read.bias, -20.0);
        assert!((read.probability(&best) - p).abs() < 1e-9, "{} {p}", read.probability(&best));
        let unreadable = serde_json::json!({"fix_model": {"source": "desk", "model": {"bias": -20.0, "weights": vec![0.0; FEATURES + 1]}}});
        assert_eq!(desk::from_report(&unreadable), FixModel::DEFAULT);
    }

    #[test]
    fn a_model_saved_before_the_learned_features_reads_with_zero_weights_for_them() {
        let old: Vec<f64> = (1..=13).map(f64::from).collect();
        let m: FixModel = serde_json::from_value(serde_json::json!({"bias": -1.0, "weights": old})).unwrap();
        assert_eq!(m.weights[..13], old[..], "the saved weights are kept");
        assert_eq!(m.weights[13..], [0.0; FEATURES - 13], "the newer features are ignored, as they were");
        let too_many = serde_json::json!({"bias": 0.0, "weights": vec![0.0; FEATURES + 1]});
        assert!(serde_json::from_value::<FixModel>(too_many).is_err(), "a model from a newer build is refused");
        let round: FixModel = serde_json::from_value(serde_json::to_value(FixModel::DEFAULT).unwrap()).unwrap();
        assert_eq!(round, FixModel::DEFAULT);
    }

    #[test]
    fn the_fit_recovers_a_known_logistic_relation() {
        // y = 1 with probability sigmoid(-1 + 4 x0): the fit must find about -1 and 4
        let mut rows = Vec::new();
        let mut seed = 7u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let x0 = (seed >> 11) as f64 / (1u64 << 53) as f64;
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let p = 1.0 / (1.0 + (-(-1.0 + 4.0 * x0)).exp());
            let mut f = [0.0; FEATURES];
            f[0] = x0;
            rows.push((f, u < p));
        }
        let mut mask = [false; FEATURES];
        mask[0] = true;
        let zero = FixModel { bias: 0.0, weights: [0.0; FEATURES] };
        let m = fit(&rows, &zero, &mask, 0.0, 25);
        assert!((m.bias + 1.0).abs() < 0.15 && (m.weights[0] - 4.0).abs() < 0.3, "{m:?}");
        let preds: Vec<(f64, bool)> = rows.iter().map(|(f, y)| (m.probability(f), *y)).collect();
        assert!(expected_calibration_error(&preds, 10) < 0.02, "a fitted model is calibrated on its own data");
    }

    #[test]
    fn ece_is_the_weighted_gap_between_confidence_and_accuracy() {
        assert_eq!(expected_calibration_error(&[], 10), 0.0);
        // all at 0.9, half right: gap 0.4
        let preds = vec![(0.9, true), (0.9, false)];
        assert!((expected_calibration_error(&preds, 10) - 0.4).abs() < 1e-9);
        let perfect = vec![(0.25, true), (0.25, false), (0.25, false), (0.25, false)];
        assert!(expected_calibration_error(&perfect, 10) < 1e-9);
        let table = reliability(&[(0.25, true), (0.21, false), (0.95, true), (1.0, true)], 10);
        assert_eq!(table.len(), 2, "empty bins are left out: {table:?}");
        assert_eq!((table[0].lower, table[0].count, table[0].accuracy), (0.2, 2, 0.5));
        assert!((table[0].mean_probability - 0.23).abs() < 1e-9);
        assert_eq!((table[1].lower, table[1].count, table[1].accuracy), (0.9, 2, 1.0), "1.0 falls in the last bin");
    }
}

/// Rows from a desk's own history, and the model fitted on them when there are enough.
pub mod desk {
    use super::{FEATURES, FIT_DEPTH, FixModel};

    /// Fewest rows, and fewest positive rows, before the desk's own model replaces the default.
    pub const MIN_ROWS: usize = 200;
    /// See [`MIN_ROWS`].
    pub const MIN_POSITIVES: usize = 30;

    /// What fitting on the desk's data did, for the model report.
    #[derive(Debug, Clone, serde::Serialize)]
    pub struct DeskFit {
        /// `desk` when fitted on the desk's data, `default` when there was too little.
        pub source: &'static str,
        /// Rows (one per suggested article of a searched history ticket).
        pub rows: usize,
        /// Rows whose article fixed the ticket.
        pub positives: usize,
        /// Calibration error of the top suggestion on a held-out fifth, default model.
        pub holdout_ece_default: Option<f64>,
        /// The same for the fitted model.
        pub holdout_ece_fitted: Option<f64>,
        /// The model the engine uses when this version is live.
        pub model: FixModel,
        /// Why the desk's data was not fitted, when it was not for a reason other than too
        /// little history.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub note: Option<&'static str>,
    }

    impl DeskFit {
        /// The default model, not fitted, for `reason`.
        pub fn not_ready(reason: &'static str) -> Self {
            Self {
                source: "default",
                rows: 0,
                positives: 0,
                holdout_ece_default: None,
                holdout_ece_fitted: None,
                model: FixModel::DEFAULT,
                note: Some(reason),
            }
        }
    }

    /// One piece of history: a searched ticket's hits (`ranked`: all of them, best first) and
    /// which one fixed it, or a single suggestion agents judged (`ranked` false); `holdout`
    /// says whether it is in the held-out fifth.
    #[derive(Debug, Clone)]
    pub struct Query {
        /// Features of each hit.
        pub hits: Vec<[f64; FEATURES]>,
        /// The hit that fixed the ticket, if any.
        pub right: Option<usize>,
        /// In the held-out fifth (by a stable hash).
        pub holdout: bool,
        /// The whole ranking (so its first hit is the top suggestion).
        pub ranked: bool,
    }

    /// Whether a key falls in the held-out fifth (FNV-1a, stable across runs).
    pub fn held_out(key: &str) -> bool {
        let h = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        h % 5 == 0
    }

    /// The model a live version's report carries (`fix_model`, fitted on the desk's data), else
    /// the default. The ticket intercept is set to [`super::TICKET_INTERCEPT`] whatever was
    /// saved (no fit ever fits feature 10; models saved before it was kept had it dragged along
    /// with their bias).
    pub fn from_report(report: &serde_json::Value) -> FixModel {
        let fitted = &report["fix_model"];
        if fitted["source"] != "desk" {
            return FixModel::DEFAULT;
        }
        match serde_json::from_value::<FixModel>(fitted["model"].clone()) {
            Ok(mut m) => {
                m.weights[10] = super::TICKET_INTERCEPT - m.bias;
                m
            }
            Err(e) => {
                tracing::warn!(error = %e, "the live version's fix model cannot be read; the default serves (retrain to refit it)");
                FixModel::DEFAULT
            }
        }
    }

    /// Fits on the training four fifths when there is enough, else keeps the default; reports
    /// both models' top-suggestion ECE on the held-out fifth.
    pub fn fit(queries: &[Query]) -> DeskFit {
        let rows = |held: bool| -> Vec<([f64; FEATURES], bool)> {
            queries
                .iter()
                .filter(|q| q.holdout == held)
                .flat_map(|q| q.hits.iter().take(FIT_DEPTH).enumerate().map(move |(i, f)| (*f, q.right == Some(i))))
                .collect()
        };
        let train = rows(false);
        let positives = train.iter().filter(|r| r.1).count();
        let enough = train.len() >= MIN_ROWS && positives >= MIN_POSITIVES;
        // the default's features but 15 (the tenant has history): almost always 1 here, so it is
        // not fitted and keeps the default's weight
        let mut mask = [false; FEATURES];
        for j in [0, 1, 2, 3, 4, 7, 11, 12, 13, 14] {
            mask[j] = true;
        }
        let model = if enough { super::fit(&train, &FixModel::DEFAULT, &mask, 1e-2, 30) } else { FixModel::DEFAULT };
        let top = |m: &FixModel| -> Option<f64> {
            let preds: Vec<(f64, bool)> = queries
                .iter()
                .filter(|q| q.holdout && q.ranked)
                .filter_map(|q| q.hits.first().map(|f| (m.probability(f), q.right == Some(0))))
                .collect();
            (!preds.is_empty()).then(|| super::expected_calibration_error(&preds, 10))
        };
        DeskFit {
            source: if enough { "desk" } else { "default" },
            rows: train.len(),
            positives,
            holdout_ece_default: top(&FixModel::DEFAULT),
            holdout_ece_fitted: if enough { top(&model) } else { None },
            model,
            note: None,
        }
    }
}
