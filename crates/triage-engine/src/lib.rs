//! The triage pipeline: checked ticket in, ranked fixes out. Composes the knowledge-base index
//! and the classifier (and, later, the store); knows nothing of HTTP.
//!
//! ```no_run
//! use triage_core::ticket::{Channel, NewTicket};
//! use triage_engine::{EngineParams, TriageEngine};
//!
//! let (engine, _report) = TriageEngine::open(&EngineParams::new("knowledge-base", "data")).unwrap();
//! let ticket = NewTicket::parse(Some("locked out"), None, None, Channel::Phone, None, None).unwrap();
//! let outcome = engine.triage(&ticket).unwrap();
//! println!("{}: {:?}", outcome.triage_id, outcome.suggestions.first().map(|s| &s.id));
//! ```

mod boilerplate;
mod engine;
mod error;
pub mod eval;
pub mod fix;
mod follow;
pub mod fusion;
mod gaps;
mod gaps_draft;
pub mod incidents;
mod ingest;
mod jobs;
mod keys;
mod learned;
#[cfg(test)]
mod learned_tests;
mod model_load;
mod reads;
mod recorder;
#[cfg(test)]
mod replicas_tests;
mod shadow;
pub mod starter;
pub mod synthetic;
mod training;

pub use boilerplate::{BoilerplateParams, LearnedBoilerplate, LearnedPhrase, MIN_WORDS};
pub use engine::{EngineParams, OpenReport, TenantPolicy, TriageEngine, TriageOutcome};
pub use error::{EngineError, Resource, Result};
pub use follow::{FollowParams, FollowStatus};

// The lower crates' types that the engine's callers see: the server builds its wire types from
// these and depends on no crate below the engine (`.ci/check-layers`).
pub use fusion::FirstContact;
pub use gaps::{Gap, GapParams, GapTicket, KbGaps, MAX_NOTES, MAX_REPRESENTATIVES, TOP_TERMS, find_gaps};
pub use ingest::{Erasure, FeedbackInput, IngestReport};
pub use jobs::{JobLease, JobState, JobStatus};
pub use keys::NewKey;
pub use learned::LearningParams;
pub use model_load::ModelHealth;
pub use reads::{ArticleUsage, TriageDetail};
pub use recorder::Durability;
pub use shadow::{ShadowHead, ShadowStatus};
pub use training::TrainRequest;
pub use triage_kb::{KbQuery, SimilarQueryPolicy};
pub use triage_model::classifier::{Decision, HeadPrediction};
pub use triage_store::GapCandidate;
pub use triage_store::{ModelRecord, ModelStatus, Outcome, Stats, StatsQuery, StoreUrl};
/// Connector state in the store (issue 12), for `triage-connectors`.
pub mod connector_store {
    pub use triage_store::{
        ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, NewConnectorEvent, NewOutboxAction, OutboxAction, OutboxState,
        OutboxUpdate, StoreError,
    };
}
