//! Major incidents (issue 14): a surge of one fault across the shared desk, detected online,
//! linked, and answered at first contact.

pub mod detector;
mod service;
pub mod vectors;

pub use detector::{Detector, Incident, IncidentParams, Member, Observation, Observed, Status};
pub(crate) use service::StoreFeed;
pub use service::{IncidentAction, IncidentMatch, IncidentView, Incidents, MAX_MESSAGE_CHARS, MemberView};
