//! Highlighted snippets from pre-analysed text.
//!
//! tantivy's `SnippetGenerator` re-tokenises every hit's whole body on every request (about
//! 100 µs a hit with stemming). Bodies are analysed once, when they are indexed, and a snippet
//! is then a scan over the cached tokens: the window of at most `max_bytes` holding the most
//! distinct query terms, with matches wrapped in `<b>` and everything else HTML-escaped.
//!
//! Each cached token carries a 64-bit hash of its term, and a query's terms sit in a small
//! open-addressing table built once per search ([`SnippetTerms`]), so matching a token is a
//! probe or two and a string comparison only on a hash match; the best window is found in one
//! pass with per-term counts.

use triage_core::analysis::Analyzer;

use crate::search::escape_html;

/// FNV-1a, 64 bits: cheap and good enough to pre-filter term matches.
fn term_hash(term: &str) -> u64 {
    term.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// A query's terms, ready to match cached tokens: an open-addressing table of (hash, index).
#[derive(Debug)]
pub(crate) struct SnippetTerms<'a> {
    terms: &'a [String],
    slots: Vec<(u64, u32)>,
    mask: usize,
}

impl<'a> SnippetTerms<'a> {
    pub(crate) fn new(terms: &'a [String]) -> Self {
        let size = (terms.len() * 2).next_power_of_two().max(8);
        let mut slots = vec![(0u64, u32::MAX); size];
        for (i, t) in terms.iter().enumerate() {
            let h = term_hash(t);
            let mut at = h as usize & (size - 1);
            while slots[at].1 != u32::MAX {
                at = (at + 1) & (size - 1);
            }
            slots[at] = (h, i as u32);
        }
        Self { terms, slots, mask: size - 1 }
    }

