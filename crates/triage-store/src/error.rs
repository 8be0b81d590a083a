//! Errors of the store.

use std::path::PathBuf;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store at {path}: {source}; check the data directory is writable")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("store failure: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store data is not valid: {0}")]
    Corrupt(String),
    #[error(
        "the store has schema version {found}, newer than the {supported} this binary understands; run the newer triage binary that wrote it (or restore a backup taken before the upgrade)"
    )]
    SchemaTooNew { found: u32, supported: u32 },
    #[error("no model version `{0}` is registered")]
    UnknownModel(String),
    /// Version names are unique: registering one again is refused, never a replace.
    #[error("model version `{0}` is already registered; choose another version name")]
    ModelExists(String),
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
