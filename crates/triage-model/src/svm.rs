//! A sparse linear SVM (L2-regularised, squared hinge loss) trained by dual coordinate descent
//! with shrinking, one-vs-rest, as liblinear's default solver for LinearSVC does. linfa's own
//! models take dense matrices only, and its SVM is kernel SMO, which does not scale to 30k
//! tickets x 100k+ features; this learner plugs into linfa's `ParamGuard`, `Fit` and
//! `PredictInplace` traits instead.
//!
//! | parameter | default | purpose | range |
//! |---|---|---|---|
//! | `c` | 0.5 | inverse regularisation strength | > 0 |
//! | `tolerance` | 0.1 | stop when the projected-gradient gap is below this | > 0 |
//! | `max_iter` | 1000 | passes over the data per class | >= 1 |
//! | `seed` | 42 | order of coordinate updates (results are deterministic per seed) | any |
//! | `threads` | 2 | classes trained in parallel | 1..=64 |

use std::sync::atomic::{AtomicUsize, Ordering};

use linfa::dataset::DatasetBase;
use linfa::traits::{Fit, PredictInplace};
use linfa::{ParamGuard, dataset::Records};
use ndarray::Array1;
use serde::{Deserialize, Serialize};

use crate::sparse::CsrMatrix;
use crate::{ModelError, Result};

/// Checked hyper-parameters: only these train (see the module docs for meanings).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearSvmValidParams {
    /// Inverse regularisation strength (> 0).
    pub c: f32,
    /// Stop when the projected-gradient gap is below this (> 0).
    pub tolerance: f32,
    /// Most passes over the data per class (>= 1).
    pub max_iter: usize,
    /// Seed for the order of coordinate updates.
    pub seed: u64,
    /// Classes trained in parallel (1..=64).
    pub threads: usize,
    /// Number of classes (labels are `0..n_classes`).
    pub n_classes: usize,
}

/// Unchecked hyper-parameters (a builder); `check()` turns them into [`LinearSvmValidParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearSvmParams(LinearSvmValidParams);

impl LinearSvmParams {
    /// Defaults from the module docs, for `n_classes` classes.
    pub fn new(n_classes: usize) -> Self {
        Self(LinearSvmValidParams { c: 0.5, tolerance: 0.1, max_iter: 1000, seed: 42, threads: 2, n_classes })
    }
    /// Sets the inverse regularisation strength `c` (> 0).
    pub fn c(mut self, c: f32) -> Self {
        self.0.c = c;
        self
    }
    /// Sets the seed for the order of coordinate updates.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Sets how many classes train in parallel (1..=64).
    pub fn threads(mut self, threads: usize) -> Self {
        self.0.threads = threads;
        self
    }
    /// Sets the stopping tolerance (> 0).
    pub fn tolerance(mut self, tolerance: f32) -> Self {
        self.0.tolerance = tolerance;
        self
    }
}

impl ParamGuard for LinearSvmParams {
    type Checked = LinearSvmValidParams;
    type Error = ModelError;

    fn check_ref(&self) -> Result<&Self::Checked> {
        let p = &self.0;
        let bad = |m: &str| Err(ModelError::InvalidParams(m.to_owned()));
        if !(p.c > 0.0 && p.c.is_finite()) {
            return bad("c must be a positive number");
        }
        if p.tolerance.is_nan() || p.tolerance <= 0.0 {
            return bad("tolerance must be positive");
        }
        if p.max_iter == 0 || !(1..=64).contains(&p.threads) {
            return bad("max_iter must be >= 1 and threads 1..=64");
        }
        if p.n_classes < 2 {
            return bad("at least two classes are needed");
        }
        Ok(p)
    }

    fn check(self) -> Result<Self::Checked> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// A trained one-vs-rest linear model. Weights are feature-major: the `n_classes` weights of a
/// feature sit together, so scoring a sparse row reads contiguous memory.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearSvm {
    /// Number of feature columns.
    pub n_features: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// `n_features * n_classes`, feature-major.
    pub weights: Vec<f32>,
    /// One bias per class.
    pub bias: Vec<f32>,
}

impl LinearSvm {
    /// Decision scores of one sparse row, written into `scores` (length `n_classes`).
    pub fn decision(&self, indices: &[u32], values: &[f32], scores: &mut [f32]) {
        scores.copy_from_slice(&self.bias);
        let k = self.n_classes;
        for (&j, &x) in indices.iter().zip(values) {
            let j = j as usize;
            if j >= self.n_features {
                continue;
            }
            let w = &self.weights[j * k..(j + 1) * k];
            for (s, wc) in scores.iter_mut().zip(w) {
                *s += x * wc;
            }
        }
    }

    /// Weight of feature `j` for class `c`.
    pub fn weight(&self, j: usize, c: usize) -> f32 {
        self.weights[j * self.n_classes + c]
    }
}

impl Fit<CsrMatrix, Array1<usize>, ModelError> for LinearSvmValidParams {
    type Object = LinearSvm;

