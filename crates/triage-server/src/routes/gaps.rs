//! `GET /v1/kb/gaps`.

use actix_web::{HttpResponse, web};
use triage_core::auth::Action;
use triage_engine::GapParams;

use crate::auth::Auth;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::routes::off_thread;
use crate::state::AppState;
use crate::wire_loop::parse_window_bound;

/// Most gaps one request may ask for.
pub(crate) const MAX_GAPS: usize = 100;

/// Query string of `GET /v1/kb/gaps`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct GapsQuery {
    /// The tenant (required for operators; a tenant key is its own tenant).
    pub tenant: Option<String>,
    /// Inclusive start: a day (`2026-11-01`, from its start in the desk's time zone) or an RFC
    /// 3339 time; all history when absent.
    pub from: Option<String>,
    /// Exclusive end, in the same forms.
    pub to: Option<String>,
    /// Most gaps to list, largest first (1..=100, default 20).
    pub limit: Option<usize>,
}

/// Knowledge-base gaps: the tenant's tickets answered `no_good_fix` or with a suggestion marked
/// `not_helpful`, grouped by similar text, largest group first, each with representative
/// tickets, the resolution notes of members since resolved and a draft article (`draft: true`)
/// that passes `triage kb check`.
#[utoipa::path(
    get,
    path = "/v1/kb/gaps",
    tag = "knowledge base",
    params(GapsQuery),
    responses(
        (status = 200, description = "Gaps, largest first", body = Object),
        (status = 400, description = "invalid_query", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "forbidden", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "invalid_tenant", body = Problem, content_type = "application/problem+json"),
    )
)]
#[tracing::instrument(skip_all, fields(gaps = tracing::field::Empty))]
pub(crate) async fn get_gaps(auth: Auth, query: web::Query<GapsQuery>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadStats)?;
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(GapParams::default().limit);
    if !(1..=MAX_GAPS).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidQuery, format!("limit is {limit}; use 1..={MAX_GAPS}")));
    }
    let zone = &state.settings.desk.time_zone;
    let from = q.from.as_deref().map(|b| parse_window_bound("from", b, zone)).transpose()?;
    let to = q.to.as_deref().map(|b| parse_window_bound("to", b, zone)).transpose()?;
    let Some(tenant) = auth.tenant(q.tenant.as_deref(), &state)? else {
        return Err(ApiError::new(ErrorCode::InvalidQuery, "gaps are per tenant; name one with ?tenant="));
    };
    let engine = state.engine()?.clone();
    let params = GapParams { limit, ..GapParams::default() };
    let gaps = off_thread(move || engine.kb_gaps(&tenant, from, to, &params)).await??;
    tracing::Span::current().record("gaps", gaps.gaps.len());
    Ok(HttpResponse::Ok().json(gaps))
}
