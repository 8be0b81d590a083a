//! `GET /v1/admin/boilerplate`: what the boilerplate detector learned from a tenant's tickets.

use actix_web::{HttpResponse, web};
use triage_core::auth::Action;

use crate::auth::Auth;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;

/// Query string of the learned-boilerplate listing.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoilerplateParams {
    /// Tenant (operators name one; other keys see their own).
    pub tenant: Option<String>,
}

/// The sentences learned as a tenant's boilerplate (its disclaimer, banner or signature
/// template: in at least `cleaning.learn_min_share` of its resolved tickets), most frequent
/// first, with how many tickets carry each. They are removed from the tenant's tickets at triage
/// and training, and reported as `boilerplate` in a triage answer's `cleaning`.
#[utoipa::path(
    get,
    path = "/v1/admin/boilerplate",
    tag = "learning loop",
    params(BoilerplateParams),
    responses(
        (status = 200, description = "`{tenant, tickets, min_share, min_tickets, phrases: [{text, tickets, share}]}`", body = Object),
        (status = 400, description = "invalid_query: an operator key must name the tenant", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_boilerplate(
    auth: Auth,
    params: web::Query<BoilerplateParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Action::ReadStats)?;
    let tenant = auth
        .tenant(params.tenant.as_deref(), &state)?
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidQuery, "name the tenant: ?tenant=ID"))?;
    let learned = state.engine()?.learned_boilerplate(&tenant);
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "tenant": tenant.as_str(),
        "tickets": learned.tickets,
        "min_share": learned.min_share,
        "min_tickets": learned.min_tickets,
        "phrases": learned.phrases,
    })))
}
