//! Learned phrasing (issue 13): the words callers actually use, learned per article.
//!
//! A resolved ticket that names the article that fixed it (`kb_article`), and a triage whose
//! feedback says an article `resolved` it or was `helpful`, add their redacted text to that
//! article as a *learned document*; `not_helpful` adds one with a negative weight, so a phrasing
//! that did not help counts against the article for queries like it. An article's learned
//! documents make one search field per tenant: at query time the field is scored with BM25
//! against each query term (term frequencies weighted by each document's source and decayed with
//! its age; the statistics are the tenant's learning articles). Per term the article then scores
//! the larger of its own BM25 score and `learning.weight` times the learned one, and the negative
//! documents' field, times the weight, is subtracted; all before the best articles are kept
//! ([`KbQuery::boosts`](triage_kb::KbQuery)), so an article found only through learned text is a
//! candidate too, and fusion ranks the combined list as before. Taking the larger per term rather
//! than the sum keeps a word the article already has (the product's name, which its siblings have
//! too) from counting twice: the learned field decides where the article's own text is silent,
//! which is what separates near ties between sibling articles (StackFAQ, with history: P@1 0.888
//! / 0.863 summed, 0.904 / 0.885 this way; `benches/README.md`).
//!
//! **Tenants are kept apart by construction**: the documents, their postings and their statistics
//! live in one table per tenant, and a query reads only its own tenant's table; a learned boost
//! then goes through the same audience filter as any article score.
//!
//! Cheap at query time: postings term -> (document, term frequency) in memory and one dense
//! accumulator per thread, as the similar-ticket scorer; about 8 bytes per (document, distinct
//! term) and at most `max_per_article` documents per article (the most recent are kept).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::RwLock;

use triage_core::analysis::Analyzer;
use triage_core::tenant::TenantId;
use triage_kb::ArticleBoost;

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Articles added to a tenant's count of learning articles for the inverse document frequency,
/// so that the first few learned texts score their words as rare rather than as found everywhere.
const PRIOR_DOCS: f32 = 50.0;
/// Most terms taken from one learned document (a pasted thread must not dominate memory).
const MAX_DOC_TERMS: usize = 400;

/// How learned phrasing is weighted, decayed and capped (`[learning]` in the service's settings).
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `enabled` | true | learn from resolved tickets and feedback, and rank with it | |
/// | `weight` | 4.0 | per query term, `max(article BM25, weight x learned)` | 0..=10 |
/// | `half_life_days` | 180 | a learned document's weight halves every this many days | 1..=3650 |
/// | `max_per_article` | 200 | learned documents kept per tenant and article (the most recent) | 1..=10000 |
/// | `shared_articles` | true | whether articles shared with every tenant learn a tenant's phrasing (for that tenant only) | |
/// | `helpful_weight` | 0.5 | weight of a `helpful` feedback (`resolved` and a resolved ticket's `kb_article` weigh 1) | 0..=1 |
/// | `not_helpful_weight` | 0.5 | weight subtracted for a `not_helpful` feedback | 0..=1 |
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LearningParams {
    /// Whether learned phrasing is learned and used.
    pub enabled: bool,
    /// Weight of the learned score against the article's own BM25 score.
    pub weight: f32,
    /// Days after which a learned document counts half.
    pub half_life_days: f32,
    /// Most learned documents per tenant and article; the oldest go first.
    pub max_per_article: usize,
    /// Whether articles shared with every tenant learn (each tenant's phrasing for itself).
    pub shared_articles: bool,
    /// Weight of a `helpful` feedback.
    pub helpful_weight: f32,
    /// Weight subtracted for a `not_helpful` feedback.
    pub not_helpful_weight: f32,
}

impl Default for LearningParams {
    fn default() -> Self {
        Self {
            enabled: true,
            weight: 4.0,
            half_life_days: 180.0,
            max_per_article: 200,
            shared_articles: true,
            helpful_weight: 0.5,
            not_helpful_weight: 0.5,
        }
    }
}

