//! `GET /v1/session`: who the key belongs to and what it may do, so a client (the console) shows
//! only what the key allows.

use actix_web::{HttpResponse, web};
use serde::Serialize;
use triage_core::auth::{Action, Role};
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::problem::ApiError;
use crate::state::AppState;

/// A configured tenant, as a key may see it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TenantView {
    /// Tenant id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The caller behind the key.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionView {
    /// Public id of the key in use.
    pub key_id: String,
    /// `integration`, `agent`, `admin` or `operator`.
    pub role: String,
    /// The key's tenant; absent for operators, who act for any tenant.
    pub tenant: Option<String>,
    /// Tenants the key may act for.
    pub tenants: Vec<TenantView>,
    /// What the key may do: triage, search_kb, feedback, ingest_resolved, read_stats,
    /// read_models, manage_models, manage_keys, read_audit.
    pub can: Vec<&'static str>,
    /// Version of the live model, if any.
    pub model_version: Option<String>,
}

/// The key's role, tenant and permissions.
#[utoipa::path(get, path = "/v1/session", tag = "keys", responses((status = 200, body = SessionView), (status = 401, description = "missing, malformed or invalid key", body = crate::problem::Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_session(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let p = &auth.0;
    let tenants = state
        .settings
        .tenants
        .iter()
        .filter(|t| p.tenant.as_ref().is_none_or(|own| own.as_str() == t.id))
        .map(|t| TenantView { id: t.id.clone(), name: t.name.clone() })
        .collect();
    let table = [
        ("triage", Action::Triage),
        ("search_kb", Action::SearchKb),
        ("feedback", Action::Feedback),
        ("ingest_resolved", Action::IngestResolved),
        ("read_stats", Action::ReadStats),
        ("read_models", Action::ManageModels),
        ("manage_keys", Action::ManageKeys),
        ("read_audit", Action::ReadAudit),
        ("manage_connectors", Action::ManageConnectors),
        ("read_incidents", Action::ReadIncidents),
        ("manage_incidents", Action::ManageIncidents),
    ];
    let mut can: Vec<&'static str> = table.iter().filter(|(_, a)| p.role.allows(*a)).map(|(name, _)| *name).collect();
    if p.role == Role::Operator {
        can.push("manage_models");
    }
    Ok(HttpResponse::Ok().json(SessionView {
        key_id: p.key_id.clone(),
        role: p.role.as_str().to_owned(),
        tenant: p.tenant.as_ref().map(|t| t.as_str().to_owned()),
        tenants,
        can,
        model_version: state.engine()?.model_version(),
    }))
}
