//! Ticket classification for triage: sparse text features, a linear SVM trained by dual
//! coordinate descent behind linfa's traits, calibrated probabilities with per-class `auto`
//! thresholds, metrics, and model bundles on disk.
//!
//! ```
//! use std::collections::BTreeMap;
//! use triage_model::train::{train, TrainParams, TrainingRow};
//! use triage_model::features::FeatureParams;
//!
//! let mut rows = Vec::new();
//! for (i, (text, label)) in [("printer jammed", "printing"), ("vpn down at home", "remote"), ("printer offline", "printing"),
//!                             ("vpn keeps dropping", "remote"), ("printer toner", "printing"), ("vpn token", "remote")].iter().enumerate() {
//!     let labels = BTreeMap::from([("category".to_string(), label.to_string())]);
//!     rows.push(TrainingRow { id: i.to_string(), text: text.to_string(), labels });
//! }
//! let params = TrainParams { features: FeatureParams { min_df: 1, ..Default::default() }, calibration_folds: 2, ..Default::default() };
//! let bundle = train(&rows, &["category".into()], &params, "doc", vec![], &mut |_, _, _| {}).unwrap();
//! assert_eq!(bundle.classifier.predict("printer is jammed")[0].label, "printing");
//! ```

pub mod baseline;
pub mod bundle;
pub mod calibration;
pub mod classifier;
pub mod dataset;
mod error;
pub mod eval;
pub mod features;
pub mod metrics;
pub mod sparse;
pub mod svm;
pub mod train;
pub mod version;

pub use error::{ModelError, Result};
pub use triage_core::time::rfc3339_utc;
