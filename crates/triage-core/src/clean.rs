//! Cleaning e-mail-born ticket text before analysis: the quoted thread, signature blocks,
//! disclaimers and footers, auto-replies and boilerplate sentences are removed, so the caller's
//! problem is what gets searched, classified, stored and learned from. Runs before redaction.
//!
//! Line-oriented and conservative: a line goes only as part of a recognised block (a quote
//! marker and everything after it, a sign-off followed by nothing but short name / title /
//! phone / address lines, a paragraph with a disclaimer or auto-reply phrase, a line or
//! paragraph of boilerplate sentences), never because of a single word. What is kept is a
//! subsequence of the input's lines; error messages, codes, paths, numbered steps and stack
//! traces in the caller's text stay. A text that would be left (nearly) empty is returned
//! unchanged, so a ticket that is all boilerplate keeps its text.
//!
//! ```
//! use triage_core::clean::{Boilerplate, RemovedKind, clean_body, clean_title};
//!
//! let body = "Outlook keeps asking for my password.\n\nKind regards\nJane Smith\nICT Officer\nNorthmoor Council\n\
//!             Tel: 01632 960001\n\nFrom: IT Service Desk\nSent: 03 March 2026 09:12\nTo: Jane Smith\nSubject: Ticket logged";
//! let cleaned = clean_body(body, &Boilerplate::default_uk());
//! assert_eq!(cleaned.text, "Outlook keeps asking for my password.");
//! assert_eq!(cleaned.removed.iter().collect::<Vec<_>>(), [RemovedKind::Quote, RemovedKind::Signature]);
//! assert_eq!(clean_title("RE: FW: [EXTERNAL] Outlook password prompt"), "Outlook password prompt");
//! ```

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

mod boilerplate;

pub use boilerplate::{Boilerplate, BoilerplateError, boilerplate, install_boilerplate, normalise_sentence, sentences};

/// Fewest characters (trimmed) a cleaned text may keep; below that the input is returned as it
/// was (a ticket that is all signature keeps its text rather than becoming "Hi,").
pub const MIN_KEPT_CHARS: usize = 10;

/// What kind of text was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedKind {
    /// Quoted history: `>` lines, Outlook header blocks, `On ... wrote:`, original and
    /// forwarded message markers, and everything after them.
    Quote,
    /// A `-- ` signature, or a sign-off followed by name, title, organisation and contact lines.
    Signature,
    /// Confidentiality notices, print and virus-scan footers, "Sent from my iPhone".
    Disclaimer,
    /// An out-of-office or "we aim to respond within" auto-reply.
    AutoReply,
    /// Sentences of the configured or learned boilerplate ([`Boilerplate`]).
    Boilerplate,
}

impl RemovedKind {
    const ALL: [RemovedKind; 5] = [Self::Quote, Self::Signature, Self::Disclaimer, Self::AutoReply, Self::Boilerplate];

    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Quote => "quote",
            Self::Signature => "signature",
            Self::Disclaimer => "disclaimer",
            Self::AutoReply => "auto_reply",
            Self::Boilerplate => "boilerplate",
        }
    }
}

/// A small ordered set of [`RemovedKind`]s (declaration order), serialised as a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RemovedKinds(u8);

impl RemovedKinds {
    /// Adds a kind.
    pub fn insert(&mut self, kind: RemovedKind) {
        self.0 |= 1 << kind as u8;
    }

    /// Takes a kind out.
    pub fn remove(&mut self, kind: RemovedKind) {
        self.0 &= !(1 << kind as u8);
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: RemovedKind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }

    /// Whether nothing was removed.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The kinds, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = RemovedKind> {
        RemovedKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl Serialize for RemovedKinds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for RemovedKinds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut set = Self::default();
        Vec::<RemovedKind>::deserialize(d)?.into_iter().for_each(|k| set.insert(k));
        Ok(set)
    }
}