    fn fit(&self, dataset: &DatasetBase<CsrMatrix, Array1<usize>>) -> Result<LinearSvm> {
        let p = *self;
        let x = &dataset.records;
        let y = &dataset.targets;
        if x.nsamples() != y.len() {
            return Err(ModelError::InvalidParams(format!("{} rows but {} targets", x.nsamples(), y.len())));
        }
        if let Some(&bad) = y.iter().find(|&&t| t >= p.n_classes) {
            return Err(ModelError::InvalidParams(format!("target {bad} is not below n_classes {}", p.n_classes)));
        }
        let n_features = x.nfeatures();
        let sq_norms: Vec<f32> = (0..x.n_rows()).map(|i| x.row(i).1.iter().map(|v| v * v).sum()).collect();
        let next = AtomicUsize::new(0);
        let mut per_class: Vec<(usize, Vec<f32>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..p.threads.min(p.n_classes))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let c = next.fetch_add(1, Ordering::Relaxed);
                            if c >= p.n_classes {
                                return done;
                            }
                            let signs: Vec<f32> = y.iter().map(|&t| if t == c { 1.0 } else { -1.0 }).collect();
                            done.push((c, train_binary(x, &signs, &sq_norms, &p, c as u64)));
                        }
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("training thread panicked")).collect()
        });
        per_class.sort_by_key(|(c, _)| *c);
        let k = p.n_classes;
        let mut weights = vec![0.0f32; n_features * k];
        let mut bias = vec![0.0f32; k];
        for (c, w) in per_class {
            for j in 0..n_features {
                weights[j * k + c] = w[j];
            }
            bias[c] = w[n_features];
        }
        Ok(LinearSvm { n_features, n_classes: k, weights, bias })
    }
}

impl PredictInplace<CsrMatrix, Array1<usize>> for LinearSvm {
    fn predict_inplace(&self, x: &CsrMatrix, y: &mut Array1<usize>) {
        let mut scores = vec![0.0; self.n_classes];
        for (i, out) in y.iter_mut().enumerate() {
            let (idx, val) = x.row(i);
            self.decision(idx, val, &mut scores);
            *out = argmax(&scores);
        }
    }

    fn default_target(&self, x: &CsrMatrix) -> Array1<usize> {
        Array1::zeros(x.n_rows())
    }
}

/// Index of the largest value (first on ties).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Small deterministic generator for the update order (xorshift64*).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Dual coordinate descent for one binary problem (liblinear `solve_l2r_l1l2_svc`, L2 loss,
/// with shrinking). Returns `n_features + 1` weights, the last one the bias (bias feature = 1).
fn train_binary(x: &CsrMatrix, y: &[f32], sq_norms: &[f32], p: &LinearSvmValidParams, class_seed: u64) -> Vec<f32> {
    let l = x.n_rows();
    let n = x.n_cols();
    let diag = 0.5 / p.c;
    let mut w = vec![0.0f32; n + 1];
    let mut alpha = vec![0.0f32; l];
    let qd: Vec<f32> = sq_norms.iter().map(|s| s + 1.0 + diag).collect();
    let mut index: Vec<usize> = (0..l).collect();
    let mut active = l;
    let mut rng = Rng::new(p.seed ^ class_seed.wrapping_mul(0x0001_0000_0001));
    let mut pg_max_old = f32::INFINITY;
    for _ in 0..p.max_iter {
        let (mut pg_max_new, mut pg_min_new) = (f32::NEG_INFINITY, f32::INFINITY);
        for i in 0..active {
            let j = i + rng.below(active - i);
            index.swap(i, j);
        }
        let mut s = 0;
        while s < active {
            let i = index[s];
            let yi = y[i];
            let (idx, val) = x.row(i);
            let mut dot = w[n];
            for (&j, &v) in idx.iter().zip(val) {
                dot += w[j as usize] * v;
            }
            let g = yi * dot - 1.0 + alpha[i] * diag;
            let mut pg = 0.0;
            if alpha[i] == 0.0 {
                if g > pg_max_old {
                    active -= 1;
                    index.swap(s, active);
                    continue;
                } else if g < 0.0 {
                    pg = g;
                }
            } else {
                pg = g;
            }
            pg_max_new = pg_max_new.max(pg);
            pg_min_new = pg_min_new.min(pg);
            if pg.abs() > 1e-12 {
                let old = alpha[i];
                alpha[i] = (alpha[i] - g / qd[i]).max(0.0);
                let d = (alpha[i] - old) * yi;
                for (&j, &v) in idx.iter().zip(val) {
                    w[j as usize] += d * v;
                }
                w[n] += d;
            }
            s += 1;
        }
        if pg_max_new - pg_min_new <= p.tolerance {
            if active == l {
                break;
            }
            active = l;
            pg_max_old = f32::INFINITY;
            continue;
        }
        pg_max_old = if pg_max_new <= 0.0 { f32::INFINITY } else { pg_max_new };
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::SparseVec;
    use linfa::traits::Predict;

    fn toy() -> DatasetBase<CsrMatrix, Array1<usize>> {
        // class = which of three features is present
        let mut x = CsrMatrix::new(3);
        let mut y = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            x.push_row(&SparseVec { indices: vec![c as u32], values: vec![1.0] });
            y.push(c);
        }
        DatasetBase::new(x, Array1::from(y))
    }

    #[test]
    fn learns_a_separable_problem_through_linfa_traits() {
        let ds = toy();
        let model = LinearSvmParams::new(3).check().unwrap().fit(&ds).unwrap();
        let pred: Array1<usize> = model.predict(&ds);
        assert_eq!(pred, ds.targets);
    }

    #[test]
    fn same_seed_same_weights_and_thread_count_does_not_matter() {
        let ds = toy();
        let a = LinearSvmParams::new(3).threads(1).check().unwrap().fit(&ds).unwrap();
        let b = LinearSvmParams::new(3).threads(3).check().unwrap().fit(&ds).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(LinearSvmParams::new(3).c(0.0).check().is_err());
        assert!(LinearSvmParams::new(1).check().is_err());
        assert!(LinearSvmParams::new(3).threads(0).check().is_err());
    }

    #[test]
    fn targets_out_of_range_are_an_error_not_a_panic() {
        let mut ds = toy();
        ds.targets[0] = 7;
        assert!(LinearSvmParams::new(3).check().unwrap().fit(&ds).is_err());
    }

    #[test]
    fn model_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<LinearSvm>();
    }
}