/// One learned document of a tenant.
#[derive(Debug)]
struct Doc {
    key: Box<str>,
    article: u32,
    weight: f32,
    /// Days since the Unix epoch.
    day: f64,
}

/// One tenant's learned documents, postings and statistics.
#[derive(Debug, Default)]
struct TenantTable {
    articles: Vec<Box<str>>,
    article_ords: HashMap<Box<str>, u32>,
    docs: Vec<Doc>,
    /// Token count per document, 0 once removed (what the scoring loop reads).
    lens: Vec<u32>,
    by_key: HashMap<Box<str>, u32>,
    /// Live documents per article.
    per_article: Vec<Vec<u32>>,
    /// Token count of each article's live documents (its learned field's length).
    article_tokens: Vec<u64>,
    /// Articles with at least one live document.
    learned_articles: u64,
    postings: HashMap<Box<str>, Vec<(u32, u32)>>,
    live: u64,
    tokens: u64,
    dead: usize,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl TenantTable {
    fn remove(&mut self, key: &str) -> bool {
        let Some(ord) = self.by_key.remove(key) else { return false };
        let len = std::mem::take(&mut self.lens[ord as usize]);
        self.live -= 1;
        self.tokens -= u64::from(len);
        let article = self.docs[ord as usize].article as usize;
        self.per_article[article].retain(|&o| o != ord);
        self.article_tokens[article] -= u64::from(len);
        if self.per_article[article].is_empty() {
            self.learned_articles -= 1;
        }
        self.dead += 1;
        if self.dead > 256 && self.dead * 4 > self.docs.len() {
            self.compact();
        }
        true
    }

    fn add(&mut self, key: &str, article: &str, terms: &HashMap<String, u32>, weight: f32, day: f64, cap: usize) {
        self.remove(key);
        let article = match self.article_ords.get(article) {
            Some(&a) => a,
            None => {
                let a = self.articles.len() as u32;
                self.articles.push(article.into());
                self.article_ords.insert(article.into(), a);
                self.per_article.push(Vec::new());
                self.article_tokens.push(0);
                a
            }
        };
        if self.per_article[article as usize].len() >= cap {
            // the most recent are kept: the oldest goes, unless the new one is older still
            let oldest = self.per_article[article as usize]
                .iter()
                .copied()
                .min_by(|&a, &b| self.docs[a as usize].day.total_cmp(&self.docs[b as usize].day).then(a.cmp(&b)))
                .expect("cap is at least 1");
            if day < self.docs[oldest as usize].day {
                return;
            }
            let oldest_key = self.docs[oldest as usize].key.clone();
            self.remove(&oldest_key);
        }
        let ord = self.docs.len() as u32;
        let len = terms.values().sum::<u32>().max(1);
        self.docs.push(Doc { key: key.into(), article, weight, day });
        self.lens.push(len);
        self.by_key.insert(key.into(), ord);
        if self.per_article[article as usize].is_empty() {
            self.learned_articles += 1;
        }
        self.per_article[article as usize].push(ord);
        self.article_tokens[article as usize] += u64::from(len);
        self.live += 1;
        self.tokens += u64::from(len);
        for (term, &tf) in terms {
            match self.postings.get_mut(term.as_str()) {
                Some(list) => list.push((ord, tf)),
                None => {
                    self.postings.insert(term.as_str().into(), vec![(ord, tf)]);
                }
            }
        }
    }

    /// Drops removed documents from the postings and renumbers the rest.
    fn compact(&mut self) {
        let mut remap = vec![u32::MAX; self.docs.len()];
        let lens = std::mem::take(&mut self.lens);
        let mut kept = Vec::with_capacity(self.docs.len() - self.dead);
        for (old, doc) in std::mem::take(&mut self.docs).into_iter().enumerate() {
            if lens[old] > 0 {
                remap[old] = kept.len() as u32;
                self.lens.push(lens[old]);
                kept.push(doc);
            }
        }
        self.docs = kept;
        for ord in self.by_key.values_mut().chain(self.per_article.iter_mut().flatten()) {
            *ord = remap[*ord as usize];
        }
        self.postings.retain(|_, list| {
            list.retain_mut(|(ord, _)| {
                *ord = remap[*ord as usize];
                *ord != u32::MAX
            });
            !list.is_empty()
        });
        self.dead = 0;
    }

    /// Learned evidence per article for `terms` at `today` (days since the epoch), before
    /// `learning.weight`: per query term, BM25 of the term over each article's learned field,
    /// where a document's term counts enter weighted by its source and decayed by its age.
    /// Positive and negative (`not_helpful`) documents make two fields: per article, the
    /// positive field's score of each term (term index, score), and the negative field's total.
    /// `except`: live documents left out, as if they had never been learned (their terms, their
    /// lengths, and an article they leave without documents).
    fn scores(&self, terms: &[String], today: f64, half_life_days: f32, except: &[u32]) -> Vec<ArticleScores> {
        // the statistics without the left-out documents: (article, its tokens left out)
        let mut left_out: Vec<(u32, u64)> = Vec::new();
        for &ord in except {
            let len = u64::from(self.lens[ord as usize]);
            let a = self.docs[ord as usize].article;
            match left_out.iter_mut().find(|(x, _)| *x == a) {
                Some((_, l)) => *l += len,
                None => left_out.push((a, len)),
            }
        }
        let emptied = left_out.iter().filter(|&&(a, _)| self.per_article[a as usize].iter().all(|d| except.contains(d))).count() as u64;
        let learned_articles = self.learned_articles - emptied;
        let tokens = self.tokens - left_out.iter().map(|(_, l)| l).sum::<u64>();
        if self.live == except.len() as u64 || learned_articles == 0 {
            return Vec::new();
        }
        let article_tokens =
            |a: usize| -> u64 { self.article_tokens[a] - left_out.iter().find(|(x, _)| *x as usize == a).map_or(0, |(_, l)| *l) };
        let n = learned_articles as f32 + PRIOR_DOCS;
        let avg = tokens as f32 / learned_articles as f32;
        let per_day = 1.0 / half_life_days;
        SCRATCH.with(|cell| {
            let scratch = &mut *cell.borrow_mut();
            scratch.prepare(self.articles.len());
            let mut out: Vec<ArticleScores> = Vec::new();
            for (ti, term) in terms.iter().enumerate() {
                let Some(list) = self.postings.get(term.as_str()) else { continue };
                for &(ord, tf) in list {
                    if self.lens[ord as usize] == 0 || (!except.is_empty() && except.contains(&ord)) {
                        continue;
                    }
                    let doc = &self.docs[ord as usize];
                    let age = (today - doc.day).max(0.0) as f32;
                    let count = tf as f32 * doc.weight * (-age * per_day).exp2();
                    let a = doc.article as usize;
                    let slot = &mut scratch.tf[a];
                    if *slot == [0.0, 0.0] {
                        scratch.term_articles.push(a as u32);
                    }
                    slot[usize::from(count < 0.0)] += count.abs();
                }
                let df = scratch.term_articles.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln() * (K1 + 1.0);
                for a in scratch.term_articles.drain(..) {
                    let [pos, neg] = std::mem::take(&mut scratch.tf[a as usize]);
                    let norm = K1 * (1.0 - B + B * article_tokens(a as usize) as f32 / avg);
                    let at = &mut scratch.at[a as usize];
                    if *at == u32::MAX {
                        *at = out.len() as u32;
                        scratch.touched.push(a);
                        out.push((a as usize, 0.0, Vec::new()));
                    }
                    let entry = &mut out[*at as usize];
                    if pos > 0.0 {
                        entry.2.push((ti as u32, idf * pos / (pos + norm)));
                    }
                    entry.1 += idf * neg / (neg + norm);
                }
            }
            for a in scratch.touched.drain(..) {
                scratch.at[a as usize] = u32::MAX;
            }
            // counts decayed to nothing leave empty entries
            out.retain(|(_, neg, per_term)| *neg != 0.0 || !per_term.is_empty());
            out
        })
    }
}

/// One article's learned evidence for a query: its ordinal in the tenant's table, the negative
/// field's score, and (query term index, positive score) per term it learned.
type ArticleScores = (usize, f32, Vec<(u32, f32)>);

/// Per-thread accumulators of one query, sized to the tenant's articles.
#[derive(Debug, Default)]
struct Scratch {
    /// Weighted term count of the current term per article: positive, negative.
    tf: Vec<[f32; 2]>,
    /// Articles the current term touched.
    term_articles: Vec<u32>,
    /// Per article, its entry in the query's output (`u32::MAX`: none yet), and the articles
    /// touched.
    at: Vec<u32>,
    touched: Vec<u32>,
}

impl Scratch {
    fn prepare(&mut self, articles: usize) {
        if self.tf.len() < articles {
            self.tf.resize(articles, [0.0, 0.0]);
            self.at.resize(articles, u32::MAX);
        }
        self.term_articles.clear();
        // a query that did not finish (a panic) leaves its entries set: reset them
        for a in self.touched.drain(..) {
            self.at[a as usize] = u32::MAX;
        }
    }
}

/// Learned documents of every tenant (see the module docs). `Send + Sync`.
#[derive(Debug, Default)]
pub(crate) struct Learned {
    params: LearningParams,
    tenants: RwLock<HashMap<Box<str>, TenantTable>>,
    /// Whether the store's tickets and feedback were loaded (since the last `clear`).
    loaded: std::sync::atomic::AtomicBool,
}

/// Days since the Unix epoch of a stored timestamp; `None` for text that is not one.
pub(crate) fn day_of(stored: &str) -> Option<f64> {
    let t = triage_core::time::Timestamp::parse(stored).ok()?;
    let epoch = triage_core::time::Timestamp::from_system_time(std::time::UNIX_EPOCH);
    Some(t.seconds_since(&epoch) as f64 / 86_400.0)
}

/// Days since the Unix epoch, now.
pub(crate) fn today() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() / 86_400.0)
}

