//! The shared analyzer as a tantivy tokenizer.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use triage_core::analysis::Analyzer;

/// Name under which the tokenizer is registered on every index.
pub(crate) const TOKENIZER_NAME: &str = "triage_en";

/// [`Analyzer::search`] wrapped for tantivy. Reuses its token buffer between calls.
#[derive(Clone, Debug)]
pub struct TriageTokenizer {
    analyzer: Analyzer,
    tokens: Vec<Token>,
}

impl TriageTokenizer {
    /// Wraps `analyzer` (normally [`Analyzer::search`]) as a tantivy tokenizer.
    pub fn new(analyzer: Analyzer) -> Self {
        Self { analyzer, tokens: Vec::new() }
    }
}

impl Default for TriageTokenizer {
    fn default() -> Self {
        Self::new(Analyzer::search())
    }
}

/// Token stream over the buffer filled by [`TriageTokenizer::token_stream`].
pub struct TriageTokenStream<'a> {
    tokens: &'a mut [Token],
    next: usize,
}

impl Tokenizer for TriageTokenizer {
    type TokenStream<'a> = TriageTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        self.tokens.clear();
        let tokens = &mut self.tokens;
        self.analyzer.for_each_token(text, |t| {
            tokens.push(Token {
                offset_from: t.start,
                offset_to: t.end,
                position: t.position,
                text: t.term.to_owned(),
                position_length: 1,
            });
        });
        TriageTokenStream { tokens: &mut self.tokens, next: 0 }
    }
}

impl TokenStream for TriageTokenStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_yields_the_analyzer_terms() {
        let mut tok = TriageTokenizer::default();
        let mut stream = tok.token_stream("Printers are jamming");
        let mut terms = Vec::new();
        while let Some(t) = stream.next() {
            terms.push(t.text.clone());
        }
        assert_eq!(terms, vec!["printer", "jam"]);
    }
}
