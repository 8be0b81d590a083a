//! Small readers shared by the webhook kinds: strings and ids out of loosely typed JSON, the
//! signing secret, query encoding, and the marker line a note ends with.

use super::WebhookError;
use crate::config::Connector;
use crate::http::CallError;

/// The string at `path`, if every step exists and the last is a string.
pub(crate) fn str_at<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// An id that a system sends as a number or as a string.
pub(crate) fn id_of(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// A non-empty string, owned.
pub(crate) fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

/// The body as JSON, or a 422 that names the system.
pub(crate) fn parse_body(system: &str, body: &[u8]) -> Result<serde_json::Value, WebhookError> {
    serde_json::from_slice(body).map_err(|e| WebhookError::Invalid(format!("the {system} webhook body is not JSON: {e}")))
}

/// The connector's signing secret (validation makes it present for push kinds).
pub(crate) fn secret(connector: &Connector) -> Result<&str, WebhookError> {
    connector.secret.as_ref().map(|s| s.expose()).ok_or_else(|| {
        WebhookError::Unauthorized(format!("connector `{}` has no signing secret; set secret_env or secret_file", connector.name()))
    })
}

/// Percent-encoding for a query-string value.
pub(crate) fn encode_query(v: &str) -> String {
    v.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// The reference line of a note carrying `marker`.
pub(crate) fn marker_line(marker: &str) -> String {
    format!("{}{marker}", crate::note::REF_PREFIX)
}

/// Whether a text is one of our own notes (it carries a reference line).
pub(crate) fn is_our_note(text: &str) -> bool {
    text.contains(crate::note::REF_PREFIX)
}

/// A permanent error for an answer of the wrong shape.
pub(crate) fn bad_answer(system: &str, what: &str) -> CallError {
    CallError::Permanent(format!("{system} answered an unexpected shape: {what}"))
}
