//! Highlighted snippets from pre-analysed text.
//!
//! tantivy's `SnippetGenerator` re-tokenises every hit's whole body on every request (about
//! 100 µs a hit with stemming). Bodies are analysed once, when they are indexed, and a snippet
//! is then a scan over the cached tokens: the window of at most `max_bytes` holding the most
//! distinct query terms, with matches wrapped in `<b>` and everything else HTML-escaped.

use std::collections::HashSet;

use triage_core::analysis::Analyzer;

use crate::search::escape_html;

/// A text and its analysed tokens (term and byte range).
#[derive(Debug, Clone)]
pub struct SnippetSource {
    text: String,
    tokens: Vec<(Box<str>, u32, u32)>,
}

impl SnippetSource {
    pub fn new(analyzer: &Analyzer, text: String) -> Self {
        let mut tokens = Vec::new();
        analyzer.for_each_token(&text, |t| tokens.push((t.term.into(), t.start as u32, t.end as u32)));
        Self { text, tokens }
    }

    /// The best window for `terms`; `None` when no term occurs.
    pub fn snippet(&self, terms: &HashSet<&str>, max_bytes: usize) -> Option<String> {
        let matched: Vec<usize> = (0..self.tokens.len()).filter(|&i| terms.contains(&*self.tokens[i].0)).collect();
        if matched.is_empty() {
            return None;
        }
        // Two pointers over the matched tokens: the window [lo, hi] must fit in max_bytes.
        let (mut best_lo, mut best_hi, mut best_score) = (0, 0, 0usize);
        let mut lo = 0;
        for hi in 0..matched.len() {
            while self.tokens[matched[hi]].2 - self.tokens[matched[lo]].1 > max_bytes as u32 {
                lo += 1;
            }
            let distinct: HashSet<&str> = matched[lo..=hi].iter().map(|&i| &*self.tokens[i].0).collect();
            let score = distinct.len() * 1000 + (hi - lo + 1);
            if score > best_score {
                (best_lo, best_hi, best_score) = (lo, hi, score);
            }
        }
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

    fn source(text: &str) -> SnippetSource {
        SnippetSource::new(&Analyzer::search(), text.to_owned())
    }

    #[test]
    fn the_window_with_most_distinct_terms_is_chosen_and_highlighted() {
        let text =
            format!("{} restart the printer queue and check the <network> cable {}", "filler words here ".repeat(20), "tail ".repeat(40));
        let terms: HashSet<&str> = ["printer", "network"].into_iter().collect();
        let s = source(&text).snippet(&terms, 120).unwrap();
        assert!(s.contains("<b>printer</b>") && s.contains("&lt;<b>network</b>&gt;"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.len() < 200, "{s}");
    }

    #[test]
    fn stemmed_forms_match_the_source_words() {
        let terms: HashSet<&str> = ["print"].into_iter().collect();
        let s = source("Printing stopped.").snippet(&terms, 100).unwrap();
        assert_eq!(s, "<b>Printing</b> stopped.");
    }

    #[test]
    fn no_match_gives_none() {
        let terms: HashSet<&str> = ["vpn"].into_iter().collect();
        assert!(source("printer").snippet(&terms, 100).is_none());
    }
}
