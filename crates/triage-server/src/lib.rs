//! The triage HTTP service: actix-web routes over the engine, configuration, telemetry.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! let settings = triage_server::config::load(None, &Default::default(), std::env::vars())?;
//! triage_server::telemetry::init(&settings.log);
//! triage_server::run(settings).await?;
//! # Ok(()) }
//! ```

mod app;
mod auth;
mod body;
pub mod config;
mod email;
pub mod html;
mod metrics;
pub mod openapi;
mod otlp;
mod problem;
mod routes;
mod state;
pub mod telemetry;
mod wire;
mod wire_loop;
#[cfg(test)]
mod wire_props;

pub use app::{Application, run};
pub use problem::ErrorCode;
