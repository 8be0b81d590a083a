//! Personal-data redaction: e-mail addresses, UK phone numbers, National Insurance numbers,
//! payment card numbers (Luhn-checked) and UK postcodes are replaced by typed placeholders
//! before anything is learned, stored or indexed.
//!
//! Placeholders are single tokens that no caller writes (`[piiemail]`), so the shared analyzer
//! keeps them as one term and a model can still learn that "a phone number was given".
//! Ticket numbers (`INC0012345`), dates and version strings are left alone.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// A kind of personal data, with its placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PiiKind {
    Email,
    Card,
    NationalInsurance,
    Phone,
    Postcode,
}

impl PiiKind {
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[piiemail]",
            PiiKind::Card => "[piicard]",
            PiiKind::NationalInsurance => "[piinino]",
            PiiKind::Phone => "[piiphone]",
            PiiKind::Postcode => "[piipostcode]",
        }
    }
}

struct Pattern {
    kind: PiiKind,
    regex: Regex,
    check: fn(&str) -> bool,
}

static PATTERNS: LazyLock<Vec<Pattern>> = LazyLock::new(|| {
    let p = |kind, re: &str, check: fn(&str) -> bool| Pattern { kind, regex: Regex::new(re).expect("redaction pattern compiles"), check };
    vec![
        p(PiiKind::Email, r"(?i)\b[a-z0-9._%+'-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b", |_| true),
        // 13-19 digits, optionally grouped by spaces or hyphens; must pass the Luhn check.
        p(PiiKind::Card, r"\b\d(?:[ -]?\d){12,18}\b", luhn_valid),
        // Two letters, six digits, a suffix letter A-D; spaces optional (QQ 12 34 56 C).
        p(PiiKind::NationalInsurance, r"(?i)\b[a-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]\b", |_| true),
        // UK numbers: +44 or 0, then 9-10 more digits in the usual groupings.
        p(PiiKind::Phone, r"(?:\+44\s?\(?0?\)?\s?|\(?\b0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}\b", phone_digits_ok),
        // UK postcodes: outward code, optional space, inward code (LE10 0FR, SW1A 1AA).
        p(PiiKind::Postcode, r"(?i)\b[a-z]{1,2}\d[a-z\d]?\s?\d[abd-hjlnp-uw-z]{2}\b", |_| true),
    ]
});

/// Extra patterns from configuration (a desk's own references: tenancy numbers, case ids),
/// set once at start-up, applied after the built-in ones.
static EXTRA: std::sync::OnceLock<Vec<(String, Regex)>> = std::sync::OnceLock::new();

/// Why an extra pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("redaction pattern `{name}` is not a valid regular expression: {message}")]
    Invalid { name: String, message: String },
    #[error("redaction pattern name `{0}` must be 1-32 lower-case letters")]
    BadName(String),
    #[error("extra redaction patterns were already set; they are set once at start-up")]
    AlreadySet,
}

/// Whether `re` compiles as a redaction pattern; the error says why not.
pub fn validate_pattern(re: &str) -> Result<(), String> {
    Regex::new(re).map(|_| ()).map_err(|e| e.to_string())
}

/// Installs extra patterns `(name, regex)`; matches become `[pii<name>]`. Call once at start-up.
pub fn set_extra_patterns(patterns: &[(String, String)]) -> Result<(), PatternError> {
    let mut compiled = Vec::with_capacity(patterns.len());
    for (name, re) in patterns {
        if name.is_empty() || name.len() > 32 || !name.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(PatternError::BadName(name.clone()));
        }
        let regex = Regex::new(re).map_err(|e| PatternError::Invalid { name: name.clone(), message: e.to_string() })?;
        compiled.push((format!("[pii{name}]"), regex));
    }
    EXTRA.set(compiled).map_err(|_| PatternError::AlreadySet)
}

/// Replaces personal data in `text` with placeholders. Borrows when nothing was found.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = redact_builtin(text);
    for (placeholder, regex) in EXTRA.get().map(Vec::as_slice).unwrap_or_default() {
        if regex.is_match(&out) {
            out = Cow::Owned(regex.replace_all(&out, placeholder.as_str()).into_owned());
        }
    }
    out
}

