//! Ranking: the query is analysed with the shared analyzer, each term is matched in every
//! weighted field, and tantivy's BM25 scores are combined.
//!
//! | field | default weight | why |
//! |---|---|---|
//! | `title` | 3.0 | short and written to name the problem |
//! | `symptoms` | 2.0 | the phrases callers really write |
//! | `summary` | 1.5 | one line about the fix |
//! | `tags` | 1.5 | curated keywords |
//! | `body` | 1.0 | cause and steps: long, many incidental words |
//!
//! Per query term the field scores are combined as a disjunction-max with a tie-breaker
//! (`tie_breaker` 1.0 is a plain sum, 0.0 takes the best field only).

use std::sync::Arc;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};

use tantivy::{DocAddress, Searcher, TantivyDocument, Term};
use triage_core::analysis::Analyzer;
use triage_core::tenant::{Audience, TenantId};

use crate::index::CachedDoc;
use crate::schema::ID_FIELD;
use crate::snippet::{SnippetSource, SnippetTerms};
use crate::{KbIndex, Result};

/// Most distinct query terms used; a pasted e-mail thread must not become a 2,000-clause query.
pub(crate) const MAX_QUERY_TERMS: usize = 64;
/// Longest snippet, in bytes of source text.
pub(crate) const SNIPPET_BYTES: usize = 220;

/// Weights of the fields in ranking (see the module docs for the defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldWeights {
    /// Weight of the title (default 3.0).
    pub title: f32,
    /// Weight of the symptoms (default 2.0).
    pub symptoms: f32,
    /// Weight of the summary (default 1.5).
    pub summary: f32,
    /// Weight of the tags (default 1.5).
    pub tags: f32,
    /// Weight of the body (default 1.0).
    pub body: f32,
    /// How much the non-best fields add for one term: 1.0 sums them, 0.0 keeps only the best.
    pub tie_breaker: f32,
}

impl Default for FieldWeights {
    fn default() -> Self {
        Self { title: 3.0, symptoms: 2.0, summary: 1.5, tags: 1.5, body: 1.0, tie_breaker: 1.0 }
    }
}

/// Learned evidence for one article (the engine's learned phrasing), for [`KbQuery::boosts`].
///
/// Per query term the article scores the larger of its own score for the term and the learned
/// one (`terms`): a word the article's text already has is not counted twice, so learned words
/// decide mostly where the article's own text is silent; `add` is then added as it is (the
/// engine's `not_helpful` phrasing, negative).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleBoost {
    /// Article id.
    pub article: String,
    /// Added to the article's score.
    pub add: f32,
    /// (index into the query's terms, learned score of that term), at most one per term.
    pub terms: Vec<(u32, f32)>,
}

impl ArticleBoost {
    /// A boost that only adds `add` (no per-term evidence).
    pub fn additive(article: impl Into<String>, add: f32) -> Self {
        Self { article: article.into(), add, terms: Vec::new() }
    }

    /// The most the boost can add: `add` plus every term's learned score (what it adds to an
    /// article that matched none of the terms itself).
    pub fn upper(&self) -> f32 {
        self.add + self.terms.iter().map(|&(_, s)| s.max(0.0)).sum::<f32>()
    }
}

/// A search request.
#[derive(Debug, Clone)]
pub struct KbQuery<'a> {
    /// What the user typed; analysed with the shared analyzer unless `terms` is given.
    pub text: &'a str,
    /// Only articles shared with every tenant, or scoped to this one. `None`: shared articles only.
    pub tenant: Option<&'a TenantId>,
    /// Only articles of this category slug; `None` for every category.
    pub category: Option<&'a str>,
    /// Most hits to return; 0 counts as 1.
    pub limit: usize,
    /// Whether to build highlighted snippets (skipped for evaluation runs that need ids only).
    pub snippets: bool,
    /// Whether articles shared with every tenant are included (a tenant may opt out).
    pub include_shared: bool,
    /// Terms already analysed from `text` (see [`KbIndex::query_terms`]), so one request
    /// analyses its text once for both indexes.
    pub terms: Option<&'a [String]>,
    /// Learned evidence per article, applied before the best `limit` are kept (see
    /// [`ArticleBoost`]; term indices refer to `terms`, or to the text's analysed terms). An
    /// article the boost raises is a candidate even when no term matched it; the tenant and
    /// category filters apply to it as to any other.
    pub boosts: Option<&'a [ArticleBoost]>,
}

