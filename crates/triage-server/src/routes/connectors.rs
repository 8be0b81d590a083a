//! Connectors: the webhook endpoint ticketing systems call (authenticated by its signature, not
//! an API key), and their status, outbox and dead letters for operators and admins.
//!
//! A tenant admin sees a connector only when every tenant it maps to is the admin's own (a
//! connector that serves several tenants carries their notes in its outbox: operators only).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use triage_connectors::kinds::{Headers, WebhookError};
use triage_connectors::{ReceiveError, Runtime};
use triage_core::auth::{Action, Role};
use triage_engine::connector_store::OutboxState;
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::body::read_limited;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::routes::off_thread;
use crate::state::AppState;

fn runtime<'a>(state: &'a AppState, name: &str) -> Result<&'a std::sync::Arc<Runtime>, ApiError> {
    state.connectors().and_then(|c| c.get(name)).ok_or_else(|| {
        ApiError::new(ErrorCode::ConnectorNotFound, format!("no connector named `{name}` is configured (see [[connectors]])"))
    })
}

/// Whether the caller may see this connector.
fn visible(auth: &Auth, runtime: &Runtime) -> bool {
    match (&auth.0.role, &auth.0.tenant) {
        (Role::Operator, _) => true,
        (_, Some(own)) => {
            let spec = &runtime.connector().spec;
            let mut tenants = spec.tenants.values().chain(spec.default_tenant.iter());
            let mut any = false;
            let all_own = tenants.all(|t| {
                any = true;
                t == own.as_str()
            });
            any && all_own
        }
        _ => false,
    }
}

fn visible_runtime<'a>(auth: &Auth, state: &'a AppState, name: &str) -> Result<&'a std::sync::Arc<Runtime>, ApiError> {
    auth.require(Action::ManageConnectors)?;
    let rt = runtime(state, name)?;
    // another tenant's connector answers exactly as a missing one
    if visible(auth, rt) {
        Ok(rt)
    } else {
        Err(ApiError::new(ErrorCode::ConnectorNotFound, format!("no connector named `{name}` is configured (see [[connectors]])")))
    }
}

/// A ticketing system's webhook delivery (Zammad trigger, ServiceNow outbound REST message,
/// Jira webhook), verified by its HMAC signature and stored before the answer; triage happens
/// off the request path. A retried delivery is accepted and dropped.
#[utoipa::path(post, path = "/v1/connectors/{name}/events", tag = "connectors", params(("name" = String, Path)),
    responses((status = 202, description = "stored: {accepted, duplicates}", body = Object),
        (status = 401, description = "invalid_signature", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "connector_not_found (also for a polled connector)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_payload", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "not_ready: the source should retry", body = Problem, content_type = "application/problem+json")),
    security(()))]
#[tracing::instrument(skip_all, fields(connector = %name))]
pub(crate) async fn post_events(
    name: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rt = runtime(&state, &name)?.clone();
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let headers: Headers =
        req.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_owned()))).collect();
    let engine = state.engine()?.clone();
    let received = off_thread(move || rt.receive(&engine, &headers, &bytes)).await?.map_err(|e| match e {
        ReceiveError::Webhook(WebhookError::Unauthorized(m)) => {
            tracing::warn!(reason = %m, "webhook refused: signature");
            ApiError::new(ErrorCode::InvalidSignature, m)
        }
        ReceiveError::Webhook(WebhookError::Invalid(m)) => ApiError::new(ErrorCode::InvalidPayload, m),
        ReceiveError::Webhook(e @ WebhookError::NotPush(_)) => ApiError::new(ErrorCode::ConnectorNotFound, e.to_string()),
        ReceiveError::Store(m) => ApiError::internal(&StoreFailure(m)),
    })?;
    tracing::info!(accepted = received.accepted, duplicates = received.duplicates, "webhook stored");
    Ok(HttpResponse::Accepted().json(received))
}

/// Every connector the caller may see, with its status: last event, lag, queue depth, dead letters.
#[utoipa::path(get, path = "/v1/admin/connectors", tag = "connectors", responses((status = 200, body = Object)))]
pub(crate) async fn get_connectors(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageConnectors)?;
    let engine = state.engine()?.clone();
    let runtimes: Vec<_> = state.connectors().map(|c| c.all().iter().filter(|r| visible(&auth, r)).cloned().collect()).unwrap_or_default();
    let statuses = off_thread(move || runtimes.iter().map(|r| r.status(&engine)).collect::<Result<Vec<_>, String>>())
        .await?
        .map_err(|e| ApiError::internal(&StoreFailure(e)))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "connectors": statuses })))
}