    /// Index of `term` (whose hash is `hash`) among the query's terms.
    fn find(&self, hash: u64, term: &str) -> Option<usize> {
        let mut at = hash as usize & self.mask;
        loop {
            let (h, i) = self.slots[at];
            if i == u32::MAX {
                return None;
            }
            if h == hash && self.terms[i as usize] == term {
                return Some(i as usize);
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// A text and its analysed tokens (term, byte range, hash of the term).
#[derive(Debug, Clone)]
pub(crate) struct SnippetSource {
    text: String,
    tokens: Vec<(Box<str>, u32, u32)>,
    hashes: Vec<u64>,
}

impl SnippetSource {
    pub(crate) fn new(analyzer: &Analyzer, text: String) -> Self {
        let mut tokens: Vec<(Box<str>, u32, u32)> = Vec::new();
        analyzer.for_each_token(&text, |t| tokens.push((t.term.into(), t.start as u32, t.end as u32)));
        let hashes = tokens.iter().map(|(t, _, _)| term_hash(t)).collect();
        Self { text, tokens, hashes }
    }

    /// The best window for `terms`; `None` when no term occurs.
    pub(crate) fn snippet(&self, terms: &SnippetTerms<'_>, max_bytes: usize) -> Option<String> {
        // (token index, query-term index) of every match
        let matched: Vec<(usize, usize)> =
            (0..self.tokens.len()).filter_map(|i| terms.find(self.hashes[i], &self.tokens[i].0).map(|t| (i, t))).collect();
        if matched.is_empty() {
            return None;
        }
        // Two pointers over the matched tokens: the window [lo, hi] must fit in max_bytes; the
        // score is the number of distinct terms in it, then the number of matches.
        let mut counts = vec![0u32; terms.terms.len()];
        let mut distinct = 0usize;
        let (mut best_lo, mut best_hi, mut best_score) = (0, 0, 0usize);
        let mut lo = 0;
        for hi in 0..matched.len() {
            let added = &mut counts[matched[hi].1];
            distinct += usize::from(*added == 0);
            *added += 1;
            while self.tokens[matched[hi].0].2 - self.tokens[matched[lo].0].1 > max_bytes as u32 {
                let removed = &mut counts[matched[lo].1];
                *removed -= 1;
                distinct -= usize::from(*removed == 0);
                lo += 1;
            }
            let score = distinct * 1000 + (hi - lo + 1);
            if score > best_score {
                (best_lo, best_hi, best_score) = (lo, hi, score);
            }
        }
        let matched: Vec<usize> = matched.into_iter().map(|(i, _)| i).collect();
        let first = matched[best_lo];
        // Start a little before the first match, at a token boundary, to give context.
        let mut start_tok = first;
        let used = (self.tokens[matched[best_hi]].2 - self.tokens[first].1) as usize;
        let mut spare = max_bytes.saturating_sub(used) / 3;
        while start_tok > 0 {
            let gap = (self.tokens[start_tok].1 - self.tokens[start_tok - 1].1) as usize;
            if gap > spare {
                break;
            }
            spare -= gap;
            start_tok -= 1;
        }
        let start = self.tokens[start_tok].1 as usize;
        let mut end = start;
        for t in &self.tokens[start_tok..] {
            if t.2 as usize - start > max_bytes {
                break;
            }
            end = t.2 as usize;
        }
        // Keep punctuation that closes the last word ("stopped." not "stopped").
        end += self.text[end..].find(|c: char| c.is_whitespace() || c.is_alphanumeric()).unwrap_or(self.text.len() - end);
        let mut out = String::with_capacity(end - start + 64);
        if start > 0 {
            out.push('…');
        }
        let mut cursor = start;
        for &i in &matched[best_lo..] {
            let (_, s, e) = (&self.tokens[i].0, self.tokens[i].1 as usize, self.tokens[i].2 as usize);
            if s < start {
                continue;
            }
            if e > end {
                break;
            }
            out.push_str(&escape_html(&self.text[cursor..s]));
            out.push_str("<b>");
            out.push_str(&escape_html(&self.text[s..e]));
            out.push_str("</b>");
            cursor = e;
        }
        out.push_str(&escape_html(&self.text[cursor..end]));
        if self.text[end..].chars().any(char::is_alphanumeric) {
            out.push('…');
        }
        Some(out.replace('\n', " "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn source(text: &str) -> SnippetSource {
        SnippetSource::new(&Analyzer::search(), text.to_owned())
    }

    #[test]
    fn the_window_with_most_distinct_terms_is_chosen_and_highlighted() {
        let text =
            format!("{} restart the printer queue and check the <network> cable {}", "filler words here ".repeat(20), "tail ".repeat(40));
        let terms = terms(&["printer", "network"]);
        let s = source(&text).snippet(&SnippetTerms::new(&terms), 120).unwrap();
        assert!(s.contains("<b>printer</b>") && s.contains("&lt;<b>network</b>&gt;"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.len() < 200, "{s}");
    }

    #[test]
    fn stemmed_forms_match_the_source_words() {
        let terms = terms(&["print"]);
        let s = source("Printing stopped.").snippet(&SnippetTerms::new(&terms), 100).unwrap();
        assert_eq!(s, "<b>Printing</b> stopped.");
    }

    #[test]
    fn no_match_gives_none() {
        let terms = terms(&["vpn"]);
        assert!(source("printer").snippet(&SnippetTerms::new(&terms), 100).is_none());
    }

    #[test]
    fn the_window_prefers_more_distinct_terms_over_more_repeats() {
        let text = format!("{} {} toner printer drum", "printer printer printer printer ".repeat(3), "x ".repeat(80));
        let terms = terms(&["printer", "toner", "drum"]);
        let s = source(&text).snippet(&SnippetTerms::new(&terms), 60).unwrap();
        assert!(s.contains("<b>toner</b>") && s.contains("<b>drum</b>"), "{s}");
    }

    #[test]
    fn many_terms_and_colliding_slots_are_all_found() {
        let words: Vec<String> = (0..64).map(|i| format!("w{i}")).collect();
        let table = SnippetTerms::new(&words);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(table.find(term_hash(w), w), Some(i));
        }
        assert_eq!(table.find(term_hash("w64"), "w64"), None);
    }
}
