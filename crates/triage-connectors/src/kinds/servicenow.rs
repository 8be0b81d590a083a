//! ServiceNow incidents, pushed by an outbound REST message and written back through the Table
//! API (`Basic` for `user:password` credentials, else `Bearer`). Shapes are recorded in
//! `tests/connectors/fixtures/servicenow/`.
//!
//! - **Webhook** (our documented contract; ServiceNow has no built-in ticket webhook): a
//!   business rule on `incident` (after insert/update) sends the record as the Table API
//!   returns it with `sysparm_display_value=all` (each field `{"display_value", "value"}`;
//!   plain strings are accepted too), bare or wrapped in `{"result": ...}`, signed with
//!   `X-Triage-Signature: sha256=<hex or base64>` (HMAC-SHA256 of the body with the shared secret, e.g.
//!   `GlideCertificateEncryption.generateMac`). ServiceNow sends no delivery id: the event key is
//!   `sys_id @ sys_updated_on`, so a resent message of one record version is the same event.
//! - **Parsed**: external id = `sys_id`; source = `company` (display value; the `tenants` keys
//!   are company names); title = `short_description`; description = `description`; author =
//!   `sys_updated_by` (a user name); fields `assignment_group`, `priority`, `category`,
//!   `state`, `assigned_to` by display value. Complete as delivered.
//! - **Resolved**: `state` 6 (Resolved) or 7 (Closed); notes = `close_notes`; times from
//!   `opened_at` and `resolved_at` (or `closed_at`), read as UTC (the internal value).
//! - **Write-back**: `PATCH /api/now/table/incident/{sys_id}` with `{"work_notes": text}` (work
//!   notes are internal), and the fields by the same call with
//!   `sysparm_input_display_value=true`, so a group or user is given by its name.
//! - **First contact** (documented rule, from the incident's own counters): never reopened
//!   (`reopen_count == 0`) and never reassigned by a person: `reassignment_count == 0`, or 1
//!   when that one move was our own routing (we set `assignment_group` and it still holds; the
//!   counter counts every group change, ours included). An empty counter is 0; a record sent
//!   without the counters leaves first contact unknown.

use std::collections::BTreeMap;

use super::json::{bad_answer, encode_query, is_our_note, marker_line, parse_body, secret, str_at};
use super::{Action, Headers, InboundEvent, Resolution, System, WebhookError, segment};
use crate::config::Connector;
use crate::http::{CallError, Http};
use crate::signature::{Algorithm, verify};

/// ServiceNow.
pub struct ServiceNow;

const NAME: &str = "ServiceNow";
/// Fields kept on an event, by their incident column name.
const FIELDS: [&str; 5] = ["assignment_group", "priority", "category", "state", "assigned_to"];

