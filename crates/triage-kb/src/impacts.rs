//! Precomputed per-term scores of the knowledge base ("impact lists").
//!
//! A knowledge base is small (tens to a few thousand articles) and changes only at
//! [`KbIndex::sync`](crate::KbIndex::sync). So at sync, for every term of its vocabulary, the
//! score each article gets from that term (the weighted BM25 disjunction over title, symptoms,
//! summary, tags and body that a query runs, computed by tantivy itself) is stored once. A search
//! then adds the impact lists of its terms into one score per article, applies the tenant and
//! category filters and keeps the best `limit`: no term-dictionary lookups, scorer set-up or
//! posting decoding per request. The scores are tantivy's (up to the order of float additions);
//! a test checks rankings and scores against the query path, which stays as the fallback for an
//! index opened without a sync.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::{DocAddress, Searcher};
use triage_core::tenant::{Audience, TenantId};

use crate::index::KbDocument;
use crate::search::ArticleBoost;
use crate::{KbIndex, Result};

/// One article as the impact lists know it.
#[derive(Debug)]
pub(crate) struct ImpactDoc {
    pub id: String,
    pub category: String,
    pub audience: Audience,
}

/// Impact lists: term -> (article ordinal, score) for every article containing the term, and
/// the best score any article gets from the term (how much the term can tell).
#[derive(Debug, Default)]
pub(crate) struct Impacts {
    pub docs: Vec<ImpactDoc>,
    /// Article id -> ordinal, for boosts by id.
    by_id: HashMap<String, u32>,
    terms: HashMap<String, (f32, ImpactList)>,
}

/// One term's (article ordinal, score) pairs, by ordinal.
type ImpactList = Box<[(u32, f32)]>;

/// One article of a search: its score, its ordinal, and the share of the query's matchable
/// weight its own text matches (each query term counted by the best score any article gets from
/// it; learned boosts do not count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ImpactHit {
    pub score: f32,
    pub doc: u32,
    pub coverage: f32,
}

thread_local! {
    /// Per-thread accumulators: score per article, and which articles were touched.
    static SCRATCH: RefCell<(Vec<f32>, Vec<u32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

impl Impacts {
    /// Scores every vocabulary term against every article with tantivy, once.
    pub(crate) fn build(index: &KbIndex, searcher: &Searcher, docs: &[KbDocument], vocabulary: &HashSet<String>) -> Result<Self> {
        let by_id: HashMap<&str, &KbDocument> = docs.iter().map(|d| (d.id.as_str(), d)).collect();
        let mut ordinals: HashMap<DocAddress, u32> = HashMap::new();
        let mut out = Impacts::default();
        for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
            for doc_id in segment.doc_ids_alive() {
                let addr = DocAddress::new(segment_ord as u32, doc_id);
                let id = index.doc_id(searcher, addr)?;
                let Some(d) = by_id.get(id.as_str()) else { continue };
                ordinals.insert(addr, out.docs.len() as u32);
                out.by_id.insert(id.clone(), out.docs.len() as u32);
                out.docs.push(ImpactDoc { id, category: d.category.clone(), audience: d.audience.clone() });
            }
        }
        let all = TopDocs::with_limit(out.docs.len().max(1)).order_by_score();
        for term in vocabulary {
            let Some(query) = index.term_query(term) else { continue };
            let mut list: Vec<(u32, f32)> =
                searcher.search(&query, &all)?.into_iter().filter_map(|(score, addr)| ordinals.get(&addr).map(|&o| (o, score))).collect();
            if list.is_empty() {
                continue;
            }
            list.sort_unstable_by_key(|&(o, _)| o);
            let best = list.iter().map(|&(_, s)| s).fold(0.0f32, f32::max);
            out.terms.insert(term.clone(), (best, list.into_boxed_slice()));
        }
        Ok(out)
    }

    /// Number of terms with an impact list.
    pub(crate) fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// The best `limit` articles for `terms`, with `boosts` by article id applied (per term the
    /// larger of the article's own score and the learned one, then `add`), that pass the
    /// filters, best first, and the share of the query's terms the knowledge base knows at all.
    /// Equal scores keep index order, as tantivy's top-k does. A boost makes an article a
    /// candidate only when it raises its score.
    pub(crate) fn top(
        &self,
        terms: &[String],
        boosts: &[ArticleBoost],
        tenant: Option<&TenantId>,
        include_shared: bool,
        category: Option<&str>,
        limit: usize,
    ) -> (Vec<ImpactHit>, f32) {
        SCRATCH.with(|cell| {
            let (scores, touched, covered) = &mut *cell.borrow_mut();
            if scores.len() < self.docs.len() {
                scores.resize(self.docs.len(), 0.0);
                covered.resize(self.docs.len(), 0.0);
            }
            touched.clear();
            let mut matchable = 0.0f32;
            let mut known = 0usize;
            // each query term's impact list (for the boosts' per-term comparison)
            let mut lists: Vec<Option<&ImpactList>> = Vec::with_capacity(if boosts.is_empty() { 0 } else { terms.len() });
            for term in terms {
                let found = self.terms.get(term.as_str());
                if !boosts.is_empty() {
                    lists.push(found.map(|(_, list)| list));
                }
                let Some((best, list)) = found else { continue };
                matchable += best;
                known += 1;
                for &(doc, score) in list.iter() {
                    let slot = &mut scores[doc as usize];
                    if *slot == 0.0 {
                        touched.push(doc);
                    }
                    *slot += score;
                    covered[doc as usize] += best;
                }
            }
            for boost in boosts {
                let Some(&doc) = self.by_id.get(&boost.article) else { continue };
                let mut delta = boost.add;
                for &(term, learned) in &boost.terms {
                    let own = lists
                        .get(term as usize)
                        .copied()
                        .flatten()
                        .and_then(|list| list.binary_search_by_key(&doc, |&(o, _)| o).ok().map(|i| list[i].1))
                        .unwrap_or(0.0);
                    delta += (learned - own).max(0.0);
                }
                let slot = &mut scores[doc as usize];
                if *slot == 0.0 {
                    if delta <= 0.0 {
                        continue;
                    }
                    touched.push(doc);
                }
                // nothing is added after the boosts, so a slot a boost brings to 0 is still drained
                *slot += delta;
            }
            let mut hits: Vec<ImpactHit> = Vec::with_capacity(touched.len());
            for &doc in touched.iter() {
                let score = std::mem::take(&mut scores[doc as usize]);
                let cover = std::mem::take(&mut covered[doc as usize]);
                let d = &self.docs[doc as usize];
                let visible = match &d.audience {
                    Audience::All => include_shared || tenant.is_none(),
                    Audience::Tenants(list) => tenant.is_some_and(|t| list.contains(t)),
                };
                if visible && category.is_none_or(|c| d.category == c) {
                    hits.push(ImpactHit { score, doc, coverage: if matchable > 0.0 { cover / matchable } else { 0.0 } });
                }
            }
            let order = |a: &ImpactHit, b: &ImpactHit| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
            if hits.len() > limit {
                hits.select_nth_unstable_by(limit, order);
                hits.truncate(limit);
            }
            hits.sort_unstable_by(order);
            (hits, if terms.is_empty() { 0.0 } else { known as f32 / terms.len() as f32 })
        })
    }
}
