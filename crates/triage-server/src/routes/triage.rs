//! `POST /v1/triage`.

use actix_web::{HttpRequest, HttpResponse, web};
use triage_core::ticket::NewTicket;

use triage_core::auth::Action;

use crate::auth::Auth;
use crate::body::{BodyKind, decode_json, read_limited, require_json_or_email};
use crate::email::EmailView;
use crate::problem::{ApiError, ErrorCode, Problem};
use crate::state::AppState;
use crate::wire::{ChannelWire, TriageRequest, TriageResponse};

/// Query string of `POST /v1/triage` with a raw e-mail (`Content-Type: message/rfc822`): the
/// body is the message, so the other ticket fields come here.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailTriageParams {
    /// Tenant of the ticket (operators; a tenant key uses its own). Raw e-mail only.
    pub tenant: Option<String>,
    /// How the ticket arrived; `email` when absent. Raw e-mail only.
    #[param(value_type = Option<String>)]
    pub channel: Option<ChannelWire>,
    /// Caller reference from the ticketing system. Raw e-mail only.
    pub caller: Option<String>,
    /// The ticket's id in the ticketing system. Raw e-mail only.
    pub external_id: Option<String>,
}

/// Triage a new ticket: predicted labels (category, priority, assignment group, ...) with
/// calibrated confidence and a decision, and ranked fixes from the knowledge base.
///
/// The body is a JSON ticket, or a whole e-mail as `Content-Type: message/rfc822` (same size
/// limit): its subject is the title, its best text part the description (`text/plain`, else
/// `text/html` converted), and the other fields come from the query string. Attachments are
/// named in the answer's `email` section and never stored.
#[utoipa::path(
    post,
    path = "/v1/triage",
    tag = "triage",
    params(EmailTriageParams),
    request_body(content(
        (TriageRequest = "application/json"),
        (String = "message/rfc822", example = "Subject: Printer on floor 2 jams\r\nFrom: a@example.org\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt jams on every page.\r\n"),
    )),
    responses(
        (status = 200, description = "Ranked suggestions", body = TriageResponse),
        (status = 400, description = "invalid_json, invalid_utf8, invalid_query", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload_too_large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "unsupported_media_type", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "unknown_field, invalid_field, empty_ticket, text_too_long, control_character, invalid_tenant, invalid_email", body = Problem, content_type = "application/problem+json"),
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
    let kind = require_json_or_email(&req)?;
    let bytes = read_limited(&req, payload, state.settings.server.max_body_bytes).await?;
    let (mut request, email) = match kind {
        BodyKind::Json => (json_request(&req, &bytes)?, None),
        BodyKind::Email => email_request(&req, &bytes)?,
    };
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
        suggestions: outcome.suggestions.into_iter().enumerate().map(|(i, s)| crate::wire::SuggestionView::ranked(i + 1, s)).collect(),
        no_good_fix: outcome.no_good_fix,
        incident: outcome.incident.map(|m| crate::wire::IncidentRefView {
            id: m.id,
            status: m.status.as_str(),
            similarity: (m.similarity * 1000.0).round() / 1000.0,
        }),
        labels: outcome.labels.into_iter().map(|p| (p.head.clone(), p.into())).collect(),
        model_version: outcome.model_version,
        labels_unavailable: outcome.labels_unavailable,
        first_contact: outcome.first_contact.into(),
        email,
        cleaning: outcome.cleaning.into(),
    }))
}

/// A JSON triage request. Its fields travel in the body only: a query string (say `?tenant=`)
/// would otherwise be ignored without a word, so it is refused.
fn json_request(req: &HttpRequest, bytes: &[u8]) -> Result<TriageRequest, ApiError> {
    if !req.query_string().is_empty() {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            "a JSON triage takes no query parameters: put tenant, channel, caller and external_id in the body",
        ));
    }
    decode_json(bytes)
}

/// A raw e-mail as a triage request: text from the message, the other fields from the query.
fn email_request(req: &HttpRequest, bytes: &[u8]) -> Result<(TriageRequest, Option<EmailView>), ApiError> {
    let params = web::Query::<EmailTriageParams>::from_query(req.query_string())
        .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, format!("{e}; a raw e-mail takes tenant, channel, caller and external_id")))?
        .into_inner();
    let parsed = crate::email::parse_email(bytes)?;
    let request = TriageRequest {
        title: parsed.title,
        description: parsed.description,
        // already plain text: an e-mail's HTML part was converted when it was chosen
        description_format: Some(crate::html::DescriptionFormat::Text),
        tenant: params.tenant,
        channel: Some(params.channel.unwrap_or(ChannelWire::Email)),
        caller: params.caller,
        external_id: params.external_id,
    };
    Ok((request, Some(parsed.view)))
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
