//! Request Tracker 5 through its REST2 API (`/REST/2.0`, `Authorization: token ...`), polled.
//! Payload shapes follow RT 5.0.3 as recorded in `tests/connectors/fixtures/rt/`.
//!
//! - **Poll**: `GET /tickets?query=LastUpdated >= 'YYYY-MM-DD HH:MM:SS'` (UTC, whole seconds;
//!   RT misreads the ISO `T...Z` form), oldest change first, 100 a page. The cursor is the
//!   newest `LastUpdated` seen; the boundary second is read again and deduplicated by the event
//!   key `id@LastUpdated#digest` (a digest of the fields read: two changes in one second differ). A first start begins at the current time (no notes on old tickets).
//! - **Complete**: the ticket with queue and user names (`fields[Queue]=Name`), its history,
//!   and the Create transaction's text (the description); on resolution, the last reply or
//!   comment of someone other than the connector's user (the resolution notes).
//! - **Write-back**: an internal comment (`POST /ticket/{id}/comment`, text/plain; RT never
//!   mails comments to requestors), fields by `PUT /ticket/{id}` (`Queue`, `Priority`, `Owner`
//!   ..., and `CF.<Name>` as a custom field). RT answers 200 with messages even when a change
//!   was refused, so the messages are checked.
//! - **First contact** (documented rule): resolved, never reopened (no status change out of
//!   `resolved`), never moved to another queue by a person (our own routing under `auto` is the
//!   first assignment, not a transfer), and at most one owner. RT's placeholder owner `Nobody`
//!   (what an unowned ticket has, and what `Untake` gives back) is not an owner: its id is read
//!   once per connector from `GET /user/Nobody` (history names owners by id only).

use std::collections::BTreeMap;

use super::{Action, InboundEvent, Poll, Resolution, System, segment};
use crate::config::Connector;
use crate::http::{CallError, Http};

/// Request Tracker.
#[derive(Default)]
pub struct Rt {
    /// The id of RT's placeholder user `Nobody`, read once (see [`Rt::nobody`]).
    nobody: std::sync::OnceLock<Option<String>>,
}

impl Rt {
    /// The id of RT's `Nobody` user, which owner changes in the history name by id: asked once,
    /// then remembered. An RT that refuses (no such user, or the token may not see users) is
    /// remembered as unknown, and then every owner counts.
    fn nobody(&self, http: &Http) -> Result<Option<String>, CallError> {
        if let Some(id) = self.nobody.get() {
            return Ok(id.clone());
        }
        let id = match http.get("/REST/2.0/user/Nobody") {
            Ok(user) => user_id(&user).map(|id| id.to_string()),
            Err(CallError::Permanent(why)) => {
                tracing::warn!(%why, "RT did not name its Nobody user; every owner counts for first contact");
                None
            }
            Err(e) => return Err(e),
        };
        Ok(self.nobody.get_or_init(|| id).clone())
    }
}

/// A user's id from REST2's user record: its `self` link (the id the history uses).
fn user_id(user: &serde_json::Value) -> Option<u64> {
    user.get("_hyperlinks")?.as_array()?.iter().find(|l| l.get("ref").and_then(|r| r.as_str()) == Some("self"))?.get("id")?.as_u64()
}

const PAGE: usize = 100;
/// Pages read per poll (the rest on the next poll, from the new cursor).
const MAX_PAGES: usize = 10;

/// What a search returns of each ticket: names, not ids, for the queue and the users.
const TICKET_FIELDS: &str = "fields=Subject,Queue,Status,Owner,Priority,Created,Resolved,LastUpdated,LastUpdatedBy,CustomFields&fields[Queue]=Name&fields[Owner]=Name&fields[LastUpdatedBy]=Name";

/// A search item into an event: title, queue (the tenant source), last author, fields
/// (`Queue`, `Owner`, `Status`, `Priority`, `CF.<Name>`; `Created` and `Resolved` until completed).
fn read_ticket(ticket: &serde_json::Value, event: &mut InboundEvent) {
    event.title = str_at(ticket, &["Subject"]).map(String::from);
    event.source = name_of(ticket, "Queue");
    event.author = name_of(ticket, "LastUpdatedBy");
    let mut fields = BTreeMap::new();
    for (field, value) in [
        ("Queue", name_of(ticket, "Queue")),
        ("Owner", name_of(ticket, "Owner")),
        ("Status", str_at(ticket, &["Status"]).map(String::from)),
        ("Priority", str_at(ticket, &["Priority"]).map(String::from)),
        ("Created", str_at(ticket, &["Created"]).map(String::from)),
        ("Resolved", str_at(ticket, &["Resolved"]).map(String::from)),
    ] {
        if let Some(v) = value {
            fields.insert(field.to_owned(), v);
        }
    }
    if let Some(cfs) = ticket.get("CustomFields").and_then(|c| c.as_array()) {
        for cf in cfs {
            let name = cf.get("name").and_then(|n| n.as_str());
            let value = cf.get("values").and_then(|v| v.as_array()).and_then(|v| v.first()).and_then(|v| v.as_str());
            if let (Some(name), Some(value)) = (name, value) {
                fields.insert(format!("CF.{name}"), value.to_owned());
            }
        }
    }
    event.fields = fields;
}

