//! The index of resolved tickets, for "similar resolved tickets" suggestions. Every document
//! belongs to one tenant, and every search is filtered to one tenant: a ticket never appears in
//! another tenant's suggestions.

use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use triage_core::tenant::TenantId;

use crate::index::write_atomically;
use crate::tokenizer::{TOKENIZER_NAME, TriageTokenizer};
use crate::{KbError, KbIndex, Result};

const SCHEMA_VERSION: u32 = 5;
/// Tokenizer of the tenant-qualified term field: terms are analysed before indexing.
const TT_TOKENIZER: &str = "triage_ws";
const VERSION_FILE: &str = "triage-tickets.version";
/// Distinct query terms used for similar-ticket search: the rarest ones (highest IDF) of the
/// ticket, since a whole pasted e-mail would otherwise make a query of dozens of common words.
pub const MAX_TICKET_QUERY_TERMS: usize = 20;
/// The `tt` token every ticket of a tenant carries (`tenant:#`; analysed terms never hold `#`),
/// so the tenant's ticket count is one document-frequency lookup.
const TENANT_MARKER: &str = "#";

/// How a new ticket's terms become a similar-ticket query.
///
/// Terms found in more than `max_df` of the tenant's tickets are left out: on a real desk they
/// are the greetings and boilerplate of every e-mail ("hi", "please", "thanks") and the words of
/// the desk's main topic, which say little about which ticket is similar but have the longest
/// posting lists, so they cost most to score. Of the rest, the `max_terms` rarest are used.
/// When every term is that common, the two rarest are kept. `triage eval similar` measures the
/// effect of both settings on which tickets come back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimilarQueryPolicy {
    pub max_terms: usize,
    pub max_df: f32,
}

impl Default for SimilarQueryPolicy {
    fn default() -> Self {
        // chosen with `triage eval similar` on Endava topics dev (benches/README.md): against
        // 16 terms and no df limit, label@1 0.678 vs 0.676, hit@5 0.905 vs 0.904, 14% faster
        Self { max_terms: MAX_TICKET_QUERY_TERMS, max_df: 0.15 }
    }
}
/// Longest resolution excerpt returned with a hit, in characters.
pub const NOTES_CHARS: usize = 300;

/// One resolved ticket as indexed (already redacted by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketDoc {
    pub tenant: TenantId,
    pub external_id: String,
    pub title: String,
    pub description: String,
    pub resolution_notes: String,
    pub category: String,
}

/// A similar resolved ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketHit {
    /// Distinct query terms found in the ticket's title or description.
    pub matched_terms: usize,
    /// Distinct terms of the query (at most [`MAX_TICKET_QUERY_TERMS`]).
    pub query_terms: usize,
    pub external_id: String,
    pub title: String,
    pub category: String,
    pub resolution_notes: String,
    pub score: f32,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    external_id: Field,
    title: Field,
    notes: Field,
    category: Field,
    /// Distinct analysed terms of title and description, space-separated (stored only).
    terms: Field,
    /// `tenant:term` tokens of title (twice, as a boost) and description. A query for one tenant
    /// is then a plain union of term queries, which tantivy prunes with block-WAND; no filter.
    tt: Field,
}

/// The resolved-ticket index. `Send + Sync`.
pub struct TicketIndex {
    index: Index,
    reader: IndexReader,
    policy: SimilarQueryPolicy,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
}

impl std::fmt::Debug for TicketIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketIndex").field("docs", &self.num_docs()).finish()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        external_id: b.add_text_field("external_id", STORED),
        title: b.add_text_field("title", STORED),
        notes: b.add_text_field("notes", STORED),
        category: b.add_text_field("category", STRING | STORED),
        terms: b.add_text_field("terms", STORED),
        tt: b.add_text_field(
            "tt",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default().set_tokenizer(TT_TOKENIZER).set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
    };
    (b.build(), fields)
}

fn key(tenant: &TenantId, external_id: &str) -> String {
    format!("{}\u{1f}{}", tenant.as_str(), external_id)
}

