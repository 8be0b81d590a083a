//! Errors as `application/problem+json` (RFC 9457) with a stable machine `code`.
//!
//! One table, [`ErrorCode::describe`], maps each error kind to its HTTP status and title.
//! Internal causes are logged with their whole chain and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use triage_core::CoreError;
use utoipa::ToSchema;

/// Every error the API can answer with. The `code` strings are part of the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Request body is not valid JSON (`invalid_json`, 400).
    InvalidJson,
    /// Request body is not valid UTF-8 (`invalid_utf8`, 400).
    InvalidUtf8,
    /// Request has a field the API does not know (`unknown_field`, 422).
    UnknownField,
    /// A field has the wrong type or form (`invalid_field`, 422).
    InvalidField,
    /// Content-Type is not one the endpoint takes (`unsupported_media_type`, 415).
    UnsupportedMediaType,
    /// Request body is too large (`payload_too_large`, 413).
    PayloadTooLarge,
    /// Ticket has no text (`empty_ticket`, 422).
    EmptyTicket,
    /// Ticket text is over the limit (`text_too_long`, 422).
    TextTooLong,
    /// Text contains a NUL character (`control_character`, 422; other control characters become spaces).
    ControlCharacter,
    /// Tenant id is not valid (`invalid_tenant`, 422).
    InvalidTenant,
    /// A raw e-mail (`message/rfc822`) cannot be made into a ticket (`invalid_email`, 422).
    InvalidEmail,
    /// Query parameters are not valid (`invalid_query`, 400).
    InvalidQuery,
    /// No such article (`article_not_found`, 404).
    ArticleNotFound,
    /// No such triage (`triage_not_found`, 404).
    TriageNotFound,
    /// No such model version (`model_not_found`, 404).
    ModelNotFound,
    /// No such job (`job_not_found`, 404).
    JobNotFound,
    /// Too many items in one batch (`batch_too_large`, 413).
    BatchTooLarge,
    /// The request cannot be carried out as sent (`invalid_request`, 422).
    InvalidRequest,
    /// The request conflicts with the current state (`conflict`, 409).
    Conflict,
    /// A model with that version name already exists (`version_exists`, 409).
    VersionExists,
    /// The model bundle cannot be loaded (`model_unloadable`, 422).
    ModelUnloadable,
    /// An API key is required (`missing_credentials`, 401).
    MissingCredentials,
    /// The Authorization header is malformed (`malformed_credentials`, 401).
    MalformedCredentials,
    /// The API key is not valid (`invalid_credentials`, 401).
    InvalidCredentials,
    /// The key may not do this (`forbidden`, 403).
    Forbidden,
    /// Too many requests for this key (`rate_limited`, 429); the answer carries `Retry-After`.
    RateLimited,
    /// No such key (`key_not_found`, 404).
    KeyNotFound,
    /// No such resolved ticket (`ticket_not_found`, 404).
    TicketNotFound,
    /// No such endpoint (`route_not_found`, 404).
    RouteNotFound,
    /// Method not allowed on this endpoint (`method_not_allowed`, 405).
    MethodNotAllowed,
    /// Request URL is too long (`uri_too_long`, 414).
    UriTooLong,
    /// No such connector, or it takes no webhooks (`connector_not_found`, 404).
    ConnectorNotFound,
    /// A webhook without a valid signature (`invalid_signature`, 401).
    InvalidSignature,
    /// A signed webhook whose payload the connector cannot read (`invalid_payload`, 422).
    InvalidPayload,
    /// No such outbox action, or it is not a dead letter (`action_not_found`, 404).
    ActionNotFound,
    /// No such major incident, or none touching the caller's tenant (`incident_not_found`, 404).
    IncidentNotFound,
    /// The incident's status does not allow this action (`incident_transition`, 409).
    IncidentTransition,
    /// The engine is still loading, or failed to load (`not_ready`, 503).
    NotReady,
    /// Internal error (`internal`, 500); the cause is logged, never sent to the client.
    Internal,
}

