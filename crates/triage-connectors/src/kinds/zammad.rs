//! Zammad, through trigger webhooks (`Token token=...` for the REST API). Payload shapes follow
//! Zammad's documented default webhook payload, recorded in `tests/connectors/fixtures/zammad/`.
//!
//! - **Webhook**: `X-Hub-Signature: sha1=<hex>` (HMAC-SHA1 of the body with the webhook's
//!   signature token). The event key is `X-Zammad-Delivery`, the job id of the delivery, which
//!   Zammad keeps across its retries; without it, `ticket id @ updated_at`.
//! - **Parsed**: source = the group's name; title; author = `updated_by.login`; fields `group`,
//!   `priority`, `state`, `owner` by name (owner by login; Zammad's "nobody" `-` is left out).
//!   The description is the ticket's first article (the lowest of `article_ids`): when the
//!   payload's `article` is that one, the event is complete; otherwise the first article is read
//!   by `GET /api/v1/ticket_articles/by_ticket/{id}`.
//! - **Resolved**: state `closed`. Completing reads the articles (notes: the last article sent
//!   by an agent that is not one of our notes) and `GET /api/v1/ticket_history/{id}`.
//! - **Write-back**: an internal note (`POST /api/v1/ticket_articles`, `type: note`,
//!   `internal: true`, text/plain); fields by `PUT /api/v1/tickets/{id}` with Zammad's
//!   name-valued attributes (`group`, `priority`, `state` by name, `owner` by login, custom
//!   attributes by their name).
//! - **First contact** (documented rule, from the ticket history): never reopened (no state
//!   change out of `closed`), the group never changed by anyone but the connector's user (our
//!   routing under `auto` is the first assignment, not a transfer), and at most one owner ever
//!   set (user id 1, Zammad's "nobody", does not count).

use std::collections::{BTreeMap, BTreeSet};

use super::json::{bad_answer, id_of, is_our_note, marker_line, non_empty, parse_body, secret, str_at};
use super::{Action, Headers, InboundEvent, Resolution, System, WebhookError, segment};
use crate::config::Connector;
use crate::http::{CallError, Http};
use crate::signature::{Algorithm, verify};

/// Zammad.
pub struct Zammad;

const NAME: &str = "Zammad";
/// Zammad's placeholder user ("-"), owner of unassigned tickets.
const NOBODY_ID: &str = "1";

/// A reference Zammad sends either resolved (an object with `key`) or as a plain name.
fn name_of(v: &serde_json::Value, field: &str, key: &str) -> Option<String> {
    let r = v.get(field)?;
    non_empty(r.get(key).and_then(|n| n.as_str()).or_else(|| r.as_str()))
}

impl System for Zammad {
    fn parse_webhook(&self, connector: &Connector, headers: &Headers, body: &[u8]) -> Result<Vec<InboundEvent>, WebhookError> {
        verify(headers, &["x-hub-signature"], Algorithm::Sha1, secret(connector)?, body)?;
        let payload = parse_body(NAME, body)?;
        let ticket = payload
            .get("ticket")
            .filter(|t| t.is_object())
            .ok_or_else(|| WebhookError::Invalid("the Zammad payload has no `ticket` object; use the webhook's default payload".into()))?;
        let id = id_of(ticket.get("id")).ok_or_else(|| WebhookError::Invalid("the Zammad ticket has no `id`".into()))?;
        let updated_at = str_at(ticket, &["updated_at"]).unwrap_or_default();
        let event_key = match headers.get("x-zammad-delivery").map(|d| d.trim()).filter(|d| !d.is_empty()) {
            Some(delivery) => delivery.to_owned(),
            None if !updated_at.is_empty() => format!("{id}@{updated_at}"),
            None => return Err(WebhookError::Invalid("the Zammad delivery has neither X-Zammad-Delivery nor ticket.updated_at".into())),
        };
        let mut fields = BTreeMap::new();
        for (field, value) in [
            ("group", name_of(ticket, "group", "name")),
            ("priority", name_of(ticket, "priority", "name")),
            ("state", name_of(ticket, "state", "name")),
            ("owner", name_of(ticket, "owner", "login").filter(|l| l != "-")),
        ] {
            if let Some(v) = value {
                fields.insert(field.to_owned(), v);
            }
        }
        // the first article is the caller's message; the payload's article is the triggering one
        let first_id = ticket.get("article_ids").and_then(|a| a.as_array()).and_then(|ids| ids.iter().filter_map(|i| i.as_u64()).min());
        let article = payload.get("article").filter(|a| a.get("id").is_some());
        let first = article.filter(|a| first_id.is_some() && a.get("id").and_then(|i| i.as_u64()) == first_id);
        let (description, description_is_html) = match first {
            Some(a) => (str_at(a, &["body"]).map(String::from), str_at(a, &["content_type"]) == Some("text/html")),
            None => (None, false),
        };
        let closed = fields.get("state").is_some_and(|s| s == "closed");
        let resolution = closed.then(|| Resolution {
            notes: String::new(),
            first_contact: None,
            opened_at: non_empty(str_at(ticket, &["created_at"])),
            resolved_at: non_empty(str_at(ticket, &["close_at"]).or(Some(updated_at))),
            group_moves: None,
        });
        Ok(vec![InboundEvent {
            event_key,
            complete: description.is_some() && !closed,
            external_id: id,
            source: name_of(ticket, "group", "name"),
            title: non_empty(str_at(ticket, &["title"])),
            description,
            description_is_html,
            author: name_of(ticket, "updated_by", "login"),
            fields,
            resolution,
        }])
    }

