//! Tracing subscriber: built once. `RUST_LOG` wins over `log.level`; JSON lines in production.

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. Calling it again is harmless (the first one stays).
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Root span of every request, as tracing-actix-web's default but without the query string
/// (`http.target` would carry `?q=...` search text, which may hold personal data) and without
/// the user agent and client address.
pub struct PrivateRootSpan;

impl tracing_actix_web::RootSpanBuilder for PrivateRootSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        use actix_web::HttpMessage;
        let request_id = request.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()).unwrap_or_default();
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
    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
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

    use super::PrivateRootSpan;
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
        fn on_record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>, _: Context<'_, S>) {
            values.record(&mut Visitor(&mut self.0.lock().unwrap()));
        }
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