impl TicketIndex {
    pub fn create_in_ram() -> Result<Self> {
        let (s, f) = schema();
        Self::from_index(Index::create_in_ram(s), f)
    }

    /// Opens the index in `dir`, creating it (empty) when absent or of another version.
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        let (s, f) = schema();
        let open_err = |source| KbError::Open { path: dir.to_path_buf(), source };
        let version = std::fs::read_to_string(dir.join(VERSION_FILE)).ok().and_then(|v| v.trim().parse::<u32>().ok());
        if dir.join("meta.json").exists() && version == Some(SCHEMA_VERSION) {
            return Self::from_index(Index::open_in_dir(dir).map_err(open_err)?, f);
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let index = Index::create_in_dir(dir, s).map_err(open_err)?;
        write_atomically(&dir.join(VERSION_FILE), SCHEMA_VERSION.to_string().as_bytes())?;
        Self::from_index(index, f)
    }

    fn from_index(index: Index, fields: Fields) -> Result<Self> {
        index.tokenizers().register(TOKENIZER_NAME, tantivy::tokenizer::TextAnalyzer::from(TriageTokenizer::default()));
        index
            .tokenizers()
            .register(TT_TOKENIZER, tantivy::tokenizer::TextAnalyzer::from(tantivy::tokenizer::WhitespaceTokenizer::default()));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self { index, reader, policy: SimilarQueryPolicy::default(), writer: Mutex::new(None), fields })
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Sets how queries are built (see [`SimilarQueryPolicy`]).
    pub fn with_policy(mut self, policy: SimilarQueryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Adds or replaces tickets (by tenant and external id) and makes them searchable.
    pub fn upsert(&self, docs: &[TicketDoc]) -> Result<()> {
        let mut slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(self.index.writer_with_num_threads(1, 50_000_000)?);
        }
        let w = slot.as_mut().expect("writer was just created");
        let f = &self.fields;
        let analyzer = triage_core::analysis::Analyzer::search();
        for d in docs {
            let mut terms = KbIndex::query_terms(&format!("{}\n{}", d.title, d.description));
            terms.sort_unstable();
            let mut tt = String::with_capacity(d.title.len() * 3 + d.description.len() * 2);
            let tenant = d.tenant.as_str();
            tt.push_str(tenant);
            tt.push(':');
            tt.push_str(TENANT_MARKER);
            tt.push(' ');
            for (text, times) in [(d.title.as_str(), 2), (d.description.as_str(), 1)] {
                analyzer.for_each_token(text, |t| {
                    for _ in 0..times {
                        tt.push_str(tenant);
                        tt.push(':');
                        tt.push_str(t.term);
                        tt.push(' ');
                    }
                });
            }
            w.delete_term(Term::from_field_text(f.key, &key(&d.tenant, &d.external_id)));
            w.add_document(doc!(
                f.key => key(&d.tenant, &d.external_id),
                f.external_id => d.external_id.as_str(),
                f.title => d.title.as_str(),
                f.notes => d.resolution_notes.chars().take(NOTES_CHARS).collect::<String>(),
                f.category => d.category.as_str(),
                f.terms => terms.join(" "),
                f.tt => tt,
            ))?;
        }
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Removes one ticket (right to erasure).
    pub fn delete(&self, tenant: &TenantId, external_id: &str) -> Result<()> {
        let mut slot = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(self.index.writer_with_num_threads(1, 50_000_000)?);
        }
        let w = slot.as_mut().expect("writer was just created");
        w.delete_term(Term::from_field_text(self.fields.key, &key(tenant, external_id)));
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Resolved tickets of `tenant` most similar to `text`, best first.
    pub fn search(&self, text: &str, tenant: &TenantId, limit: usize) -> Result<Vec<TicketHit>> {
        self.search_terms(&KbIndex::query_terms(text), tenant, limit)
    }

    /// As [`TicketIndex::search`], with the query's terms already analysed. The
    /// [`MAX_TICKET_QUERY_TERMS`] rarest terms in the index are used.
    pub fn search_terms(&self, all_terms: &[String], tenant: &TenantId, limit: usize) -> Result<Vec<TicketHit>> {
        let f = &self.fields;
        let searcher = self.reader.searcher();
        let mut terms: Vec<(u64, Term)> = Vec::with_capacity(all_terms.len());
        let mut qualified = String::new();
        for t in all_terms {
            qualified.clear();
            qualified.push_str(tenant.as_str());
            qualified.push(':');
            qualified.push_str(t);
            let term = Term::from_field_text(f.tt, &qualified);
            let df = searcher.doc_freq(&term)?;
            if df > 0 {
                terms.push((df, term));
            }
        }
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        terms.sort_by_key(|(df, _)| *df);
        let tenant_docs = searcher.doc_freq(&Term::from_field_text(f.tt, &format!("{}:{TENANT_MARKER}", tenant.as_str())))?;
        let cutoff = (f64::from(self.policy.max_df) * tenant_docs as f64).ceil() as u64;
        let selective = terms.iter().take_while(|(df, _)| *df <= cutoff).count();
        terms.truncate(self.policy.max_terms.min(selective.max(2)).max(1));
        let per_term: Vec<(Occur, Box<dyn Query>)> = terms
            .into_iter()
            .map(|(_, term)| (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>))
            .collect();
        let query = BooleanQuery::new(per_term);
        let top = searcher.search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let text = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
            let stored_terms = text(f.terms);
            let doc_terms: Vec<&str> = stored_terms.split(' ').collect();
            let matched = all_terms.iter().filter(|t| doc_terms.binary_search(&String::as_str(t)).is_ok()).count();
            hits.push(TicketHit {
                matched_terms: matched,
                query_terms: all_terms.len(),
                external_id: text(f.external_id),
                title: text(f.title),
                category: text(f.category),
                resolution_notes: text(f.notes),
                score,
            });
        }
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(tenant: &str, id: &str, title: &str) -> TicketDoc {
        TicketDoc {
            tenant: TenantId::parse(tenant).unwrap(),
            external_id: id.into(),
            title: title.into(),
            description: String::new(),
            resolution_notes: format!("fixed {title}"),
            category: "printing".into(),
        }
    }

    #[test]
    fn similar_tickets_come_only_from_the_same_tenant() {
        let idx = TicketIndex::create_in_ram().unwrap();
        idx.upsert(&[t("northmoor", "N1", "printer jammed on floor two"), t("eastbrook", "E1", "printer jammed on floor two")]).unwrap();
        let north = TenantId::parse("northmoor").unwrap();
        let hits = idx.search("the printer is jammed", &north, 5).unwrap();
        assert_eq!(hits.iter().map(|h| h.external_id.as_str()).collect::<Vec<_>>(), vec!["N1"]);
        assert_eq!(hits[0].resolution_notes, "fixed printer jammed on floor two");
        assert_eq!((hits[0].matched_terms, hits[0].query_terms), (2, 2), "printer and jam");
        assert!(idx.search("printer", &TenantId::parse("westwater").unwrap(), 5).unwrap().is_empty());
    }

    #[test]
    fn upserting_the_same_ticket_replaces_it_and_delete_removes_it() {
        let idx = TicketIndex::create_in_ram().unwrap();
        idx.upsert(&[t("northmoor", "N1", "printer jammed")]).unwrap();
        idx.upsert(&[t("northmoor", "N1", "vpn down")]).unwrap();
        assert_eq!(idx.num_docs(), 1);
        let north = TenantId::parse("northmoor").unwrap();
        assert!(idx.search("printer", &north, 5).unwrap().is_empty());
        assert_eq!(idx.search("vpn", &north, 5).unwrap().len(), 1);
        idx.delete(&north, "N1").unwrap();
        assert_eq!(idx.num_docs(), 0);
    }
}