    fn complete(&self, http: &Http, connector: &Connector, event: &mut InboundEvent) -> Result<(), CallError> {
        let id = segment(&event.external_id);
        let answer = http.get(&format!("/api/v1/ticket_articles/by_ticket/{id}?expand=true"))?;
        let articles = answer.as_array().ok_or_else(|| bad_answer(NAME, "the articles are not a list"))?;
        if event.description.is_none()
            && let Some(first) = articles.first()
        {
            event.description = str_at(first, &["body"]).map(String::from);
            event.description_is_html = str_at(first, &["content_type"]) == Some("text/html");
        }
        if let Some(resolution) = event.resolution.as_mut() {
            let own = connector.spec.user.as_deref();
            let last_words = articles.iter().rev().find(|a| {
                str_at(a, &["sender"]) == Some("Agent")
                    && str_at(a, &["created_by"]) != own
                    && !str_at(a, &["body"]).is_some_and(is_our_note)
            });
            resolution.notes = last_words
                .map(|a| {
                    let text = str_at(a, &["body"]).unwrap_or_default();
                    if str_at(a, &["content_type"]) == Some("text/html") { triage_html::html_to_text(text) } else { text.to_owned() }
                })
                .unwrap_or_default();
            let history = http.get(&format!("/api/v1/ticket_history/{id}"))?;
            resolution.first_contact = Some(first_contact(&history, own)?);
        }
        event.complete = true;
        Ok(())
    }

    fn deliver(&self, http: &Http, external_id: &str, action: &Action) -> Result<(), CallError> {
        match action {
            Action::Note { text } => {
                let ticket_id = external_id.parse::<u64>().map_or_else(|_| serde_json::json!(external_id), |n| serde_json::json!(n));
                let note = serde_json::json!({
                    "ticket_id": ticket_id,
                    "body": text,
                    "content_type": "text/plain",
                    "type": "note",
                    "internal": true,
                });
                http.post("/api/v1/ticket_articles", &note).map(drop)
            }
            Action::Fields { fields } => {
                let body: serde_json::Map<String, serde_json::Value> = fields.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                http.put(&format!("/api/v1/tickets/{}", segment(external_id)), &serde_json::Value::Object(body)).map(drop)
            }
        }
    }

    fn has_marker(&self, http: &Http, external_id: &str, marker: &str) -> Result<bool, CallError> {
        let answer = http.get(&format!("/api/v1/ticket_articles/by_ticket/{}", segment(external_id)))?;
        let articles = answer.as_array().ok_or_else(|| bad_answer(NAME, "the articles are not a list"))?;
        let line = marker_line(marker);
        Ok(articles.iter().any(|a| str_at(a, &["body"]).is_some_and(|b| b.contains(&line))))
    }
}

/// The first-contact rule over `GET /api/v1/ticket_history/{id}` (see the module documentation).
/// `own_user` is the connector's login; entries name their author by `created_by_id`, resolved
/// through the answer's `assets.User`.
pub fn first_contact(history: &serde_json::Value, own_user: Option<&str>) -> Result<bool, CallError> {
    let entries =
        history.get("history").and_then(|h| h.as_array()).ok_or_else(|| bad_answer(NAME, "no `history` list in the ticket history"))?;
    let login = |user_id: Option<String>| -> Option<String> {
        let users = history.get("assets")?.get("User")?;
        non_empty(str_at(users.get(user_id?.as_str())?, &["login"]))
    };
    let mut owners = BTreeSet::new();
    for entry in entries.iter().filter(|e| str_at(e, &["object"]) == Some("Ticket") && str_at(e, &["type"]) == Some("updated")) {
        match str_at(entry, &["attribute"]) {
            Some("state") if str_at(entry, &["value_from"]) == Some("closed") => return Ok(false),
            Some("group") if own_user.is_none() || login(id_of(entry.get("created_by_id"))).as_deref() != own_user => return Ok(false),
            Some("owner") => {
                if let Some(owner) = id_of(entry.get("id_to")).filter(|o| o != NOBODY_ID) {
                    owners.insert(owner);
                }
            }
            _ => {}
        }
    }
    Ok(owners.len() <= 1)
}
