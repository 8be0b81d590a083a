//! Text features: word 1-2-grams and character n-grams over the shared analyzer's terms
//! ([`Analyzer::features`]: same splitting and normalising as search, no stemming),
//! sublinear TF-IDF, each block L2-normalised, as sparse vectors.
//!
//! E-mail tails are cleaned off (`triage_core::clean`) and personal data is redacted before
//! analysis, so no signature, disclaimer, address, number or postcode can become a feature. N-grams are identified by a stable 64-bit FNV-1a hash; the fitted vocabulary maps
//! hashes to columns (word features first), and keeps the text of word features for
//! explanations.
//!
//! | parameter | default | purpose | range |
//! |---|---|---|---|
//! | `word_ngram_max` | 2 | longest word n-gram | 1..=3 |
//! | `char_ngram_min` / `char_ngram_max` | 2 / 5 | character n-grams inside ` term ` | 1..=8, min <= max; max 0 disables |
//! | `min_df` | 2 | fewest training texts a feature must occur in | >= 1 |
//! | `max_features` | 0 | keep the most frequent features only (0 = all) | >= 0 |

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};
use triage_core::analysis::Analyzer;
use triage_core::clean::{boilerplate, clean_joined};
use triage_core::redact::redact;

use crate::sparse::{CsrMatrix, SparseVec};
use crate::{ModelError, Result};

/// Feature hyper-parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureParams {
    /// Longest word n-gram (1..=3).
    pub word_ngram_max: usize,
    /// Shortest character n-gram (1..=8, at most `char_ngram_max`).
    pub char_ngram_min: usize,
    /// Longest character n-gram (up to 8); 0 turns character n-grams off.
    pub char_ngram_max: usize,
    /// Fewest training texts a feature must occur in (at least 1).
    pub min_df: u32,
    /// Keep only this many of the most frequent features; 0 keeps all.
    pub max_features: usize,
}

impl Default for FeatureParams {
    fn default() -> Self {
        Self { word_ngram_max: 2, char_ngram_min: 2, char_ngram_max: 5, min_df: 2, max_features: 0 }
    }
}

impl FeatureParams {
    /// Returns the parameters if they are in range (see the module docs), or says which is not.
    pub fn check(self) -> Result<Self> {
        let bad = |m: &str| Err(ModelError::InvalidParams(m.to_owned()));
        if !(1..=3).contains(&self.word_ngram_max) {
            return bad("word_ngram_max must be 1..=3");
        }
        if self.char_ngram_max > 0 && (self.char_ngram_min == 0 || self.char_ngram_min > self.char_ngram_max || self.char_ngram_max > 8) {
            return bad("char n-grams need 1 <= char_ngram_min <= char_ngram_max <= 8 (or char_ngram_max 0)");
        }
        if self.min_df == 0 {
            return bad("min_df must be at least 1");
        }
        Ok(self)
    }
}

/// Hasher for keys that are already good 64-bit hashes.
#[derive(Default, Clone, Copy)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A hash map keyed by feature hashes, which need no further hashing.
pub type HashMapU64<V> = HashMap<u64, V, BuildHasherDefault<PreHashed>>;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

/// Feature kinds, mixed into the hash so a word and a char n-gram never collide by design.
const KIND_WORD: u8 = 1;
const KIND_CHAR: u8 = 3;

/// One pass of analysis over a text: the hashes of its word and char features.
#[derive(Debug, Default)]
pub struct Scratch {
    /// The text given is already cleaned of e-mail tails (the engine cleaned it when it parsed
    /// the ticket): cleaning it again would change nothing and cost as much again.
    pub(crate) cleaned: bool,
    terms: Vec<String>,
    word_hashes: Vec<u64>,
    char_hashes: Vec<u64>,
    cols: Vec<u32>,
}

/// Extracts feature hashes of `text` into `s` (word features, then char features).
fn extract(params: &FeatureParams, analyzer: &Analyzer, text: &str, s: &mut Scratch, mut word_names: Option<&mut HashMapU64<String>>) {
    s.word_hashes.clear();
    s.char_hashes.clear();
    // cleaned first, as every ticket text is, then redacted: whatever path a row took
    let cleaned = if s.cleaned { std::borrow::Cow::Borrowed(text) } else { clean_joined(text, boilerplate()) };
    let redacted = redact(&cleaned);
    let mut n_terms = 0;
    analyzer.for_each_token(&redacted, |t| {
        if n_terms < s.terms.len() {
            s.terms[n_terms].clear();
            s.terms[n_terms].push_str(t.term);
        } else {
            s.terms.push(t.term.to_owned());
        }
        n_terms += 1;
    });
    let terms = &s.terms[..n_terms];
    for n in 1..=params.word_ngram_max {
        for window in terms.windows(n) {
            let mut h = fnv(FNV_OFFSET, &[KIND_WORD, n as u8]);
            for (k, w) in window.iter().enumerate() {
                if k > 0 {
                    h = fnv(h, b" ");
                }
                h = fnv(h, w.as_bytes());
            }
            s.word_hashes.push(h);
            if let Some(names) = word_names.as_deref_mut() {
                names.entry(h).or_insert_with(|| window.join(" "));
            }
        }
    }
    if params.char_ngram_max > 0 {
        let mut padded = Vec::with_capacity(64);
        for term in terms {
            padded.clear();
            padded.push(b' ');
            padded.extend_from_slice(term.as_bytes());
            padded.push(b' ');
            // char boundaries of the padded term
            let bounds: Vec<usize> =
                std::str::from_utf8(&padded).expect("utf-8").char_indices().map(|(i, _)| i).chain([padded.len()]).collect();
            let n_chars = bounds.len() - 1;
            for n in params.char_ngram_min..=params.char_ngram_max.min(n_chars) {
                for start in 0..=(n_chars - n) {
                    let bytes = &padded[bounds[start]..bounds[start + n]];
                    s.char_hashes.push(fnv(fnv(FNV_OFFSET, &[KIND_CHAR]), bytes));
                }
            }
        }
    }
}