impl<'a> KbQuery<'a> {
    /// A query for `text`: shared articles only, every category, 5 hits, with snippets.
    pub fn new(text: &'a str) -> Self {
        Self { text, tenant: None, category: None, limit: 5, snippets: true, include_shared: true, terms: None, boosts: None }
    }
    /// Uses terms already analysed from the text (see [`KbIndex::query_terms`]).
    pub fn with_terms(mut self, terms: &'a [String]) -> Self {
        self.terms = Some(terms);
        self
    }
    /// Applies learned evidence to articles by id (see [`KbQuery::boosts`]).
    pub fn with_boosts(mut self, boosts: &'a [ArticleBoost]) -> Self {
        self.boosts = Some(boosts);
        self
    }
    /// Sets whether articles shared with every tenant are included.
    pub fn include_shared(mut self, include: bool) -> Self {
        self.include_shared = include;
        self
    }
    /// Sets the tenant whose scoped articles are included as well.
    pub fn tenant(mut self, tenant: Option<&'a TenantId>) -> Self {
        self.tenant = tenant;
        self
    }
    /// Restricts the hits to one category slug.
    pub fn category(mut self, category: Option<&'a str>) -> Self {
        self.category = category;
        self
    }
    /// Sets the most hits to return (0 counts as 1).
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
    /// Sets whether highlighted snippets are built.
    pub fn snippets(mut self, snippets: bool) -> Self {
        self.snippets = snippets;
        self
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct KbHit {
    /// Article id.
    pub id: String,
    /// Article title.
    pub title: String,
    /// Article category slug.
    pub category: String,
    /// Ranking score (combined BM25, plus the query's boost for the article); comparable within
    /// one search only.
    pub score: f32,
    /// HTML with matched words in `<b>`; text is escaped. Empty when snippets were not asked for.
    pub snippet: String,
    /// Share (0..=1) of the query's matchable weight this article matches: each query term
    /// counts by the best score any article gets from it, so a rare, telling word the article
    /// lacks costs more than a common one.
    pub coverage: f32,
    /// Share (0..=1) of the query's terms that occur anywhere in the knowledge base (the same for
    /// every hit of a search): a ticket in words the knowledge base never uses has no answer in it.
    pub query_known: f32,
}

impl KbIndex {
    /// Searches the index. Query text is analysed, never parsed as query syntax, so input such as
    /// `title:x OR *` is just words.
    pub fn search(&self, q: &KbQuery<'_>) -> Result<Vec<KbHit>> {
        let owned;
        let terms: &[String] = match q.terms {
            Some(t) => t,
            None => {
                owned = Self::query_terms(q.text);
                &owned
            }
        };
        let impacts = self.impacts.read().unwrap_or_else(|p| p.into_inner()).clone();
        let searcher = self.reader.searcher();
        // without impact lists (before the first sync) coverage is not known: 1
        let (top, query_known): (Vec<(f32, String, f32)>, f32) = match &impacts {
            Some(impacts) => {
                let (hits, known) =
                    impacts.top(terms, q.boosts.unwrap_or_default(), q.tenant, q.include_shared, q.category, q.limit.max(1));
                (hits.into_iter().map(|h| (h.score, impacts.docs[h.doc as usize].id.clone(), h.coverage)).collect(), known)
            }
            None => (self.search_with_query(&searcher, terms, q)?.into_iter().map(|(s, id)| (s, id, 1.0)).collect(), 1.0),
        };
        let snippet_terms = SnippetTerms::new(terms);
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let mut hits = Vec::with_capacity(top.len());
        for (score, id, coverage) in top {
            let cached = match cache.get(&id) {
                Some(c) => c.clone(),
                None => match self.load_cached_by_id(&searcher, &id)? {
                    Some(c) => c,
                    None => continue,
                },
            };
            let snippet = if q.snippets {
                cached
                    .body
                    .snippet(&snippet_terms, SNIPPET_BYTES)
                    .unwrap_or_else(|| escape_html(&first_chars(&cached.summary, SNIPPET_BYTES)))
            } else {
                String::new()
            };
            hits.push(KbHit { id, title: cached.title.clone(), category: cached.category.clone(), score, snippet, coverage, query_known });
        }
        Ok(hits)
    }

    /// The tantivy query path: one weighted BM25 disjunction per term, filtered by tenant and
    /// category. Used before the first sync (no impact lists yet) and by the test that checks
    /// the impact lists against it.
    pub(crate) fn search_with_query(&self, searcher: &Searcher, terms: &[String], q: &KbQuery<'_>) -> Result<Vec<(f32, String)>> {
        let Some(text_query) = self.text_query(terms) else {
            return Ok(Vec::new());
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(self.tenant_filter(q.tenant, q.include_shared), 0.0))));
        if let Some(category) = q.category {
            let term = Term::from_field_text(self.fields.category, category);
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(Box::new(TermQuery::new(term, IndexRecordOption::Basic)), 0.0))));
        }
        let query = BooleanQuery::new(clauses);
        let boosts = q.boosts.unwrap_or_default();
        // boosts only re-rank what the terms found here (the impact lists also add articles
        // found by their boost alone): so read deeper, add, and cut again; without per-term
        // scores here a boost adds its upper bound (this path runs only before the first sync)
        let top = searcher.search(&query, &TopDocs::with_limit(q.limit.max(1) + boosts.len()).order_by_score())?;
        let mut hits: Vec<(f32, String)> =
            top.into_iter().map(|(score, addr)| Ok((score, self.doc_id(searcher, addr)?))).collect::<Result<_>>()?;
        if !boosts.is_empty() {
            for (score, id) in &mut hits {
                *score += boosts.iter().find(|b| &b.article == id).map_or(0.0, ArticleBoost::upper);
            }
            hits.sort_by(|a, b| b.0.total_cmp(&a.0));
        }
        hits.truncate(q.limit.max(1));
        Ok(hits)
    }

    /// The article id of a hit, read from the fast field (no doc-store access).
    pub(crate) fn doc_id(&self, searcher: &Searcher, addr: DocAddress) -> Result<String> {
        let segment = searcher.segment_reader(addr.segment_ord);
        let mut id = String::new();
        if let Some(col) = segment.fast_fields().str(ID_FIELD)?
            && let Some(ord) = col.ords().first(addr.doc_id)
        {
            col.ord_to_str(ord, &mut id)?;
        }
        Ok(id)
    }

    /// Display fields of a document that is not in the cache (an index opened without `sync`).
    /// `None` when the article left the index since the search (a concurrent sync).
    fn load_cached_by_id(&self, searcher: &Searcher, id: &str) -> Result<Option<Arc<CachedDoc>>> {
        let by_id = TermQuery::new(Term::from_field_text(self.fields.id, id), IndexRecordOption::Basic);
        let Some((_, addr)) = searcher.search(&by_id, &TopDocs::with_limit(1).order_by_score())?.into_iter().next() else {
            return Ok(None);
        };
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |f: Field| doc.get_first(f).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        Ok(Some(Arc::new(CachedDoc {
            title: text(self.fields.title),
            category: text(self.fields.category),
            summary: text(self.fields.summary),
            body: SnippetSource::new(&Analyzer::search(), text(self.fields.body)),
        })))
    }

    /// Distinct analysed terms of `text`, at most [`MAX_QUERY_TERMS`], in order of appearance.
    pub fn query_terms(text: &str) -> Vec<String> {
        static ANALYZER: std::sync::LazyLock<Analyzer> = std::sync::LazyLock::new(Analyzer::search);
        let mut terms: Vec<String> = Vec::new();
        ANALYZER.for_each_token(text, |t| {
            if terms.len() < MAX_QUERY_TERMS && !terms.iter().any(|x| x == t.term) {
                terms.push(t.term.to_owned());
            }
        });
        terms
    }

    fn text_query(&self, terms: &[String]) -> Option<Box<dyn Query>> {
        let vocabulary = self.vocabulary.read().unwrap_or_else(|p| p.into_inner());
        let per_term: Vec<(Occur, Box<dyn Query>)> = terms
            .iter()
            .filter(|t| vocabulary.as_ref().is_none_or(|v| v.contains(*t)))
            .filter_map(|t| self.term_query(t))
            .map(|q| (Occur::Should, q))
            .collect();
        if per_term.is_empty() {
            return None;
        }
        Some(Box::new(BooleanQuery::new(per_term)))
    }

    /// The score of one query term: the disjunction-max (with tie-breaker) of its weighted BM25
    /// score in every field. `None` when every weight is zero.
    pub(crate) fn term_query(&self, term: &str) -> Option<Box<dyn Query>> {
        let f = &self.fields;
        let w = &self.weights;
        let weighted = [(f.title, w.title), (f.symptoms, w.symptoms), (f.summary, w.summary), (f.tags, w.tags), (f.body, w.body)];
        let fields: Vec<Box<dyn Query>> = weighted
            .iter()
            .filter(|(_, weight)| *weight > 0.0)
            .map(|&(field, weight)| {
                let tq = TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::WithFreqs);
                Box::new(BoostQuery::new(Box::new(tq), weight)) as Box<dyn Query>
            })
            .collect();
        (!fields.is_empty()).then(|| Box::new(DisjunctionMaxQuery::with_tie_breaker(fields, w.tie_breaker)) as Box<dyn Query>)
    }

    fn tenant_filter(&self, tenant: Option<&TenantId>, include_shared: bool) -> Box<dyn Query> {
        let term = |t: &str| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(TermQuery::new(Term::from_field_text(self.fields.tenants, t), IndexRecordOption::Basic)))
        };
        let mut allowed = Vec::new();
        if include_shared || tenant.is_none() {
            allowed.push(term(Audience::ALL_MARKER));
        }
        if let Some(t) = tenant {
            allowed.push(term(t.as_str()));
        }
        Box::new(BooleanQuery::new(allowed))
    }
}

