//! Sparse TF-IDF vectors over the analysed terms of tickets, for incident detection.
//!
//! A ticket's terms are the knowledge base's query terms ([`triage_kb::KbIndex::query_terms`]:
//! stop words out, stemmed, distinct), so the vector is binary term presence weighted by inverse
//! document frequency (`ln((1 + n) / (1 + df)) + 1`, over the tickets the detector holds:
//! window and baseline history), normalised to length 1. Document frequencies move as tickets
//! arrive and leave the history; a vector keeps the weights of the moment it was made.
//!
//! Why not the similar-ticket scorer (`triage_kb`'s in-memory BM25 over resolved tickets), as
//! the issue suggested: that scorer holds *resolved* tickets, one tenant's postings at a time
//! (`tenant:term`), with each tenant's own statistics, and answers "which stored tickets rank
//! highest for this query". Detection needs the opposite on every axis: *new* tickets of the last
//! hour, all tenants together, a similarity with a fixed scale that one threshold can cut
//! (cosine in 0..1; BM25 grows with query length and collection statistics), and centroids that
//! tickets join and leave as the window slides. It shares the analysis instead (the same query
//! terms), so both read a ticket the same way.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hasher for the ids the detector hands out itself (term ids, sequence numbers): one multiply,
/// several times faster than the default SipHash. Never used for keys a caller controls (term
/// text keeps SipHash, so crafted ticket text cannot force collisions).
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A map keyed by detector-assigned ids.
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A sparse vector: (term id, weight), sorted by term id, length 1 (or empty).
pub type SparseVec = Vec<(u32, f32)>;

/// Term ids and their document frequencies.
#[derive(Debug, Default, Clone)]
pub struct Vocab {
    ids: HashMap<String, u32>,
    terms: Vec<String>,
    df: Vec<u32>,
    docs: u32,
}

impl Vocab {
    /// The id of `term`, added if new.
    pub fn intern(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.ids.insert(term.to_owned(), id);
        self.terms.push(term.to_owned());
        self.df.push(0);
        id
    }

    /// Terms interned.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether no term was interned.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Documents counted with term `id`.
    pub fn df(&self, id: u32) -> u32 {
        self.df[id as usize]
    }

    /// Forgets the terms `keep` says no to and renumbers the rest, in their order (so vectors
    /// sorted by id stay sorted); returns each old id's new id (`u32::MAX`: forgotten).
    pub fn compact(&mut self, keep: &[bool]) -> Vec<u32> {
        let mut map = vec![u32::MAX; self.terms.len()];
        let mut terms = Vec::new();
        let mut df = Vec::new();
        for (old, term) in std::mem::take(&mut self.terms).into_iter().enumerate() {
            if keep[old] {
                map[old] = terms.len() as u32;
                terms.push(term);
                df.push(self.df[old]);
            }
        }
        self.ids = terms.iter().enumerate().map(|(id, t)| (t.clone(), id as u32)).collect();
        self.terms = terms;
        self.df = df;
        map
    }

    /// The text of term `id`.
    pub fn term(&self, id: u32) -> &str {
        &self.terms[id as usize]
    }

    /// Inverse document frequency of term `id`.
    pub fn idf(&self, id: u32) -> f32 {
        idf(self.docs, self.df.get(id as usize).copied().unwrap_or(0))
    }

    /// Counts a document with `ids` (distinct).
    pub fn add_doc(&mut self, ids: &[u32]) {
        self.docs += 1;
        for &id in ids {
            self.df[id as usize] += 1;
        }
    }

    /// Forgets a document counted with [`Vocab::add_doc`].
    pub fn remove_doc(&mut self, ids: impl Iterator<Item = u32>) {
        self.docs = self.docs.saturating_sub(1);
        for id in ids {
            let df = &mut self.df[id as usize];
            *df = df.saturating_sub(1);
        }
    }

    /// Documents counted.
    pub fn docs(&self) -> u32 {
        self.docs
    }

    /// Every known term's IDF by text, for matching on the request path.
    pub fn idf_table(&self) -> HashMap<String, f32> {
        self.terms.iter().enumerate().filter(|(i, _)| self.df[*i] > 0).map(|(i, t)| (t.clone(), self.idf(i as u32))).collect()
    }

    /// The IDF of a term never seen.
    pub fn unseen_idf(&self) -> f32 {
        idf(self.docs, 0)
    }

    /// The vector of distinct `terms` (interned), with their ids for [`Vocab::add_doc`].
    pub fn vector(&mut self, terms: &[String]) -> (SparseVec, Vec<u32>) {
        let mut ids: Vec<u32> = terms.iter().map(|t| self.intern(t)).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut v: SparseVec = ids.iter().map(|&id| (id, self.idf(id))).collect();
        normalise(&mut v);
        (v, ids)
    }
}

