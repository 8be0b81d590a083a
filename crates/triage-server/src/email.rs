//! Raw e-mail (`Content-Type: message/rfc822`) to ticket text, at the edge (issue 16).
//!
//! MIME is parsed by `mail-parser` (RFC 5322 headers, RFC 2047 encoded words, nested
//! multiparts, quoted-printable and base64, ISO-8859-*, Windows-125x, UTF-8 and more). From the
//! message: the subject becomes the title; the best text becomes the description (every
//! `text/plain` body part in reading order; when there is none, the `text/html` body converted
//! by [`crate::html::html_to_text`]); attachments are named in the answer (name, type, size)
//! and their contents dropped here: they are never stored, indexed or logged.
//!
//! A message is refused (`invalid_email`) when it has no header block, when a multipart is cut
//! short (no closing boundary), when its text is in a charset that cannot be decoded, or when it
//! has neither a subject nor any text. A message with a subject and only attachments is taken:
//! the subject alone is a ticket.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use serde::Serialize;
use triage_core::ticket::{NewTicket, TicketText};
use utoipa::ToSchema;

use crate::problem::{ApiError, ErrorCode};

/// What the ticket takes from a message.
#[derive(Debug)]
pub(crate) struct ParsedEmail {
    /// The decoded subject, if any (cut to the title limit).
    pub title: Option<String>,
    /// The best text of the body, if any (cut to the description limit).
    pub description: Option<String>,
    /// Where the answer says the text came from, and what was left out.
    pub view: EmailView,
}

/// What triage took from a raw e-mail (`Content-Type: message/rfc822` only).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EmailView {
    /// The body part the description came from: `text/plain` or `text/html` (converted to
    /// text); `none` when the message had no text and the subject alone is the ticket.
    pub body_part: &'static str,
    /// True when the subject or the text was longer than a ticket holds and was cut.
    pub truncated: bool,
    /// Attachments (and inline images): named here, never stored.
    pub attachments: Vec<AttachmentView>,
}

/// One attachment of a raw e-mail: its name and size only. Its contents are not kept.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AttachmentView {
    /// The file name the sender gave it (`unnamed` when none).
    pub name: String,
    /// Its MIME type, e.g. `image/png`.
    pub content_type: String,
    /// Its decoded size in bytes.
    pub bytes: usize,
}

/// Longest attachment name shown, in characters.
const MAX_NAME_CHARS: usize = 200;

fn invalid(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidEmail, detail)
}

/// Parses a raw message into ticket fields, or says what is wrong with it.
pub(crate) fn parse_email(raw: &[u8]) -> Result<ParsedEmail, ApiError> {
    if !starts_with_header(raw) {
        return Err(invalid(
            "the body does not start with a header block (`Subject: ...`, `From: ...`); send the whole message as `Content-Type: message/rfc822`",
        ));
    }
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or_else(|| invalid("the message could not be parsed; send the whole message, headers first"))?;
    check_multiparts_complete(&message, raw)?;

    let mut truncated = false;
    // an encoded word in a charset that cannot be decoded leaves replacement characters, which
    // say nothing: they are dropped, and a subject of nothing else is no subject
    let subject = message.subject().map(|s| s.replace('\u{fffd}', ""));
    let title = subject.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        let (s, cut) = cut_chars(&normalise(s).replace('\n', " "), NewTicket::MAX_TITLE_CHARS);
        truncated |= cut;
        s
    });
    let (body_part, text) = best_text(&message)?;
    let description = text.map(|t| {
        // a long quoted thread is cleaned off before the cut, so the cut never pushes out what
        // the caller wrote (the answer's `cleaning` then counts only what is left to remove)
        let t = if t.chars().count() > TicketText::MAX_CHARS {
            let boilerplate = triage_core::clean::boilerplate();
            let cleaned = if title.is_some() {
                triage_core::clean::clean_body_after_title(&t, boilerplate)
            } else {
                triage_core::clean::clean_body(&t, boilerplate)
            };
            cleaned.text.into_owned()
        } else {
            t
        };
        let (t, cut) = cut_chars(&t, TicketText::MAX_CHARS);
        truncated |= cut;
        t
    });
    if title.is_none() && description.is_none() {
        return Err(invalid("the message has no subject and no text part; a ticket needs one of them"));
    }
    let attachments = message
        .attachments()
        .map(|part| AttachmentView {
            name: part
                .attachment_name()
                .map(|n| cut_chars(&without_format_characters(&normalise(n).replace('\n', " ")), MAX_NAME_CHARS).0)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| "unnamed".to_owned()),
            content_type: part.content_type().map_or_else(
                || "application/octet-stream".to_owned(),
                |ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")).to_ascii_lowercase(),
            ),
            bytes: part.body.len(),
        })
        .collect();
    Ok(ParsedEmail { title, description, view: EmailView { body_part, truncated, attachments } })
}

