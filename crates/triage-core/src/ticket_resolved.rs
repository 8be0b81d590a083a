//! Resolved tickets: what agents actually did, the data the engine learns from.

use serde::{Deserialize, Serialize};

use crate::redact::redact;
use crate::tenant::TenantId;
use crate::ticket::{ExternalId, NewTicket, TicketText};
use crate::{CoreError, Result};

/// Longest resolution notes, in characters.
pub const MAX_NOTES_CHARS: usize = 20_000;
/// Longest label value (category, priority, group), in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// Longest label an agent may send as a correction, in characters.
pub const MAX_CORRECTED_LABEL_CHARS: usize = 64;

/// Checks a label an agent sent as a correction (1-[`MAX_CORRECTED_LABEL_CHARS`] characters, no
/// control characters) and redacts it like ticket text: corrections are stored and train the
/// service-wide model, so free text in them must not carry personal data.
pub fn parse_corrected_label(raw: &str) -> Result<String> {
    let trimmed = raw.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_CORRECTED_LABEL_CHARS || trimmed.chars().any(char::is_control) {
        return Err(CoreError::InvalidId {
            field: "corrected_labels",
            value: redact(&trimmed.chars().take(40).filter(|c| !c.is_control()).collect::<String>()).into_owned(),
            expected: "send a label of 1-64 characters without control characters",
        });
    }
    Ok(redact(trimmed).into_owned())
}

/// A checked, redacted resolved ticket, ready to store and learn from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedTicket {
    /// The tenant the ticket belongs to.
    pub tenant: TenantId,
    /// Checked by [`ExternalId::parse`].
    pub external_id: String,
    /// Title, cleaned ([`crate::clean::clean_title`]) and redacted.
    pub title: String,
    /// Description, cleaned of e-mail tails ([`crate::clean::clean_body`]) and redacted; empty
    /// when none was sent.
    pub description: String,
    /// Category the agent filed the ticket under, if any (at most [`MAX_LABEL_CHARS`] characters).
    pub category: Option<String>,
    /// Priority the ticket had, if any (at most [`MAX_LABEL_CHARS`] characters).
    pub priority: Option<String>,
    /// Team that resolved the ticket, if any (at most [`MAX_LABEL_CHARS`] characters).
    pub assignment_group: Option<String>,
    /// What the agent did, redacted (not cleaned: agents write it); empty when none were sent.
    pub resolution_notes: String,
    /// Whether the first person to take the ticket resolved it; `None` when not known.
    pub resolved_at_first_contact: Option<bool>,
    /// Id of the knowledge-base article used, if any.
    pub kb_article: Option<String>,
    /// Times in the stored form, UTC `YYYY-MM-DDTHH:MM:SSZ` (see [`crate::time::Timestamp`]).
    pub opened_at: Option<String>,
    /// When the ticket was resolved, in the stored form; `None` when not sent.
    pub resolved_at: Option<String>,
}

/// Raw fields of a resolved ticket, as they arrive.
#[derive(Debug, Clone, Default)]
pub struct RawResolved<'a> {
    /// Tenant id, checked by [`TenantId::parse`].
    pub tenant: &'a str,
    /// The ticket's id in the ticketing system, checked by [`ExternalId::parse`].
    pub external_id: &'a str,
    /// Title; a ticket needs a title or a description.
    pub title: Option<&'a str>,
    /// Description; its first line serves as the title when no title is sent.
    pub description: Option<&'a str>,
    /// Category label, if any.
    pub category: Option<&'a str>,
    /// Priority label, if any.
    pub priority: Option<&'a str>,
    /// Assignment group label, if any.
    pub assignment_group: Option<&'a str>,
    /// What the agent did, if recorded.
    pub resolution_notes: Option<&'a str>,
    /// Whether the ticket was resolved at first contact, if known.
    pub resolved_at_first_contact: Option<bool>,
    /// Id of the knowledge-base article used, if any.
    pub kb_article: Option<&'a str>,
    /// When the ticket was opened, as RFC 3339, if known.
    pub opened_at: Option<&'a str>,
    /// When the ticket was resolved, as RFC 3339, if known.
    pub resolved_at: Option<&'a str>,
}

