//! Errors of the triage pipeline.

/// Result type of the engine.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// What a [`EngineError::NotFound`] is about: each maps to its own problem code at the edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// A triage answer (`triage_id`), or another tenant's.
    Triage,
    /// A model version in the registry.
    ModelVersion,
    /// An API key, or another tenant's.
    Key,
    /// A major incident, or one that touches none of the caller's tickets.
    Incident,
}

impl Resource {
    /// What it is called in messages.
    pub fn name(self) -> &'static str {
        match self {
            Resource::Triage => "triage",
            Resource::ModelVersion => "model version",
            Resource::Key => "key",
            Resource::Incident => "incident",
        }
    }
}

/// What went wrong in the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The knowledge base or one of its indexes failed.
    #[error(transparent)]
    Kb(#[from] triage_kb::KbError),
    /// Training, evaluating or loading a model failed.
    #[error(transparent)]
    Model(#[from] triage_model::ModelError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] triage_store::StoreError),
    /// Reading or writing a file failed.
    #[error("i/o failure: {0}")]
    Io(#[from] std::io::Error),
    /// The thing asked for does not exist (or belongs to another tenant).
    #[error("no such {}", .0.name())]
    NotFound(Resource),
    /// The request cannot be carried out as asked; the text says why and what to do.
    #[error("{0}")]
    Invalid(String),
    /// The request conflicts with the current state (a job running, a refused promotion).
    #[error("{0}")]
    Conflict(String),
    /// A major incident's status does not allow the action asked for; the text says why.
    #[error("{0}")]
    Transition(String),
    /// A model version name is already taken (registered, or its bundle folder exists).
    #[error("model version `{0}` already exists; choose a new version name (list them with GET /v1/admin/models)")]
    VersionExists(String),
    /// A model bundle cannot be loaded; the text says why, without server paths.
    #[error("{0}")]
    Unloadable(String),
    /// An evaluation file could not be read or parsed.
    #[error("cannot read evaluation data {path}: {message}")]
    EvalData {
        /// The file, as given.
        path: String,
        /// What was wrong, with the line where known.
        message: String,
    },
}