/// What cleaning did, without the text: what the triage answer reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CleaningReport {
    /// Kinds of text removed; empty when nothing was.
    pub removed: RemovedKinds,
    /// Characters kept.
    pub kept_chars: usize,
    /// Characters removed (line breaks included).
    pub removed_chars: usize,
}

impl CleaningReport {
    /// Two reports added up (a title's and a description's).
    pub fn merge(self, other: Self) -> Self {
        Self {
            removed: self.removed.union(other.removed),
            kept_chars: self.kept_chars + other.kept_chars,
            removed_chars: self.removed_chars + other.removed_chars,
        }
    }
}

/// A cleaned text and what was removed from it. Borrows the input when nothing was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned<'a> {
    /// The text to analyse.
    pub text: Cow<'a, str>,
    /// Kinds of text removed.
    pub removed: RemovedKinds,
    /// Characters kept.
    pub kept_chars: usize,
    /// Characters removed.
    pub removed_chars: usize,
}

impl Cleaned<'_> {
    /// The report without the text.
    pub fn report(&self) -> CleaningReport {
        CleaningReport { removed: self.removed, kept_chars: self.kept_chars, removed_chars: self.removed_chars }
    }

    fn unchanged(text: &str) -> Cleaned<'_> {
        Cleaned { text: Cow::Borrowed(text), removed: RemovedKinds::default(), kept_chars: text.chars().count(), removed_chars: 0 }
    }
}

/// Cleans an e-mail body (see the module docs).
pub fn clean_body<'a>(text: &'a str, boilerplate: &Boilerplate) -> Cleaned<'a> {
    clean(text, boilerplate, false)
}

/// As [`clean_body`], for a description under a title that states the problem: a description
/// that is nothing but an e-mail tail (a forwarded thread, a signature under the subject line)
/// may be removed whole, since the ticket keeps its title.
pub fn clean_body_after_title<'a>(text: &'a str, boilerplate: &Boilerplate) -> Cleaned<'a> {
    clean(text, boilerplate, true)
}

/// Cleans until nothing more comes off (at most three more passes): removing one block can bring
/// another into view (a name left last once its sign-off went, header lines made adjacent), and
/// cleaning must be idempotent: text cleaned once, cleaned again, is unchanged. A second pass
/// runs only when the first removed something that can expose more, over the shorter text.
fn clean<'a>(text: &'a str, boilerplate: &Boilerplate, may_empty: bool) -> Cleaned<'a> {
    let first = clean_once(text, boilerplate, may_empty);
    // only a removed signature, disclaimer, auto-reply or boilerplate block can expose another
    // (quoted lines are transparent to the rules that look past them): the common cases of a
    // long forwarded ticket losing only its quoted history take one pass
    let mut exposing = first.removed;
    exposing.remove(RemovedKind::Quote);
    if exposing.is_empty() {
        return first;
    }
    let total = text.chars().count();
    let mut current = first;
    for _ in 0..3 {
        let next = clean_once(&current.text, boilerplate, may_empty);
        if next.removed.is_empty() {
            break;
        }
        let (removed, kept_chars) = (current.removed.union(next.removed), next.kept_chars);
        current =
            Cleaned { text: Cow::Owned(next.text.into_owned()), removed, kept_chars, removed_chars: total.saturating_sub(kept_chars) };
    }
    current
}

