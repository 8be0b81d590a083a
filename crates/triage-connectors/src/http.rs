//! Outbound HTTP to one ticketing system: only under its configured base URL, never following a
//! redirect, TLS through rustls, a timeout on every call, bodies size-limited. Failures are
//! classified for the outbox: worth retrying or not, after how long (`Retry-After`), and whether
//! the request may have been applied anyway (then a note is checked for before it is sent again).

use std::time::Duration;

use crate::config::{Connector, Kind, Secret};

/// Largest response body read (a ticket's history can be long, but not this long).
const MAX_BODY: u64 = 8 * 1024 * 1024;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Worth trying again later.
    #[error("{message}")]
    Transient {
        /// What happened (no secrets, no ticket text).
        message: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
        /// The request may have been applied (a timeout after sending, a 5xx answer).
        in_doubt: bool,
    },
    /// Will not get better by retrying (a 4xx other than 408/429, a redirect, a bad answer).
    #[error("{0}")]
    Permanent(String),
}

/// A client for one connector's system.
pub struct Http {
    agent: ureq::Agent,
    base: String,
    auth: Secret,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `connector`, with the credentials as its kind expects them.
    pub fn new(connector: &Connector) -> Self {
        let mut tls = ureq::tls::TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
        if !connector.ca_certs.is_empty() {
            let certs: Vec<ureq::tls::Certificate<'static>> =
                connector.ca_certs.iter().map(|der| ureq::tls::Certificate::from_der(der).to_owned()).collect();
            tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(Some(connector.timeout()))
            .timeout_connect(Some(connector.timeout().min(Duration::from_secs(5))))
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("triage/", env!("CARGO_PKG_VERSION")))
            .build();
        let token = connector.token.expose();
        let auth = match connector.spec.kind {
            Kind::Rt => format!("token {token}"),
            Kind::Zammad => format!("Token token={token}"),
            // ServiceNow and Jira: `user:password` (or e-mail:API token) as Basic, else a bearer token
            Kind::Servicenow | Kind::Jira if token.contains(':') => {
                use base64::Engine as _;
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(token))
            }
            Kind::Servicenow | Kind::Jira => format!("Bearer {token}"),
        };
        Self { agent: config.into(), base: connector.base_url.clone(), auth: Secret::new(auth) }
    }

    /// `GET base + path`, JSON back.
    pub fn get(&self, path: &str) -> Result<serde_json::Value, CallError> {
        self.call("GET", path, None)
    }

    /// `POST base + path` with a JSON body.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, CallError> {
        self.call("POST", path, Some(body))
    }

    /// `PUT base + path` with a JSON body.
    pub fn put(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, CallError> {
        self.call("PUT", path, Some(body))
    }

    /// `PATCH base + path` with a JSON body.
    pub fn patch(&self, path: &str, body: &serde_json::Value) -> Result<serde_json::Value, CallError> {
        self.call("PATCH", path, Some(body))
    }

    fn call(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<serde_json::Value, CallError> {
        if !path.starts_with('/') || path.contains("://") || path.starts_with("//") {
            return Err(CallError::Permanent(format!("refused to call `{path}`: not a path under the base URL")));
        }
        let url = format!("{}{path}", self.base);
        let sending = body.is_some();
        let result = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", self.auth.expose()).header("Accept", "application/json").call(),
            (m, Some(b)) => {
                let req = match m {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    _ => self.agent.patch(&url),
                };
                req.header("Authorization", self.auth.expose())
                    .header("Accept", "application/json")
                    .header("Content-Type", "application/json")
                    .send(b.to_string())
            }
            (m, None) => return Err(CallError::Permanent(format!("{m} without a body"))),
        };
        let mut response = match result {
            Ok(r) => r,
            Err(e) => return Err(transport_error(e, sending)),
        };
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
        let text = response.body_mut().with_config().limit(MAX_BODY).read_to_string().unwrap_or_default();
        let what = format!("{method} {path}: HTTP {status}");
        match status {
            200..=299 => {
                if text.trim().is_empty() {
                    Ok(serde_json::Value::Null)
                } else {
                    // some endpoints answer a JSON array of messages, some plain text: keep what parses
                    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
                }
            }
            300..=399 => Err(CallError::Permanent(format!("{what}: redirects are not followed; set base_url to the final address"))),
            429 => Err(CallError::Transient { message: format!("{what} (rate limited)"), retry_after, in_doubt: false }),
            408 => Err(CallError::Transient { message: what, retry_after, in_doubt: sending }),
            500..=599 => Err(CallError::Transient { message: format!("{what}{}", short(&text)), retry_after, in_doubt: sending }),
            401 | 403 => Err(CallError::Permanent(format!("{what}: check the connector's credentials and rights"))),
            _ => Err(CallError::Permanent(format!("{what}{}", short(&text)))),
        }
    }
}

/// A bit of an error body for the log and the dead letter (system messages, not ticket text).
fn short(text: &str) -> String {
    let t: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if t.trim().is_empty() { String::new() } else { format!(": {}", t.trim()) }
}

fn transport_error(e: ureq::Error, sending: bool) -> CallError {
    match e {
        // nothing reached the server
        ureq::Error::Io(ref io) if matches!(io.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable) => {
            CallError::Transient { message: format!("cannot connect: {e}"), retry_after: None, in_doubt: false }
        }
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
            CallError::Transient { message: format!("cannot connect: {e}"), retry_after: None, in_doubt: false }
        }
        ureq::Error::Timeout(_) | ureq::Error::Io(_) => {
            CallError::Transient { message: format!("no answer: {e}"), retry_after: None, in_doubt: sending }
        }
        other => CallError::Permanent(format!("call failed: {other}")),
    }
}

/// `Retry-After` in seconds (the HTTP-date form is rare from these systems: a minute).
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    match v.parse::<u64>() {
        Ok(secs) => Some(Duration::from_secs(secs.min(3600))),
        Err(_) if !v.is_empty() => Some(Duration::from_secs(60)),
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_and_capped() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("999999"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT"), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after(""), None);
    }
}
