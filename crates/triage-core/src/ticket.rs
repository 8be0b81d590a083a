//! Tickets as the engine sees them: checked text, tenant, channel.

use serde::{Deserialize, Serialize};

use crate::clean::{CleaningReport, boilerplate, clean_body, clean_body_after_title, clean_title};
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

    /// Parses a text for a named field with its own limit. NUL is refused (no store can hold
    /// it, and it marks binary data, not a ticket); any other control character (a form feed
    /// from a pasted document, C1 codes such as U+0081 from mis-decoded e-mail: 1.5% of the
    /// public ATA tickets) becomes a space, so a real ticket is never refused for it.
    pub fn parse_field(raw: &str, field: &'static str, max: usize) -> Result<Self> {
        if raw.contains('\0') {
            return Err(CoreError::ControlCharacter { field });
        }
        let stray = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        let spaced;
        let raw = if raw.chars().any(stray) {
            spaced = raw.replace(stray, " ");
            spaced.as_str()
        } else {
            raw
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(CoreError::EmptyText { field });
        }
        let chars = trimmed.chars().count();
        if chars > max {
            return Err(CoreError::TextTooLong { field, chars, max });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket's id in the ticketing system: 1-[`ExternalId::MAX_CHARS`] characters of
/// `A-Z a-z 0-9 . _ : / # -`, which covers RT and Zammad numbers, ServiceNow `INC0012345` and
/// sys_id hex, Jira `PROJ-123`. Nothing else (spaces, `@`, free text) can smuggle personal data
/// into the store, the index or the audit trail under the guise of an id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    /// Longest external id, in characters.
    pub const MAX_CHARS: usize = 64;
    /// The rule, as error messages and documentation state it.
    pub const RULE: &'static str = "use 1-64 characters of A-Z a-z 0-9 . _ : / # - (the ticket's id in the ticketing system)";

    /// Trims and checks an external id.
    pub fn parse(raw: &str) -> Result<Self> {
        let trimmed = raw.trim();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '#' | '-');
        if trimmed.is_empty() || trimmed.len() > Self::MAX_CHARS || !trimmed.chars().all(allowed) {
            let value = trimmed.chars().take(40).map(|c| if c.is_control() { '?' } else { c }).collect();
            return Err(CoreError::InvalidId { field: "external_id", value, expected: Self::RULE });
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// How the ticket reached the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Sent by e-mail.
    Email,
    /// Taken over the phone.
    Phone,
    /// Raised in the self-service portal.
    Portal,
    /// Raised in a chat.
    Chat,
    /// Raised in person at the desk. Written `walk_in`.
    WalkIn,
    /// Any other way, or not known. The default.
    #[default]
    Other,
}

/// A new ticket, checked and ready for the triage pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    /// Short summary, cleaned of reply and forward prefixes ([`clean_title`]); at most
    /// [`NewTicket::MAX_TITLE_CHARS`] characters as sent. Comes from the first line of the
    /// description when no title was sent.
    pub title: TicketText,
    /// Cleaned of quoted history, signatures, disclaimers, auto-replies and boilerplate
    /// ([`clean_body`]); empty when the caller gave a title only.
    pub description: Option<TicketText>,
    /// The tenant the ticket belongs to; `None` when the caller named none.
    pub tenant: Option<TenantId>,
    /// How the ticket reached the desk.
    pub channel: Channel,
    /// Caller reference from the ticketing system (1-[`NewTicket::MAX_REF_CHARS`] printable characters), if sent.
    pub caller: Option<String>,
    /// Checked by [`ExternalId::parse`].
    pub external_id: Option<String>,
    /// What cleaning removed from the description (see [`crate::clean`]); title prefixes are
    /// not counted.
    pub cleaning: CleaningReport,
}

impl NewTicket {
    /// Longest title, in characters.
    pub const MAX_TITLE_CHARS: usize = 500;
    /// Longest caller reference, in characters.
    pub const MAX_REF_CHARS: usize = 200;

