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
    /// An e-mail address.
    Email,
    /// A payment card number.
    Card,
    /// A UK National Insurance number.
    NationalInsurance,
    /// A telephone number.
    Phone,
    /// A UK postcode.
    Postcode,
}

impl PiiKind {
    /// The text that replaces a match of this kind, such as `[piiemail]`.
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
        // Groups separated by spaces, dashes or dots (07700.900.125, +44-7700-900126).
        p(PiiKind::Phone, r"(?:\+44[\s.-]?\(?0?\)?[\s.-]?|\(?\b0)\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}\b", phone_digits_ok),
        // UK postcodes: outward code, optional space, inward code (LE10 0FR, SW1A 1AA).
        p(PiiKind::Postcode, r"(?i)\b[a-z]{1,2}\d[a-z\d]?\s?\d[abd-hjlnp-uw-z]{2}\b", |_| true),
    ]
});

/// Version of the built-in patterns. Bump it whenever a built-in pattern changes, so a model
/// bundle can record which redaction produced it.
/// 2: phone numbers written with dots or dashes (`07700.900.125`, `+44-7700-900126`).
pub const BUILTIN_VERSION: u32 = 2;

/// Extra patterns from configuration (a desk's own references: tenancy numbers, case ids),
/// installed once per process, applied after the built-in ones. A process-wide value rather
/// than one owned by the engine: redaction runs on every triage, in every crate that reads
/// text (core, model, engine), and this keeps that path a single atomic load with no lock and
/// no redactor handle threaded through every signature.
static EXTRA: std::sync::OnceLock<Vec<ExtraPattern>> = std::sync::OnceLock::new();

/// Why an extra pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The regular expression does not compile.
    #[error("redaction pattern `{name}` is not a valid regular expression: {message}; fix the regex")]
    Invalid {
        /// Name of the pattern.
        name: String,
        /// The regex compiler's message.
        message: String,
    },
    /// The pattern matches the empty string; holds the pattern's name.
    #[error("redaction pattern `{0}` matches the empty string, so it would replace everywhere; make it match at least one character")]
    MatchesEmpty(String),
    /// The name is not 1-32 lower-case letters; holds the name as given (first 40 characters).
    #[error("redaction pattern name `{0}` must be 1-32 lower-case letters a-z; rename it")]
    BadName(String),
    #[error(
        "other extra redaction patterns ({0}) are already installed in this process; they are set once at start-up, restart to change them"
    )]
    /// Extra patterns were already installed in this process; holds the installed names, comma-separated.
    AlreadySet(String),
}

/// A checked extra pattern: a name of 1-[`ExtraPattern::MAX_NAME_CHARS`] lower-case letters and
/// a regular expression that compiles and cannot match the empty string. Matches become
/// `[pii<name>]`. The one rule for configuration checks and installation alike.
#[derive(Debug, Clone)]
pub struct ExtraPattern {
    name: String,
    source: String,
    regex: Regex,
    placeholder: String,
}

impl ExtraPattern {
    /// Longest pattern name.
    pub const MAX_NAME_CHARS: usize = 32;

    /// Checks a name and a regular expression.
    pub fn parse(name: &str, regex: &str) -> Result<Self, PatternError> {
        if name.is_empty() || name.len() > Self::MAX_NAME_CHARS || !name.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(PatternError::BadName(name.chars().take(40).collect()));
        }
        let compiled = Regex::new(regex).map_err(|e| PatternError::Invalid { name: name.to_owned(), message: e.to_string() })?;
        // an empty match anywhere in a probe text means the pattern can match nothing at all
        if compiled.is_match("") || compiled.find_iter("a A 1 - _ . x9").any(|m| m.is_empty()) {
            return Err(PatternError::MatchesEmpty(name.to_owned()));
        }
        Ok(Self { name: name.to_owned(), source: regex.to_owned(), regex: compiled, placeholder: format!("[pii{name}]") })
    }

    /// The pattern's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The regular expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Installs extra patterns for the whole process. Installing none changes nothing; installing