fn redact_builtin(text: &str) -> Cow<'_, str> {
    let mut out: Cow<'_, str> = Cow::Borrowed(text);
    for p in PATTERNS.iter() {
        if !p.regex.is_match(&out) {
            continue;
        }
        let replaced = p
            .regex
            .replace_all(&out, |c: &regex::Captures<'_>| if (p.check)(&c[0]) { p.kind.placeholder().to_owned() } else { c[0].to_owned() })
            .into_owned();
        out = Cow::Owned(replaced);
    }
    out
}

/// Which kinds of personal data `text` contains.
pub fn find(text: &str) -> Vec<PiiKind> {
    PATTERNS.iter().filter(|p| p.regex.find_iter(text).any(|m| (p.check)(m.as_str()))).map(|p| p.kind).collect()
}

/// Luhn checksum over the digits of `s`.
pub fn luhn_valid(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn phone_digits_ok(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let international = s.trim_start().starts_with("+44");
    if international { (11..=13).contains(&digits) } else { (10..=11).contains(&digits) }
}

/// Version of the built-in redaction (the patterns above and their placeholders). Bump it when
/// they change: model bundles record it, and a bundle built with another version is refused.
/// (Minimal stand-in for issue #11; the redaction work defines the full version.)
pub const BUILTIN_VERSION: u32 = 1;

/// Fingerprint of the desk's extra patterns (`redaction.extra_patterns`), recorded in model
/// bundles; empty when there are none. (Stand-in for issue #11: always empty here; the
/// redaction work replaces it with a hash of the installed patterns.)
pub fn extra_fingerprint() -> String {
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realistic_uk_personal_data_is_redacted() {
        let cases = [
            ("call me on 07700 900123 please", "call me on [piiphone] please"),
            ("mobile +44 7700 900123", "mobile [piiphone]"),
            ("office (01632) 960001", "office [piiphone]"),
            ("landline 0161 496 0000.", "landline [piiphone]."),
            ("NI number QQ 12 34 56 C on file", "NI number [piinino] on file"),
            ("ni qq123456c", "ni [piinino]"),
            ("lives at LE10 0FR now", "lives at [piipostcode] now"),
            ("postcode sw1a 1aa", "postcode [piipostcode]"),
            ("email jane.doe@northmoor.gov.uk asap", "email [piiemail] asap"),
            ("card 4539 1488 0343 6467 was charged", "card [piicard] was charged"),
            ("card 4539-1488-0343-6467", "card [piicard]"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact(input), expected, "{input}");
        }
    }

    #[test]
    fn ticket_numbers_dates_versions_and_non_luhn_numbers_are_kept() {
        for keep in [
            "INC0012345 raised on 2026-11-25",
            "ticket REQ0098765 updated 25/11/2026 at 09:30",
            "version 10.0.19045.4291 of the client",
            "build 16.0.17928.20114",
            "order 1234 5678 9012 3456",
            "room 2.14, floor 3",
            "windows 11 23h2",
            "asset tag 100234567",
        ] {
            assert_eq!(redact(keep), keep, "{keep} must not be redacted");
        }
    }

    #[test]
    fn luhn_accepts_valid_and_refuses_invalid_numbers() {
        assert!(luhn_valid("4539148803436467"));
        assert!(luhn_valid("5555 5555 5555 4444"));
        assert!(!luhn_valid("4539148803436468"));
        assert!(!luhn_valid("1234"));
    }

    #[test]
    fn extra_patterns_are_checked_and_applied_once() {
        assert!(matches!(set_extra_patterns(&[("Bad Name".into(), "x".into())]), Err(PatternError::BadName(_))));
        assert!(matches!(set_extra_patterns(&[("tenancy".into(), "(".into())]), Err(PatternError::Invalid { .. })));
        set_extra_patterns(&[("tenancy".into(), r"\bTEN-\d{6}\b".into())]).unwrap();
        assert_eq!(redact("rent query for TEN-123456, call 07700 900123"), "rent query for [piitenancy], call [piiphone]");
        assert_eq!(set_extra_patterns(&[]), Err(PatternError::AlreadySet));
    }

    #[test]
    fn find_lists_the_kinds_present() {
        let kinds = find("mail a@b.com or ring 07700 900123");
        assert_eq!(kinds, vec![PiiKind::Email, PiiKind::Phone]);
        assert!(find("printer jam on floor 2").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn redaction_never_panics_and_is_idempotent(text in "\\PC{0,200}") {
            let once = redact(&text).into_owned();
            let twice = redact(&once).into_owned();
            proptest::prop_assert_eq!(once, twice);
        }
    }
}