fn clean_once<'a>(text: &'a str, boilerplate: &Boilerplate, may_empty: bool) -> Cleaned<'a> {
    let lines = split_lines(text);
    let mut keep = vec![true; lines.len()];
    let mut removed = RemovedKinds::default();
    let line = |i: usize| &text[lines[i].0..lines[i].1];

    // byte offsets are the same in the lower-cased copy: ASCII case changes no lengths
    let lower = text.to_ascii_lowercase();
    let end = find_quote_tail(text, &lower, &lines, &mut keep, &mut removed);
    keep[end..].iter_mut().for_each(|k| *k = false);
    drop_paragraphs(text, &lower, &lines[..end], &mut keep, &mut removed, boilerplate);
    drop_signature(text, &lines[..end], &mut keep, &mut removed, may_empty);

    if removed.is_empty() {
        return Cleaned::unchanged(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for (i, _) in lines.iter().enumerate().filter(|(i, _)| keep[*i]) {
        let l = line(i);
        if l.trim().is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if blank_pending {
            out.push('\n');
            blank_pending = false;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(l);
    }
    let kept = out.trim().chars().count();
    if !may_empty && (kept == 0 || (kept < MIN_KEPT_CHARS && text.trim().chars().count() >= MIN_KEPT_CHARS)) {
        return Cleaned::unchanged(text);
    }
    let total = text.chars().count();
    let kept_chars = out.chars().count();
    Cleaned { text: Cow::Owned(out), removed, kept_chars, removed_chars: total.saturating_sub(kept_chars) }
}

/// Strips reply and forward prefixes (`RE:`, `Re:`, `FW:`, `Fwd:`, `AW:`, `WG:`, repeated, with
/// counters like `RE[2]:`) and `[EXTERNAL]` tags from the start of a title. A title that is
/// nothing but those is returned as it was.
pub fn clean_title(title: &str) -> Cow<'_, str> {
    static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?i)(?:\s*(?:(?:re|fwd?|aw|wg)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[(?:external(?:\s+(?:email|sender))?|ext)\]|\*external\*|external\s*:))+\s*")
            .expect("title prefix regex compiles")
    });
    let Some(m) = PREFIX.find(title) else { return Cow::Borrowed(title) };
    let rest = &title[m.end()..];
    if rest.trim().is_empty() { Cow::Borrowed(title) } else { Cow::Borrowed(rest) }
}

/// The one cleaning for a title and a body given apart (training and evaluation rows, stored
/// tickets): the title through [`clean_title`], the body through [`clean_body`] (or
/// [`clean_body_after_title`] when there is a title), joined by a new line (either may be empty).
pub fn clean_ticket_text(title: &str, body: &str, boilerplate: &Boilerplate) -> String {
    let title = clean_title(title.trim());
    let body = if title.is_empty() { clean_body(body, boilerplate) } else { clean_body_after_title(body, boilerplate) };
    match (title.is_empty(), body.text.trim().is_empty()) {
        (_, true) => title.into_owned(),
        (true, false) => body.text.into_owned(),
        (false, false) => format!("{title}\n{}", body.text),
    }
}

/// Cleans a text already joined as `title\nbody` (the form the model and the indexes see): the
/// first line as a title, the rest as a body. Borrows when nothing was removed.
pub fn clean_joined<'a>(text: &'a str, boilerplate: &Boilerplate) -> Cow<'a, str> {
    let (title, body) = text.split_once('\n').unwrap_or((text, ""));
    let clean_t = clean_title(title);
    // the first line states the problem, so a body that is all tail may go whole
    let clean_b = if title.trim().is_empty() { clean_body(body, boilerplate) } else { clean_body_after_title(body, boilerplate) };
    if clean_t.len() == title.len() && matches!(clean_b.text, Cow::Borrowed(_)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(if clean_b.text.trim().is_empty() { clean_t.into_owned() } else { format!("{clean_t}\n{}", clean_b.text) })
}

/// Byte ranges of the lines of `text` (as [`str::lines`] splits them: a trailing `\r` is not
/// part of the line).
fn split_lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(text.len() / 40 + 1);
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && text.as_bytes()[i - 1] == b'\r' { i - 1 } else { i };
            out.push((start, end));
            start = i + 1;
        }
    }
    if start < text.len() {
        let end = if text.ends_with('\r') { text.len() - 1 } else { text.len() };
        out.push((start, end));
    }
    out
}

mod rules;
use rules::{drop_paragraphs, drop_signature, find_quote_tail};

#[cfg(test)]
mod tests;
