//! Connectors to ticketing systems (issue 12): a new ticket in the desk's own tool gets an
//! internal note with the likely fixes (and its fields set when the decision is `auto`), and a
//! resolved ticket flows back as training data and first-contact evidence.
//!
//! - `config`: `[[connectors]]` as written, checked into a [`Connector`] (secrets from the
//!   environment or a file, never logged).
//! - `kinds`: what differs per system ([`kinds::System`]): webhook signatures and payloads,
//!   polling, notes, fields, the first-contact rule. `rt` (Request Tracker 5, REST2, polled),
//!   `zammad`, `servicenow`, `jira` (webhooks).
//! - `worker`: the runtime ([`Connectors`]): durable inbound events, loop prevention, the outbox
//!   with retries, back-off and dead letters.
//! - `http`: outbound calls, only to the configured host, rustls, timeouts, no redirects.

pub mod config;
pub mod http;
pub mod kinds;
pub mod note;
pub mod signature;
pub mod worker;

pub use config::{ConfigError, Connector, ConnectorSpec, Kind, Policy};
pub use worker::{ConnectorStatus, Connectors, EngineSource, HEADS, ReceiveError, Received, Runtime};
