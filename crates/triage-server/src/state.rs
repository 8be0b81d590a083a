//! Shared application state: settings and the engine once it has loaded.

use std::sync::{Arc, OnceLock};

use triage_engine::TriageEngine;

use crate::config::ValidatedSettings;
use crate::problem::{ApiError, ErrorCode};

/// State shared by every worker.
pub(crate) struct AppState {
    pub settings: ValidatedSettings,
    pub metrics: crate::metrics::Metrics,
    pub rate_limiter: crate::auth::KeyRateLimiter,
    engine: Arc<OnceLock<Arc<TriageEngine>>>,
    load_error: OnceLock<String>,
    /// The running connectors (none until `start_connectors`).
    pub connectors: OnceLock<triage_connectors::Connectors>,
}

impl AppState {
    pub(crate) fn new(settings: ValidatedSettings) -> Self {
        let rate_limiter = crate::auth::KeyRateLimiter::new(settings.limits.requests_per_second, settings.limits.burst);
        Self {
            settings,
            metrics: Default::default(),
            rate_limiter,
            engine: Arc::new(OnceLock::new()),
            load_error: OnceLock::new(),
            connectors: OnceLock::new(),
        }
    }

    /// Starts the configured connectors; their threads wait for the engine to load.
    pub(crate) fn start_connectors(&self) -> std::io::Result<()> {
        let connectors = self.settings.connectors().to_vec();
        let running = if connectors.is_empty() {
            triage_connectors::Connectors::none()
        } else {
            let engine = self.engine.clone();
            triage_connectors::Connectors::start(connectors, Arc::new(move || engine.get().cloned()))?
        };
        let _ = self.connectors.set(running);
        Ok(())
    }

    /// The running connectors.
    pub(crate) fn connectors(&self) -> Option<&triage_connectors::Connectors> {
        self.connectors.get()
    }

    /// The engine, or `not_ready` while it is still loading (or failed to load).
    pub(crate) fn engine(&self) -> Result<&Arc<TriageEngine>, ApiError> {
        self.engine.get().ok_or_else(|| match self.load_error.get() {
            // the cause (which may name server paths) is in the service log, never in the answer
            Some(_) => {
                ApiError::new(ErrorCode::NotReady, "the engine failed to load; the service log says why; fix it and restart the service")
            }
            None => ApiError::new(ErrorCode::NotReady, "the engine is still loading; retry in a moment"),
        })
    }

    pub(crate) fn set_engine(&self, engine: TriageEngine) {
        let _ = self.engine.set(Arc::new(engine));
    }

    pub(crate) fn set_load_error(&self, error: String) {
        let _ = self.load_error.set(error);
    }
}