/// `ln((1 + n) / (1 + df)) + 1`.
pub fn idf(docs: u32, df: u32) -> f32 {
    ((1.0 + docs as f32) / (1.0 + df as f32)).ln() + 1.0
}

/// Scales `v` to length 1 (an empty or zero vector stays as it is).
pub fn normalise(v: &mut [(u32, f32)]) {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, w)| *w /= norm);
    }
}

/// A sum of unit vectors (a cluster's or an incident's members); its direction is the centroid.
#[derive(Debug, Default, Clone)]
pub struct Centroid {
    sum: IdMap<u32, f32>,
    norm: f32,
}

impl Centroid {
    /// Adds a member's vector.
    pub fn add(&mut self, v: &[(u32, f32)]) {
        for &(id, w) in v {
            *self.sum.entry(id).or_default() += w;
        }
        self.refresh();
    }

    /// Removes a member's vector added earlier.
    pub fn remove(&mut self, v: &[(u32, f32)]) {
        for &(id, w) in v {
            if let Some(x) = self.sum.get_mut(&id) {
                *x -= w;
                if *x <= 1e-6 {
                    self.sum.remove(&id);
                }
            }
        }
        self.refresh();
    }

    /// Renumbers its terms after [`Vocab::compact`] (which kept every one of them); the
    /// weights, and so the norm, are unchanged.
    pub fn remap(&mut self, map: &[u32]) {
        self.sum = self.sum.drain().map(|(id, w)| (map[id as usize], w)).collect();
    }

    /// Adds every vector of `other`.
    pub fn merge(&mut self, other: &Centroid) {
        for (&id, &w) in &other.sum {
            *self.sum.entry(id).or_default() += w;
        }
        self.refresh();
    }

    fn refresh(&mut self) {
        self.norm = self.sum.values().map(|w| w * w).sum::<f32>().sqrt();
    }

    /// Cosine similarity with a unit vector.
    pub fn cosine(&self, v: &[(u32, f32)]) -> f32 {
        if self.norm == 0.0 {
            return 0.0;
        }
        v.iter().map(|(id, w)| w * self.sum.get(id).copied().unwrap_or(0.0)).sum::<f32>() / self.norm
    }

    /// Cosine similarity with another centroid.
    pub fn cosine_centroid(&self, other: &Centroid) -> f32 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let (small, large) = if self.sum.len() <= other.sum.len() { (self, other) } else { (other, self) };
        small.sum.iter().map(|(id, w)| w * large.sum.get(id).copied().unwrap_or(0.0)).sum::<f32>() / (self.norm * other.norm)
    }

    /// The unit centroid's weights, heaviest first.
    pub fn top(&self, n: usize) -> Vec<(u32, f32)> {
        let mut v: Vec<(u32, f32)> = self.sum.iter().map(|(&id, &w)| (id, if self.norm > 0.0 { w / self.norm } else { 0.0 })).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// Term ids in the centroid.
    pub fn terms(&self) -> impl Iterator<Item = u32> + '_ {
        self.sum.keys().copied()
    }

    /// Whether no member was added.
    pub fn is_empty(&self) -> bool {
        self.sum.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn vectors_are_unit_length_and_rare_terms_weigh_more() {
        let mut vocab = Vocab::default();
        for _ in 0..10 {
            let (_, ids) = vocab.vector(&terms("password reset"));
            vocab.add_doc(&ids);
        }
        let (v, _) = vocab.vector(&terms("password outlook"));
        let len: f32 = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        assert!((len - 1.0).abs() < 1e-5);
        let outlook = vocab.intern("outlook");
        let password = vocab.intern("password");
        let w = |id| v.iter().find(|(i, _)| *i == id).unwrap().1;
        assert!(w(outlook) > w(password), "a term in no document outweighs one in every document");
    }

    #[test]
    fn centroid_cosine_follows_members_added_and_removed() {
        let mut vocab = Vocab::default();
        let (a, _) = vocab.vector(&terms("vpn down"));
        let (b, _) = vocab.vector(&terms("printer jam"));
        let mut c = Centroid::default();
        c.add(&a);
        assert!((c.cosine(&a) - 1.0).abs() < 1e-5);
        assert!(c.cosine(&b).abs() < 1e-6);
        c.add(&b);
        assert!((c.cosine(&a) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-4);
        c.remove(&a);
        assert!((c.cosine(&b) - 1.0).abs() < 1e-5);
        assert!(c.cosine(&a).abs() < 1e-6);
    }
}