fn first_chars(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

/// Escapes text for HTML so snippets can be shown as they are.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KbDocument;

    fn index() -> KbIndex {
        let tenant = |t: &str| Audience::Tenants(vec![TenantId::parse(t).unwrap()]);
        let docs = vec![
            KbDocument {
                id: "account-locked".into(),
                title: "Account locked out".into(),
                symptoms: vec!["my account is locked".into(), "too many password attempts".into()],
                body: "Unlock the account in the directory after checking identity.".into(),
                category: "accounts".into(),
                ..KbDocument::default()
            },
            KbDocument {
                id: "printer-offline".into(),
                title: "Printer offline".into(),
                symptoms: vec!["printer says offline".into(), "nothing prints".into()],
                body: "Restart the print queue. The <printer> must be on the network.".into(),
                category: "printing".into(),
                ..KbDocument::default()
            },
            KbDocument {
                id: "northmoor-remote-desktop".into(),
                title: "Remote desktop gateway".into(),
                symptoms: vec!["remote desktop will not connect".into(), "gateway error".into(), "account locked on gateway".into()],
                body: "Northmoor only gateway.".into(),
                category: "remote-access".into(),
                audience: tenant("northmoor"),
                ..KbDocument::default()
            },
        ];
        let index = KbIndex::create_in_ram().unwrap();
        index.sync(&docs).unwrap();
        index
    }

    #[test]
    fn the_best_matching_article_ranks_first() {
        let idx = index();
        let hits = idx.search(&KbQuery::new("I am locked out of my account")).unwrap();
        assert_eq!(hits[0].id, "account-locked");
        let hits = idx.search(&KbQuery::new("nothing comes out of the printer")).unwrap();
        assert_eq!(hits[0].id, "printer-offline");
    }

    #[test]
    fn snippets_highlight_matches_and_escape_html() {
        let hits = index().search(&KbQuery::new("printer network")).unwrap();
        assert!(hits[0].snippet.contains("<b>network</b>"), "{}", hits[0].snippet);
        assert!(hits[0].snippet.contains("&lt;"), "{}", hits[0].snippet);
    }

    #[test]
    fn tenant_scoped_articles_are_invisible_to_other_tenants() {
        let idx = index();
        let northmoor = TenantId::parse("northmoor").unwrap();
        let eastbrook = TenantId::parse("eastbrook").unwrap();
        let ids = |t: Option<&TenantId>| -> Vec<String> {
            idx.search(&KbQuery::new("remote desktop gateway").tenant(t)).unwrap().into_iter().map(|h| h.id).collect()
        };
        assert!(ids(Some(&northmoor)).contains(&"northmoor-remote-desktop".to_owned()));
        assert!(!ids(Some(&eastbrook)).contains(&"northmoor-remote-desktop".to_owned()));
        assert!(!ids(None).contains(&"northmoor-remote-desktop".to_owned()));
    }

    #[test]
    fn category_filter_keeps_only_that_category_without_changing_scores() {
        let idx = index();
        let all = idx.search(&KbQuery::new("account locked")).unwrap();
        let only = idx.search(&KbQuery::new("account locked").category(Some("accounts"))).unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].id, "account-locked");
        let same = all.iter().find(|h| h.id == "account-locked").unwrap();
        assert_eq!(same.score, only[0].score);
    }

    #[test]
    fn boosts_add_to_scores_bring_in_unmatched_articles_and_respect_the_tenant_filter() {
        let idx = index();
        let boosts = vec![ArticleBoost::additive("printer-offline", 100.0), ArticleBoost::additive("northmoor-remote-desktop", 200.0)];
        let hits = idx.search(&KbQuery::new("account locked").with_boosts(&boosts)).unwrap();
        assert_eq!(hits[0].id, "printer-offline", "found by its boost alone: {hits:?}");
        assert!(hits.iter().all(|h| h.id != "northmoor-remote-desktop"), "another tenant's article stays out whatever its boost");
        let plain = idx.search(&KbQuery::new("account locked")).unwrap();
        let boosted = idx.search(&KbQuery::new("account locked").with_boosts(&[ArticleBoost::additive("account-locked", 1.5)])).unwrap();
        assert!((boosted[0].score - plain[0].score - 1.5).abs() < 1e-4);
        let negative = idx.search(&KbQuery::new("account locked").with_boosts(&[ArticleBoost::additive("printer-offline", -5.0)])).unwrap();
        assert!(negative.iter().all(|h| h.id != "printer-offline"), "a negative boost never brings an article in");
    }

    #[test]
    fn a_learned_term_score_counts_only_above_the_articles_own_score_for_that_term() {
        let idx = index();
        let terms = KbIndex::query_terms("account locked");
        let plain = idx.search(&KbQuery::new("account locked").with_terms(&terms)).unwrap();
        let own = plain.iter().find(|h| h.id == "account-locked").unwrap().score;
        // per term: the learned score under the article's own adds nothing; above it, the difference
        let first = idx.search(&KbQuery::new(&terms[0]).with_terms(&terms[..1])).unwrap();
        let own_first = first.iter().find(|h| h.id == "account-locked").unwrap().score;
        assert!(own_first > 0.0);
        let search = |learned: f32| {
            let b = [ArticleBoost { article: "account-locked".into(), add: 0.0, terms: vec![(0, learned)] }];
            let hits = idx.search(&KbQuery::new("account locked").with_terms(&terms).with_boosts(&b)).unwrap();
            hits.iter().find(|h| h.id == "account-locked").unwrap().score
        };
        assert!((search(own_first * 0.5) - own).abs() < 1e-4, "below its own score: nothing added");
        assert!((search(own_first + 2.0) - own - 2.0).abs() < 1e-3, "above: the difference");
        // a term the article lacks counts in full, and brings an unmatched article in
        let b = [ArticleBoost { article: "printer-offline".into(), add: -1.0, terms: vec![(1, 50.0)] }];
        let hits = idx.search(&KbQuery::new("account locked").with_terms(&terms).with_boosts(&b)).unwrap();
        let printer = hits.iter().find(|h| h.id == "printer-offline").expect("brought in by its learned term");
        assert!((printer.score - 49.0).abs() < 1e-3, "{hits:?}");
    }

    #[test]
    fn query_syntax_is_treated_as_words() {
        let idx = index();
        assert!(idx.search(&KbQuery::new("title:printer OR * AND (")).unwrap().iter().any(|h| h.id == "printer-offline"));
        assert!(idx.search(&KbQuery::new("*** ((( ")).unwrap().is_empty());
        assert!(idx.search(&KbQuery::new("the and of")).unwrap().is_empty());
    }

    #[test]
    fn query_terms_are_distinct_and_capped() {
        let text: String = (0..200).map(|i| format!("word{i} word{i} ")).collect();
        let terms = KbIndex::query_terms(&text);
        assert_eq!(terms.len(), MAX_QUERY_TERMS);
        assert_eq!(terms[0], "word0");
        assert_eq!(terms[1], "word1");
    }
}

