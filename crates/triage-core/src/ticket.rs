//! Tickets as the engine sees them: checked text, tenant, channel.

use serde::{Deserialize, Serialize};

use crate::tenant::TenantId;
use crate::{CoreError, Result};

/// A checked piece of ticket text: trimmed, not empty, within [`TicketText::MAX_CHARS`], and free
/// of NUL and other control characters (tab and new lines are kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketText(String);

impl TicketText {
    /// Longest accepted text, in characters. One constant for the check and the message.
    pub const MAX_CHARS: usize = 20_000;

    /// Parses a description-sized text.
    pub fn parse(raw: &str) -> Result<Self> {
        Self::parse_field(raw, "text", Self::MAX_CHARS)
    }

    /// Parses a text for a named field with its own limit.
    pub fn parse_field(raw: &str, field: &'static str, max: usize) -> Result<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(CoreError::EmptyText { field });
        }
        let chars = trimmed.chars().count();
        if chars > max {
            return Err(CoreError::TextTooLong { field, chars, max });
        }
        if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(CoreError::ControlCharacter { field });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the ticket reached the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Phone,
    Portal,
    Chat,
    WalkIn,
    #[default]
    Other,
}

/// A new ticket, checked and ready for the triage pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub title: TicketText,
    /// Empty when the caller gave a title only.
    pub description: Option<TicketText>,
    pub tenant: Option<TenantId>,
    pub channel: Channel,
    pub caller: Option<String>,
    pub external_id: Option<String>,
}

impl NewTicket {
    /// Longest title, in characters.
    pub const MAX_TITLE_CHARS: usize = 500;
    /// Longest external id or caller reference, in characters.
    pub const MAX_REF_CHARS: usize = 200;

    /// Checks raw ticket fields. A ticket needs a title or a description; when only a
    /// description is given, its first line serves as the title.
    pub fn parse(
        title: Option<&str>,
        description: Option<&str>,
        tenant: Option<&str>,
        channel: Channel,
        caller: Option<&str>,
        external_id: Option<&str>,
    ) -> Result<Self> {
        let description = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => Some(TicketText::parse_field(d, "description", TicketText::MAX_CHARS)?),
            None => None,
        };
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => TicketText::parse_field(t, "title", Self::MAX_TITLE_CHARS)?,
            None => match &description {
                Some(d) => {
                    let first_line: String = d.as_str().lines().next().unwrap_or_default().chars().take(Self::MAX_TITLE_CHARS).collect();
                    TicketText::parse_field(&first_line, "title", Self::MAX_TITLE_CHARS)?
                }
                None => return Err(CoreError::EmptyText { field: "title and description" }),
            },
        };
        let tenant = tenant.map(TenantId::parse).transpose()?;
        Ok(Self {
            title,
            description,
            tenant,
            channel,
            caller: caller.map(|c| parse_reference(c, "caller")).transpose()?,
            external_id: external_id.map(|e| parse_reference(e, "external_id")).transpose()?,
        })
    }

    /// Title and description as one text, the form the pipeline searches and classifies.
    pub fn full_text(&self) -> String {
        match &self.description {
            Some(d) => format!("{}\n{}", self.title.as_str(), d.as_str()),
            None => self.title.as_str().to_owned(),
        }
    }
}

fn parse_reference(raw: &str, field: &'static str) -> Result<String> {
    let trimmed = raw.trim();
    let ok = !trimmed.is_empty() && trimmed.chars().count() <= NewTicket::MAX_REF_CHARS && !trimmed.chars().any(char::is_control);
    if ok {
        Ok(trimmed.to_owned())
    } else {
        Err(CoreError::InvalidId { field, value: trimmed.chars().take(40).collect(), expected: "use 1-200 printable characters" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_text_is_trimmed_and_checked() {
        assert_eq!(TicketText::parse("  vpn down \n").unwrap().as_str(), "vpn down");
        assert_eq!(TicketText::parse(" \t ").unwrap_err(), CoreError::EmptyText { field: "text" });
        assert!(matches!(TicketText::parse("a\0b"), Err(CoreError::ControlCharacter { .. })));
        let long = "é".repeat(TicketText::MAX_CHARS + 1);
        assert!(matches!(TicketText::parse(&long), Err(CoreError::TextTooLong { chars, .. }) if chars == TicketText::MAX_CHARS + 1));
        assert!(TicketText::parse(&"é".repeat(TicketText::MAX_CHARS)).is_ok());
    }

    #[test]
    fn a_ticket_needs_a_title_or_a_description() {
        let err = NewTicket::parse(Some(" "), None, None, Channel::Email, None, None).unwrap_err();
        assert_eq!(err, CoreError::EmptyText { field: "title and description" });
        let t = NewTicket::parse(None, Some("printer jammed\nfloor 2"), None, Channel::Email, None, None).unwrap();
        assert_eq!(t.title.as_str(), "printer jammed");
        assert_eq!(t.full_text(), "printer jammed\nprinter jammed\nfloor 2");
    }

    #[test]
    fn a_bad_tenant_is_refused() {
        let err = NewTicket::parse(Some("x"), None, Some("North Moor"), Channel::Other, None, None).unwrap_err();
        assert!(matches!(err, CoreError::InvalidTenant(_)));
    }
}
