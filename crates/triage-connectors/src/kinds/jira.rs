//! Jira Service Management (Cloud), through Jira webhooks, written back through the service
//! desk API (comments) and the platform REST API v3 (fields). `Basic` for `email:api-token`
//! credentials, else `Bearer`. Shapes are recorded in `tests/connectors/fixtures/jira/`.
//!
//! - **Webhook**: an admin webhook with a secret sends `X-Hub-Signature: sha256=<hex>`; an
//!   automation rule's "Send web request" signs with `X-Triage-Signature: sha256=<hex>` (both
//!   HMAC-SHA256 of the body). The event key is `X-Atlassian-Webhook-Identifier` (unchanged
//!   across Jira's retries); without it, `issue id @ fields.updated` (or `timestamp`).
//! - **Parsed**: external id = the issue key; source = the project key; title = `summary`;
//!   description = `description` (wiki text, or Atlassian Document Format flattened to text);
//!   author = `user.accountId`, else `user.emailAddress`, else `user.name` (Data Center);
//!   fields `priority`, `status`, `issuetype` by name, `assignee` by account id, `components`
//!   as names joined by `, `, and every `customfield_*` as delivered (an option's `value`, a
//!   user's `accountId`, lists joined).
//! - **Resolved**: `status.statusCategory.key == "done"`; notes = the payload's `comment` if the
//!   change carried one, else the last service-desk comment (public or internal) that is not
//!   ours. Completing reads `GET /rest/api/3/issue/{key}?expand=changelog`.
//! - **Write-back**: an internal comment `POST /rest/servicedeskapi/request/{key}/comment` with
//!   `{"body", "public": false}`; fields `PUT /rest/api/3/issue/{key}` with `{"fields": ...}`:
//!   `priority`/`issuetype` as `{"name"}`, `assignee` as `{"accountId"}`, `components` as
//!   `[{"name"}]`, `labels` as a list, `customfield_*` as a select option `{"value"}`, anything
//!   else as a string. `status` cannot be edited (Jira moves it by transitions) and is refused.
//! - **First contact** (documented rule, from the changelog): never reopened (no change that
//!   clears `resolution`), never moved to another project, and at most one assignee ever set.

use std::collections::{BTreeMap, BTreeSet};

use super::json::{bad_answer, id_of, is_our_note, marker_line, non_empty, parse_body, secret, str_at};
use super::{Action, Headers, InboundEvent, Resolution, System, WebhookError, segment};
use crate::config::Connector;
use crate::http::{CallError, Http};
use crate::signature::{Algorithm, verify};

/// Jira Service Management.
pub struct Jira;

const NAME: &str = "Jira";

/// Text of a wiki string or an Atlassian Document Format node (text nodes, blocks as lines).
pub fn text_of(v: &serde_json::Value) -> Option<String> {
    fn walk(node: &serde_json::Value, out: &mut String) {
        if let Some(t) = node.get("text").and_then(|t| t.as_str()) {
            out.push_str(t);
        }
        if node.get("type").and_then(|t| t.as_str()) == Some("hardBreak") {
            out.push('\n');
        }
        for child in node.get("content").and_then(|c| c.as_array()).into_iter().flatten() {
            walk(child, out);
        }
        if matches!(node.get("type").and_then(|t| t.as_str()), Some("paragraph" | "heading" | "listItem" | "codeBlock" | "blockquote")) {
            out.push('\n');
        }
    }
    match v {
        serde_json::Value::String(s) => non_empty(Some(s)),
        serde_json::Value::Object(_) => {
            let mut out = String::new();
            walk(v, &mut out);
            non_empty(Some(&out))
        }
        _ => None,
    }
}

/// A field value as text: a string or number, an option (`value`), a named thing (`name`), a
/// user (`accountId`, else `name`), or a list of those joined by `, `.
fn field_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => non_empty(Some(s)),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(field_text).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        serde_json::Value::Object(o) => ["value", "accountId", "name", "key"].iter().find_map(|k| o.get(*k).and_then(field_text)),
        serde_json::Value::Null => None,
    }
}

/// Jira's `2026-11-30T10:00:00.000+0100` as RFC 3339 (`+01:00`).
fn rfc3339(t: Option<&str>) -> Option<String> {
    let t = t?.trim();
    let b = t.as_bytes();
    let n = b.len();
    let compact_offset = n > 5 && matches!(b[n - 5], b'+' | b'-') && b[n - 4..].iter().all(u8::is_ascii_digit);
    non_empty(Some(&if compact_offset { format!("{}:{}", &t[..n - 2], &t[n - 2..]) } else { t.to_owned() }))
}

