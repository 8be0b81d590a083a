//! Knowledge-base gaps: a tenant's tickets that the knowledge base could not fix (answered
//! `no_good_fix`, or a suggestion marked `not_helpful`), grouped by what they say, largest group
//! first, each with a draft article an admin can review and commit.
//!
//! Grouping is deterministic and simple on purpose:
//! 1. every candidate's redacted text is analysed with [`Analyzer::search`] (as the knowledge
//!    base analyses it: stop words out, stemmed) into a TF-IDF vector (`tf * (ln((1 + n) /
//!    (1 + df)) + 1)`, over the candidates of the window), normalised to length 1;
//! 2. one pass, oldest ticket first (ties by triage id): a ticket joins the group whose summed
//!    vector is nearest by cosine if that reaches [`GapParams::threshold`], else it starts a group;
//! 3. groups are ranked by size (then by their latest ticket, then id); a group's top terms
//!    are the heaviest of its summed vector, its representatives the members nearest to it.
//!
//! A gap's id is `gap-` and the first 12 hex digits of SHA-256 over the tenant and the group's
//! top terms, so the same gap keeps its id as the window moves while its words stay the same.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use triage_core::analysis::Analyzer;
use triage_core::tenant::TenantId;
use triage_core::time::Timestamp;
use triage_store::GapCandidate;

use crate::{Result, TriageEngine};

/// How gaps are found.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `threshold` | 0.35 | cosine a ticket needs with a group to join it | 0..=1 |
/// | `max_candidates` | 5000 | newest candidate tickets read from the store | 1.. |
/// | `limit` | 20 | gaps returned, largest first | 1.. |
#[derive(Debug, Clone, PartialEq)]
pub struct GapParams {
    /// Cosine similarity a ticket needs with a group's summed vector to join it.
    pub threshold: f64,
    /// Most candidate tickets read (the newest).
    pub max_candidates: usize,
    /// Most gaps returned.
    pub limit: usize,
}

impl Default for GapParams {
    fn default() -> Self {
        Self { threshold: 0.35, max_candidates: 5_000, limit: 20 }
    }
}

/// Representative tickets per gap.
pub const MAX_REPRESENTATIVES: usize = 3;
/// Resolution notes per gap.
pub const MAX_NOTES: usize = 5;
/// Top terms per gap.
pub const TOP_TERMS: usize = 5;
const SNIPPET_CHARS: usize = 160;

/// One ticket shown for a gap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapTicket {
    /// The triage's id.
    pub triage_id: String,
    /// The ticket's id in the ticketing system, if known.
    pub external_id: Option<String>,
    /// When it was triaged.
    pub created_at: String,
    /// The first line of its redacted text (the ticket's title), at most 100 characters.
    pub title: String,
    /// The start of its redacted text, on one line.
    pub snippet: String,
}

/// A group of similar tickets the knowledge base has no good fix for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gap {
    /// `gap-` and 12 hex digits (see the module docs).
    pub id: String,
    /// Tickets in the group.
    pub size: usize,
    /// Of them, answered `no_good_fix`.
    pub no_good_fix: usize,
    /// Of them, with a suggestion marked `not_helpful`.
    pub not_helpful: usize,
    /// The group's heaviest words, as written in the tickets.
    pub top_terms: Vec<String>,
    /// The earliest ticket's triage time.
    pub first_seen: String,
    /// The latest ticket's triage time.
    pub last_seen: String,
    /// The most common predicted category, if any.
    pub category: Option<String>,
    /// Up to [`MAX_REPRESENTATIVES`] members nearest the group's centre.
    pub representatives: Vec<GapTicket>,
    /// Up to [`MAX_NOTES`] resolution notes of members since resolved, newest first.
    pub resolution_notes: Vec<String>,
    /// Id of the draft article.
    pub draft_id: String,
    /// A draft article (Markdown with front matter, `draft: true`) that passes `triage kb check`.
    pub draft: String,
}

/// The gaps of one tenant over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbGaps {
    /// The tenant.
    pub tenant: String,
    /// Candidate tickets read (no good fix or not helpful).
    pub candidates: usize,
    /// Gaps, largest first.
    pub gaps: Vec<Gap>,
}

impl TriageEngine {
    /// The knowledge-base gaps of `tenant` among triages in `from..to` (both optional).
    pub fn kb_gaps(&self, tenant: &TenantId, from: Option<Timestamp>, to: Option<Timestamp>, params: &GapParams) -> Result<KbGaps> {
        self.recorder.flush();
        let candidates = self.store.gap_candidates(tenant, from.as_ref(), to.as_ref(), params.max_candidates)?;
        let today = Timestamp::now().to_stored();
        let gaps = find_gaps(&candidates, tenant, params, &today[..10]);
        Ok(KbGaps { tenant: tenant.as_str().to_owned(), candidates: candidates.len(), gaps })
    }
}

