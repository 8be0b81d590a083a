//! Tracing subscriber: built once. `RUST_LOG` wins over `log.level`; JSON lines in production.
//!
//! Request ids: every request has one ([`RequestId`]): the client's own `X-Request-Id` when it
//! sent a valid one, else a new UUID. It is the `request_id` field of the request's root span
//! ([`PrivateRootSpan`]), the `X-Request-Id` header of the response (`tag_answer`) and the
//! `request_id` member of a problem+json body, so one request can be followed across replicas.

use actix_web::HttpMessage;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber (log lines only: the offline commands). Calling it again is
/// harmless (the first one stays).
pub fn init(settings: &LogSettings) {
    install(settings, None);
}

/// Installs the global subscriber for `serve`: log lines, and span export over OTLP when
/// `log.otlp_endpoint` is set (see `crate::otlp`). Keep the guard until the service stops:
/// dropping it sends the spans still queued.
pub fn init_service(settings: &LogSettings) -> Result<TelemetryGuard, String> {
    let provider = match settings.otlp_endpoint.trim() {
        "" => None,
        endpoint => Some(crate::otlp::provider(endpoint, &settings.otlp_service_name)?),
    };
    install(settings, provider.as_ref());
    if provider.is_some() {
        tracing::info!(endpoint = %crate::otlp::traces_url(&settings.otlp_endpoint), service = %settings.otlp_service_name, "exporting traces over OTLP");
    }
    Ok(TelemetryGuard(provider))
}

fn install(settings: &LogSettings, provider: Option<&opentelemetry_sdk::trace::SdkTracerProvider>) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let registry = tracing_subscriber::registry().with(filter).with(provider.map(crate::otlp::layer));
    let lines = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => registry.with(lines.json().flatten_event(true).with_current_span(true)).try_init(),
        LogFormat::Pretty => registry.with(lines.compact()).try_init(),
    };
}

/// Flushes and stops trace export when dropped.
#[must_use = "dropping the guard stops trace export"]
pub struct TelemetryGuard(Option<opentelemetry_sdk::trace::SdkTracerProvider>);

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(e) = provider.shutdown()
        {
            eprintln!("trace export did not flush: {e}");
        }
    }
}

