//! `POST /v1/tickets/resolved`.

use actix_web::{HttpRequest, HttpResponse, web};
use triage_core::auth::Action;

use crate::auth::Auth;
use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, Problem};
use crate::routes::off_thread;
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
        (status = 202, description = "Stored; the ticket index did not take them (`index: pending`) and is repaired from the store in the background", body = IngestResponse),
        (status = 413, description = "batch_too_large, payload_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "a ticket is not valid (the detail names it); nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn post_resolved(
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::IngestResolved)?;
    require_json(&req)?;
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes * 16).await?;
    let batch: ResolvedBatch = decode_json(&bytes)?;
    for (i, t) in batch.tickets.iter().enumerate() {
        auth.tenant(Some(&t.tenant), &state).map_err(|e| ApiError::new(e.code, format!("tickets[{i}]: {}", e.detail)))?;
    }
    let max_batch = state.settings.ingest.max_batch;
    let engine = state.engine()?.clone();
    // parsing converts HTML and cleans every ticket: off the async worker, with the writes
    let report = off_thread(move || {
        let tickets = batch.parse(max_batch)?;
        Ok::<_, ApiError>(engine.ingest_resolved(&tickets)?)
    })
    .await??;
    let body = IngestResponse { inserted: report.inserted, updated: report.updated, index: index_state(report.index_pending) };
    Ok(if report.index_pending { HttpResponse::Accepted().json(body) } else { HttpResponse::Ok().json(body) })
}

fn index_state(pending: bool) -> &'static str {
    if pending { "pending" } else { "current" }
}

/// Query string of the erasure endpoint.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct EraseParams {
    /// Tenant (operators only; other keys act for their own tenant).
    pub tenant: Option<String>,
}

/// Right to erasure: delete one resolved ticket from the store and the index.
#[utoipa::path(
    delete,
    path = "/v1/tickets/resolved/{external_id}",
    tag = "learning loop",
    params(("external_id" = String, Path), EraseParams),
    responses(
        (status = 204, description = "Deleted from the store and the index"),
        (status = 202, description = "Deleted from the store and never offered again; the index commit failed and is repaired in the background (`{\"erased\": true, \"index\": \"pending\"}`)"),
        (status = 404, description = "ticket_not_found", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_resolved(
    auth: Auth,
    external_id: web::Path<String>,
    params: web::Query<EraseParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::IngestResolved)?;
    let tenant = auth
        .tenant(params.tenant.as_deref(), &state)?
        .ok_or_else(|| ApiError::new(crate::problem::ErrorCode::InvalidQuery, "name the tenant: ?tenant=ID"))?;
    let engine = state.engine()?.clone();
    let id = external_id.into_inner();
    let (t, i) = (tenant, id);
    let erased = off_thread(move || {
        let erased = engine.erase_resolved(&t, &i)?;
        let outcome = match erased {
            e if !e.existed => "not found",
            e if e.index_pending => "ok (index pending)",
            _ => "ok",
        };
        engine.audit(Some(&auth.0), Some(&t), "ticket.erase", &i, outcome);
        Ok::<_, triage_engine::EngineError>(erased)
    })
    .await??;
    if erased.existed && erased.index_pending {
        Ok(HttpResponse::Accepted().json(serde_json::json!({"erased": true, "index": index_state(true)})))
    } else if erased.existed {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::new(crate::problem::ErrorCode::TicketNotFound, "no resolved ticket with that external id for this tenant"))
    }
}