impl ErrorCode {
    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 39] = {
        use ErrorCode::*;
        [
            InvalidJson,
            InvalidUtf8,
            UnknownField,
            InvalidField,
            UnsupportedMediaType,
            PayloadTooLarge,
            EmptyTicket,
            TextTooLong,
            ControlCharacter,
            InvalidTenant,
            InvalidEmail,
            InvalidQuery,
            ArticleNotFound,
            TriageNotFound,
            ModelNotFound,
            JobNotFound,
            BatchTooLarge,
            InvalidRequest,
            Conflict,
            VersionExists,
            ModelUnloadable,
            MissingCredentials,
            MalformedCredentials,
            InvalidCredentials,
            Forbidden,
            RateLimited,
            KeyNotFound,
            TicketNotFound,
            RouteNotFound,
            MethodNotAllowed,
            UriTooLong,
            ConnectorNotFound,
            InvalidSignature,
            InvalidPayload,
            ActionNotFound,
            IncidentNotFound,
            IncidentTransition,
            NotReady,
            Internal,
        ]
    };

    /// The table: status, stable code, title.
    pub fn describe(self) -> (StatusCode, &'static str, &'static str) {
        use ErrorCode::*;
        match self {
            InvalidJson => (StatusCode::BAD_REQUEST, "invalid_json", "Request body is not valid JSON"),
            InvalidUtf8 => (StatusCode::BAD_REQUEST, "invalid_utf8", "Request body is not valid UTF-8"),
            UnknownField => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field", "Request has a field the API does not know"),
            InvalidField => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", "A field has the wrong type or form"),
            UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Content-Type is not supported here"),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is too large"),
            EmptyTicket => (StatusCode::UNPROCESSABLE_ENTITY, "empty_ticket", "Ticket has no text"),
            TextTooLong => (StatusCode::UNPROCESSABLE_ENTITY, "text_too_long", "Ticket text is over the limit"),
            ControlCharacter => (StatusCode::UNPROCESSABLE_ENTITY, "control_character", "Text contains a NUL character"),
            InvalidTenant => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_tenant", "Tenant id is not valid"),
            InvalidEmail => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", "The e-mail cannot be made into a ticket"),
            InvalidQuery => (StatusCode::BAD_REQUEST, "invalid_query", "Query parameters are not valid"),
            ArticleNotFound => (StatusCode::NOT_FOUND, "article_not_found", "No such article"),
            TriageNotFound => (StatusCode::NOT_FOUND, "triage_not_found", "No such triage"),
            ModelNotFound => (StatusCode::NOT_FOUND, "model_not_found", "No such model version"),
            JobNotFound => (StatusCode::NOT_FOUND, "job_not_found", "No such job"),
            BatchTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large", "Too many items in one batch"),
            InvalidRequest => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", "The request cannot be carried out as sent"),
            Conflict => (StatusCode::CONFLICT, "conflict", "The request conflicts with the current state"),
            VersionExists => (StatusCode::CONFLICT, "version_exists", "A model with that version name already exists"),
            ModelUnloadable => (StatusCode::UNPROCESSABLE_ENTITY, "model_unloadable", "The model bundle cannot be loaded"),
            MissingCredentials => (StatusCode::UNAUTHORIZED, "missing_credentials", "An API key is required"),
            MalformedCredentials => (StatusCode::UNAUTHORIZED, "malformed_credentials", "The Authorization header is malformed"),
            InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials", "The API key is not valid"),
            Forbidden => (StatusCode::FORBIDDEN, "forbidden", "The key may not do this"),
            RateLimited => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests"),
            KeyNotFound => (StatusCode::NOT_FOUND, "key_not_found", "No such key"),
            TicketNotFound => (StatusCode::NOT_FOUND, "ticket_not_found", "No such resolved ticket"),
            RouteNotFound => (StatusCode::NOT_FOUND, "route_not_found", "No such endpoint"),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed on this endpoint"),
            UriTooLong => (StatusCode::URI_TOO_LONG, "uri_too_long", "Request URL is too long"),
            ConnectorNotFound => (StatusCode::NOT_FOUND, "connector_not_found", "No such connector"),
            InvalidSignature => (StatusCode::UNAUTHORIZED, "invalid_signature", "The webhook signature is missing or wrong"),
            InvalidPayload => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", "The webhook payload cannot be read"),
            ActionNotFound => (StatusCode::NOT_FOUND, "action_not_found", "No such dead letter"),
            IncidentNotFound => (StatusCode::NOT_FOUND, "incident_not_found", "No such incident"),
            IncidentTransition => (StatusCode::CONFLICT, "incident_transition", "The incident's status does not allow this"),
            NotReady => (StatusCode::SERVICE_UNAVAILABLE, "not_ready", "Service is starting"),
            Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        }
    }
}