    /// Checks raw ticket fields (limits apply to the text as sent), then cleans them with the
    /// process-wide boilerplate ([`crate::clean::boilerplate`]). A ticket needs a title or a
    /// description; when only a description is given, its first line serves as the title.
    pub fn parse(
        title: Option<&str>,
        description: Option<&str>,
        tenant: Option<&str>,
        channel: Channel,
        caller: Option<&str>,
        external_id: Option<&str>,
    ) -> Result<Self> {
        let mut cleaning = CleaningReport::default();
        let has_title = title.is_some_and(|t| !t.trim().is_empty());
        let description = match description.map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => {
                let checked = TicketText::parse_field(d, "description", TicketText::MAX_CHARS)?;
                // under a title, a description that is all e-mail tail may go whole
                let cleaned = if has_title {
                    clean_body_after_title(checked.as_str(), boilerplate())
                } else {
                    clean_body(checked.as_str(), boilerplate())
                };
                cleaning = cleaned.report();
                if cleaned.removed.is_empty() {
                    Some(checked)
                } else if cleaned.text.trim().is_empty() {
                    None
                } else {
                    Some(TicketText::parse_field(&cleaned.text, "description", TicketText::MAX_CHARS)?)
                }
            }
            None => None,
        };
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => {
                let checked = TicketText::parse_field(t, "title", Self::MAX_TITLE_CHARS)?;
                match clean_title(checked.as_str()) {
                    std::borrow::Cow::Borrowed(same) if same.len() == checked.as_str().len() => checked,
                    cleaned => TicketText::parse_field(&cleaned, "title", Self::MAX_TITLE_CHARS)?,
                }
            }
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
            external_id: external_id.map(|e| ExternalId::parse(e).map(ExternalId::into_string)).transpose()?,
            cleaning,
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
        // mis-decoded e-mail (C1 codes) and pasted documents (form feeds) are tickets too
        assert_eq!(TicketText::parse("printer\u{81}\u{8f}jam\u{c}page 2\u{7}").unwrap().as_str(), "printer  jam page 2");
        assert_eq!(TicketText::parse("\u{85}vpn\u{9d}").unwrap().as_str(), "vpn", "spaces at the ends are trimmed");
        assert_eq!(TicketText::parse("\u{1b}\u{7f}").unwrap_err(), CoreError::EmptyText { field: "text" });
        assert_eq!(TicketText::parse("tab\there\r\nnext").unwrap().as_str(), "tab\there\r\nnext", "tab and line breaks stay");
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
    fn a_new_ticket_holds_cleaned_text_and_says_what_was_removed() {
        let body = "Word crashes when I open any template.\n\nKind regards\nJane Smith\nICT Officer\nTel: 01632 960001\n\n\
                    Please consider the environment before printing this e-mail.";
        let t = NewTicket::parse(Some("RE: FW: Word crashes"), Some(body), None, Channel::Email, None, None).unwrap();
        assert_eq!(t.title.as_str(), "Word crashes");
        assert_eq!(t.description.as_ref().unwrap().as_str(), "Word crashes when I open any template.");
        assert_eq!(t.cleaning.removed.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ["signature", "disclaimer"]);
        assert_eq!(t.cleaning.kept_chars, "Word crashes when I open any template.".len());
        assert!(t.full_text().ends_with("template."), "the pipeline sees the cleaned text");
        let plain = NewTicket::parse(Some("Word crashes"), Some("on every template"), None, Channel::Email, None, None).unwrap();
        assert!(plain.cleaning.removed.is_empty());
        assert_eq!(plain.cleaning.removed_chars, 0);
    }

    #[test]
    fn external_ids_of_common_ticketing_systems_are_accepted_and_free_text_is_refused() {
        let longest = "9".repeat(ExternalId::MAX_CHARS);
        let too_long = "9".repeat(ExternalId::MAX_CHARS + 1);
        let cases: [(&str, bool, &str); 12] = [
            ("INC0012345", true, "ServiceNow incident number"),
            ("PROJ-123", true, "Jira key"),
            ("12345", true, "RT or Zammad number"),
            ("9d385017c611228701d22104cc95c371", true, "ServiceNow sys_id"),
            ("rt.example:4711/2#a_b", true, "every punctuation the rule allows"),
            (&longest, true, "64 characters is the longest"),
            (&too_long, false, "65 characters is too long"),
            ("", false, "empty"),
            ("jane doe", false, "a space: free text"),
            ("jane.doe@northmoor.gov.uk", false, "an e-mail address is not an id"),
            ("INC1\u{0}", false, "a control character"),
            ("Ünïcode", false, "letters outside ASCII"),
        ];
        for (raw, ok, why) in cases {
            assert_eq!(ExternalId::parse(raw).is_ok(), ok, "{why}: {raw}");
        }
        assert_eq!(ExternalId::parse("  INC001 ").unwrap().as_str(), "INC001", "trimmed");
        let err = NewTicket::parse(Some("x"), None, None, Channel::Other, None, Some("call 07700 900123")).unwrap_err();
        assert!(matches!(err, CoreError::InvalidId { field: "external_id", .. }), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn an_external_id_is_accepted_exactly_when_it_follows_the_rule(raw in "[A-Za-z0-9._:/#@ -]{0,70}") {
            let t = raw.trim();
            let ok = (1..=64).contains(&t.len()) && !t.contains(['@', ' ']);
            proptest::prop_assert_eq!(ExternalId::parse(&raw).is_ok(), ok);
        }
    }

    #[test]
    fn a_bad_tenant_is_refused() {
        let err = NewTicket::parse(Some("x"), None, Some("North Moor"), Channel::Other, None, None).unwrap_err();
        assert!(matches!(err, CoreError::InvalidTenant(_)));
    }
}
