//! Errors of the triage pipeline.

/// Result type of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// What went wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Kb(#[from] triage_kb::KbError),
    #[error(transparent)]
    Model(#[from] triage_model::ModelError),
    /// An evaluation file could not be read or parsed.
    #[error("cannot read evaluation data {path}: {message}")]
    EvalData { path: String, message: String },
}
