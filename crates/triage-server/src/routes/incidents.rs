//! Major incidents: `GET /v1/incidents`, `GET /v1/incidents/{id}`, and the admin actions
//! (confirm, dismiss, resolve, message). A tenant's keys see only incidents with a member ticket
//! of their tenant, and only their own members; operators see all. Actions are open to a tenant
//! admin of an affected tenant and to operators, and are audited.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use triage_core::auth::Action;
use triage_engine::incidents::{IncidentAction, Status};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::routes::off_thread;
use crate::state::AppState;

/// Largest action body.
const MAX_BODY: usize = 16 * 1024;

/// Query string of `GET /v1/incidents`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    /// `open` (suspected and confirmed, the default), `all`, or one status: `suspected`,
    /// `confirmed`, `resolved`, `dismissed`.
    pub status: Option<String>,
}

/// Body of confirm and resolve: an optional message for agents (workaround and status).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MessageBody {
    /// What agents tell callers: the workaround and the status (at most 4000 characters).
    pub message: Option<String>,
}

/// Body of dismiss: why it is not an incident (kept in the audit log).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DismissBody {
    /// Why (at most 4000 characters).
    pub reason: Option<String>,
}

/// Major incidents touching the caller's tenant (operators: all), newest first.
#[utoipa::path(get, path = "/v1/incidents", tag = "incidents", params(ListQuery),
    responses(
        (status = 200, description = "`{\"incidents\": [...]}`", body = Object),
        (status = 400, description = "invalid_query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "forbidden", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(incidents = tracing::field::Empty))]
pub(crate) async fn list(auth: Auth, query: web::Query<ListQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadIncidents)?;
    let all = [Status::Suspected, Status::Confirmed, Status::Resolved, Status::Dismissed];
    let one;
    let statuses: Option<&[Status]> = match query.status.as_deref() {
        None | Some("open") => None,
        Some("all") => Some(&all),
        Some(s) => match Status::parse(s) {
            Some(status) => {
                one = [status];
                Some(&one)
            }
            None => {
                return Err(ApiError::new(
                    ErrorCode::InvalidQuery,
                    format!("status `{s}` is not one of open, all, suspected, confirmed, resolved, dismissed"),
                ));
            }
        },
    };
    let incidents = state.engine()?.incidents().list(auth.0.tenant.as_ref(), statuses);
    tracing::Span::current().record("incidents", incidents.len());
    Ok(HttpResponse::Ok().json(serde_json::json!({ "incidents": incidents })))
}

/// One incident, with the member tickets the caller may see.
#[utoipa::path(get, path = "/v1/incidents/{id}", tag = "incidents", params(("id" = String, Path)),
    responses(
        (status = 200, description = "The incident and its members", body = Object),
        (status = 404, description = "incident_not_found", body = Problem, content_type = "application/problem+json"),
    ))]
#[tracing::instrument(skip_all, fields(incident = %id))]
pub(crate) async fn get(auth: Auth, id: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadIncidents)?;
    let view = state.engine()?.incidents().get(&id, auth.0.tenant.as_ref())?;
    Ok(HttpResponse::Ok().json(view))
}

async fn body<T: serde::de::DeserializeOwned + Default>(req: &HttpRequest, payload: web::Payload) -> Result<T, ApiError> {
    let bytes = read_limited(req, payload, MAX_BODY).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    require_json(req)?;
    decode_json(&bytes)
}

async fn act(auth: Auth, id: String, action: IncidentAction, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageIncidents)?;
    let engine = state.engine()?.clone();
    let view = off_thread(move || {
        let result = engine.incidents().act(&id, auth.0.tenant.as_ref(), &action);
        let outcome = match (&result, &action) {
            (Ok(v), IncidentAction::Dismiss(Some(reason))) if !reason.trim().is_empty() => {
                format!("{}: {}", v.status.as_str(), reason.trim())
            }
            (Ok(v), _) => v.status.as_str().to_owned(),
            (Err(e), _) => format!("refused: {e}"),
        };
        // audited only when the caller may see the incident (an unknown id reveals nothing)
        if !matches!(result, Err(triage_engine::EngineError::NotFound(_))) {
            engine.audit(Some(&auth.0), None, action.audit_name(), &id, &outcome);
        }
        result
    })
    .await??;
    tracing::info!(incident = %view.id, status = view.status.as_str(), "incident changed");
    Ok(HttpResponse::Ok().json(view))
}

/// Confirm a suspected (or resolved) incident, optionally with the message agents give callers.
#[utoipa::path(post, path = "/v1/incidents/{id}/confirm", tag = "incidents", params(("id" = String, Path)), request_body(content = MessageBody, description = "optional"),
    responses(
        (status = 200, description = "The incident", body = Object),
        (status = 404, description = "incident_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "incident_transition: it was dismissed", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn confirm(
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageIncidents)?;
    let b: MessageBody = body(&req, payload).await?;
    act(auth, id.into_inner(), IncidentAction::Confirm(b.message), state).await
}

/// Resolve an open incident (it still links new tickets for `incidents.resolved_grace_minutes`).
#[utoipa::path(post, path = "/v1/incidents/{id}/resolve", tag = "incidents", params(("id" = String, Path)), request_body(content = MessageBody, description = "optional"),
    responses(
        (status = 200, description = "The incident", body = Object),
        (status = 404, description = "incident_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "incident_transition: it is not open", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resolve(
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageIncidents)?;
    let b: MessageBody = body(&req, payload).await?;
    act(auth, id.into_inner(), IncidentAction::Resolve(b.message), state).await
}

/// Dismiss an open incident: not a real incident; it links nothing from now on.
#[utoipa::path(post, path = "/v1/incidents/{id}/dismiss", tag = "incidents", params(("id" = String, Path)), request_body(content = DismissBody, description = "optional"),
    responses(
        (status = 200, description = "The incident", body = Object),
        (status = 404, description = "incident_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "incident_transition: it is not open", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn dismiss(
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageIncidents)?;
    let b: DismissBody = body(&req, payload).await?;
    act(auth, id.into_inner(), IncidentAction::Dismiss(b.reason), state).await
}

/// Set the message agents give callers (workaround and status).
#[utoipa::path(put, path = "/v1/incidents/{id}/message", tag = "incidents", params(("id" = String, Path)), request_body = MessageBody,
    responses(
        (status = 200, description = "The incident", body = Object),
        (status = 404, description = "incident_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "incident_transition: it was dismissed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_request: no message, or too long", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn put_message(
    auth: Auth,
    id: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageIncidents)?;
    let b: MessageBody = body(&req, payload).await?;
    let message = b.message.ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "send {\"message\": \"...\"}"))?;
    act(auth, id.into_inner(), IncidentAction::Message(message), state).await
}