impl System for Jira {
    fn parse_webhook(&self, connector: &Connector, headers: &Headers, body: &[u8]) -> Result<Vec<InboundEvent>, WebhookError> {
        verify(headers, &["x-triage-signature", "x-hub-signature"], Algorithm::Sha256, secret(connector)?, body)?;
        let payload = parse_body(NAME, body)?;
        let issue = payload
            .get("issue")
            .filter(|i| i.is_object())
            .ok_or_else(|| WebhookError::Invalid("the Jira payload has no `issue` object; subscribe the webhook to issue events".into()))?;
        let key = non_empty(str_at(issue, &["key"])).ok_or_else(|| WebhookError::Invalid("the Jira issue has no `key`".into()))?;
        let f =
            issue.get("fields").filter(|f| f.is_object()).ok_or_else(|| WebhookError::Invalid("the Jira issue has no `fields`".into()))?;
        let event_key = match headers.get("x-atlassian-webhook-identifier").map(|d| d.trim()).filter(|d| !d.is_empty()) {
            Some(delivery) => delivery.to_owned(),
            None => {
                let when = non_empty(str_at(f, &["updated"])).or_else(|| id_of(payload.get("timestamp")));
                let when = when.ok_or_else(|| {
                    WebhookError::Invalid("the Jira delivery has no webhook identifier, fields.updated or timestamp".into())
                })?;
                format!("{}@{when}", id_of(issue.get("id")).unwrap_or_else(|| key.clone()))
            }
        };
        let mut fields = BTreeMap::new();
        for name in ["priority", "status", "issuetype"] {
            if let Some(v) = f.get(name).and_then(|v| non_empty(v.get("name").and_then(|n| n.as_str()).or_else(|| v.as_str()))) {
                fields.insert(name.to_owned(), v);
            }
        }
        if let Some(assignee) = f.get("assignee").and_then(field_text) {
            fields.insert("assignee".into(), assignee);
        }
        if let Some(components) = f.get("components").and_then(field_text) {
            fields.insert("components".into(), components);
        }
        if let Some(object) = f.as_object() {
            for (name, v) in object.iter().filter(|(name, _)| name.starts_with("customfield_")) {
                if let Some(text) = field_text(v) {
                    fields.insert(name.clone(), text);
                }
            }
        }
        let user = payload.get("user");
        let author = user.and_then(|u| non_empty(str_at(u, &["accountId"]).or(str_at(u, &["emailAddress"])).or(str_at(u, &["name"]))));
        let done = str_at(f, &["status", "statusCategory", "key"]) == Some("done");
        let resolution = done.then(|| Resolution {
            notes: payload
                .get("comment")
                .filter(|c| {
                    let by = str_at(c, &["author", "accountId"]);
                    by.is_none() || by != connector.spec.user.as_deref()
                })
                .and_then(|c| c.get("body"))
                .and_then(text_of)
                .filter(|t| !is_our_note(t))
                .unwrap_or_default(),
            first_contact: None,
            opened_at: rfc3339(str_at(f, &["created"])),
            resolved_at: rfc3339(str_at(f, &["resolutiondate"])),
            group_moves: None,
        });
        Ok(vec![InboundEvent {
            event_key,
            source: non_empty(str_at(f, &["project", "key"])).or_else(|| key.split_once('-').map(|(p, _)| p.to_owned())),
            external_id: key,
            title: non_empty(str_at(f, &["summary"])),
            description: f.get("description").and_then(text_of),
            description_is_html: false,
            author,
            fields,
            complete: !done,
            resolution,
        }])
    }

