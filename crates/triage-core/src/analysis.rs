//! Text analysis shared by search and classification: split, lower-case, drop stop words, stem.
//!
//! The knowledge-base index registers this analyzer as a tantivy tokenizer, and the classifiers
//! build their features from the same tokens, so one word always maps to one term.
//!
//! | step | what it does |
//! |---|---|
//! | split | runs of letters and digits; an apostrophe inside a word joins it (`can't`) |
//! | normalise | lower-case; a trailing `'s` and inner apostrophes are removed (`user's` -> `user`) |
//! | length | tokens over [`MAX_TOKEN_BYTES`] are dropped (hashes, base64, URLs glued together) |
//! | stop words | optional: common English function words are dropped ([`Analyzer::search`]) |
//! | stem | English Snowball (Porter2) stemmer: `printing`, `printers` -> `print`, `printer` |

use std::borrow::Cow;

use rust_stemmers::{Algorithm, Stemmer};

/// Tokens longer than this (in bytes, after normalising) are dropped.
pub const MAX_TOKEN_BYTES: usize = 40;

/// Version of this text analysis: bump it when tokenising, stemming, stop words or cleaning
/// ([`crate::clean`]) change, and rebuild the starter model with `triage train-starter`. Model
/// bundles record it; a bundle from a version before [`TOKENS_COMPATIBLE_SINCE`] (or newer than
/// this build) is refused, as its features would no longer match; one from a version since is
/// served with a warning to retrain.
/// 2: ticket text is cleaned of e-mail tails before analysis ([`crate::clean`]).
/// 3: a signature followed by footer paragraphs goes with them; under a title, a description
/// that is all e-mail tail may be removed whole.
/// 4: a name (alone or heading a signature block) closing a message goes; under a title, a
/// sign-off on the first line starts a signature; notices "intended for the above named" are
/// disclaimers.
/// 5: problem lines that look like mail furniture stay (`From:` with a sentence, `On ... wrote:`
/// without a date or address, a bare `--`, `> 100`), and so do postscripts under a signature.
/// 6: tails a held-out set of templates found: bilingual sign-offs ("Cofion / Regards"), more
/// sign-offs ("Speak soon", "Thanks all"), a bare `--` above a signature, `-----Original
/// Appointment-----`, Teams and Zoom join blocks, "do you really need to print this", names with
/// `'` or `-` ("O'Brien"), "Name - phone" lines, and a "see my comments below" pointer.
pub const ANALYSIS_VERSION: u32 = 6;

/// The oldest analysis version whose tokens match this build's: every version since changed
/// only cleaning (which e-mail tails come off before tokenising), so a model trained with one of
/// them still reads this build's features, only with less e-mail furniture in them. Such a model
/// is served, with a warning to retrain, rather than refused: a release that improves cleaning
/// must not send every desk back to the starter model until it retrains. Raise this to
/// [`ANALYSIS_VERSION`] whenever splitting, normalising, stop words, stemming or
/// [`MAX_TOKEN_BYTES`] change, or the model's own feature extraction from tokens does.
pub const TOKENS_COMPATIBLE_SINCE: u32 = 1;
const _: () = assert!(TOKENS_COMPATIBLE_SINCE <= ANALYSIS_VERSION, "no bundle, not even a new one, would load");

/// One analysed token: its term, where it came from in the input, and its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnalyzedToken<'a> {
    /// The normalised, stemmed term.
    pub term: &'a str,
    /// Byte offset of the first byte of the source word.
    pub start: usize,
    /// Byte offset one past the last byte of the source word.
    pub end: usize,
    /// Word position (stop words keep their position so phrases stay aligned).
    pub position: usize,
}

/// The analyzer. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Analyzer {
    stemmer: std::sync::Arc<Stemmer>,
    remove_stop_words: bool,
    stem: bool,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer").field("remove_stop_words", &self.remove_stop_words).field("stem", &self.stem).finish()
    }
}

impl Analyzer {
    /// The analyzer used for search: stop words removed, stemmed.
    pub fn search() -> Self {
        Self { stemmer: std::sync::Arc::new(Stemmer::create(Algorithm::English)), remove_stop_words: true, stem: true }
    }

    /// The analyzer used for classification features: the same splitting and normalising,
    /// but stop words kept and words not stemmed. Short function words ("not", "no") and
    /// word endings carry signal for labels; with word bigrams and character n-grams the model
    /// learns the morphology itself (on Endava topics, stemming cost 0.004 accuracy).
    pub fn features() -> Self {
        Self { remove_stop_words: false, stem: false, ..Self::search() }
    }

