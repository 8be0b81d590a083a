//! `GET /healthz` (the process is up) and `GET /readyz` (the engine is loaded).

use actix_web::{HttpResponse, web};

use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::wire::StatusView;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Liveness: answers as long as the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = StatusView)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(StatusView { status: "ok", articles: None, similar_tickets: None, version: VERSION })
}

/// Readiness: 200 once the knowledge-base index (and models) are loaded, 503 before.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    responses(
        (status = 200, body = StatusView),
        (status = 503, description = "not_ready", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?;
    Ok(HttpResponse::Ok().json(StatusView {
        status: "ready",
        articles: Some(engine.article_count()),
        similar_tickets: Some(if engine.ticket_scorer_ready() { "ready" } else { "loading" }),
        version: VERSION,
    }))
}