/// A fitted vectorizer: vocabulary, IDF weights and the names of word features.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    /// The parameters the vectorizer was fitted with.
    pub params: FeatureParams,
    analyzer: Analyzer,
    /// Feature hash of each column (word columns first, each block sorted by hash).
    hashes: Vec<u64>,
    columns: HashMapU64<u32>,
    idf: Vec<f32>,
    n_word: usize,
    /// Text of each word column (`n_word` entries).
    word_names: Vec<String>,
}

/// A vectorised text and how much of it the vocabulary knew.
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// The TF-IDF weights, each block L2-normalised.
    pub vector: SparseVec,
    /// Word n-grams of the text found in the vocabulary.
    pub known_words: usize,
}

impl Vectorizer {
    /// Learns the vocabulary and IDF from training texts.
    pub fn fit(params: FeatureParams, texts: &[&str], mut progress: impl FnMut(usize)) -> Result<Self> {
        let params = params.check()?;
        let analyzer = Analyzer::features();
        let mut df: HashMapU64<(u32, bool)> = HashMapU64::default();
        let mut names: HashMapU64<String> = HashMapU64::default();
        let mut scratch = Scratch::default();
        let mut seen: Vec<u64> = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            extract(&params, &analyzer, text, &mut scratch, Some(&mut names));
            seen.clear();
            seen.extend(&scratch.word_hashes);
            seen.sort_unstable();
            seen.dedup();
            for &h in &seen {
                df.entry(h).or_insert((0, true)).0 += 1;
            }
            seen.clear();
            seen.extend(&scratch.char_hashes);
            seen.sort_unstable();
            seen.dedup();
            for &h in &seen {
                df.entry(h).or_insert((0, false)).0 += 1;
            }
            if i % 1000 == 999 {
                progress(i + 1);
            }
        }
        progress(texts.len());
        let mut kept: Vec<(u64, u32, bool)> =
            df.into_iter().filter(|(_, (d, _))| *d >= params.min_df).map(|(h, (d, w))| (h, d, w)).collect();
        if params.max_features > 0 && kept.len() > params.max_features {
            kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            kept.truncate(params.max_features);
        }
        // word block first, then char block; each sorted by hash for a deterministic layout
        kept.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        let n = texts.len() as f32;
        let n_word = kept.iter().filter(|k| k.2).count();
        let hashes: Vec<u64> = kept.iter().map(|k| k.0).collect();
        let idf: Vec<f32> = kept.iter().map(|k| ((1.0 + n) / (1.0 + k.1 as f32)).ln() + 1.0).collect();
        let word_names = kept[..n_word].iter().map(|k| names.remove(&k.0).unwrap_or_default()).collect();
        Ok(Self::from_parts(params, hashes, idf, n_word, word_names))
    }

    /// Rebuilds a vectorizer from its stored parts.
    pub fn from_parts(params: FeatureParams, hashes: Vec<u64>, idf: Vec<f32>, n_word: usize, word_names: Vec<String>) -> Self {
        let columns = hashes.iter().enumerate().map(|(i, &h)| (h, i as u32)).collect();
        Self { params, analyzer: Analyzer::features(), hashes, columns, idf, n_word, word_names }
    }

    /// Total number of feature columns (word and character n-grams).
    pub fn n_features(&self) -> usize {
        self.hashes.len()
    }

    /// Number of word n-gram columns; they come first.
    pub fn n_word_features(&self) -> usize {
        self.n_word
    }

    /// The feature hash of each column, in column order.
    pub fn hashes(&self) -> &[u64] {
        &self.hashes
    }

    /// The IDF weight of each column, in column order.
    pub fn idf(&self) -> &[f32] {
        &self.idf
    }

    /// The text of each word n-gram column, in column order.
    pub fn word_names(&self) -> &[String] {
        &self.word_names
    }

    /// The text of a word feature column, if it is one.
    pub fn word_name(&self, col: u32) -> Option<&str> {
        self.word_names.get(col as usize).map(String::as_str)
    }

    /// Vectorises one text into `out`, reusing `scratch`.
    pub fn transform_into(&self, text: &str, scratch: &mut Scratch, out: &mut Features) {
        extract(&self.params, &self.analyzer, text, scratch, None);
        out.vector.clear();
        out.known_words = 0;
        let Scratch { word_hashes, char_hashes, cols, .. } = scratch;
        for (block, is_word) in [(&*word_hashes, true), (&*char_hashes, false)] {
            cols.clear();
            cols.extend(block.iter().filter_map(|h| self.columns.get(h).copied()));
            if is_word {
                out.known_words = cols.len();
            }
            cols.sort_unstable();
            let start = out.vector.indices.len();
            let mut i = 0;
            while i < cols.len() {
                let col = cols[i];
                let mut tf = 0;
                while i < cols.len() && cols[i] == col {
                    tf += 1;
                    i += 1;
                }
                out.vector.indices.push(col);
                out.vector.values.push((1.0 + (tf as f32).ln()) * self.idf[col as usize]);
            }
            let norm = out.vector.values[start..].iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                out.vector.values[start..].iter_mut().for_each(|v| *v /= norm);
            }
        }
    }

    /// Vectorises one text.
    pub fn transform(&self, text: &str) -> Features {
        let mut out = Features::default();
        self.transform_into(text, &mut Scratch::default(), &mut out);
        out
    }

    /// Vectorises many texts on `threads` threads; rows keep their order.
    pub fn transform_batch(&self, texts: &[&str], threads: usize) -> CsrMatrix {
        let threads = threads.clamp(1, 16);
        let chunk = texts.len().div_ceil(threads).max(1);
        let parts: Vec<CsrMatrix> = std::thread::scope(|scope| {
            let handles: Vec<_> = texts
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut m = CsrMatrix::new(self.n_features());
                        let mut scratch = Scratch::default();
                        let mut f = Features::default();
                        for t in part {
                            self.transform_into(t, &mut scratch, &mut f);
                            m.push_row(&f.vector);
                        }
                        m
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("feature thread panicked")).collect()
        });
        let mut all = CsrMatrix::new(self.n_features());
        for p in &parts {
            all.append(p);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fitted() -> Vectorizer {
        let texts = ["printer offline again", "printer jam on floor two", "vpn offline at home", "password reset please"];
        Vectorizer::fit(FeatureParams { min_df: 1, ..FeatureParams::default() }, &texts, |_| {}).unwrap()
    }

    #[test]
    fn word_features_come_first_and_keep_their_names() {
        let v = fitted();
        assert!(v.n_word_features() > 0 && v.n_word_features() < v.n_features());
        assert!(v.word_names().iter().any(|n| n == "printer offline"), "{:?}", v.word_names());
        assert!(v.word_names().iter().any(|n| n == "vpn"));
    }

    #[test]
    fn each_block_is_l2_normalised_and_indices_sorted() {
        let v = fitted();
        let f = v.transform("Printer offline, printer offline!");
        let n_word = v.n_word_features() as u32;
        let word: f32 = f.vector.indices.iter().zip(&f.vector.values).filter(|(i, _)| **i < n_word).map(|(_, x)| x * x).sum();
        let chars: f32 = f.vector.indices.iter().zip(&f.vector.values).filter(|(i, _)| **i >= n_word).map(|(_, x)| x * x).sum();
        assert!((word - 1.0).abs() < 1e-5 && (chars - 1.0).abs() < 1e-5, "{word} {chars}");
        assert!(f.vector.indices.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(f.known_words, 6, "four unigrams and `printer offline` twice; `offline printer` is unknown");
    }

    #[test]
    fn unknown_text_has_no_known_words() {
        let f = fitted().transform("zzqx wvvk");
        assert_eq!(f.known_words, 0);
    }

    #[test]
    fn personal_data_never_becomes_a_feature() {
        let texts = ["mail jane.doe@example.org now", "mail jane.doe@example.org again", "ring 07700 900123", "ring 07700 900123 again"];
        let v = Vectorizer::fit(FeatureParams { min_df: 1, ..FeatureParams::default() }, &texts, |_| {}).unwrap();
        let names = v.word_names().join("|");
        assert!(!names.contains("jane") && !names.contains("example") && !names.contains("07700") && !names.contains("900123"), "{names}");
        assert!(names.contains("piiemail") && names.contains("piiphone"), "placeholders are features : {names}");
    }

    #[test]
    fn fitting_is_deterministic() {
        let a = fitted();
        let b = fitted();
        assert_eq!(a.hashes(), b.hashes());
        assert_eq!(a.idf(), b.idf());
    }

    #[test]
    fn batch_transform_matches_single_transform() {
        let v = fitted();
        let texts = ["printer offline", "vpn at home", "", "password"];
        let m = v.transform_batch(&texts, 3);
        for (i, t) in texts.iter().enumerate() {
            let f = v.transform(t);
            assert_eq!(m.row(i), (&f.vector.indices[..], &f.vector.values[..]));
        }
    }
}
