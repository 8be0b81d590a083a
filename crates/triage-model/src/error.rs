//! Errors of the model layer.

use std::path::PathBuf;

/// Result type of the model layer.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Why training, evaluation or loading a model failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A hyper-parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParams(String),
    /// Training data cannot train a head (for example a single label).
    #[error("cannot train head `{head}`: {reason}")]
    Untrainable {
        /// Name of the head that cannot be trained.
        head: String,
        /// Why not, in lower case.
        reason: String,
    },
    /// Training data could not be read.
    #[error("cannot read training data {path}: {message}")]
    Data {
        /// The file being read.
        path: PathBuf,
        /// What was wrong, in lower case.
        message: String,
    },
    /// A model bundle is missing, corrupt or of another format.
    #[error("model bundle {path} is not usable: {reason}; {hint}")]
    Bundle {
        /// The bundle's folder.
        path: PathBuf,
        /// What is wrong with it, in lower case.
        reason: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// Reading or writing a file failed.
    #[error("i/o failure: {0}")]
    Io(#[from] std::io::Error),
    /// linfa refused the data or the parameters.
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
