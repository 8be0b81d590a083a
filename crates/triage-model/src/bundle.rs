//! Model bundles on disk: `models/<version>/manifest.json` and `weights.bin`.
//!
//! `manifest.json` names the format, version, creation time, a hash of the training data, the
//! heads with their label sets and calibration, the feature settings, the out-of-fold metrics
//! and the SHA-256 of `weights.bin`. `weights.bin` is little-endian binary:
//!
//! ```text
//! "TRGW0001"  u32 n_features  u32 n_word
//! u64 x n_features  feature hashes        f32 x n_features  idf
//! n_word x (u32 len, utf-8 bytes)         word feature names
//! per head, in manifest order: u32 n_classes, f32 x n_features*n_classes weights
//!                              (feature-major), f32 x n_classes bias
//! ```
//! Loading checks the format, the hash and every length; a bundle that fails any check is
//! refused whole, so the service never serves half a model. Saving writes a temporary folder and
//! renames it into place.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use triage_core::article::content_hash;

use crate::calibration::Calibration;
use crate::classifier::{Classifier, HeadModel};
use crate::features::{FeatureParams, Vectorizer};
use crate::metrics::HeadMetrics;
use crate::svm::LinearSvm;
use crate::{ModelError, Result};

/// The format name a manifest must carry; bundles of another format are refused.
pub const FORMAT: &str = "triage-model-bundle/1";
const MAGIC: &[u8; 8] = b"TRGW0001";
/// File name of the manifest inside a bundle folder.
pub const MANIFEST: &str = "manifest.json";
/// File name of the binary weights inside a bundle folder.
pub const WEIGHTS: &str = "weights.bin";

/// The manifest of a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must equal [`FORMAT`].
    pub format: String,
    /// The model version name, which is also the bundle's folder name.
    pub version: String,
    /// When training finished, in the stored UTC form `YYYY-MM-DDTHH:MM:SSZ`.
    pub created: String,
    /// `triage_core::analysis::ANALYSIS_VERSION` of the build that trained it (0: older bundle).
    #[serde(default)]
    pub analysis_version: u32,
    /// `triage_core::redact::BUILTIN_VERSION` of the redaction applied to the training text.
    #[serde(default)]
    pub redaction_version: u32,
    /// `triage_core::redact::extra_fingerprint()` at training time ("" = no extra patterns).
    #[serde(default)]
    pub redaction_extra: String,
    /// What the model was trained on and with which settings.
    pub training: TrainingInfo,
    /// The feature settings and vocabulary size.
    pub features: FeatureInfo,
    /// One entry per head, in the order their weights appear in `weights.bin`.
    pub heads: Vec<HeadInfo>,
    /// SHA-256 of `weights.bin`.
    pub weights_sha256: String,
}

/// How a bundle was trained: data, hyper-parameters and duration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    /// SHA-256 over the training rows (ids, redacted texts, labels), in order.
    pub data_sha256: String,
    /// Number of training rows.
    pub rows: usize,
    /// Where the rows came from (file names or `knowledge-base`).
    pub sources: Vec<String>,
    /// SVM regularisation `c` used.
    pub c: f32,
    /// Seed used for update order and fold assignment.
    pub seed: u64,
    /// Folds used for the out-of-fold scores that fitted the calibration.
    pub calibration_folds: usize,
    /// Wall-clock seconds training took.
    pub train_seconds: f64,
}

/// The vectorizer's settings and vocabulary size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureInfo {
    /// Feature hyper-parameters the vectorizer was fitted with.
    pub params: FeatureParams,
    /// Total number of feature columns.
    pub n_features: usize,
    /// Number of word n-gram columns (they come first); the rest are character n-grams.
    pub n_word_features: usize,
}

/// One head of a bundle: what it predicts and how its scores are calibrated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadInfo {
    /// Head name, such as `category`.
    pub name: String,
    /// The head's labels, in class-index order.
    pub labels: Vec<String>,
    /// Temperature and per-class `auto` thresholds.
    pub calibration: Calibration,
    /// Out-of-fold metrics from training (the model card's figures); `None` when not computed.
    pub cv_metrics: Option<HeadMetrics>,
}