/// RT's query form of an RFC 3339 UTC time.
fn rt_time(rfc3339: &str) -> String {
    rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
}

fn str_at<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// A user or queue reference: its `Name` when asked for, else its `id` (users' ids are names).
fn name_of(v: &serde_json::Value, field: &str) -> Option<String> {
    let r = v.get(field)?;
    r.get("Name").and_then(|n| n.as_str()).or_else(|| r.get("id").and_then(|n| n.as_str())).map(String::from)
}

fn bad(what: &str) -> CallError {
    CallError::Permanent(format!("RT answered an unexpected shape: {what}"))
}

impl System for Rt {
    fn poll(&self, http: &Http, connector: &Connector, cursor: Option<&str>) -> Result<Poll, CallError> {
        let Some(cursor) = cursor else {
            // first start: from now on, once RT answers with these credentials
            http.get("/REST/2.0/rt")?;
            return Ok(Poll { events: Vec::new(), cursor: Some(triage_core::time::rfc3339_utc(std::time::SystemTime::now())) });
        };
        let query = format!("LastUpdated >= '{}'", rt_time(cursor));
        let mut events = Vec::new();
        let mut newest = cursor.to_owned();
        for page in 1..=MAX_PAGES {
            let path = format!(
                "/REST/2.0/tickets?query={}&orderby=LastUpdated&order=ASC&orderby=id&order=ASC&per_page={PAGE}&page={page}&{TICKET_FIELDS}",
                segment(&query)
            );
            let answer = http.get(&path)?;
            let items = answer.get("items").and_then(|i| i.as_array()).ok_or_else(|| bad("no items in a search"))?;
            for item in items {
                let id = str_at(item, &["id"]).ok_or_else(|| bad("a ticket without id"))?;
                let updated = str_at(item, &["LastUpdated"]).unwrap_or_default();
                if updated > newest.as_str() {
                    newest = updated.to_owned();
                }
                // RT's times are whole seconds: two changes in one second (a reply, then the
                // status set to resolved) share `LastUpdated`, so the key also carries a digest
                // of the fields read, and the second change is not taken for a re-read
                let digest = {
                    use sha2::Digest;
                    let d = sha2::Sha256::digest(item.to_string());
                    d.iter().take(6).map(|b| format!("{b:02x}")).collect::<String>()
                };
                let mut event =
                    InboundEvent { event_key: format!("{id}@{updated}#{digest}"), external_id: id.to_owned(), ..Default::default() };
                read_ticket(item, &mut event);
                events.push(event);
            }
            if items.len() < PAGE {
                break;
            }
        }
        let _ = connector;
        Ok(Poll { events, cursor: Some(newest) })
    }

