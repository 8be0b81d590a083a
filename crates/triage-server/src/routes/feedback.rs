//! `POST /v1/triage/{id}/feedback`.

use actix_web::{HttpRequest, HttpResponse, web};
use triage_core::auth::Action;
use triage_engine::FeedbackInput;
use triage_engine::Outcome;

use crate::auth::Auth;
use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use crate::wire_loop::FeedbackRequest;

/// Say what worked: the suggestion used, the outcome, and any corrected labels.
#[utoipa::path(
    post,
    path = "/v1/triage/{id}/feedback",
    tag = "learning loop",
    params(("id" = String, Path, description = "triage_id from the triage answer")),
    request_body = FeedbackRequest,
    responses(
        (status = 204, description = "Stored; feedback is idempotent: the same outcome for the same suggestion of a triage is stored and counted once, so a retry also answers 204 (new corrected labels replace the earlier ones)"),
        (status = 404, description = "triage_not_found (also for another tenant's triage)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_request: unknown outcome, a suggestion the triage did not offer, a correction of an unknown head or with a label not 1-64 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn post_feedback(
    auth: Auth,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::Feedback)?;
    require_json(&req)?;
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let body: FeedbackRequest = decode_json(&bytes)?;
    let tenant = auth.tenant(body.tenant.as_deref(), &state)?;
    let outcome = Outcome::parse(&body.outcome).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidRequest,
            format!("outcome `{}` is not one of resolved, helpful, not_helpful, corrected", body.outcome),
        )
    })?;
    if outcome == Outcome::Corrected && (body.corrected_labels.is_empty() || body.suggestion.is_some()) {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            "outcome `corrected` carries corrected_labels and no suggestion; say what a suggestion did with resolved, helpful or not_helpful",
        ));
    }
    let suggestion = match body.suggestion {
        Some(s) if s.kind == "article" || s.kind == "ticket" => Some(format!("{}:{}", s.kind, s.id)),
        Some(s) => return Err(ApiError::new(ErrorCode::InvalidRequest, format!("suggestion kind `{}` is not article or ticket", s.kind))),
        None => None,
    };
    let input = FeedbackInput { suggestion, outcome, corrected_labels: body.corrected_labels };
    let engine = state.engine()?.clone();
    let id = id.into_inner();
    let write = web::block(move || engine.add_feedback(tenant.as_ref(), &id, input)).await.map_err(|e| ApiError::internal(&e))??;
    tracing::debug!(?write, "feedback stored");
    Ok(HttpResponse::NoContent().finish())
}