/// Query string of the outbox listing.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutboxParams {
    /// `pending`, `sending`, `delivered` or `dead`; all when absent.
    pub state: Option<String>,
    /// At most this many, newest first (1-500, default 100).
    pub limit: Option<usize>,
}

/// A connector's outbox, newest first: each write-back action, its tries and last error.
#[utoipa::path(get, path = "/v1/admin/connectors/{name}/outbox", tag = "connectors", params(("name" = String, Path), OutboxParams),
    responses((status = 200, body = Object), (status = 404, description = "connector_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_outbox(
    auth: Auth,
    name: web::Path<String>,
    params: web::Query<OutboxParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rt = visible_runtime(&auth, &state, &name)?.clone();
    let engine = state.engine()?.clone();
    let limit = params.limit.unwrap_or(100).clamp(1, 500);
    let filter = match params.state.as_deref() {
        None => None,
        Some("pending") => Some(OutboxState::Pending),
        Some("sending") => Some(OutboxState::Sending),
        Some("delivered") => Some(OutboxState::Delivered),
        Some("dead") => Some(OutboxState::Dead),
        Some(other) => {
            return Err(ApiError::new(ErrorCode::InvalidQuery, format!("state `{other}` is not one of pending, sending, delivered, dead")));
        }
    };
    let actions = off_thread(move || rt.outbox(&engine, filter, limit)).await?.map_err(|e| ApiError::internal(&StoreFailure(e)))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "connector": name.as_str(), "actions": actions })))
}

/// Puts a dead letter back in the queue (its tries start again).
#[utoipa::path(post, path = "/v1/admin/connectors/{name}/outbox/{id}/retry", tag = "connectors", params(("name" = String, Path), ("id" = i64, Path)),
    responses((status = 202, body = Object), (status = 404, description = "connector_not_found, action_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_retry(auth: Auth, path: web::Path<(String, i64)>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let (name, id) = path.into_inner();
    let rt = visible_runtime(&auth, &state, &name)?.clone();
    let engine = state.engine()?.clone();
    let principal = auth.0.clone();
    let target = format!("{name}/outbox/{id}");
    let retried = off_thread(move || {
        let r = rt.retry(&engine, id);
        engine.audit(Some(&principal), None, "connector.retry", &target, if matches!(r, Ok(true)) { "queued" } else { "refused" });
        r
    })
    .await?
    .map_err(|e| ApiError::internal(&StoreFailure(e)))?;
    if !retried {
        return Err(ApiError::new(
            ErrorCode::ActionNotFound,
            format!("connector `{name}` has no dead letter {id}; list them with ?state=dead"),
        ));
    }
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "id": id, "state": "pending" })))
}

/// Pauses write-back (say, during the remote system's maintenance): actions keep queueing and
/// wait; `resume` sends them. In memory: a restart resumes.
#[utoipa::path(post, path = "/v1/admin/connectors/{name}/pause", tag = "connectors", params(("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "connector_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_pause(auth: Auth, name: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    set_paused(auth, &name, &state, true).await
}

/// Resumes write-back.
#[utoipa::path(post, path = "/v1/admin/connectors/{name}/resume", tag = "connectors", params(("name" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "connector_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_resume(auth: Auth, name: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    set_paused(auth, &name, &state, false).await
}

async fn set_paused(auth: Auth, name: &str, state: &AppState, paused: bool) -> Result<HttpResponse, ApiError> {
    let rt = visible_runtime(&auth, state, name)?.clone();
    let engine = state.engine()?.clone();
    let principal = auth.0.clone();
    let target = name.to_owned();
    off_thread(move || {
        rt.set_paused(&engine, paused)?;
        engine.audit(Some(&principal), None, if paused { "connector.pause" } else { "connector.resume" }, &target, "done");
        Ok::<_, String>(())
    })
    .await?
    .map_err(|e| ApiError::internal(&StoreFailure(e)))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "connector": name, "paused": paused })))
}

/// A connector's store failure, logged as the cause of a 500.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct StoreFailure(String);