/// A sparse vector: term index -> weight.
type Vector = HashMap<usize, f64>;

struct Analysed {
    terms: HashMap<usize, u32>,
}

struct Vocabulary {
    index: HashMap<String, usize>,
    /// For each term, how often each written form was seen.
    surfaces: Vec<BTreeMap<String, u32>>,
    df: Vec<u32>,
}

impl Vocabulary {
    fn analyse(&mut self, analyzer: &Analyzer, text: &str) -> Analysed {
        let mut terms: HashMap<usize, u32> = HashMap::new();
        analyzer.for_each_token(text, |t| {
            let next = self.index.len();
            let i = *self.index.entry(t.term.to_owned()).or_insert(next);
            if i == self.surfaces.len() {
                self.surfaces.push(BTreeMap::new());
                self.df.push(0);
            }
            *self.surfaces[i].entry(text[t.start..t.end].to_lowercase()).or_insert(0) += 1;
            *terms.entry(i).or_insert(0) += 1;
        });
        for i in terms.keys() {
            self.df[*i] += 1;
        }
        Analysed { terms }
    }

    /// The most often written form of term `i` (ties: the first in order).
    fn surface(&self, i: usize) -> &str {
        let forms = &self.surfaces[i];
        let best = forms.values().copied().max().unwrap_or(0);
        forms.iter().find(|(_, n)| **n == best).map_or("", |(s, _)| s.as_str())
    }
}

fn dot(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small.iter().filter_map(|(i, w)| large.get(i).map(|v| w * v)).sum()
}

fn norm(a: &Vector) -> f64 {
    a.values().map(|w| w * w).sum::<f64>().sqrt()
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let n = norm(a) * norm(b);
    if n == 0.0 { 0.0 } else { dot(a, b) / n }
}

/// Groups `candidates` (one tenant's) into gaps, largest first; `today` (`YYYY-MM-DD`) dates
/// the drafts. Deterministic: the same candidates give the same gaps in any input order.
pub fn find_gaps(candidates: &[GapCandidate], tenant: &TenantId, params: &GapParams, today: &str) -> Vec<Gap> {
    let mut order: Vec<&GapCandidate> = candidates.iter().collect();
    order.sort_by(|a, b| (&a.created_at, &a.triage_id).cmp(&(&b.created_at, &b.triage_id)));
    let analyzer = Analyzer::search();
    let mut vocabulary = Vocabulary { index: HashMap::new(), surfaces: Vec::new(), df: Vec::new() };
    let analysed: Vec<Analysed> = order.iter().map(|c| vocabulary.analyse(&analyzer, &c.text)).collect();
    let n = order.len() as f64;
    let vectors: Vec<Vector> = analysed
        .iter()
        .map(|a| {
            let mut v: Vector = a
                .terms
                .iter()
                .map(|(i, tf)| (*i, f64::from(*tf) * (((1.0 + n) / (1.0 + f64::from(vocabulary.df[*i]))).ln() + 1.0)))
                .collect();
            let len = norm(&v);
            if len > 0.0 {
                v.values_mut().for_each(|w| *w /= len);
            }
            v
        })
        .collect();

    // single pass: (summed vector, member indexes into `order`)
    let mut groups: Vec<(Vector, Vec<usize>)> = Vec::new();
    for (i, v) in vectors.iter().enumerate() {
        let best = groups
            .iter()
            .enumerate()
            .map(|(g, (sum, _))| (g, settle(cosine(v, sum))))
            .filter(|(_, c)| *c >= params.threshold)
            .fold(None, |best: Option<(usize, f64)>, (g, c)| if best.is_none_or(|(_, b)| c > b) { Some((g, c)) } else { best });
        match best {
            Some((g, _)) => {
                let (sum, members) = &mut groups[g];
                for (t, w) in v {
                    *sum.entry(*t).or_insert(0.0) += w;
                }
                members.push(i);
            }
            None => groups.push((v.clone(), vec![i])),
        }
    }

    let mut gaps: Vec<Gap> =
        groups.iter().map(|(sum, members)| describe(sum, members, &order, &vectors, &vocabulary, tenant, today)).collect();
    gaps.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| b.last_seen.cmp(&a.last_seen)).then_with(|| a.id.cmp(&b.id)));
    // two groups with the same top terms would share an id: number the later ones
    let mut seen: HashMap<String, usize> = HashMap::new();
    for gap in &mut gaps {
        let n = seen.entry(gap.id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            gap.id = format!("{}-{n}", gap.id);
            let draft_id = format!("{}-{n}", gap.draft_id);
            gap.draft = gap.draft.replacen(&format!("id: {}\n", gap.draft_id), &format!("id: {draft_id}\n"), 1);
            gap.draft_id = draft_id;
        }
    }
    gaps.truncate(params.limit);
    gaps
}

