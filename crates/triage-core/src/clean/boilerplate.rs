//! Boilerplate sentences: phrases a desk's e-mails repeat whatever the problem (a council's
//! disclaimer, its "OFFICIAL" marking, its privacy notice), matched sentence by sentence after
//! normalising case, whitespace and punctuation.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The UK public-sector phrasings shipped with triage, one sentence a line (normalised when
/// loaded, so they are written as people write them).
const DEFAULT_UK: &str = include_str!("boilerplate_uk.txt");

/// Sentences to drop from ticket text wherever they stand alone (a whole line or paragraph of
/// them). Holds normalised sentences (see [`normalise_sentence`]).
///
/// ```
/// use triage_core::clean::Boilerplate;
///
/// let b = Boilerplate::default_uk().and_phrases(["Northmoor Council: working for you."]);
/// assert!(b.contains("northmoor council - working for you"));
/// assert!(b.contains("Please consider the environment before printing this e-mail."));
/// assert!(!b.contains("My printer is jammed."));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Boilerplate {
    phrases: HashSet<String>,
    /// Bits set for each ASCII phrase's `gate_key`: most sentences are ruled out by their length
    /// and first letter before any normalising or hashing.
    gate: [u64; 64],
}

impl Default for Boilerplate {
    /// No phrases.
    fn default() -> Self {
        Self { phrases: HashSet::new(), gate: [0; 64] }
    }
}

impl Boilerplate {
    /// The shipped UK public-sector phrasings (about 20: disclaimers, privacy notices, print
    /// footers, security markings, external-sender banners).
    pub fn default_uk() -> Self {
        Self::with_phrases(DEFAULT_UK.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')))
    }

    /// Exactly these phrases (each normalised; ones that normalise to nothing are skipped).
    pub fn with_phrases<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Self {
        Self::default().and_phrases(phrases)
    }

    /// These phrases as well (a desk's configured ones, or ones learned from its tickets).
    pub fn and_phrases<S: AsRef<str>>(mut self, phrases: impl IntoIterator<Item = S>) -> Self {
        for p in phrases {
            let normal = normalise_sentence(p.as_ref());
            if normal.is_empty() {
                continue;
            }
            if let Some(key) = gate_key(&normal) {
                self.gate[key / 64] |= 1 << (key % 64);
            }
            self.phrases.insert(normal);
        }
        self
    }

    /// Whether `sentence` is one of the phrases, once normalised.
    pub fn contains(&self, sentence: &str) -> bool {
        if self.phrases.is_empty() {
            return false;
        }
        if let Some(key) = gate_key(sentence)
            && self.gate[key / 64] & (1 << (key % 64)) == 0
        {
            return false;
        }
        self.phrases.contains(&normalise_sentence(sentence))
    }

    /// Number of phrases.
    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    /// Whether there are no phrases.
    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// The normalised phrases, sorted (for fingerprints and display).
    pub fn phrases(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.phrases.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Whether every sentence of `text` is a phrase (and there is at least one).
    pub(crate) fn covers(&self, text: &str) -> bool {
        let mut any = false;
        for s in sentences(text) {
            if !self.contains(s) {
                return false;
            }
            any = true;
        }
        any
    }
}

/// A number in 0..4096 that an ASCII sentence and its normal form share: from the count of
/// letters and digits and the first of them, lower-cased. `None` for other text, which skips
/// the gate.
fn gate_key(s: &str) -> Option<usize> {
    if !s.is_ascii() {
        return None;
    }
    let first = s.bytes().find(u8::is_ascii_alphanumeric).map_or(0, |b| b.to_ascii_lowercase() as usize);
    let n = s.bytes().filter(u8::is_ascii_alphanumeric).count();
    Some((n * 37 + first) % 4096)
}

/// The one normal form phrases are compared in: lower case, hyphens and apostrophes dropped
/// (`e-mail` = `email`, `don't` = `dont`), any other run of non-alphanumerics one space, trimmed.
pub fn normalise_sentence(sentence: &str) -> String {
    let mut out = String::with_capacity(sentence.len());
    let mut space = false;
    for c in sentence.chars() {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else if !matches!(c, '-' | '\'' | '\u{2019}' | '\u{2010}' | '\u{2011}') {
            space = true;
        }
    }
    out
}

/// The sentences of `text`: split after `.`, `!` or `?` followed by white space (never at a
/// new line alone, so a sentence wrapped over two lines stays one), trimmed, empty ones skipped.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            let ends = matches!(b, b'.' | b'!' | b'?') && bytes.get(i).is_none_or(|n| n.is_ascii_whitespace());
            if ends {
                let piece = text[start..i].trim();
                start = i;
                if !piece.is_empty() {
                    return Some(piece);
                }
            }
        }
        if start < bytes.len() {
            let piece = text[start..].trim();
            start = bytes.len();
            if !piece.is_empty() {
                return Some(piece);
            }
        }
        None
    })
}

/// Configured boilerplate for the whole process, installed once (like the redaction patterns in
/// [`crate::redact`]); [`boilerplate`] reads it on every cleaning.
static INSTALLED: OnceLock<Boilerplate> = OnceLock::new();
static DEFAULT: OnceLock<Boilerplate> = OnceLock::new();

/// Why configured boilerplate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoilerplateError {
    /// Another set was installed in this process already.
    #[error(
        "other boilerplate phrases ({0} of them) are already installed in this process; they are set once at start-up, restart to change them"
    )]
    AlreadySet(usize),
}

/// Installs the process-wide boilerplate: the shipped UK phrasings plus `phrases` (a desk's own).
/// Installing none changes nothing; the same set again is fine (several apps in one test
/// process); a different set once one is installed is an error, never silently ignored.
pub fn install_boilerplate<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Result<(), BoilerplateError> {
    let extra = Boilerplate::with_phrases(phrases);
    if extra.is_empty() {
        return Ok(());
    }
    let wanted = Boilerplate::default_uk().and_phrases(extra.phrases());
    let installed = INSTALLED.get_or_init(|| wanted.clone());
    if *installed == wanted { Ok(()) } else { Err(BoilerplateError::AlreadySet(installed.len())) }
}

/// The process-wide boilerplate: the installed set, or the shipped UK phrasings.
pub fn boilerplate() -> &'static Boilerplate {
    INSTALLED.get().unwrap_or_else(|| DEFAULT.get_or_init(Boilerplate::default_uk))
}