impl Manifest {
    /// Refuses a bundle trained with another tokenising or built-in redaction than this build's
    /// (its features would silently differ); warns when only cleaning changed since training
    /// (an analysis version from [`triage_core::analysis::TOKENS_COMPATIBLE_SINCE`] on), or the
    /// desk's extra redaction patterns did.
    pub fn check_text_processing(&self) -> std::result::Result<(), String> {
        use triage_core::analysis::TOKENS_COMPATIBLE_SINCE;
        let (analysis, redaction) = (triage_core::analysis::ANALYSIS_VERSION, triage_core::redact::BUILTIN_VERSION);
        let tokens_match = (TOKENS_COMPATIBLE_SINCE..=analysis).contains(&self.analysis_version);
        if !tokens_match || self.redaction_version != redaction {
            return Err(format!(
                "model `{}` was trained with text analysis version {} and redaction version {}, this build uses {analysis} and {redaction} (0 means a bundle from before versions were recorded); retrain it with `triage train`, or `triage train-starter` for the starter model",
                self.version, self.analysis_version, self.redaction_version
            ));
        }
        if self.analysis_version != analysis {
            tracing::warn!(
                version = %self.version,
                trained_with = self.analysis_version,
                this_build = analysis,
                "model was trained before the latest cleaning rules; it is served (its tokens match), but retraining is recommended"
            );
        }
        if self.redaction_extra != triage_core::redact::extra_fingerprint() {
            tracing::warn!(
                version = %self.version,
                "model was trained before the desk's extra redaction patterns changed; it is served, but retraining is recommended"
            );
        }
        Ok(())
    }
}

/// A classifier with its manifest.
#[derive(Debug, Clone)]
pub struct ModelBundle {
    /// The bundle's manifest, as read from or written to `manifest.json`.
    pub manifest: Manifest,
    /// The classifier rebuilt from `weights.bin`.
    pub classifier: Classifier,
}

impl ModelBundle {
    /// The weights file's bytes (deterministic for a given model).
    pub fn weights_bytes(classifier: &Classifier) -> Vec<u8> {
        let v = &classifier.vectorizer;
        let mut out =
            Vec::with_capacity(16 + v.n_features() * 12 + classifier.heads.iter().map(|h| h.svm.weights.len() * 4).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(v.n_features() as u32).to_le_bytes());
        out.extend_from_slice(&(v.n_word_features() as u32).to_le_bytes());
        v.hashes().iter().for_each(|h| out.extend_from_slice(&h.to_le_bytes()));
        v.idf().iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        for name in v.word_names() {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        for h in &classifier.heads {
            out.extend_from_slice(&(h.svm.n_classes as u32).to_le_bytes());
            h.svm.weights.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
            h.svm.bias.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        }
        out
    }

    /// Writes the bundle to `dir` (which must not exist yet), atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        if dir.exists() {
            return Err(ModelError::bundle(dir, "the folder already exists; choose a new version or remove it"));
        }
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent)?;
        let tmp: PathBuf =
            parent.join(format!(".{}.tmp-{}", dir.file_name().and_then(|n| n.to_str()).unwrap_or("bundle"), std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        let weights = Self::weights_bytes(&self.classifier);
        let mut manifest = self.manifest.clone();
        manifest.weights_sha256 = content_hash(&weights);
        std::fs::write(tmp.join(WEIGHTS), &weights)?;
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| ModelError::bundle(dir, e.to_string()))?;
        std::fs::write(tmp.join(MANIFEST), json)?;
        std::fs::rename(&tmp, dir)?;
        Ok(())
    }

    /// Loads and checks a bundle. Any inconsistency refuses the whole bundle.
    pub fn load(dir: &Path) -> Result<Self> {
        let manifest_path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| ModelError::bundle(dir, format!("cannot read {MANIFEST}: {e}")))?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| ModelError::bundle(dir, format!("{MANIFEST} is not valid: {e}")))?;
        if manifest.format != FORMAT {
            return Err(ModelError::bundle(dir, format!("format is `{}`, this build reads `{FORMAT}`", manifest.format)));
        }
        manifest.check_text_processing().map_err(|reason| ModelError::bundle(dir, reason))?;
        let weights = std::fs::read(dir.join(WEIGHTS)).map_err(|e| ModelError::bundle(dir, format!("cannot read {WEIGHTS}: {e}")))?;
        if content_hash(&weights) != manifest.weights_sha256 {
            return Err(ModelError::bundle(dir, format!("{WEIGHTS} does not match the hash in {MANIFEST} (corrupt or edited)")));
        }
        let classifier = parse_weights(&weights, &manifest).map_err(|reason| ModelError::bundle(dir, reason))?;
        Ok(Self { manifest, classifier })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| format!("{WEIGHTS} is truncated at byte {}", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u32(&mut self) -> std::result::Result<u32, String> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn f32s(&mut self, n: usize) -> std::result::Result<Vec<f32>, String> {
        let b = self.take(n.checked_mul(4).ok_or("length overflow")?)?;
        Ok(b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect())
    }
}