/// A message starts with a header field: a name of printable ASCII without `:`, then `:`.
fn starts_with_header(raw: &[u8]) -> bool {
    let first_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let Some(colon) = first_line.iter().position(|&b| b == b':') else { return false };
    colon > 0 && first_line[..colon].iter().all(|&b| (b'!'..=b'~').contains(&b))
}

/// Every multipart must close with `--boundary--`; a message without it was cut short, and its
/// last part may be missing text.
fn check_multiparts_complete(message: &Message<'_>, raw: &[u8]) -> Result<(), ApiError> {
    // each check scans the whole message: bounded, so a crafted message cannot make it quadratic
    let multiparts =
        message.parts.iter().filter(|p| p.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart"))).count();
    if multiparts > MAX_MULTIPARTS {
        return Err(invalid(format!(
            "the message has {multiparts} multipart sections; at most {MAX_MULTIPARTS} are read: send the e-mail as the mail client wrote it"
        )));
    }
    for part in &message.parts {
        let Some(ct) = part.content_type() else { continue };
        if !ct.ctype().eq_ignore_ascii_case("multipart") {
            continue;
        }
        let Some(boundary) = ct.attribute("boundary") else {
            return Err(invalid("a multipart part has no boundary parameter; the message is malformed"));
        };
        let closing = format!("--{boundary}--");
        if !contains(raw, closing.as_bytes()) {
            return Err(invalid("a multipart body ends without its closing boundary; the message was cut short, send it whole"));
        }
    }
    Ok(())
}

/// Most multipart sections (alternative, mixed, related, nested) one message may have; real mail
/// clients nest a handful.
const MAX_MULTIPARTS: usize = 64;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The plain-text body parts joined, else the HTML ones converted; `none` when neither holds
/// text. A text part whose declared charset could not be decoded is refused.
fn best_text(message: &Message<'_>) -> Result<(&'static str, Option<String>), ApiError> {
    let mut plain = Vec::new();
    let mut html = Vec::new();
    for part in message.text_bodies() {
        check_charset(part)?;
        if let PartType::Text(t) = &part.body
            && !t.trim().is_empty()
        {
            plain.push(normalise(t));
        }
    }
    // HTML only when there is no plain text: converting costs more, and the plain part wins
    if plain.is_empty() {
        for part in message.html_bodies() {
            check_charset(part)?;
            if let PartType::Html(h) = &part.body {
                let t = crate::html::html_to_text(h);
                if !t.trim().is_empty() {
                    html.push(t);
                }
            }
        }
    }
    plain.dedup();
    html.dedup();
    Ok(if !plain.is_empty() {
        ("text/plain", Some(plain.join("\n\n")))
    } else if !html.is_empty() {
        ("text/html", Some(html.join("\n\n")))
    } else {
        ("none", None)
    })
}

/// A part that names a charset `mail-parser` does not know was decoded as UTF-8; if that left
/// replacement characters, the text is garbled and the message is refused rather than triaged
/// on noise.
fn check_charset(part: &mail_parser::MessagePart<'_>) -> Result<(), ApiError> {
    let Some(charset) = part.content_type().and_then(|ct| ct.attribute("charset")) else { return Ok(()) };
    let known = mail_parser::decoders::charsets::map::charset_decoder(charset.as_bytes()).is_some()
        || matches!(charset.to_ascii_lowercase().as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii");
    let garbled = matches!(&part.body, PartType::Text(t) | PartType::Html(t) if t.contains('\u{fffd}'));
    if !known && garbled {
        let shown: String = charset.chars().filter(|c| c.is_ascii_graphic()).take(40).collect();
        return Err(invalid(format!("the text is in charset `{shown}`, which cannot be decoded; send it as UTF-8")));
    }
    Ok(())
}

/// `\r\n` to `\n`, other control characters (tab aside) to spaces, trailing spaces off.
fn normalise(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out: String = text.chars().map(|c| if c.is_control() && !matches!(c, '\n' | '\t') { ' ' } else { c }).collect();
    out.truncate(out.trim_end().len());
    out
}

/// Drops bidirectional and other invisible format characters (a right-to-left override makes
/// `gnp.exe` read as `exe.png`), so a name reads as it is.
fn without_format_characters(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(*c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{061c}'))
        .collect()
}

/// The first `max` characters, and whether anything was cut.
fn cut_chars(text: &str, max: usize) -> (String, bool) {
    match text.char_indices().nth(max) {
        Some((i, _)) => (text[..i].to_owned(), true),
        None => (text.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_block_is_recognised_by_its_first_line() {
        let cases: [(&[u8], bool, &str); 5] = [
            (b"Subject: hi\r\n\r\nbody", true, "a subject line"),
            (b"X-Mailer: Outlook 16\n", true, "any field name"),
            (b"Hello, my printer is broken", false, "prose, no colon"),
            (b"Dear desk: my printer", false, "a colon after a space is not a field name"),
            (b": empty name", false, "a field needs a name"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(starts_with_header(raw), want, "{why}");
        }
    }

    #[test]
    fn attachment_names_lose_invisible_format_characters() {
        assert_eq!(without_format_characters("\u{202e}gnp.exe"), "gnp.exe", "a right-to-left override cannot disguise the extension");
        assert_eq!(without_format_characters("payslip\u{200b}.pdf"), "payslip.pdf");
        assert_eq!(without_format_characters("Gehaltsabrechnung März.pdf"), "Gehaltsabrechnung März.pdf");
    }

    #[test]
    fn an_undecodable_encoded_word_leaves_no_replacement_characters_in_the_title() {
        // 0xFF 0xFE is not UTF-8: the encoded word decodes to replacement characters
        let raw = b"Subject: =?utf-8?B?//4=?= VPN down\r\n\r\nIt drops every ten minutes.\r\n";
        let parsed = parse_email(raw).expect("a message with text");
        let title = parsed.title.expect("the readable part of the subject");
        assert!(!title.contains('\u{fffd}'), "{title:?}");
        assert!(title.contains("VPN down"), "{title:?}");

        let raw = b"Subject: =?utf-8?B?//4=?=\r\n\r\nIt drops every ten minutes.\r\n";
        assert_eq!(parse_email(raw).expect("a message with text").title, None, "nothing readable is no subject");
    }

    #[test]
    fn cutting_counts_characters_not_bytes() {
        assert_eq!(cut_chars("ééé", 2), ("éé".to_owned(), true));
        assert_eq!(cut_chars("ab", 2), ("ab".to_owned(), false));
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_email(&bytes);
        }

        #[test]
        fn parsing_mime_shaped_noise_never_panics(text in "(Subject: [a-z=?]{0,10}\r\n|Content-Type: (multipart/(mixed|alternative)|text/(plain|html)); (boundary=\"b\"|charset=\"(utf-8|iso-8859-1|x-unknown)\")\r\n|Content-Transfer-Encoding: (base64|quoted-printable)\r\n|--b\r\n|--b--\r\n|\r\n|[a-zA-Z0-9=+/<>]{0,20}\r\n){0,20}") {
            if let Ok(e) = parse_email(text.as_bytes()) {
                proptest::prop_assert!(e.title.is_some() || e.description.is_some());
            }
        }
    }
}