    fn complete(&self, http: &Http, connector: &Connector, event: &mut InboundEvent) -> Result<(), CallError> {
        let key = segment(&event.external_id);
        if let Some(resolution) = event.resolution.as_mut() {
            let own = connector.spec.user.as_deref();
            let issue = http.get(&format!("/rest/api/3/issue/{key}?expand=changelog"))?;
            let histories = issue
                .get("changelog")
                .and_then(|c| c.get("histories"))
                .and_then(|h| h.as_array())
                .ok_or_else(|| bad_answer(NAME, "no changelog.histories on the issue"))?;
            resolution.first_contact = Some(first_contact(histories));
            if resolution.notes.is_empty() {
                let answer = http.get(&format!("/rest/servicedeskapi/request/{key}/comment?internal=true"))?;
                let comments =
                    answer.get("values").and_then(|v| v.as_array()).ok_or_else(|| bad_answer(NAME, "no `values` list of comments"))?;
                resolution.notes = comments
                    .iter()
                    .rev()
                    .filter(|c| own.is_none() || str_at(c, &["author", "accountId"]) != own)
                    .filter_map(|c| c.get("body").and_then(text_of))
                    .find(|t| !is_our_note(t))
                    .unwrap_or_default();
            }
        }
        event.complete = true;
        Ok(())
    }

    fn deliver(&self, http: &Http, external_id: &str, action: &Action) -> Result<(), CallError> {
        let key = segment(external_id);
        match action {
            Action::Note { text } => http
                .post(&format!("/rest/servicedeskapi/request/{key}/comment"), &serde_json::json!({"body": text, "public": false}))
                .map(drop),
            Action::Fields { fields } => {
                let mut set = serde_json::Map::new();
                for (field, value) in fields {
                    let split = || value.split(',').map(str::trim).filter(|s| !s.is_empty());
                    let v = match field.as_str() {
                        "status" => {
                            return Err(CallError::Permanent(
                                "Jira's status changes by workflow transitions, not by editing; map the head to another field".into(),
                            ));
                        }
                        "priority" | "issuetype" => serde_json::json!({ "name": value }),
                        "assignee" | "reporter" => serde_json::json!({ "accountId": value }),
                        "components" => split().map(|c| serde_json::json!({ "name": c })).collect(),
                        "labels" => split().map(|l| serde_json::json!(l)).collect(),
                        f if f.starts_with("customfield_") => serde_json::json!({ "value": value }),
                        _ => serde_json::json!(value),
                    };
                    set.insert(field.clone(), v);
                }
                http.put(&format!("/rest/api/3/issue/{key}"), &serde_json::json!({ "fields": set })).map(drop)
            }
        }
    }

    fn has_marker(&self, http: &Http, external_id: &str, marker: &str) -> Result<bool, CallError> {
        let answer = http.get(&format!("/rest/servicedeskapi/request/{}/comment?internal=true", segment(external_id)))?;
        let comments = answer.get("values").and_then(|v| v.as_array()).ok_or_else(|| bad_answer(NAME, "no `values` list of comments"))?;
        let line = marker_line(marker);
        Ok(comments.iter().any(|c| c.get("body").and_then(text_of).is_some_and(|b| b.contains(&line))))
    }
}

/// The first-contact rule over an issue's `changelog.histories` (see the module documentation).
pub fn first_contact(histories: &[serde_json::Value]) -> bool {
    let mut assignees = BTreeSet::new();
    for item in histories.iter().filter_map(|h| h.get("items").and_then(|i| i.as_array())).flatten() {
        let from = non_empty(str_at(item, &["from"]).or(str_at(item, &["fromString"])));
        let to = non_empty(str_at(item, &["to"]).or(str_at(item, &["toString"])));
        match str_at(item, &["field"]) {
            Some("resolution") if from.is_some() && to.is_none() => return false,
            Some("project") => return false,
            Some("assignee") => {
                if let Some(who) = to {
                    assignees.insert(who);
                }
            }
            _ => {}
        }
    }
    assignees.len() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_times_and_document_text_are_normalised() {
        assert_eq!(rfc3339(Some("2026-11-30T10:00:00.000+0100")).as_deref(), Some("2026-11-30T10:00:00.000+01:00"));
        assert_eq!(rfc3339(Some("2026-11-30T10:00:00Z")).as_deref(), Some("2026-11-30T10:00:00Z"));
        let adf = serde_json::json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "VPN drops"}]},
            {"type": "paragraph", "content": [{"type": "text", "text": "every hour"}]}
        ]});
        assert_eq!(text_of(&adf).as_deref(), Some("VPN drops\nevery hour"));
        assert_eq!(field_text(&serde_json::json!([{"name": "VPN"}, {"name": "Network"}])).as_deref(), Some("VPN, Network"));
        assert_eq!(field_text(&serde_json::json!({"self": "x", "value": "Hardware", "id": "10020"})).as_deref(), Some("Hardware"));
    }
}