    fn complete(&self, http: &Http, connector: &Connector, event: &mut InboundEvent) -> Result<(), CallError> {
        let id = segment(&event.external_id);
        let mut created = event.fields.get("Created").cloned();
        let mut resolved = event.fields.get("Resolved").cloned();
        if event.title.is_none() && event.fields.is_empty() {
            // not from a poll page (say, re-queued by hand): read the ticket first
            let search = http.get(&format!(
                "/REST/2.0/tickets?query={}&{TICKET_FIELDS}",
                segment(&format!("id = {}", event.external_id.parse::<u64>().map_err(|_| bad("a ticket id that is not a number"))?))
            ))?;
            let ticket = search.get("items").and_then(|i| i.as_array()).and_then(|i| i.first()).ok_or_else(|| {
                CallError::Permanent(format!("ticket {} is not visible to the connector's user (deleted, or no rights)", event.external_id))
            })?;
            read_ticket(ticket, event);
            created = event.fields.get("Created").cloned();
            resolved = event.fields.get("Resolved").cloned();
        }
        event.fields.remove("Created");
        event.fields.remove("Resolved");
        let own = connector.spec.user.as_deref();
        let is_resolved = event.fields.get("Status").map(String::as_str) == Some("resolved");
        if !is_resolved && own.is_some() && event.author.as_deref() == own {
            // our own note or field change: nothing to read, the worker ignores it
            event.complete = true;
            return Ok(());
        }
        if !is_resolved {
            // a new or changed ticket: the description is the first transaction's text, one call
            let answer = http.get(&format!(
                "/REST/2.0/ticket/{id}/attachments?fields=TransactionId,ContentType,Content&orderby=id&order=ASC&per_page=10"
            ))?;
            let items = answer.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
            let first_tx = items.first().and_then(|a| str_at(a, &["TransactionId"])).map(String::from);
            let (text, html) = first_text(items.iter().filter(|a| str_at(a, &["TransactionId"]) == first_tx.as_deref()));
            event.description = text;
            event.description_is_html = html;
            event.complete = true;
            return Ok(());
        }
        let history = http.get(&format!(
            "/REST/2.0/ticket/{id}/history?fields=Type,Creator,Created,Field,OldValue,NewValue&fields[Creator]=Name&per_page=500"
        ))?;
        let items = history.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
        let create = items.iter().find(|t| str_at(t, &["Type"]) == Some("Create"));
        if let Some(tx) = create.and_then(|t| str_at(t, &["id"])) {
            let (text, html) = transaction_text(http, tx)?;
            event.description = text;
            event.description_is_html = html;
        }
        {
            let by = |t: &serde_json::Value| name_of(t, "Creator");
            // the last reply or comment of a person, not ours
            let last_words = items
                .iter()
                .rev()
                .find(|t| matches!(str_at(t, &["Type"]), Some("Correspond" | "Comment")) && by(t).as_deref() != own)
                .and_then(|t| str_at(t, &["id"]));
            let notes = match last_words {
                Some(tx) => {
                    let (text, html) = transaction_text(http, tx)?;
                    let text = text.unwrap_or_default();
                    if html { triage_html::html_to_text(&text) } else { text }
                }
                None => String::new(),
            };
            let nobody = self.nobody(http)?;
            event.resolution = Some(Resolution {
                notes,
                first_contact: Some(first_contact(&items, own, nobody.as_deref())),
                opened_at: created,
                resolved_at: resolved.filter(|r| !r.starts_with("1970")),
                group_moves: None,
            });
        }
        event.complete = true;
        Ok(())
    }

    fn deliver(&self, http: &Http, external_id: &str, action: &Action) -> Result<(), CallError> {
        let id = segment(external_id);
        match action {
            Action::Note { text } => {
                let answer = http
                    .post(&format!("/REST/2.0/ticket/{id}/comment"), &serde_json::json!({"Content": text, "ContentType": "text/plain"}))?;
                check_messages(&answer, "the comment")
            }
            Action::Fields { fields } => {
                let mut body = serde_json::Map::new();
                let mut custom = serde_json::Map::new();
                for (field, value) in fields {
                    match field.strip_prefix("CF.") {
                        Some(cf) => custom.insert(cf.to_owned(), value.clone().into()),
                        None => body.insert(field.clone(), value.clone().into()),
                    };
                }
                if !custom.is_empty() {
                    body.insert("CustomFields".into(), custom.into());
                }
                let answer = http.put(&format!("/REST/2.0/ticket/{id}"), &serde_json::Value::Object(body))?;
                check_messages(&answer, "the field change")
            }
        }
    }

    fn has_marker(&self, http: &Http, external_id: &str, marker: &str) -> Result<bool, CallError> {
        let id = segment(external_id);
        let answer = http.get(&format!("/REST/2.0/ticket/{id}/attachments?fields=Content&orderby=id&order=DESC&per_page=50"))?;
        let items = answer.get("items").and_then(|i| i.as_array()).ok_or_else(|| bad("no items in attachments"))?;
        let line = format!("{}{marker}", crate::note::REF_PREFIX);
        Ok(items.iter().any(|a| str_at(a, &["Content"]).is_some_and(|c| c.contains(&line))))
    }
}

/// The text of a transaction's first text part, and whether it is HTML.
fn transaction_text(http: &Http, tx: &str) -> Result<(Option<String>, bool), CallError> {
    let answer = http.get(&format!("/REST/2.0/transaction/{}/attachments?fields=ContentType,Content", segment(tx)))?;
    let items = answer.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default();
    Ok(first_text(items.iter()))
}

/// The first `text/plain` part of attachments (else the first `text/html`), and whether HTML.
fn first_text<'a>(parts: impl Iterator<Item = &'a serde_json::Value> + Clone) -> (Option<String>, bool) {
    let of = |ct: &str| parts.clone().find(|a| str_at(a, &["ContentType"]) == Some(ct));
    match of("text/plain").map(|p| (p, false)).or_else(|| of("text/html").map(|p| (p, true))) {
        Some((p, html)) => (str_at(p, &["Content"]).map(String::from), html),
        None => (None, false),
    }
}