/// Analysed terms of a learned document, with their counts.
pub(crate) fn document_terms(text: &str) -> HashMap<String, u32> {
    static ANALYZER: std::sync::LazyLock<Analyzer> = std::sync::LazyLock::new(Analyzer::search);
    let mut terms: HashMap<String, u32> = HashMap::new();
    let mut taken = 0;
    ANALYZER.for_each_token(text, |t| {
        if taken < MAX_DOC_TERMS {
            *terms.entry(t.term.to_owned()).or_insert(0) += 1;
            taken += 1;
        }
    });
    terms
}

impl Learned {
    pub(crate) fn new(params: LearningParams) -> Self {
        Self { params, tenants: RwLock::default(), loaded: Default::default() }
    }

    /// Whether the store's tickets and feedback were loaded since the last [`Learned::clear`].
    pub(crate) fn loaded(&self) -> bool {
        self.loaded.load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn set_loaded(&self) {
        self.loaded.store(true, std::sync::atomic::Ordering::Release);
    }

    pub(crate) fn params(&self) -> &LearningParams {
        &self.params
    }

    /// Adds (or replaces) the learned document `key` of `tenant`: `text` (redacted) for
    /// `article`, with `weight` (negative counts against), dated `day`. Ignored when
    /// learning is off, the text has no terms or the weight is 0.
    pub(crate) fn add(&self, tenant: &TenantId, key: &str, article: &str, text: &str, weight: f32, day: f64) {
        if !self.params.enabled || weight == 0.0 {
            return;
        }
        let terms = document_terms(text);
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        let table = tenants.entry(tenant.as_str().into()).or_default();
        if terms.is_empty() {
            table.remove(key);
            return;
        }
        table.add(key, article, &terms, weight, day, self.params.max_per_article.max(1));
    }

    /// Removes the learned document `key` of `tenant`; whether it was there.
    pub(crate) fn remove(&self, tenant: &TenantId, key: &str) -> bool {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        tenants.get_mut(tenant.as_str()).is_some_and(|t| t.remove(key))
    }

    /// Forgets everything (before a reload from the store).
    pub(crate) fn clear(&self) {
        self.loaded.store(false, std::sync::atomic::Ordering::Release);
        self.tenants.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Live learned documents of `tenant`.
    #[cfg(test)]
    pub(crate) fn len(&self, tenant: &TenantId) -> usize {
        self.tenants.read().unwrap_or_else(|p| p.into_inner()).get(tenant.as_str()).map_or(0, |t| t.live as usize)
    }

    /// The learned evidence of each article for `terms` of `tenant` at `today`, one entry per
    /// article, for [`KbQuery::with_boosts`](triage_kb::KbQuery::with_boosts): per term
    /// `weight x` its positive learned score (the article then scores the larger of that and its
    /// own score for the term), and `-weight x` the negative field's score added.
    pub(crate) fn boosts(&self, tenant: &TenantId, terms: &[String], today: f64) -> Vec<ArticleBoost> {
        self.boosts_except(tenant, terms, today, &[]).0
    }

    /// As [`Learned::boosts`], as if the learned documents `except` (keys; unknown ones are
    /// ignored) had never been learned: a history ticket searched to fit the fix model must not
    /// find its own text. Also says whether the tenant has learned phrasing at all (the fix
    /// model's feature 15), read under the same lock.
    pub(crate) fn boosts_except(&self, tenant: &TenantId, terms: &[String], today: f64, except: &[String]) -> (Vec<ArticleBoost>, bool) {
        if !self.params.enabled || self.params.weight == 0.0 {
            return (Vec::new(), false);
        }
        let w = self.params.weight;
        let tenants = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        let Some(table) = tenants.get(tenant.as_str()) else { return (Vec::new(), false) };
        let except: Vec<u32> = except.iter().filter_map(|k| table.by_key.get(k.as_str()).copied()).collect();
        let history = table.live > except.len() as u64;
        let boosts = table
            .scores(terms, today, self.params.half_life_days, &except)
            .into_iter()
            .map(|(a, neg, mut per_term)| {
                per_term.iter_mut().for_each(|(_, s)| *s *= w);
                ArticleBoost { article: table.articles[a].to_string(), add: -w * neg, terms: per_term }
            })
            .collect();
        (boosts, history)
    }
}

/// Key of the learned document of a resolved ticket.
pub(crate) fn ticket_key(external_id: &str) -> String {
    format!("t\u{1f}{external_id}")
}

/// Key of the learned document of one feedback (the store keeps one per triage, suggestion and
/// outcome).
pub(crate) fn feedback_key(triage_id: &str, article: &str, outcome: &str) -> String {
    format!("f\u{1f}{triage_id}\u{1f}{article}\u{1f}{outcome}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(t: &str) -> TenantId {
        TenantId::parse(t).unwrap()
    }

    fn terms(text: &str) -> Vec<String> {
        triage_kb::KbIndex::query_terms(text)
    }

    fn boost(l: &Learned, t: &str, text: &str, article: &str, today: f64) -> f32 {
        l.boosts(&tenant(t), &terms(text), today).into_iter().find(|b| b.article == article).map_or(0.0, |b| b.upper())
    }

    #[test]
    fn a_tenants_learned_text_scores_for_that_tenant_only() {
        let l = Learned::new(LearningParams::default());
        l.add(&tenant("northmoor"), "t\u{1f}1", "printer-offline", "the photocopier on floor two shows a red light", 1.0, 100.0);
        assert!(boost(&l, "northmoor", "red light on the photocopier", "printer-offline", 100.0) > 0.0);
        assert_eq!(boost(&l, "eastbrook", "red light on the photocopier", "printer-offline", 100.0), 0.0);
        assert!(l.boosts(&tenant("eastbrook"), &terms("photocopier"), 100.0).is_empty());
        let history = |t: &str| l.boosts_except(&tenant(t), &terms("anything"), 100.0, &[]).1;
        assert!(history("northmoor") && !history("eastbrook"), "northmoor has history, eastbrook none");
        let only = ["t\u{1f}1".to_owned()];
        assert!(!l.boosts_except(&tenant("northmoor"), &terms("anything"), 100.0, &only).1, "none once its only document is left out");
        l.remove(&tenant("northmoor"), "t\u{1f}1");
        assert!(!history("northmoor"), "its only document removed");
    }

    #[test]
    fn a_document_left_out_scores_exactly_as_if_it_had_never_been_learned() {
        let north = tenant("northmoor");
        let learn = |docs: &[(&str, &str, &str)]| {
            let l = Learned::new(LearningParams::default());
            for (key, article, text) in docs {
                l.add(&north, key, article, text, 1.0, 100.0);
            }
            l
        };
        let all = [
            ("a", "printer-offline", "photocopier red light blinking on the second floor"),
            ("b", "printer-offline", "photocopier jammed tray"),
            ("c", "vpn-drops", "tunnel cuts out at home"),
            ("d", "password-reset", "locked out after the password change"),
        ];
        let with_all = learn(&all);
        let without_a = learn(&all[1..]);
        let without_ad = learn(&all[1..3]);
        for text in ["red light", "photocopier jammed", "tunnel photocopier", "locked out"] {
            let q = terms(text);
            let out = |keys: &[&str]| with_all.boosts_except(&north, &q, 100.0, &keys.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>());
            assert_eq!(out(&["a"]).0, without_a.boosts(&north, &q, 100.0), "{text}: lengths and counts as if a was never learned");
            assert_eq!(out(&["a", "d"]).0, without_ad.boosts(&north, &q, 100.0), "{text}: d's article left with no document");
            assert_eq!(out(&["unknown"]).0, with_all.boosts(&north, &q, 100.0), "{text}: an unknown key changes nothing");
        }
        assert!(with_all.boosts(&north, &terms("red light"), 100.0).iter().any(|b| b.upper() > 0.0), "the query does match a");
    }

    #[test]
    fn the_best_matching_article_gets_the_larger_boost() {
        let l = Learned::new(LearningParams::default());
        let north = tenant("northmoor");
        l.add(&north, "a", "printer-offline", "photocopier red light", 1.0, 100.0);
        l.add(&north, "b", "vpn-drops", "home broadband tunnel cuts out", 1.0, 100.0);
        let boosts = l.boosts(&north, &terms("the photocopier has a red light"), 100.0);
        assert_eq!(boosts.len(), 1, "{boosts:?}");
        assert_eq!(boosts[0].article, "printer-offline");
    }

    #[test]
    fn only_the_most_recent_documents_per_article_are_kept() {
        let l = Learned::new(LearningParams { max_per_article: 2, ..LearningParams::default() });
        let north = tenant("northmoor");
        l.add(&north, "old", "a", "zebra crossing", 1.0, 10.0);
        l.add(&north, "mid", "a", "walrus tusk", 1.0, 20.0);
        l.add(&north, "new", "a", "yak wool", 1.0, 30.0);
        assert_eq!(l.len(&north), 2);
        assert_eq!(boost(&l, "northmoor", "zebra", "a", 30.0), 0.0, "the oldest went");
        assert!(boost(&l, "northmoor", "walrus", "a", 30.0) > 0.0);
        l.add(&north, "older", "a", "quokka smile", 1.0, 5.0);
        assert_eq!(boost(&l, "northmoor", "quokka", "a", 30.0), 0.0, "older than everything kept: not added");
        l.add(&north, "other", "b", "ibis feather", 1.0, 1.0);
        assert!(boost(&l, "northmoor", "ibis", "b", 30.0) > 0.0, "the cap is per article");
    }

    #[test]
    fn learned_documents_decay_with_age() {
        let l = Learned::new(LearningParams { half_life_days: 10.0, ..LearningParams::default() });
        l.add(&tenant("northmoor"), "k", "a", "photocopier red light", 1.0, 100.0);
        let fresh = boost(&l, "northmoor", "photocopier red light", "a", 100.0);
        let later = boost(&l, "northmoor", "photocopier red light", "a", 110.0);
        let much_later = boost(&l, "northmoor", "photocopier red light", "a", 200.0);
        assert!(fresh > later && later > much_later && much_later < 0.01 * fresh, "{fresh}, {later}, {much_later}");
        l.add(&tenant("northmoor"), "k2", "b", "photocopier red light", 1.0, 110.0);
        let boosts = l.boosts(&tenant("northmoor"), &terms("photocopier red light"), 110.0);
        let of = |id: &str| boosts.iter().find(|b| b.article == id).unwrap().upper();
        assert!(of("b") > of("a"), "the same words learned more recently weigh more: {boosts:?}");
    }

    #[test]
    fn not_helpful_counts_against_the_article() {
        let l = Learned::new(LearningParams::default());
        let north = tenant("northmoor");
        l.add(&north, "good", "a", "photocopier red light", 1.0, 100.0);
        let before = boost(&l, "northmoor", "photocopier red light", "a", 100.0);
        l.add(&north, "bad", "a", "photocopier red light", -0.5, 100.0);
        let after = boost(&l, "northmoor", "photocopier red light", "a", 100.0);
        assert!(after < before && after > 0.0, "{before} then {after}");
        l.add(&north, "bad2", "b", "photocopier jammed", -0.5, 100.0);
        assert!(boost(&l, "northmoor", "photocopier jammed", "b", 100.0) < 0.0, "only against: a negative boost");
    }

    #[test]
    fn a_removed_or_replaced_document_stops_contributing_and_compaction_keeps_the_rest() {
        let l = Learned::new(LearningParams::default());
        let north = tenant("northmoor");
        l.add(&north, "k", "a", "photocopier red light", 1.0, 100.0);
        l.add(&north, "k", "a", "walrus tusk", 1.0, 100.0);
        assert_eq!(boost(&l, "northmoor", "photocopier", "a", 100.0), 0.0, "replaced");
        assert!(l.remove(&north, "k"));
        assert_eq!(boost(&l, "northmoor", "walrus", "a", 100.0), 0.0, "removed");
        assert!(!l.remove(&north, "k"));
        for i in 0..1_000 {
            l.add(&north, &format!("x{i}"), &format!("art{}", i % 10), &format!("disk full word{i}"), 1.0, 100.0);
        }
        for i in 0..900 {
            l.remove(&north, &format!("x{i}"));
        }
        assert_eq!(l.len(&north), 100);
        assert!(boost(&l, "northmoor", "word950", "art0", 100.0) > 0.0, "kept through compaction");
        assert_eq!(boost(&l, "northmoor", "word10", "art0", 100.0), 0.0);
        assert_eq!(l.boosts(&north, &terms("disk"), 100.0).len(), 10);
    }

    #[test]
    fn nothing_is_learned_or_boosted_when_learning_is_off() {
        let l = Learned::new(LearningParams { enabled: false, ..LearningParams::default() });
        l.add(&tenant("northmoor"), "k", "a", "photocopier red light", 1.0, 100.0);
        assert_eq!(l.len(&tenant("northmoor")), 0);
        assert!(l.boosts(&tenant("northmoor"), &terms("photocopier"), 100.0).is_empty());
    }

    #[test]
    fn learned_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Learned>();
    }
}