#[cfg(test)]
mod impact_tests {
    use super::*;
    use crate::KbDocument;

    /// The bundled knowledge base, indexed in RAM.
    fn bundled() -> (KbIndex, Vec<KbDocument>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base");
        let articles = crate::loader::load_dir(&dir).unwrap().into_valid().unwrap();
        let docs: Vec<KbDocument> = articles.iter().map(KbDocument::from).collect();
        let index = KbIndex::create_in_ram().unwrap();
        index.sync(&docs).unwrap();
        (index, docs)
    }

    #[test]
    fn impact_lists_rank_and_score_as_the_tantivy_query_does() {
        let (index, docs) = bundled();
        let searcher = index.reader.searcher();
        let north = TenantId::parse("northmoor").unwrap();
        let mut queries: Vec<String> = docs.iter().flat_map(|d| d.symptoms.iter().cloned().chain([d.title.clone()])).collect();
        queries.push("printer offline nothing prints, queue stuck since the update and my password expired".into());
        let mut compared = 0;
        for (i, text) in queries.iter().enumerate() {
            let terms = KbIndex::query_terms(text);
            let category = (i % 7 == 0).then_some(docs[i % docs.len()].category.as_str());
            let tenant = (i % 3 == 0).then_some(&north);
            let q = KbQuery::new(text).with_terms(&terms).tenant(tenant).category(category).limit(10).include_shared(i % 11 != 0);
            let expected = index.search_with_query(&searcher, &terms, &q).unwrap();
            let got = index.search(&q).unwrap();
            assert_eq!(got.len(), expected.len(), "{text}");
            for (rank, (hit, (score, id))) in got.iter().zip(&expected).enumerate() {
                assert!((hit.score - score).abs() <= 1e-4 * score.abs().max(1.0), "{text} #{rank}: {} vs {score}", hit.score);
                let tied = expected.iter().filter(|(s, _)| (s - score).abs() <= 1e-4 * score.abs().max(1.0)).count() > 1;
                assert!(tied || hit.id == *id, "{text} #{rank}: {} vs {id}", hit.id);
            }
            compared += expected.len();
        }
        assert!(compared > 1_000, "the comparison covered {compared} hits");
    }

    #[test]
    fn impact_lists_follow_a_sync() {
        let (index, mut docs) = bundled();
        let only = |index: &KbIndex| index.search(&KbQuery::new("quokka zeppelin xylophone")).unwrap();
        assert!(only(&index).is_empty());
        docs[0].title = "Quokka zeppelin xylophone lights".into();
        index.sync(&docs).unwrap();
        assert_eq!(only(&index)[0].id, docs[0].id, "a changed article is scored by its new words");
        docs.remove(0);
        index.sync(&docs).unwrap();
        assert!(only(&index).is_empty(), "a removed article is gone from the lists");
    }
}
