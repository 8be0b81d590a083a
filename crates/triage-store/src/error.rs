//! Errors of the store.

use std::path::PathBuf;

/// Result type of the store.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or set up.
    #[error("cannot open the store at {path}: {source}; check the data directory is writable")]
    Open {
        /// The database file.
        path: PathBuf,
        /// The underlying SQLite error.
        source: rusqlite::Error,
    },
    /// A query or transaction failed.
    #[error("store failure: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// `store.url` is not a PostgreSQL URL this binary can use; holds the reason (never the
    /// password).
    #[error("store.url is not valid: {0}")]
    InvalidUrl(String),
    /// The PostgreSQL server could not be reached or refused the connection.
    #[error("cannot connect to the PostgreSQL store at {target}: {reason}; check store.url and that the server is up")]
    Connect {
        /// Host, port and database (never the password).
        target: String,
        /// Why.
        reason: String,
    },
    /// A PostgreSQL query or transaction failed.
    #[error("store failure: {0}")]
    Postgres(#[from] postgres::Error),
    /// Stored data could not be read back (bad JSON, a tenant id that no longer parses); holds
    /// the reason.
    #[error("store data is not valid: {0}")]
    Corrupt(String),
    /// The database was written by a newer binary with a schema this one does not know.
    #[error(
        "the store has schema version {found}, newer than the {supported} this binary understands; run the newer triage binary that wrote it (or restore a backup taken before the upgrade)"
    )]
    SchemaTooNew {
        /// Schema version recorded in the database.
        found: u32,
        /// Newest schema version this binary understands.
        supported: u32,
    },
    /// No model of this version name is registered; holds the name.
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