fn describe(
    sum: &Vector,
    members: &[usize],
    order: &[&GapCandidate],
    vectors: &[Vector],
    vocabulary: &Vocabulary,
    tenant: &TenantId,
    today: &str,
) -> Gap {
    // sums over hash maps add in a different order in each process: values are rounded before
    // they are compared, so equal weights (a two-ticket gap's members are equally near its
    // centre) tie exactly and the tie-break decides, the same in every run
    let mut weights: Vec<(usize, f64)> = sum.iter().map(|(t, w)| (*t, settle(*w))).collect();
    weights.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| vocabulary.surface(a.0).cmp(vocabulary.surface(b.0))));
    // numbers and one- or two-letter words say little about a gap: not shown as its terms
    let telling = |s: &&str| s.chars().count() >= 3 && !s.chars().all(|c| c.is_ascii_digit());
    let top_terms: Vec<String> =
        weights.iter().map(|(t, _)| vocabulary.surface(*t)).filter(telling).take(TOP_TERMS).map(str::to_owned).collect();
    let mut nearest: Vec<(usize, f64)> = members.iter().map(|m| (*m, settle(cosine(&vectors[*m], sum)))).collect();
    nearest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| order[a.0].triage_id.cmp(&order[b.0].triage_id)));
    let representatives: Vec<GapTicket> = nearest
        .iter()
        .take(MAX_REPRESENTATIVES)
        .map(|(m, _)| {
            let c = order[*m];
            GapTicket {
                triage_id: c.triage_id.clone(),
                external_id: c.external_id.clone(),
                created_at: c.created_at.clone(),
                title: one_line(c.text.lines().find(|l| !l.trim().is_empty()).unwrap_or("")).chars().take(100).collect(),
                snippet: snippet(&c.text),
            }
        })
        .collect();
    let resolution_notes: Vec<String> =
        members.iter().rev().filter_map(|m| order[*m].resolution_notes.as_deref()).map(one_line).take(MAX_NOTES).collect();
    let most_common = |field: fn(&GapCandidate) -> Option<&str>| {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for m in members {
            if let Some(v) = field(order[*m]) {
                *counts.entry(v).or_insert(0) += 1;
            }
        }
        let best = counts.values().copied().max()?;
        counts.into_iter().find(|(_, n)| *n == best).map(|(v, _)| v.to_owned())
    };
    let category = most_common(|c| c.category.as_deref());
    let escalation = most_common(|c| c.assignment_group.as_deref());
    let hash = triage_core::article::content_hash(format!("{tenant}\n{}", top_terms.join("\n")).as_bytes());
    let id = format!("gap-{}", &hash[..12]);
    let draft_id = draft_slug(&top_terms, &hash);
    let first = order[members[0]];
    let last = order[*members.last().unwrap_or(&members[0])];
    let mut gap = Gap {
        id,
        size: members.len(),
        no_good_fix: members.iter().filter(|m| order[**m].no_good_fix).count(),
        not_helpful: members.iter().filter(|m| order[**m].not_helpful).count(),
        top_terms,
        first_seen: first.created_at.clone(),
        last_seen: last.created_at.clone(),
        category,
        representatives,
        resolution_notes,
        draft_id,
        draft: String::new(),
    };
    gap.draft = crate::gaps_draft::draft_article(&gap, tenant, escalation.as_deref(), today);
    gap
}

/// The text on one line, whitespace runs collapsed.
pub(crate) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn snippet(text: &str) -> String {
    let line = one_line(text);
    match line.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", line[..cut].trim_end()),
        None => line,
    }
}

/// `kb-gap-` and the top terms that make a slug (3-80 of `a-z0-9-`); the hash when none do.
fn draft_slug(top_terms: &[String], hash: &str) -> String {
    let words: Vec<&str> = top_terms
        .iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        .take(3)
        .collect();
    let slug = if words.is_empty() { format!("kb-gap-{}", &hash[..12]) } else { format!("kb-gap-{}", words.join("-")) };
    slug.chars().take(80).collect::<String>().trim_end_matches('-').to_owned()
}

#[cfg(test)]
#[path = "gaps_tests.rs"]
mod tests;

/// `x` rounded to 1e-9, so float sums taken in different orders compare equal.
fn settle(x: f64) -> f64 {
    (x * 1e9).round() / 1e9
}
