//! Model administration: retrain, follow the job, list, promote, roll back.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::body::{decode_json, read_limited};
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use crate::wire_loop::{JobStarted, ModelsResponse, PromoteParams, TrainRequestWire};

/// Start retraining from the stored resolved tickets, in the background.
#[utoipa::path(post, path = "/v1/admin/models/train", tag = "models", request_body(content = TrainRequestWire, description = "optional"),
    responses((status = 202, body = JobStarted), (status = 409, description = "conflict: a training job is running", body = Problem, content_type = "application/problem+json")))]
pub async fn post_train(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let bytes = read_limited(&req, payload, 16 * 1024).await?;
    let body: TrainRequestWire = if bytes.iter().all(u8::is_ascii_whitespace) { TrainRequestWire::default() } else { decode_json(&bytes)? };
    let job_id = state.engine()?.start_training(triage_engine::TrainRequest { version: body.version })?;
    let status_url = format!("/v1/admin/jobs/{job_id}");
    Ok(HttpResponse::Accepted().insert_header(("Location", status_url.clone())).json(JobStarted { job_id, status_url }))
}

/// Phase and progress of a job, or how it ended (and why, when it failed).
#[utoipa::path(get, path = "/v1/admin/jobs/{id}", tag = "models", params(("id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, description = "job_not_found", body = Problem, content_type = "application/problem+json")))]
pub async fn get_job(id: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let job = state
        .engine()?
        .job(&id)
        .ok_or_else(|| ApiError::new(ErrorCode::JobNotFound, "no job with that id (jobs are forgotten on restart)"))?;
    Ok(HttpResponse::Ok().json(job))
}

/// The registry: every version with its champion / challenger report, and which is live.
#[utoipa::path(get, path = "/v1/admin/models", tag = "models", responses((status = 200, body = ModelsResponse)))]
pub async fn get_models(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?.clone();
    let live = engine.model_version();
    let models =
        web::block(move || engine.store().models()).await.map_err(|e| ApiError::internal(&e))?.map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(ModelsResponse { live, models }))
}

/// Make a version live, atomically, while requests keep flowing.
#[utoipa::path(post, path = "/v1/admin/models/{version}/promote", tag = "models", params(("version" = String, Path), PromoteParams),
    responses((status = 200, body = ModelsResponse), (status = 404, description = "model_not_found", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "conflict: worse than the live model by more than the margin, or already live", body = Problem, content_type = "application/problem+json")))]
pub async fn post_promote(
    version: web::Path<String>,
    params: web::Query<PromoteParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?.clone();
    let force = params.force.unwrap_or(false);
    let version = version.into_inner();
    web::block(move || engine.promote(&version, force)).await.map_err(|e| ApiError::internal(&e))??;
    get_models(state).await
}

/// Put the previously live version back.
#[utoipa::path(post, path = "/v1/admin/models/rollback", tag = "models",
    responses((status = 200, body = ModelsResponse), (status = 409, description = "conflict: nothing to roll back to", body = Problem, content_type = "application/problem+json")))]
pub async fn post_rollback(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let engine = state.engine()?.clone();
    web::block(move || engine.rollback()).await.map_err(|e| ApiError::internal(&e))??;
    get_models(state).await
}