/// The request id header, read from the client and sent back on every response.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of one request: the client's `X-Request-Id` when valid, else a new UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// Longest client id taken as it is; a longer one is replaced.
    pub const MAX_LEN: usize = 128;

    /// The client's id when it is 1-[`Self::MAX_LEN`] visible ASCII characters (`!` to `~`):
    /// nothing that could split a log line or a header.
    pub fn parse(raw: &[u8]) -> Option<Self> {
        let valid = (1..=Self::MAX_LEN).contains(&raw.len()) && raw.iter().all(|b| b.is_ascii_graphic());
        valid.then(|| Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The id for `request`: its valid `X-Request-Id`, else the UUID `TracingLogger` generated
    /// for it (a fresh one when the request did not pass through `TracingLogger`).
    fn for_request(request: &ServiceRequest) -> Self {
        request.headers().get(REQUEST_ID_HEADER).and_then(|v| Self::parse(v.as_bytes())).unwrap_or_else(|| {
            let generated = request.extensions().get::<tracing_actix_web::RequestId>().map(|id| **id);
            Self(generated.unwrap_or_else(uuid::Uuid::new_v4).to_string())
        })
    }

    /// The id settled for `request` by [`PrivateRootSpan`], if it ran.
    pub(crate) fn of(request: &ServiceRequest) -> Option<Self> {
        request.extensions().get::<Self>().cloned()
    }

    /// The id as sent in the header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    /// The id of the request being answered on this task, for problem bodies (`ApiError`
    /// renders its response without the request in hand).
    static CURRENT_REQUEST_ID: RequestId;
}

/// The id of the request being answered, when called inside [`with_request_id`].
pub(crate) fn current_request_id() -> Option<RequestId> {
    CURRENT_REQUEST_ID.try_with(RequestId::clone).ok()
}

/// Runs `fut` (the rest of the middleware chain and the handler) with `id` as the current
/// request id, so error responses rendered inside it can name it.
pub(crate) async fn with_request_id<F: std::future::Future>(id: Option<RequestId>, fut: F) -> F::Output {
    match id {
        Some(id) => CURRENT_REQUEST_ID.scope(id, fut).await,
        None => fut.await,
    }
}

/// Sets `X-Request-Id` on an answer to its request's id (settled by [`PrivateRootSpan`]). An
/// error that no inner layer turned into a response (none does today) is tagged when the server
/// renders it; its problem body then has no `request_id` member, only the header.
pub(crate) fn tag_answer<B>(
    answer: Result<ServiceResponse<B>, actix_web::Error>,
    id: Option<RequestId>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(value) = id.and_then(|id| HeaderValue::from_str(id.as_str()).ok()) else { return answer };
    match answer {
        Ok(mut res) => {
            res.headers_mut().insert(REQUEST_ID_HEADER, value);
            Ok(res)
        }
        Err(mut e) => {
            e.add_response_mapper(move |mut res| {
                res.headers_mut().insert(REQUEST_ID_HEADER, value.clone());
                res
            });
            Err(e)
        }
    }
}

/// Root span of every request, as tracing-actix-web's default but without the query string
/// (`http.target` would carry `?q=...` search text, which may hold personal data) and without
/// the user agent and client address.
pub struct PrivateRootSpan;

impl tracing_actix_web::RootSpanBuilder for PrivateRootSpan {
    /// Also settles the request's [`RequestId`] and keeps it in the request's extensions.
    fn on_request_start(request: &ServiceRequest) -> tracing::Span {
        let request_id = RequestId::for_request(request);
        request.extensions_mut().insert(request_id.clone());
        let route = request.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            request_id = %request_id,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    /// Records the status and, for an error, only its stable code: a problem's detail may quote
    /// what the request sent (a label, a time, a caller reference), so it never reaches the logs.
    fn on_request_end<B: actix_web::body::MessageBody>(span: tracing::Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        let (status, error) = match outcome {
            Ok(response) => (response.response().status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        span.record("http.status_code", status.as_u16());
        span.record("otel.status_code", if status.is_server_error() { "ERROR" } else { "OK" });
        if let Some(error) = error {
            let code = error.as_error::<crate::problem::ApiError>().map_or("error", |e| e.code.describe().1);
            span.record("exception.message", code);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_actix_web::RootSpanBuilder;
    use tracing_subscriber::layer::{Context, SubscriberExt};

    use super::{PrivateRootSpan, RequestId};
    use crate::problem::{ApiError, ErrorCode};

    /// Every field value recorded on any span, as text.
    #[derive(Clone, Default)]
    struct Recorded(Arc<Mutex<String>>);

    struct Visitor<'a>(&'a mut String);
    impl tracing::field::Visit for Visitor<'_> {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={value:?};", field.name()));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorded {
        fn on_new_span(&self, attrs: &tracing::span::Attributes<'_>, _: &tracing::span::Id, _: Context<'_, S>) {
            attrs.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }

        fn on_record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>, _: Context<'_, S>) {
            values.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }
    }

    #[test]
    fn a_request_id_is_taken_only_when_it_is_1_to_128_visible_ascii_characters() {
        let longest = "z".repeat(RequestId::MAX_LEN);
        let too_long = "z".repeat(RequestId::MAX_LEN + 1);
        let cases: [(&[u8], bool, &str); 8] = [
            (b"3f1c2a9e-client-42", true, "an ordinary id"),
            (b"!~", true, "the ends of the visible range"),
            (longest.as_bytes(), true, "the longest taken"),
            (b"", false, "empty"),
            (too_long.as_bytes(), false, "one character too long"),
            (b"a b", false, "a space"),
            (b"a\x7fb", false, "DEL"),
            ("caf\u{e9}".as_bytes(), false, "not ASCII"),
        ];
        for (raw, taken, why) in cases {
            assert_eq!(RequestId::parse(raw).is_some(), taken, "{why}");
        }
    }

    #[test]
    fn the_root_span_carries_the_client_request_id() {
        let recorded = Recorded::default();
        let subscriber = tracing_subscriber::registry().with(recorded.clone());
        tracing::subscriber::with_default(subscriber, || {
            let request = actix_web::test::TestRequest::default().insert_header(("x-request-id", "trace-me-42")).to_srv_request();
            let _span = PrivateRootSpan::on_request_start(&request);
            assert_eq!(RequestId::of(&request).map(|id| id.to_string()).as_deref(), Some("trace-me-42"));
        });
        let text = recorded.0.lock().unwrap().clone();
        assert!(text.contains("request_id=trace-me-42;"), "{text}");
    }

    #[test]
    fn a_failed_request_logs_its_code_and_never_the_detail_that_quotes_the_request() {
        let recorded = Recorded::default();
        let subscriber = tracing_subscriber::registry().with(recorded.clone());
        tracing::subscriber::with_default(subscriber, || {
            let request = actix_web::test::TestRequest::default().to_srv_request();
            let span = PrivateRootSpan::on_request_start(&request);
            let response =
                request.error_response(ApiError::new(ErrorCode::InvalidField, "caller `Jane Example 07700 900123` is not valid"));
            PrivateRootSpan::on_request_end(span, &Ok(response));
        });
        let text = recorded.0.lock().unwrap().clone();
        assert!(text.contains("invalid_field") && text.contains("422"), "{text}");
        assert!(!text.contains("Jane") && !text.contains("07700"), "the detail reached the span: {text}");
    }
}
