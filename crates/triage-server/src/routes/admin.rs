//! Administration: models (service-wide: operators change them, tenant admins read them), API
//! keys (tenant admins manage their own tenant's), the audit log.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use triage_core::auth::{Action, Role};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::body::{decode_json, read_limited, require_json};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::routes::off_thread;
use crate::state::AppState;
use crate::wire_loop::{JobStarted, ModelsResponse, PromoteParams, TrainRequestWire};

/// Start retraining from the stored resolved tickets, in the background (operators).
#[utoipa::path(post, path = "/v1/admin/models/train", tag = "models", request_body(content = TrainRequestWire, description = "optional"),
    responses((status = 202, body = JobStarted), (status = 409, description = "conflict: a training job is running", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_train(
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require_operator()?;
    let bytes = read_limited(&req, payload, 16 * 1024).await?;
    let body: TrainRequestWire = if bytes.iter().all(u8::is_ascii_whitespace) { TrainRequestWire::default() } else { decode_json(&bytes)? };
    let engine = state.engine()?.clone();
    let job_id = off_thread(move || {
        let result = engine.start_training(triage_engine::TrainRequest { version: body.version.clone() });
        let outcome = if result.is_ok() { "started" } else { "refused" };
        engine.audit(Some(&auth.0), None, "model.train", body.version.as_deref().unwrap_or("(auto)"), outcome);
        result
    })
    .await??;
    let status_url = format!("/v1/admin/jobs/{job_id}");
    Ok(HttpResponse::Accepted().insert_header(("Location", status_url.clone())).json(JobStarted { job_id, status_url }))
}

/// Phase and progress of a job, or how it ended (and why, when it failed).
#[utoipa::path(get, path = "/v1/admin/jobs/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "job_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_job(auth: Auth, id: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageModels)?;
    // jobs are rows in the store, so any replica answers for a job another one runs
    let engine = state.engine()?.clone();
    let job = off_thread(move || engine.job(&id))
        .await??
        .ok_or_else(|| ApiError::new(ErrorCode::JobNotFound, "no job with that id; check the id returned when the job was started"))?;
    Ok(HttpResponse::Ok().json(job))
}

async fn models_response(state: &web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?.clone();
    let live = engine.model_version();
    let models =
        web::block(move || engine.store().models()).await.map_err(|e| ApiError::internal(&e))?.map_err(|e| ApiError::internal(&e))?;
    let shadow = state.engine()?.shadow_status();
    Ok(HttpResponse::Ok().json(ModelsResponse { live, models, shadow }))
}

/// The registry: every version with its champion / challenger report, and which is live.
#[utoipa::path(get, path = "/v1/admin/models", tag = "models", responses((status = 200, body = ModelsResponse)))]
pub(crate) async fn get_models(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageModels)?;
    models_response(&state).await
}

