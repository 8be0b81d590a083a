//! Errors of the knowledge-base layer.

use std::path::PathBuf;

/// Result type of the knowledge-base layer.
pub type Result<T, E = KbError> = std::result::Result<T, E>;

/// What went wrong in the knowledge base or its index.
#[derive(Debug, thiserror::Error)]
pub enum KbError {
    /// The knowledge-base folder could not be read.
    #[error("cannot read knowledge base at {path}: {source}; check the path in `knowledge_base.dir`")]
    Read {
        /// The folder or file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// Articles failed validation; the problems are listed as `file:line: message`.
    #[error("{count} problem(s) in the knowledge base; run `triage kb check` to list them")]
    Invalid {
        /// Number of problems found across all files.
        count: usize,
    },
    /// The index directory could not be created or opened.
    #[error("cannot open the search index at {path}: {source}; delete the folder and run `triage kb index` to rebuild it")]
    Open {
        /// The index directory.
        path: PathBuf,
        /// The underlying tantivy error.
        source: tantivy::TantivyError,
    },
    /// tantivy failed while indexing or searching.
    #[error("search index failure: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// I/O failure around the index.
    #[error("search index i/o failure: {0}")]
    Io(#[from] std::io::Error),
}
