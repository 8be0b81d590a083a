//! `GET /healthz` (the process is up) and `GET /readyz` (the engine is loaded).

use actix_web::{HttpResponse, web};

use triage_engine::ModelHealth;

use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use crate::wire::StatusView;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Liveness: answers as long as the process serves HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = StatusView)))]
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(StatusView {
        status: "ok",
        articles: None,
        similar_tickets: None,
        ticket_index: None,
        model: None,
        model_reason: None,
        model_note: None,
        change_feed: None,
        version: VERSION,
    })
}

/// Readiness: 200 once the knowledge-base index is loaded and the data directory takes writes;
/// 503 before, or when the data directory cannot be written (answers would be given but not
/// recorded: feedback on them, resolved tickets and keys would fail). A model that cannot be
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
pub(crate) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?.clone();
    let probe = state.settings.data_dir.clone();
    if let Err(e) = crate::routes::off_thread(move || write_probe(&probe)).await? {
        // the cause, not the path: answers never carry server paths
        return Err(ApiError::new(
            ErrorCode::NotReady,
            format!("the data directory cannot be written ({}); check the volume is mounted read-write and has free space", e.kind()),
        ));
    }
    let (model, model_reason) = match engine.model_health() {
        ModelHealth::Ok => ("ok", None),
        ModelHealth::NotConfigured => ("none", None),
        ModelHealth::Degraded(reason) => ("degraded", Some(reason)),
    };
    let follow = engine.follow_status();
    let change_feed = follow.following.then_some(if follow.last_error.is_some() { "failing" } else { "following" });
    Ok(HttpResponse::Ok().json(StatusView {
        status: "ready",
        change_feed,
        articles: Some(engine.article_count()),
        similar_tickets: Some(if engine.ticket_scorer_ready() { "ready" } else { "loading" }),
        ticket_index: Some(if engine.ticket_index_lag().is_some() { "repairing" } else { "current" }),
        model: Some(model),
        model_reason,
        model_note: engine.model_retrain_recommended().map(|(trained, current)| {
            format!(
                "the live model was trained with text analysis version {trained}; this build cleans text with version {current}: it is served, and retraining (`triage train`, then promote) picks up the newer cleaning"
            )
        }),
        version: VERSION,
    }))
}

/// Creates, syncs and removes a small file in the data directory.
fn write_probe(dir: &std::path::Path) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(".readyz-probe");
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&path)?;
    f.write_all(b"ok")?;
    f.sync_data()?;
    std::fs::remove_file(&path)
}
