//! `GET /healthz` (the process is up) and `GET /readyz` (the engine is loaded).

use actix_web::{HttpResponse, web};

use triage_engine::ModelHealth;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::wire::StatusView;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Liveness: answers as long as the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = StatusView)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(StatusView {
        status: "ok",
        articles: None,
        similar_tickets: None,
        model: None,
        model_reason: None,
        version: VERSION,
    })
}

/// Readiness: 200 once the knowledge-base index is loaded, 503 before. A model that cannot be
/// served keeps it 200 (suggestions and search work) with `model: degraded` and the reason, so
/// an orchestrator does not restart a pod that a restart cannot fix.
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
    let (model, model_reason) = match engine.model_health() {
        ModelHealth::Ok => ("ok", None),
        ModelHealth::NotConfigured => ("none", None),
        ModelHealth::Degraded(reason) => ("degraded", Some(reason)),
    };
    Ok(HttpResponse::Ok().json(StatusView {
        status: "ready",
        articles: Some(engine.article_count()),
        similar_tickets: Some(if engine.ticket_scorer_ready() { "ready" } else { "loading" }),
        model: Some(model),
        model_reason,
        version: VERSION,
    }))
}