/// The problem-details body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:triage:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, fixed summary of the problem type; the same for every problem with this `code`.
    pub title: &'static str,
    /// The HTTP status code, repeated in the body.
    pub status: u16,
    /// What went wrong and what to do next.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// The request's id, as in the `X-Request-Id` response header: quote it when reporting a
    /// problem, so the request can be found in the logs of whichever replica answered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    /// Which problem it is: sets the status, title and `code`.
    pub code: ErrorCode,
    /// What went wrong and what to do next, sent as `detail`. Never internal causes.
    pub detail: String,
    /// Seconds for a `Retry-After` header (rate limiting).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self { code, detail: detail.into(), retry_after: None }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// An internal failure: logged with its chain, answered with a generic message.
    pub fn internal(err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = err.to_string();
        let mut source = err.source();
        while let Some(s) = source {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            source = s.source();
        }
        tracing::error!(error = %chain, "request failed");
        Self::new(ErrorCode::Internal, "the service failed to answer; try again, and report it if it persists")
    }

    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.code.describe();
        Problem {
            type_uri: format!("urn:triage:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: self.detail.clone(),
            code,
            request_id: crate::telemetry::current_request_id().map(|id| id.to_string()),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.describe().1, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.describe().0
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        r.content_type("application/problem+json");
        if let Some(s) = self.retry_after {
            r.insert_header(("Retry-After", s.to_string()));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            r.insert_header(("WWW-Authenticate", "Bearer"));
        }
        r.json(self.problem())
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let code = match &e {
            CoreError::EmptyText { .. } => ErrorCode::EmptyTicket,
            CoreError::TextTooLong { .. } => ErrorCode::TextTooLong,
            CoreError::ControlCharacter { .. } => ErrorCode::ControlCharacter,
            CoreError::InvalidTenant(_) => ErrorCode::InvalidTenant,
            CoreError::InvalidId { .. } => ErrorCode::InvalidField,
            CoreError::InvalidTime { .. } => ErrorCode::InvalidField,
        };
        Self::new(code, e.to_string())
    }
}

impl From<triage_engine::EngineError> for ApiError {
    /// Each engine error has exactly one problem code. The match has no catch-all arm: a new
    /// engine error does not compile until it is given one here.
    fn from(e: triage_engine::EngineError) -> Self {
        use triage_engine::{EngineError as E, Resource};
        match e {
            E::NotFound(Resource::Triage) => Self::new(ErrorCode::TriageNotFound, "no triage with that id for this tenant"),
            E::NotFound(Resource::ModelVersion) => {
                Self::new(ErrorCode::ModelNotFound, "no model with that version; list them with GET /v1/admin/models")
            }
            E::NotFound(Resource::Key) => Self::new(ErrorCode::KeyNotFound, "no active key with that id for this tenant"),
            E::NotFound(Resource::Incident) => {
                Self::new(ErrorCode::IncidentNotFound, "no incident with that id touches this tenant; list them with GET /v1/incidents")
            }
            E::Transition(msg) => Self::new(ErrorCode::IncidentTransition, msg),
            E::Invalid(msg) => Self::new(ErrorCode::InvalidRequest, msg),
            E::Conflict(msg) => Self::new(ErrorCode::Conflict, msg),
            e @ E::VersionExists(_) => Self::new(ErrorCode::VersionExists, e.to_string()),
            E::Unloadable(reason) => Self::new(ErrorCode::ModelUnloadable, reason),
            // failures of the service itself: logged with their chain, never shown
            e @ (E::Kb(_) | E::Model(_) | E::Store(_) | E::Io(_) | E::EvalData { .. }) => Self::internal(&e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_engine_error_answers_its_own_code_and_internal_ones_say_nothing_of_their_cause() {
        use triage_engine::{EngineError as E, Resource};
        let cases = [
            (E::NotFound(Resource::Triage), "triage_not_found"),
            (E::NotFound(Resource::ModelVersion), "model_not_found"),
            (E::NotFound(Resource::Key), "key_not_found"),
            (E::NotFound(Resource::Incident), "incident_not_found"),
            (E::Transition("dismissed".into()), "incident_transition"),
            (E::Invalid("bad".into()), "invalid_request"),
            (E::Conflict("busy".into()), "conflict"),
            (E::VersionExists("v2".into()), "version_exists"),
            (E::Unloadable("corrupt".into()), "model_unloadable"),
            (E::Io(std::io::Error::other("disk at /srv/secret failed")), "internal"),
            (E::EvalData { path: "/srv/secret".into(), message: "x".into() }, "internal"),
        ];
        for (error, code) in cases {
            let answer = ApiError::from(error).problem();
            assert_eq!(answer.code, code);
            assert!(!answer.detail.contains("/srv/secret"), "{}", answer.detail);
        }
    }

    #[test]
    fn every_code_is_distinct_and_4xx_or_5xx() {
        let all = ErrorCode::ALL;
        let mut codes: Vec<&str> = all.iter().map(|c| c.describe().1).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|c| c.describe().0.is_client_error() || c.describe().0.is_server_error()));
    }
}
