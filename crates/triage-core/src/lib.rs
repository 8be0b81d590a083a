//! Domain types and text analysis for triage.
//!
//! Pure code only: no I/O, no async, no search engine or HTTP types. Every other crate builds on
//! the types here, and the knowledge-base index and the classifiers share one [`analysis::Analyzer`]
//! so that a word means the same thing to search and to the models.
//!
//! ```
//! use triage_core::analysis::Analyzer;
//! use triage_core::ticket::TicketText;
//!
//! let text = TicketText::parse("  My account is LOCKED after too many attempts ").unwrap();
//! let terms = Analyzer::search().terms(text.as_str());
//! assert_eq!(terms, vec!["account", "lock", "attempt"]);
//! ```

pub mod analysis;
pub mod article;
pub mod auth;
pub mod clean;
pub mod error;
pub mod front_matter;
pub mod metrics;
pub mod redact;
pub mod suggestion;
pub mod tenant;
pub mod ticket;
pub mod ticket_resolved;
pub mod time;

pub use error::{CoreError, Result};