    /// Whether this analyzer drops stop words.
    pub fn removes_stop_words(&self) -> bool {
        self.remove_stop_words
    }

    /// Calls `sink` for every token of `text`, in order, without allocating per token.
    pub fn for_each_token(&self, text: &str, mut sink: impl FnMut(AnalyzedToken<'_>)) {
        let mut lower = String::with_capacity(32);
        let mut position = 0usize;
        for (start, word) in split_words(text) {
            normalise_word(word, &mut lower);
            if lower.is_empty() || lower.len() > MAX_TOKEN_BYTES {
                continue;
            }
            if self.remove_stop_words && is_stop_word(&lower) {
                position += 1;
                continue;
            }
            let stemmed: Cow<'_, str> = if self.stem { self.stemmer.stem(&lower) } else { Cow::Borrowed(lower.as_str()) };
            sink(AnalyzedToken { term: &stemmed, start, end: start + word.len(), position });
            position += 1;
        }
    }

    /// All terms of `text`, in order (duplicates kept).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |t| out.push(t.term.to_owned()));
        out
    }
}

/// Splits text into words: runs of alphanumeric characters, joined across a single apostrophe.
fn split_words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let bytes_len = text.len();
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        // skip to the start of a word
        let (start, _) = loop {
            let (i, c) = chars.next()?;
            if c.is_alphanumeric() {
                break (i, c);
            }
        };
        let mut end = bytes_len;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_alphanumeric() {
                chars.next();
                continue;
            }
            if c == '\'' || c == '\u{2019}' {
                // an apostrophe joins only when a letter follows it
                let mut look = chars.clone();
                look.next();
                if look.peek().is_some_and(|&(_, n)| n.is_alphanumeric()) {
                    chars.next();
                    continue;
                }
            }
            end = i;
            break;
        }
        Some((start, &text[start..end]))
    })
}

/// Lower-cases `word` into `out`, strips a possessive `'s` and removes apostrophes.
fn normalise_word(word: &str, out: &mut String) {
    out.clear();
    for c in word.chars() {
        if c == '\'' || c == '\u{2019}' {
            out.push('\'');
        } else {
            out.extend(c.to_lowercase());
        }
    }
    if out.ends_with("'s") {
        out.truncate(out.len() - 2);
    }
    out.retain(|c| c != '\'');
}

/// Common English function words that carry no topic. Sorted for binary search.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "dont",
    "down",
    "during",
    "each",
    "else",
    "etc",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "get",
    "gets",
    "getting",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "hi",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "id",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "ive",
    "just",
    "let",
    "like",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "way",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Whether `word` (already lower-cased) is a stop word.
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_word_list_is_sorted_so_binary_search_works() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]), "STOP_WORDS must be sorted and unique");
    }

    #[test]
    fn search_analyzer_stems_and_drops_stop_words() {
        let terms = Analyzer::search().terms("The printers aren't PRINTING my documents");
        assert_eq!(terms, vec!["printer", "arent", "print", "document"]);
    }

    #[test]
    fn feature_analyzer_keeps_negations() {
        let terms = Analyzer::features().terms("Cannot print, not working");
        assert_eq!(terms, vec!["cannot", "print", "not", "working"]);
    }

    #[test]
    fn offsets_point_at_the_source_words() {
        let text = "Outlook’s   calendar: user's VPN-token";
        let mut seen = Vec::new();
        Analyzer::search().for_each_token(text, |t| seen.push((t.term.to_owned(), &text[t.start..t.end], t.position)));
        assert_eq!(
            seen,
            vec![
                ("outlook".to_owned(), "Outlook’s", 0),
                ("calendar".to_owned(), "calendar", 1),
                ("user".to_owned(), "user's", 2),
                ("vpn".to_owned(), "VPN", 3),
                ("token".to_owned(), "token", 4),
            ]
        );
    }

    #[test]
    fn overlong_tokens_are_dropped_and_positions_skip_stop_words() {
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        let mut seen = Vec::new();
        Analyzer::search().for_each_token(&format!("reset the {long} password"), |t| seen.push((t.term.to_owned(), t.position)));
        assert_eq!(seen, vec![("reset".to_owned(), 0), ("password".to_owned(), 2)]);
    }

    #[test]
    fn analyzer_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Analyzer>();
    }

    proptest::proptest! {
        #[test]
        fn any_text_yields_tokens_with_valid_offsets(text in "\\PC{0,200}") {
            Analyzer::search().for_each_token(&text, |t| {
                assert!(t.start < t.end && t.end <= text.len());
                assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                assert!(!t.term.is_empty());
            });
        }
    }
}
