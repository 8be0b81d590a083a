//! `POST /v1/triage`.

use actix_web::{HttpRequest, HttpResponse, web};
use triage_core::ticket::NewTicket;

use triage_core::auth::Action;

use crate::auth::Auth;
use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::wire::{TriageRequest, TriageResponse};

/// Triage a new ticket: predicted labels (category, priority, assignment group, ...) with
/// calibrated confidence and a decision, and ranked fixes from the knowledge base.
#[utoipa::path(
    post,
    path = "/v1/triage",
    tag = "triage",
    request_body = TriageRequest,
    responses(
        (status = 200, description = "Ranked suggestions", body = TriageResponse),
        (status = 400, description = "invalid_json, invalid_utf8", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_media_type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown_field, invalid_field, empty_ticket, text_too_long, control_character, invalid_tenant", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "not_ready", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(tenant = tracing::field::Empty, suggestions = tracing::field::Empty))]
pub(crate) async fn post_triage(
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::Triage)?;
    require_json(&req)?;
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let mut request: TriageRequest = decode_json(&bytes)?;
    request.tenant = auth.tenant(request.tenant.as_deref(), &state)?.map(String::from);
    let ticket = NewTicket::try_from(request)?;
    let span = tracing::Span::current();
    if let Some(t) = &ticket.tenant {
        span.record("tenant", t.as_str());
    }
    let engine = state.engine()?.clone();
    let (outcome, ticket) = if state.settings.store.durability == crate::config::DurabilitySetting::Durable {
        // the answer waits for its record to be committed: off the async worker
        crate::routes::off_thread(move || engine.triage(&ticket).map(|o| (o, ticket))).await??
    } else {
        // CPU only (the record is written behind): the blocking pool's hand-off would cost more
        (engine.triage(&ticket)?, ticket)
    };
    for p in &outcome.labels {
        state.metrics.record_decision(&p.head, decision_name(p.decision));
    }
    span.record("suggestions", outcome.suggestions.len());
    tracing::info!(triage_id = %outcome.triage_id, top = outcome.suggestions.first().map(|s| s.id.as_str()), "ticket triaged");
    Ok(HttpResponse::Ok().json(TriageResponse {
        triage_id: outcome.triage_id.to_string(),
        tenant: ticket.tenant.map(String::from),
        external_id: ticket.external_id,
        suggestions: outcome.suggestions.into_iter().map(Into::into).collect(),
        labels: outcome.labels.into_iter().map(|p| (p.head.clone(), p.into())).collect(),
        model_version: outcome.model_version,
        labels_unavailable: outcome.labels_unavailable,
        first_contact: outcome.first_contact.into(),
        cleaning: outcome.cleaning.into(),
    }))
}

fn decision_name(d: triage_engine::Decision) -> &'static str {
    match d {
        triage_engine::Decision::Auto => "auto",
        triage_engine::Decision::Suggest => "suggest",
        triage_engine::Decision::Abstain => "abstain",
    }
}

/// Query string of `GET /v1/triage/{id}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct TriageLookupParams {
    /// Tenant of the triage (operators; a tenant key uses its own).
    pub tenant: Option<String>,
}

/// One triage as it was answered: redacted text, labels and decisions, the suggestions offered
/// in rank order, and the feedback given on it. Another tenant's triage answers 404.
#[utoipa::path(
    get,
    path = "/v1/triage/{id}",
    tag = "triage",
    params(("id" = String, Path, description = "triage_id from the triage answer"), TriageLookupParams),
    responses(
        (status = 200, description = "The stored triage", body = Object),
        (status = 404, description = "triage_not_found (also for another tenant's triage)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn get_triage(
    auth: Auth,
    id: web::Path<String>,
    params: web::Query<TriageLookupParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::Feedback)?;
    let tenant = auth.tenant(params.tenant.as_deref(), &state)?;
    let engine = state.engine()?.clone();
    let id = id.into_inner();
    let detail = web::block(move || engine.triage_detail(tenant.as_ref(), &id)).await.map_err(|e| ApiError::internal(&e))??;
    Ok(HttpResponse::Ok().json(detail))
}