impl ResolvedTicket {
    /// Checks, cleans title and description (as [`NewTicket::parse`] does), and redacts.
    /// Personal data never leaves this function unredacted.
    pub fn parse(raw: &RawResolved<'_>) -> Result<Self> {
        let tenant = TenantId::parse(raw.tenant)?;
        let external_id = ExternalId::parse(raw.external_id)?;
        let ticket = NewTicket::parse(raw.title, raw.description, Some(raw.tenant), Default::default(), None, None)?;
        let notes = match raw.resolution_notes.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => TicketText::parse_field(n, "resolution_notes", MAX_NOTES_CHARS)?.as_str().to_owned(),
            None => String::new(),
        };
        let label = |v: Option<&str>, field: &'static str| -> Result<Option<String>> {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) if v.chars().count() <= MAX_LABEL_CHARS && !v.chars().any(char::is_control) => Ok(Some(v.to_owned())),
                Some(v) => {
                    Err(CoreError::InvalidId { field, value: v.chars().take(40).collect(), expected: "use 1-200 printable characters" })
                }
            }
        };
        let timestamp = |v: Option<&str>, field: &'static str| -> Result<Option<String>> {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => match crate::time::Timestamp::parse(v) {
                    Ok(t) => Ok(Some(t.to_stored())),
                    Err(e) => Err(CoreError::InvalidTime { field, value: v.chars().take(40).collect(), reason: e.to_string() }),
                },
            }
        };
        Ok(Self {
            tenant,
            external_id: external_id.into_string(),
            title: redact(ticket.title.as_str()).into_owned(),
            description: ticket.description.as_ref().map(|d| redact(d.as_str()).into_owned()).unwrap_or_default(),
            category: label(raw.category, "category")?,
            priority: label(raw.priority, "priority")?,
            assignment_group: label(raw.assignment_group, "assignment_group")?,
            resolution_notes: redact(&notes).into_owned(),
            resolved_at_first_contact: raw.resolved_at_first_contact,
            kb_article: label(raw.kb_article, "kb_article")?,
            opened_at: timestamp(raw.opened_at, "opened_at")?,
            resolved_at: timestamp(raw.resolved_at, "resolved_at")?,
        })
    }

    /// Title and description, the text the engine classifies and searches.
    pub fn text(&self) -> String {
        if self.description.is_empty() { self.title.clone() } else { format!("{}\n{}", self.title, self.description) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resolved_ticket_stores_the_cleaned_title_and_description_and_the_notes_as_written() {
        let raw = RawResolved {
            tenant: "northmoor",
            external_id: "INC0012345",
            title: Some("RE: Printer offline"),
            description: Some("Printer PRN-214 shows offline.\n\nMany thanks,\nJane Smith\nTel: 01632 960001"),
            resolution_notes: Some("Restarted the spooler.\n\nKind regards\nService Desk"),
            ..Default::default()
        };
        let t = ResolvedTicket::parse(&raw).unwrap();
        assert_eq!(t.title, "Printer offline");
        assert_eq!(t.description, "Printer PRN-214 shows offline.");
        assert_eq!(t.resolution_notes, "Restarted the spooler.\n\nKind regards\nService Desk", "agents' notes are not cleaned");
    }

    #[test]
    fn corrected_labels_are_bounded_and_redacted_like_ticket_text() {
        let longest = "x".repeat(MAX_CORRECTED_LABEL_CHARS);
        let too_long = "x".repeat(MAX_CORRECTED_LABEL_CHARS + 1);
        let cases: [(&str, Option<&str>, &str); 7] = [
            ("accounts", Some("accounts"), "a plain label"),
            ("  p2 ", Some("p2"), "trimmed"),
            ("ring 07700.900.125", Some("ring [piiphone]"), "personal data is redacted before it is stored"),
            (&longest, Some(&longest), "64 characters is the longest"),
            (&too_long, None, "65 characters is too long"),
            (" ", None, "empty"),
            ("acc\u{7}ounts", None, "a control character"),
        ];
        for (raw, expected, why) in cases {
            assert_eq!(parse_corrected_label(raw).ok().as_deref(), expected, "{why}");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_corrected_label_is_never_longer_than_the_limit_and_never_empty(raw in "\\PC{0,80}") {
            if let Ok(label) = parse_corrected_label(&raw) {
                proptest::prop_assert!(!label.is_empty());
                proptest::prop_assert!(raw.trim().chars().count() <= MAX_CORRECTED_LABEL_CHARS);
            }
        }
    }

    #[test]
    fn resolved_tickets_are_checked_and_redacted() {
        let raw = RawResolved {
            tenant: "northmoor",
            external_id: " INC001 ",
            title: Some("Locked out, call 07700 900123"),
            description: Some("user jane@northmoor.gov.uk locked"),
            category: Some("accounts"),
            resolution_notes: Some("unlocked; rang back on 07700 900123"),
            resolved_at_first_contact: Some(true),
            resolved_at: Some("2026-11-20T10:00:00Z"),
            ..RawResolved::default()
        };
        let t = ResolvedTicket::parse(&raw).unwrap();
        assert_eq!(t.external_id, "INC001");
        assert_eq!(t.title, "Locked out, call [piiphone]");
        assert_eq!(t.description, "user [piiemail] locked");
        assert_eq!(t.resolution_notes, "unlocked; rang back on [piiphone]");
        assert!(ResolvedTicket::parse(&RawResolved { resolved_at: Some("yesterday"), ..raw.clone() }).is_err());
        let offset = ResolvedTicket::parse(&RawResolved { opened_at: Some("2026-07-01T00:30:00+01:00"), ..raw.clone() }).unwrap();
        assert_eq!(offset.opened_at.as_deref(), Some("2026-06-30T23:30:00Z"), "times are stored in UTC");
        assert!(ResolvedTicket::parse(&RawResolved { tenant: "North", ..raw.clone() }).is_err());
        assert!(ResolvedTicket::parse(&RawResolved { external_id: " ", ..raw.clone() }).is_err());
        assert!(ResolvedTicket::parse(&RawResolved { external_id: "ring jane on 07700 900123", ..raw }).is_err(), "free text is no id");
    }
}

#[cfg(test)]
mod time_tests {
    use super::*;

    fn with_times(opened_at: Option<&'static str>, resolved_at: Option<&'static str>) -> RawResolved<'static> {
        RawResolved {
            tenant: "northmoor",
            external_id: "INC1",
            title: Some("printer jam"),
            opened_at,
            resolved_at,
            ..RawResolved::default()
        }
    }

    #[test]
    fn impossible_or_garbled_times_are_refused_naming_the_field() {
        let cases = [
            ("2026-99-99T99:99:99Z", "month 99", "impossible month"),
            ("2026-02-30T09:00:00Z", "no day 30", "february 30"),
            ("2026-11-25T09:00:0\u{e9}Z", "not ASCII", "a multi-byte character at byte 19 used to panic"),
        ];
        for (bad, reason, why) in cases {
            for (raw, field) in [(with_times(Some(bad), None), "opened_at"), (with_times(None, Some(bad)), "resolved_at")] {
                let e = ResolvedTicket::parse(&raw).unwrap_err();
                assert!(matches!(e, CoreError::InvalidTime { field: f, .. } if f == field), "{why}: {e}");
                let message = e.to_string();
                assert!(message.starts_with(field) && message.contains(reason) && message.contains("RFC 3339"), "{why}: {message}");
            }
        }
    }
}
