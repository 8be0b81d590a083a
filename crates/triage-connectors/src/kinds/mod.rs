//! What differs between ticketing systems: how a webhook is signed and what it carries, how to
//! poll, how to write a note and set fields, and how each tells a first-contact resolution.
//! Everything else (deduplication, loop prevention, the outbox) is shared in `worker`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::{Connector, Kind};
use crate::http::{CallError, Http};

pub mod jira;
mod json;
pub mod rt;
pub mod servicenow;
pub mod zammad;

/// One change to a source ticket, normalised. Stored (as JSON) before the webhook is answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundEvent {
    /// Unique per change in the source (a delivery id, or ticket id and change time).
    pub event_key: String,
    /// The source ticket's id.
    pub external_id: String,
    /// Queue / group / organisation, for the tenant mapping.
    #[serde(default)]
    pub source: Option<String>,
    /// Subject.
    #[serde(default)]
    pub title: Option<String>,
    /// The caller's first message.
    #[serde(default)]
    pub description: Option<String>,
    /// `text/html` descriptions say so.
    #[serde(default)]
    pub description_is_html: bool,
    /// Who made this change (login or e-mail as the system names users).
    #[serde(default)]
    pub author: Option<String>,
    /// The ticket's current field values, by the system's field name.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Set when the ticket is resolved or closed.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    /// Whether the event is complete; a polled event is completed by [`System::complete`].
    #[serde(default)]
    pub complete: bool,
}

impl InboundEvent {
    /// The description as plain text: HTML bodies (Zammad and RT articles, Jira's rendered
    /// fields) through the same conversion as the API's (`triage-html`), so a quoted thread in
    /// an HTML reply reaches the e-mail cleaner as `> ` lines.
    pub fn description_text(&self) -> Option<String> {
        self.description.as_deref().map(|d| if self.description_is_html { triage_html::html_to_text(d) } else { d.to_owned() })
    }
}

/// How a source ticket was resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// What the agent wrote when resolving (the last reply or work note, or close notes).
    pub notes: String,
    /// Derived by the system's first-contact rule (see each kind's documentation).
    pub first_contact: Option<bool>,
    /// When it was opened (RFC 3339).
    pub opened_at: Option<String>,
    /// When it was resolved (RFC 3339).
    pub resolved_at: Option<String>,
    /// Moves between assignment groups as the system itself counts them, our own routing
    /// included (ServiceNow's `reassignment_count`). When set and above zero, the worker keeps
    /// `first_contact` only if the one move was ours: we set the group and it still holds.
    #[serde(default)]
    pub group_moves: Option<u64>,
}

/// A write-back action, as queued in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// An internal note (never visible to the caller).
    Note {
        /// The note's text (ends with the marker line).
        text: String,
    },
    /// Field values to set, by the system's field name.
    Fields {
        /// Field -> value.
        fields: BTreeMap<String, String>,
    },
}

impl Action {
    /// `note` or `fields`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Note { .. } => "note",
            Self::Fields { .. } => "fields",
        }
    }
}

/// A polled batch: the events, and the cursor to save once they are stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Poll {
    /// Changed tickets (not complete yet).
    pub events: Vec<InboundEvent>,
    /// Where the next poll starts; `None` leaves the cursor as it was.
    pub cursor: Option<String>,
}

/// Why a webhook delivery is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No signature, or a wrong one: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Signed, but not a payload this kind understands: 422.
    #[error("{0}")]
    Invalid(String),
    /// This kind is polled, not pushed: 404 for the route.
    #[error("connector kind `{0}` does not receive webhooks; it is polled")]
    NotPush(&'static str),
}

/// The request headers a webhook check needs (lower-case names).
pub type Headers = BTreeMap<String, String>;

/// One ticketing system's behaviour.
pub trait System: Send + Sync {
    /// Verifies a webhook delivery's signature (in constant time) and parses it into events.
    fn parse_webhook(&self, connector: &Connector, headers: &Headers, body: &[u8]) -> Result<Vec<InboundEvent>, WebhookError> {
        let _ = (headers, body);
        Err(WebhookError::NotPush(connector.spec.kind.as_str()))
    }

    /// Tickets changed since `cursor` (pull kinds).
    fn poll(&self, http: &Http, connector: &Connector, cursor: Option<&str>) -> Result<Poll, CallError> {
        let _ = (http, connector, cursor);
        Ok(Poll::default())
    }

    /// Fills in what the event lacks (text, fields, resolution) from the system.
    fn complete(&self, http: &Http, connector: &Connector, event: &mut InboundEvent) -> Result<(), CallError> {
        let _ = (http, connector);
        event.complete = true;
        Ok(())
    }

    /// Delivers one action to a ticket.
    fn deliver(&self, http: &Http, external_id: &str, action: &Action) -> Result<(), CallError>;

    /// Whether the ticket already carries a note with this marker (a delivery in doubt).
    fn has_marker(&self, http: &Http, external_id: &str, marker: &str) -> Result<bool, CallError>;
}

/// The behaviour of a connector's kind.
pub fn system(kind: Kind) -> Box<dyn System> {
    match kind {
        Kind::Rt => Box::new(rt::Rt::default()),
        Kind::Zammad => Box::new(zammad::Zammad),
        Kind::Servicenow => Box::new(servicenow::ServiceNow),
        Kind::Jira => Box::new(jira::Jira),
    }
}

/// Percent-encoding of everything but unreserved characters, for ids placed in URL paths (ids
/// are checked, but never trusted) and for query-string values.
pub fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_core::clean::{Boilerplate, RemovedKind, clean_body};

    #[test]
    fn a_quoted_thread_in_an_html_article_reaches_the_cleaner_as_a_quote() {
        // a Zammad / RT article as an e-mail client writes a reply: the new words, then the
        // earlier message in a <blockquote> without any "wrote:" header line
        let event = InboundEvent {
            description: Some(
                "<div>The VPN still drops every ten minutes since the update.</div>\
                 <blockquote type=\"cite\"><div>Please restart the laptop and try again.</div>\
                 <div>Northmoor ICT Service Desk</div></blockquote>"
                    .into(),
            ),
            description_is_html: true,
            ..InboundEvent::default()
        };
        let text = event.description_text().expect("a description");
        assert!(text.lines().any(|l| l.starts_with("> Please restart")), "quoted lines are marked: {text:?}");
        let cleaned = clean_body(&text, &Boilerplate::default_uk());
        assert_eq!(cleaned.text, "The VPN still drops every ten minutes since the update.");
        assert!(cleaned.removed.contains(RemovedKind::Quote));

        let plain = InboundEvent { description: Some("<b>not html</b> said as text".into()), ..InboundEvent::default() };
        assert_eq!(plain.description_text().as_deref(), Some("<b>not html</b> said as text"), "text bodies are taken as written");
    }
}
