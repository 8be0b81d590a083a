//! `GET /v1/stats`.

use actix_web::{HttpResponse, web};
use triage_core::auth::Action;
use triage_engine::StatsQuery;

use crate::auth::Auth;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;
use crate::wire_loop::{StatsParams, parse_window_bound};

/// Triage volume, first-contact resolution rate, suggestion acceptance, share and accuracy of
/// `auto` decisions, per category and per day (definitions in `triage-store/src/stats.rs`).
#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = "learning loop",
    params(StatsParams),
    responses((status = 200, description = "Statistics", body = Object), (status = 400, description = "invalid_query", body = Problem, content_type = "application/problem+json"))
)]
pub(crate) async fn get_stats(auth: Auth, params: web::Query<StatsParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadStats)?;
    let p = params.into_inner();
    let zone = &state.settings.desk.time_zone;
    let from = p.from.as_deref().map(|b| parse_window_bound("from", b, zone)).transpose()?;
    let to = p.to.as_deref().map(|b| parse_window_bound("to", b, zone)).transpose()?;
    let query = StatsQuery { tenant: auth.tenant(p.tenant.as_deref(), &state)?, from, to, time_zone: zone.clone() };
    let engine = state.engine()?.clone();
    let stats =
        web::block(move || engine.store().stats(&query)).await.map_err(|e| ApiError::internal(&e))?.map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok().json(stats))
}
