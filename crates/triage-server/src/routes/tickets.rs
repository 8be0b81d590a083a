//! `POST /v1/tickets/resolved`.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::wire_loop::{IngestResponse, ResolvedBatch};

/// Store and index resolved tickets. Idempotent on (tenant, external id): re-sending updates.
#[utoipa::path(
    post,
    path = "/v1/tickets/resolved",
    tag = "learning loop",
    request_body = ResolvedBatch,
    responses(
        (status = 200, description = "Stored and indexed", body = IngestResponse),
        (status = 413, description = "batch_too_large, payload_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a ticket is not valid (the detail names it); nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post_resolved(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    require_json(&req)?;
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes * 16).await?;
    let batch: ResolvedBatch = decode_json(&bytes)?;
    let tickets = batch.parse(state.settings.ingest.max_batch)?;
    let engine = state.engine()?.clone();
    let report = web::block(move || engine.ingest_resolved(&tickets)).await.map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(IngestResponse { inserted: report.inserted, updated: report.updated }))
}
