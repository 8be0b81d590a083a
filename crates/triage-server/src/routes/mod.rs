//! HTTP routes. Handlers parse, call the engine, and map the result; nothing else.

pub(crate) mod admin;
pub(crate) mod boilerplate;
pub(crate) mod connectors;
pub(crate) mod console;
pub(crate) mod docs;
pub(crate) mod feedback;
pub(crate) mod gaps;
pub(crate) mod health;
pub(crate) mod incidents;
pub(crate) mod kb;
pub(crate) mod metrics;
pub(crate) mod session;
pub(crate) mod stats;
pub(crate) mod tickets;
pub(crate) mod triage;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::problem::{ApiError, ErrorCode};

/// Answer for unknown paths.
pub(crate) async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::RouteNotFound, format!("no endpoint at {}; see /docs for the API", req.path())))
}

/// Answer for a known path with the wrong method.
pub(crate) async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(ErrorCode::MethodNotAllowed, format!("{} is not allowed on {}; see /docs for the API", req.method(), req.path())))
}

/// Runs `f` (store work: SQLite reads and writes, audit entries) on the blocking pool, never on
/// an async worker: a batch upsert holding the write lock must not stall other requests.
pub(crate) async fn off_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    web::block(f).await.map_err(|e| ApiError::internal(&e))
}