/// A field's display value: a string, or `display_value` of `{display_value, value}`.
fn display(record: &serde_json::Value, field: &str) -> Option<String> {
    let v = record.get(field)?;
    let s = v.as_str().or_else(|| v.get("display_value").and_then(|d| d.as_str())).or_else(|| v.get("value").and_then(|d| d.as_str()))?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A field's internal value: `value` of an object, else the string itself.
fn value(record: &serde_json::Value, field: &str) -> Option<String> {
    let v = record.get(field)?;
    let s = v.get("value").and_then(|d| d.as_str()).or_else(|| v.as_str())?;
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// `YYYY-MM-DD HH:MM:SS` (ServiceNow's internal UTC form) as RFC 3339.
fn utc(time: Option<String>) -> Option<String> {
    let t = time?;
    let looks_internal = t.len() == 19 && t.as_bytes()[4] == b'-' && t.as_bytes()[10] == b' ';
    Some(if looks_internal { format!("{}Z", t.replacen(' ', "T", 1)) } else { t })
}

/// ServiceNow's record ids: 32 hexadecimal digits.
fn is_sys_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A counter (`""` is 0); `None` when it is not a number.
fn count(record: &serde_json::Value, field: &str) -> Option<u64> {
    // absent: the outbound message does not send it, so it says nothing
    record.get(field)?;
    match value(record, field) {
        None => Some(0),
        Some(v) => v.parse().ok(),
    }
}

impl System for ServiceNow {
    fn parse_webhook(&self, connector: &Connector, headers: &Headers, body: &[u8]) -> Result<Vec<InboundEvent>, WebhookError> {
        verify(headers, &["x-triage-signature"], Algorithm::Sha256, secret(connector)?, body)?;
        let payload = parse_body(NAME, body)?;
        let record = payload.get("result").unwrap_or(&payload);
        if !record.is_object() {
            return Err(WebhookError::Invalid("the ServiceNow payload is not an incident record (a JSON object of fields)".into()));
        }
        let sys_id = value(record, "sys_id")
            .filter(|id| is_sys_id(id))
            .ok_or_else(|| WebhookError::Invalid("the ServiceNow record has no `sys_id` of 32 hexadecimal digits".into()))?;
        let updated = value(record, "sys_updated_on").ok_or_else(|| {
            WebhookError::Invalid("the ServiceNow record has no `sys_updated_on`; include it in the outbound message".into())
        })?;
        let fields: BTreeMap<String, String> = FIELDS.iter().filter_map(|f| display(record, f).map(|v| ((*f).to_owned(), v))).collect();
        let state = value(record, "state");
        let resolved = matches!(state.as_deref(), Some("6" | "7" | "Resolved" | "Closed"));
        let resolution = if resolved {
            let (reassigned, reopened) = (count(record, "reassignment_count"), count(record, "reopen_count"));
            // one move may be our own routing: the worker, which knows what we set, decides
            let first_contact = reassigned.zip(reopened).map(|(moves, reopened)| reopened == 0 && moves <= 1);
            Some(Resolution {
                notes: display(record, "close_notes").filter(|n| !is_our_note(n)).unwrap_or_default(),
                first_contact,
                opened_at: utc(value(record, "opened_at")),
                resolved_at: utc(value(record, "resolved_at").or_else(|| value(record, "closed_at"))),
                group_moves: reassigned,
            })
        } else {
            None
        };
        Ok(vec![InboundEvent {
            event_key: format!("{sys_id}@{updated}"),
            external_id: sys_id,
            source: display(record, "company"),
            title: display(record, "short_description"),
            description: display(record, "description"),
            description_is_html: false,
            author: value(record, "sys_updated_by"),
            fields,
            resolution,
            complete: true,
        }])
    }

    fn deliver(&self, http: &Http, external_id: &str, action: &Action) -> Result<(), CallError> {
        let path = format!("/api/now/table/incident/{}", segment(external_id));
        match action {
            Action::Note { text } => http.patch(&path, &serde_json::json!({ "work_notes": text })).map(drop),
            Action::Fields { fields } => {
                let body: serde_json::Map<String, serde_json::Value> = fields.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                http.patch(&format!("{path}?sysparm_input_display_value=true"), &serde_json::Value::Object(body)).map(drop)
            }
        }
    }

    fn has_marker(&self, http: &Http, external_id: &str, marker: &str) -> Result<bool, CallError> {
        // both go into an encoded query, where `^` would start another condition
        if !is_sys_id(external_id) || marker.contains('^') {
            return Err(CallError::Permanent(format!("`{external_id}` is not a ServiceNow sys_id, or the marker holds `^`")));
        }
        let line = marker_line(marker);
        let query = format!("element_id={external_id}^element=work_notes^valueLIKE{marker}");
        let answer = http.get(&format!(
            "/api/now/table/sys_journal_field?sysparm_query={}&sysparm_fields=value&sysparm_limit=10",
            encode_query(&query)
        ))?;
        let rows =
            answer.get("result").and_then(|r| r.as_array()).ok_or_else(|| bad_answer(NAME, "no `result` list in sys_journal_field"))?;
        Ok(rows.iter().any(|r| str_at(r, &["value"]).is_some_and(|v| v.contains(&line))))
    }
}