/// the same set again is fine (several apps in one test process); a different set once one is
/// installed is an error, never silently ignored.
pub fn install_extra_patterns(mut patterns: Vec<ExtraPattern>) -> Result<(), PatternError> {
    if patterns.is_empty() {
        return Ok(());
    }
    patterns.sort_by(|a, b| a.name.cmp(&b.name));
    let key = |ps: &[ExtraPattern]| ps.iter().map(|p| (p.name.clone(), p.source.clone())).collect::<Vec<_>>();
    let wanted = key(&patterns);
    let installed = EXTRA.get_or_init(|| patterns);
    if key(installed) == wanted {
        Ok(())
    } else {
        Err(PatternError::AlreadySet(installed.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")))
    }
}

/// A stable short hash (16 hex digits) of the installed extra patterns, sorted by name; `""`
/// when none are installed. Recorded with a model bundle to say which redaction produced it.
pub fn extra_fingerprint() -> String {
    let installed = EXTRA.get().map(Vec::as_slice).unwrap_or_default();
    if installed.is_empty() {
        return String::new();
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in installed {
        h.update(p.name.as_bytes());
        h.update([0]);
        h.update(p.source.as_bytes());
        h.update([0xff]);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Replaces personal data in `text` with placeholders. Borrows when nothing was found.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = redact_builtin(text);
    for p in EXTRA.get().map(Vec::as_slice).unwrap_or_default() {
        if p.regex.is_match(&out) {
            out = Cow::Owned(p.regex.replace_all(&out, p.placeholder.as_str()).into_owned());
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
            ("text me on 07700.900.125 later", "text me on [piiphone] later"),
            ("office 0161.496.0000.", "office [piiphone]."),
            ("mobile +44-7700-900126", "mobile [piiphone]"),
            ("desk +44 (0)161-496-0000 today", "desk [piiphone] today"),
            ("ring 0161-496-0000", "ring [piiphone]"),
            ("abroad +44.7700.900127", "abroad [piiphone]"),
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
            "dotted date 2026.11.25 and 25.11.2026",
            "printer at 10.20.30.40 and 192.168.0.10",
            "ticket INC0012345-2 and PROJ-123",
            "asset NMC-004512 in room 0.12",
            "release 2024.1.0.117",
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
    fn extra_pattern_names_and_regexes_follow_one_rule() {
        let long = "a".repeat(ExtraPattern::MAX_NAME_CHARS + 1);
        let longest = "a".repeat(ExtraPattern::MAX_NAME_CHARS);
        let kind = |r: Result<ExtraPattern, PatternError>| match r {
            Ok(_) => "ok",
            Err(PatternError::BadName(_)) => "name",
            Err(PatternError::Invalid { .. }) => "regex",
            Err(PatternError::MatchesEmpty(_)) => "empty",
            Err(PatternError::AlreadySet(_)) => "set",
        };
        let cases = [
            ("tenancy", r"\bTEN-\d{6}\b", "ok", "lower-case letters and a regex that compiles"),
            (&longest, r"x\d", "ok", "32 letters is the longest name"),
            (&long, r"x\d", "name", "33 letters is too long"),
            ("", r"x\d", "name", "a name is needed for the placeholder"),
            ("Bad Name", r"x\d", "name", "upper case and spaces are refused"),
            ("case_id", r"x\d", "name", "underscores would not survive as one token"),
            ("tenancy", "(", "regex", "a regex that does not compile"),
            ("tenancy", r"\d*", "empty", "matches the empty string"),
            ("tenancy", r"\b", "empty", "only empty matches at word boundaries"),
        ];
        for (name, re, expected, why) in cases {
            assert_eq!(kind(ExtraPattern::parse(name, re)), expected, "{why}");
        }
    }

    #[test]
    fn extra_patterns_are_installed_once_and_a_different_set_is_an_error() {
        let tenancy = || vec![ExtraPattern::parse("tenancy", r"\bTEN-\d{6}\b").unwrap()];
        install_extra_patterns(tenancy()).unwrap();
        install_extra_patterns(tenancy()).unwrap();
        install_extra_patterns(Vec::new()).unwrap();
        assert_eq!(redact("rent query for TEN-123456, call 07700 900123"), "rent query for [piitenancy], call [piiphone]");
        let other = vec![ExtraPattern::parse("tenancy", r"\bTEN\d{6}\b").unwrap()];
        assert!(matches!(install_extra_patterns(other), Err(PatternError::AlreadySet(names)) if names == "tenancy"));
        let fingerprint = extra_fingerprint();
        assert_eq!(fingerprint.len(), 16);
        assert_eq!(fingerprint, extra_fingerprint(), "stable");
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

        #[test]
        fn a_pattern_name_is_accepted_exactly_when_it_is_1_to_32_lower_case_letters(name in "[a-zA-Z0-9_ -]{0,40}") {
            let ok = (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase());
            proptest::prop_assert_eq!(ExtraPattern::parse(&name, r"x\d").is_ok(), ok);
        }

        #[test]
        fn uk_mobiles_are_redacted_whatever_the_separator(
            prefix in proptest::sample::select(vec!["0", "+44 ", "+44-", "+44."]),
            sep in proptest::sample::select(vec![" ", "-", ".", ""]),
            a in 100u32..1000, b in 100u32..1000,
        ) {
            let text = format!("call {prefix}7700{sep}{a}{sep}{b} now");
            proptest::prop_assert_eq!(redact(&text), "call [piiphone] now");
        }
    }
}
