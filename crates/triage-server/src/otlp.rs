//! Trace export over OTLP (issue 15): when `log.otlp_endpoint` is set, every span (the request's
//! root span with its `request_id`, the engine's spans under it) also goes to an OpenTelemetry
//! collector, through `tracing-opentelemetry` and the OTLP exporter, as OTLP/HTTP with JSON
//! bodies POSTed to `<endpoint>/v1/traces`. Spans leave in batches from the SDK's own thread;
//! the HTTP client is `ureq` (already the connectors' client), so no second HTTP stack and no
//! async runtime is added. Off by default: nothing is built or sent without an endpoint.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;

/// How long one export may take before it is dropped (the collector is down or slow).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Posts OTLP batches with `ureq`, blocking the SDK's export thread (never a request worker).
#[derive(Debug, Clone)]
struct UreqClient(ureq::Agent);

#[async_trait::async_trait]
impl HttpClient for UreqClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut call = self.0.post(parts.uri.to_string());
        for (name, value) in &parts.headers {
            call = call.header(name.as_str(), value.to_str().unwrap_or_default());
        }
        let mut answer = call.send(&body[..])?;
        let status = answer.status().as_u16();
        let bytes = answer.body_mut().read_to_vec()?;
        Ok(Response::builder().status(status).body(Bytes::from(bytes))?)
    }
}

/// The URL spans are POSTed to: `endpoint` itself when it already ends in `/v1/traces`, else
/// that path under it (`http://collector:4318` -> `http://collector:4318/v1/traces`).
pub(crate) fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim().trim_end_matches('/');
    if endpoint.ends_with("/v1/traces") { endpoint.to_owned() } else { format!("{endpoint}/v1/traces") }
}

/// A tracer provider exporting to `endpoint` as `service` (its `service.name`).
pub(crate) fn provider(endpoint: &str, service: &str) -> Result<SdkTracerProvider, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(EXPORT_TIMEOUT)).build().into();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .with_endpoint(traces_url(endpoint))
        .with_timeout(EXPORT_TIMEOUT)
        .with_http_client(UreqClient(agent))
        .build()
        .map_err(|e| format!("log.otlp_endpoint `{endpoint}`: {e}"))?;
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service.to_owned()).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}

/// The `tracing` layer that hands spans to `provider`.
pub(crate) fn layer<S>(provider: &SdkTracerProvider) -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    tracing_opentelemetry::layer().with_tracer(provider.tracer("triage"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(traces_url("http://collector:4318"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("http://collector:4318/"), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("https://otel.example/v1/traces"), "https://otel.example/v1/traces");
    }
}
