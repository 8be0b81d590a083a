//! Errors of the model layer.

use std::path::PathBuf;

/// Result type of the model layer.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// Training data cannot train a head (for example a single label).
    #[error("cannot train head `{head}`: {reason}")]
    Untrainable { head: String, reason: String },
    /// Training data could not be read.
    #[error("cannot read training data {path}: {message}")]
    Data { path: PathBuf, message: String },
    /// A model bundle is missing, corrupt or of another format.
    #[error("model bundle {path} is not usable: {reason}; {hint}")]
    Bundle { path: PathBuf, reason: String, hint: &'static str },
    #[error("i/o failure: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

impl ModelError {
    pub(crate) fn bundle(path: &std::path::Path, reason: impl Into<String>) -> Self {
        ModelError::Bundle {
            path: path.to_path_buf(),
            reason: reason.into(),
            hint: "retrain it with `triage train`, or point `model.dir` at a good bundle",
        }
    }
}