/// RT answers changes with a list of messages, 200 even when a change was refused
/// (`Queue No Such Queue does not exist`): a refusal is permanent.
fn check_messages(answer: &serde_json::Value, what: &str) -> Result<(), CallError> {
    let messages: Vec<&str> = answer.as_array().map(|a| a.iter().filter_map(|m| m.as_str()).collect()).unwrap_or_default();
    let refused: Vec<&str> = messages
        .iter()
        .copied()
        .filter(|m| {
            let m = m.to_ascii_lowercase();
            m.contains("does not exist") || m.contains("permission denied") || m.contains("invalid") || m.contains("could not")
        })
        .collect();
    if refused.is_empty() { Ok(()) } else { Err(CallError::Permanent(format!("RT refused {what}: {}", refused.join("; ")))) }
}

/// The first-contact rule over a ticket's history (see the module documentation); `nobody` is
/// the id of RT's placeholder owner, which does not count as an owner.
pub fn first_contact(history: &[serde_json::Value], own_user: Option<&str>, nobody: Option<&str>) -> bool {
    let mut owners = std::collections::BTreeSet::new();
    for t in history {
        let kind = str_at(t, &["Type"]).unwrap_or_default();
        let field = str_at(t, &["Field"]).unwrap_or_default();
        let by = name_of(t, "Creator");
        match (kind, field) {
            ("Status", _) if str_at(t, &["OldValue"]) == Some("resolved") => return false,
            ("Set", "Queue") if by.as_deref() != own_user => return false,
            ("Set", "Owner") | ("Take", _) | ("Give", _) | ("Steal", _) | ("Untake", _) => {
                if let Some(new) = str_at(t, &["NewValue"]).filter(|v| !v.is_empty() && Some(*v) != nobody) {
                    owners.insert(new.to_owned());
                }
            }
            _ => {}
        }
    }
    owners.len() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!("{}/../../tests/connectors/fixtures/rt/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
    }

    #[test]
    fn the_recorded_history_of_a_reopened_ticket_is_not_first_contact() {
        let history = fixture("24-history-with-fields.json");
        let items = history["items"].as_array().unwrap();
        let nobody = Some("6"); // the recording's RT (fixtures/rt/README.md)
        assert!(!first_contact(items, Some("triage-bot"), nobody), "it was resolved, reopened and resolved again");
        // the same history up to its first resolution: our own routing and one owner
        let first_resolution = items.iter().position(|t| t["OldValue"] == "open" && t["NewValue"] == "resolved").unwrap();
        let first = &items[..=first_resolution];
        assert!(first_contact(first, Some("triage-bot"), nobody), "routing by the connector is not a transfer");
        assert!(!first_contact(first, Some("someone-else"), nobody), "a person moving the queue is a transfer");

        // the agent takes the ticket, gives it back (RT sets Nobody), takes it again: one owner
        let owner = |kind: &str, old: &str, new: &str| serde_json::json!({"Type": kind, "Field": "Owner", "OldValue": old, "NewValue": new, "Creator": {"Name": "agent"}});
        let mut untaken = first[..first_resolution].to_vec();
        untaken.extend([owner("Untake", "46", "6"), owner("Take", "6", "46"), first[first_resolution].clone()]);
        assert!(first_contact(&untaken, Some("triage-bot"), nobody), "Nobody is not a second owner");
        assert!(!first_contact(&untaken, Some("triage-bot"), None), "without Nobody's id every owner counts");
        let mut passed_on = first[..first_resolution].to_vec();
        passed_on.extend([owner("Give", "46", "51"), first[first_resolution].clone()]);
        assert!(!first_contact(&passed_on, Some("triage-bot"), nobody), "given to a second agent is not first contact");
    }

    #[test]
    fn nobodys_id_is_read_from_the_user_record_as_rest2_answers_it() {
        // 34-user.json is RT's answer for a user; Nobody's has the same shape
        assert_eq!(user_id(&fixture("34-user.json")), Some(46), "the self link carries the id the history uses");
        assert_eq!(user_id(&serde_json::json!({"Name": "Nobody"})), None, "no self link, no id");
    }

    #[test]
    fn refusals_hidden_in_a_200_are_found() {
        assert!(check_messages(&fixture("16-update-queue-priority-cf.json"), "x").is_ok());
        assert!(check_messages(&fixture("14-comment-plain.json"), "x").is_ok());
        let err = check_messages(&fixture("17-update-unknown-queue.json"), "the field change").unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn times_are_written_as_rt_reads_them() {
        assert_eq!(rt_time("2026-11-30T15:19:43Z"), "2026-11-30 15:19:43");
        assert_eq!(segment("LastUpdated >= '2026-11-30 15:19:43'"), "LastUpdated%20%3E%3D%20%272026-11-30%2015%3A19%3A43%27");
    }
}