/// Run a registered candidate beside the live model on live traffic, off the request path
/// (operators): `GET /v1/admin/models` then shows their agreement and, as labels arrive, both
/// models' accuracy on the same tickets.
#[utoipa::path(post, path = "/v1/admin/models/{version}/shadow", tag = "models", params(("version" = String, Path)),
    responses((status = 200, body = ModelsResponse), (status = 404, description = "model_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "conflict: the version is the live model", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_shadow(auth: Auth, version: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require_operator()?;
    let engine = state.engine()?.clone();
    let v = version.into_inner();
    off_thread(move || {
        let result = engine.start_shadow(&v);
        engine.audit(Some(&auth.0), None, "model.shadow", &v, if result.is_ok() { "started" } else { "refused" });
        result
    })
    .await??;
    models_response(&state).await
}

/// Stop the shadow model (operators); `404` when none runs.
#[utoipa::path(delete, path = "/v1/admin/models/shadow", tag = "models",
    responses((status = 200, body = ModelsResponse), (status = 404, description = "model_not_found: no shadow runs", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete_shadow(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require_operator()?;
    let engine = state.engine()?.clone();
    let stopped = off_thread(move || {
        let stopped = engine.stop_shadow();
        if stopped {
            engine.audit(Some(&auth.0), None, "model.shadow", "(stop)", "stopped");
        }
        stopped
    })
    .await?;
    if !stopped {
        return Err(ApiError::new(ErrorCode::ModelNotFound, "no model runs in shadow mode"));
    }
    models_response(&state).await
}

/// Make a version live, atomically, while requests keep flowing (operators).
#[utoipa::path(post, path = "/v1/admin/models/{version}/promote", tag = "models", params(("version" = String, Path), PromoteParams),
    responses((status = 200, body = ModelsResponse), (status = 404, description = "model_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "conflict: worse than the live model by more than the margin, or already live", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_promote(
    auth: Auth,
    version: web::Path<String>,
    params: web::Query<PromoteParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require_operator()?;
    let engine = state.engine()?.clone();
    let force = params.force.unwrap_or(false);
    let v = version.into_inner();
    off_thread(move || {
        let result = engine.promote(&v, force);
        let outcome = match &result {
            Ok(()) if force => "ok (forced)".to_owned(),
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("refused: {e}"),
        };
        engine.audit(Some(&auth.0), None, "model.promote", &v, &outcome);
        result
    })
    .await??;
    models_response(&state).await
}

/// Put the previously live version back (operators).
#[utoipa::path(post, path = "/v1/admin/models/rollback", tag = "models",
    responses((status = 200, body = ModelsResponse), (status = 409, description = "conflict: nothing to roll back to", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_rollback(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require_operator()?;
    let engine = state.engine()?.clone();
    off_thread(move || {
        let result = engine.rollback();
        let (target, outcome) = match &result {
            Ok(v) => (v.clone(), "ok".to_owned()),
            Err(e) => ("(none)".to_owned(), format!("refused: {e}")),
        };
        engine.audit(Some(&auth.0), None, "model.rollback", &target, &outcome);
        result
    })
    .await??;
    models_response(&state).await
}

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateKeyRequest {
    /// Tenant of the key (operators only; tenant admins create keys for their own tenant).
    pub tenant: Option<String>,
    /// `integration`, `agent`, `admin` (or `operator`, by operators, without tenant).
    pub role: String,
    /// What the key is for, e.g. "service-now integration".
    #[serde(default)]
    pub label: String,
}

/// A created key. `key` is shown this once and cannot be recovered.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedKey {
    /// Public id of the key, for listings, revocation and the audit log.
    pub id: String,
    /// The key itself (`trg_` and 64 hex digits): send it as `Authorization: Bearer <key>`.
    pub key: String,
    /// The tenant the key acts for; absent for operator keys.
    pub tenant: Option<String>,
    /// `integration`, `agent`, `admin` or `operator`.
    pub role: String,
}

/// Create an API key.
#[utoipa::path(post, path = "/v1/admin/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, body = CreatedKey), (status = 403, description = "forbidden", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn post_key(
    auth: Auth,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageKeys)?;
    require_json(&req)?;
    let bytes = read_limited(&req, payload, 16 * 1024).await?;
    let body: CreateKeyRequest = decode_json(&bytes)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, "role must be integration, agent, admin or operator"))?;
    if role == Role::Operator {
        auth.require_operator()?;
    }
    let tenant = if role == Role::Operator { None } else { auth.tenant(body.tenant.as_deref(), &state)? };
    let engine = state.engine()?.clone();
    let t = tenant.clone();
    let key = off_thread(move || {
        let key = engine.create_key(t.as_ref(), role, &body.label)?;
        engine.audit(Some(&auth.0), t.as_ref(), "key.create", &key.id, role.as_str());
        Ok::<_, triage_engine::EngineError>(key)
    })
    .await??;
    Ok(HttpResponse::Created().json(CreatedKey {
        id: key.id,
        key: key.secret,
        tenant: tenant.map(String::from),
        role: role.as_str().to_owned(),
    }))
}

/// List API keys (ids, roles, labels; never the keys).
#[utoipa::path(get, path = "/v1/admin/keys", tag = "keys", responses((status = 200, body = Object)))]
pub(crate) async fn get_keys(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageKeys)?;
    let tenant = auth.0.tenant.clone();
    let engine = state.engine()?.clone();
    let keys = off_thread(move || engine.list_keys(tenant.as_ref())).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "keys": keys })))
}

/// Revoke an API key. Another tenant's key answers 404.
#[utoipa::path(delete, path = "/v1/admin/keys/{id}", tag = "keys", params(("id" = String, Path)),
    responses((status = 204), (status = 404, description = "key_not_found", body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete_key(auth: Auth, id: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ManageKeys)?;
    let engine = state.engine()?.clone();
    off_thread(move || {
        let result = engine.revoke_key(auth.0.tenant.as_ref(), &id);
        engine.audit(Some(&auth.0), None, "key.revoke", &id, if result.is_ok() { "ok" } else { "not found" });
        result
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}

/// Query string of the audit log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Most entries to return (1..=1000, default 100).
    pub limit: Option<usize>,
}

/// The audit log of administrative actions, newest first (a tenant admin sees its tenant's).
#[utoipa::path(get, path = "/v1/admin/audit", tag = "keys", params(AuditParams), responses((status = 200, body = Object)))]
pub(crate) async fn get_audit(auth: Auth, params: web::Query<AuditParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadAudit)?;
    let engine = state.engine()?.clone();
    let limit = params.limit.unwrap_or(100);
    let entries = off_thread(move || engine.audit_log(auth.0.tenant.as_ref(), limit)).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}