fn parse_weights(bytes: &[u8], m: &Manifest) -> std::result::Result<Classifier, String> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return Err(format!("{WEIGHTS} does not start with the expected magic bytes"));
    }
    let n = r.u32()? as usize;
    let n_word = r.u32()? as usize;
    if n != m.features.n_features || n_word != m.features.n_word_features || n_word > n {
        return Err("feature counts in the manifest and the weights differ".into());
    }
    let hashes: Vec<u64> = r
        .take(n.checked_mul(8).ok_or("length overflow")?)?
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect();
    let idf = r.f32s(n)?;
    let mut names = Vec::with_capacity(n_word);
    for _ in 0..n_word {
        let len = r.u32()? as usize;
        let s = std::str::from_utf8(r.take(len)?).map_err(|_| "a feature name is not UTF-8".to_owned())?;
        names.push(s.to_owned());
    }
    let vectorizer = Vectorizer::from_parts(m.features.params.check().map_err(|e| e.to_string())?, hashes, idf, n_word, names);
    let mut heads = Vec::with_capacity(m.heads.len());
    for info in &m.heads {
        let k = r.u32()? as usize;
        if k != info.labels.len() || k < 2 || info.calibration.auto_thresholds.len() != k {
            return Err(format!("head `{}` has {k} classes in the weights but {} labels in the manifest", info.name, info.labels.len()));
        }
        let weights = r.f32s(n.checked_mul(k).ok_or("length overflow")?)?;
        let bias = r.f32s(k)?;
        heads.push(HeadModel {
            name: info.name.clone(),
            labels: info.labels.clone(),
            svm: LinearSvm { n_features: n, n_classes: k, weights, bias },
            calibration: info.calibration.clone(),
            cv_metrics: info.cv_metrics.clone(),
        });
    }
    if r.at != bytes.len() {
        return Err(format!("{WEIGHTS} has {} unexpected trailing bytes", bytes.len() - r.at));
    }
    Ok(Classifier { vectorizer, heads })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureParams;
    use crate::train::{TrainParams, TrainingRow, train};
    use std::collections::BTreeMap;

    fn rows(extra: &[(&str, &str)]) -> Vec<TrainingRow> {
        let base = [
            ("printer offline cannot print", "printing"),
            ("printer jammed paper stuck", "printing"),
            ("toner empty printer", "printing"),
            ("vpn will not connect from home", "remote"),
            ("vpn keeps dropping", "remote"),
            ("vpn certificate error", "remote"),
        ];
        let mut out = Vec::new();
        for rep in 0..4 {
            for (i, (t, l)) in base.iter().chain(extra).enumerate() {
                let labels = BTreeMap::from([("category".to_owned(), (*l).to_owned())]);
                out.push(TrainingRow { id: format!("{rep}-{i}"), text: format!("{t} case {rep}"), labels });
            }
        }
        out
    }

    fn params() -> TrainParams {
        TrainParams { features: FeatureParams { min_df: 1, ..FeatureParams::default() }, min_auto_support: 2, ..TrainParams::default() }
    }

    fn trained(rows: &[TrainingRow]) -> ModelBundle {
        train(rows, &["category".to_owned()], &params(), "v-test", vec!["unit".into()], &mut |_, _, _| {}).unwrap()
    }

    #[test]
    fn same_data_and_seed_give_the_same_weights_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        trained(&rows(&[])).save(&a).unwrap();
        trained(&rows(&[])).save(&b).unwrap();
        assert_eq!(std::fs::read(a.join(WEIGHTS)).unwrap(), std::fs::read(b.join(WEIGHTS)).unwrap());
        let strip = |p: &Path| {
            let mut m: Manifest = serde_json::from_str(&std::fs::read_to_string(p.join(MANIFEST)).unwrap()).unwrap();
            m.created.clear();
            m.training.train_seconds = 0.0;
            m
        };
        assert_eq!(strip(&a), strip(&b));
    }

    #[test]
    fn a_saved_bundle_loads_and_predicts_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1");
        let bundle = trained(&rows(&[]));
        bundle.save(&path).unwrap();
        let loaded = ModelBundle::load(&path).unwrap();
        assert_eq!(loaded.manifest.version, "v-test");
        for text in ["printer jam", "vpn down", "nothing known here"] {
            assert_eq!(bundle.classifier.predict(text), loaded.classifier.predict(text), "{text}");
        }
        assert!(bundle.save(&path).is_err(), "an existing bundle is never overwritten");
    }

    #[test]
    fn a_corrupt_or_incompatible_bundle_is_refused_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1");
        trained(&rows(&[])).save(&path).unwrap();
        let weights = path.join(WEIGHTS);
        let mut bytes = std::fs::read(&weights).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        std::fs::write(&weights, &bytes).unwrap();
        let err = ModelBundle::load(&path).unwrap_err().to_string();
        assert!(err.contains("does not match the hash") && err.contains("triage train"), "{err}");

        let manifest = path.join(MANIFEST);
        let text = std::fs::read_to_string(&manifest).unwrap().replace(FORMAT, "triage-model-bundle/99");
        std::fs::write(&manifest, text).unwrap();
        assert!(ModelBundle::load(&path).unwrap_err().to_string().contains("triage-model-bundle/99"));

        std::fs::remove_file(&manifest).unwrap();
        assert!(ModelBundle::load(&path).unwrap_err().to_string().contains("manifest.json"));
    }

    #[test]
    fn a_bundle_from_another_text_analysis_or_redaction_is_refused_with_what_differs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1");
        let bundle = trained(&rows(&[]));
        assert_eq!(bundle.manifest.analysis_version, triage_core::analysis::ANALYSIS_VERSION, "training records the versions");
        assert_eq!(bundle.manifest.redaction_version, triage_core::redact::BUILTIN_VERSION);
        bundle.save(&path).unwrap();
        let manifest_path = path.join(MANIFEST);
        let saved: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
        type Edit = fn(&mut serde_json::Value);
        let cases: [(&str, Edit); 3] = [
            ("analysis bumped since training", |m| m["analysis_version"] = (triage_core::analysis::ANALYSIS_VERSION + 1).into()),
            ("redaction bumped since training", |m| m["redaction_version"] = (triage_core::redact::BUILTIN_VERSION + 1).into()),
            ("a bundle from before versions were recorded", |m| {
                let o = m.as_object_mut().unwrap();
                o.remove("analysis_version");
                o.remove("redaction_version");
                o.remove("redaction_extra");
            }),
        ];
        for (edit, why) in cases.iter().map(|(why, edit)| (edit, why)) {
            let mut m = saved.clone();
            edit(&mut m);
            std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
            let err = ModelBundle::load(&path).unwrap_err().to_string();
            assert!(err.contains("text analysis version") && err.contains("train-starter"), "{why}: {err}");
        }
        // only cleaning changed since the bundle's analysis version: its tokens match, it is served
        let mut m = saved.clone();
        m["analysis_version"] = triage_core::analysis::TOKENS_COMPATIBLE_SINCE.into();
        std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(ModelBundle::load(&path).is_ok(), "a bundle from before a cleaning change is served");
        if triage_core::analysis::TOKENS_COMPATIBLE_SINCE > 0 {
            m["analysis_version"] = (triage_core::analysis::TOKENS_COMPATIBLE_SINCE - 1).into();
            std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
            let err = ModelBundle::load(&path).unwrap_err().to_string();
            assert!(err.contains("text analysis version"), "tokens from before the compatible range: {err}");
        }
        let mut m = saved.clone();
        m["redaction_extra"] = "a-desk-pattern-added-later".into();
        std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(ModelBundle::load(&path).is_ok(), "changed desk patterns only warn");
    }

    #[test]
    fn a_truncated_weights_file_is_refused_even_with_a_matching_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1");
        trained(&rows(&[])).save(&path).unwrap();
        let bytes = std::fs::read(path.join(WEIGHTS)).unwrap();
        let cut = &bytes[..bytes.len() - 4];
        std::fs::write(path.join(WEIGHTS), cut).unwrap();
        let manifest_path = path.join(MANIFEST);
        let mut m: Manifest = serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
        m.weights_sha256 = content_hash(cut);
        std::fs::write(&manifest_path, serde_json::to_vec(&m).unwrap()).unwrap();
        assert!(ModelBundle::load(&path).unwrap_err().to_string().contains("truncated"));
    }

    #[test]
    fn personal_data_never_reaches_a_stored_bundle() {
        let planted = [
            ("printer broken email jane.doe@northmoor.gov.uk", "printing"),
            ("vpn broken call 07700 900123", "remote"),
            ("printer jam ring +44 7700 900456 or mail bob.smith@eastbrook.gov.uk", "printing"),
            ("vpn issue NI QQ 12 34 56 C postcode LE10 0FR card 4539 1488 0343 6467", "remote"),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1");
        trained(&rows(&planted)).save(&path).unwrap();
        let mut stored = std::fs::read(path.join(WEIGHTS)).unwrap();
        stored.extend(std::fs::read(path.join(MANIFEST)).unwrap());
        let haystack = String::from_utf8_lossy(&stored).to_lowercase();
        for secret in ["jane", "northmoor.gov", "bob.smith", "eastbrook", "07700", "900123", "900456", "qq 12", "le10", "4539"] {
            assert!(!haystack.contains(secret), "`{secret}` reached the stored bundle");
        }
        assert!(haystack.contains("piiemail") && haystack.contains("piiphone"), "the placeholders are what is learned");
    }
}
