//! Learned boilerplate: per tenant, the sentences that recur across a large share of the tenant's
//! resolved tickets (a council's own disclaimer, its e-mail banner, a department's signature
//! template) are treated as boilerplate at triage and training, without anyone listing them.
//!
//! Counted from the stored (cleaned, redacted) descriptions of resolved tickets: each distinct
//! normalised sentence once per ticket, both as the cleaner sees paragraphs and as single lines.
//! A sentence becomes boilerplate for its tenant when it is in at least `min_share` of the
//! tenant's tickets and in at least `min_tickets` of them, and has at least [`MIN_WORDS`] words
//! (so "please reset my password" is never learned however often callers write it: short
//! sentences carry the problem more often than boilerplate does), and is spread across the
//! tenant's categories: a sentence whose tickets mostly share one label (a network-outage form's
//! "does site have a backup circuit") says where the ticket belongs, so it stays. Spread means
//! its most common label covers at most `max(50%, 2 x that label's share of all tickets)` of its
//! tickets. Counts grow as tickets are
//! ingested; updates and erasures are only counted at the next start, which rebuilds them from
//! the store.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, RwLock};

use triage_core::clean::{Boilerplate, normalise_sentence, sentences};
use triage_core::tenant::TenantId;

/// Fewest words (after normalising) a learned sentence has.
pub const MIN_WORDS: usize = 5;
/// Text of a sentence is kept once it is seen in this many tickets (memory: most sentences are
/// seen once, and only their 8-byte hash is kept).
const KEEP_TEXT_AT: u32 = 3;

/// When a recurring sentence counts as boilerplate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoilerplateParams {
    /// Share of a tenant's tickets a sentence must be in (0..=1; 0.01 = 1%).
    pub min_share: f64,
    /// Fewest tickets a sentence must be in, whatever the share (a small tenant learns nothing
    /// from a handful of tickets).
    pub min_tickets: u64,
}

impl Default for BoilerplateParams {
    fn default() -> Self {
        Self { min_share: 0.01, min_tickets: 20 }
    }
}

/// A learned sentence, for admins to review.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LearnedPhrase {
    /// The sentence in its normal form (lower case, punctuation dropped).
    pub text: String,
    /// Resolved tickets of the tenant it is in.
    pub tickets: u64,
    /// `tickets` over the tenant's resolved tickets.
    pub share: f64,
}

/// What the detector learned for one tenant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LearnedBoilerplate {
    /// Resolved tickets counted.
    pub tickets: u64,
    /// The rule applied.
    pub min_share: f64,
    /// The rule applied.
    pub min_tickets: u64,
    /// Learned sentences, most frequent first.
    pub phrases: Vec<LearnedPhrase>,
}

#[derive(Default)]
struct TenantCounts {
    tickets: u64,
    counts: HashMap<u64, u32>,
    text: HashMap<u64, String>,
    /// Tickets per label (category, else assignment group), and per label of each sentence whose
    /// text is kept.
    labels: HashMap<String, u32>,
    sentence_labels: HashMap<u64, HashMap<String, u32>>,
    /// The learned set, rebuilt when the tickets counted have grown by 1% (or 20) since.
    learned: Arc<Boilerplate>,
    learned_at: u64,
}

/// Per-tenant sentence counts and the boilerplate learned from them. `Send + Sync`.
pub(crate) struct Learner {
    params: BoilerplateParams,
    tenants: RwLock<HashMap<String, TenantCounts>>,
}

fn hash(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Whether the tickets carrying sentence `h` are spread across labels rather than mostly one
/// (see the module documentation). Tickets without labels count as one label, "".
fn spread(t: &TenantCounts, h: &u64) -> bool {
    let Some(by_label) = t.sentence_labels.get(h) else { return true };
    let total: u32 = by_label.values().sum();
    let Some((label, &top)) = by_label.iter().max_by_key(|(l, n)| (**n, std::cmp::Reverse((*l).clone()))) else { return true };
    let base = f64::from(t.labels.get(label).copied().unwrap_or(0)) / t.tickets.max(1) as f64;
    f64::from(top) / f64::from(total.max(1)) <= (2.0 * base).max(0.5)
}

/// The distinct normalised sentences of one description that could be boilerplate: sentences of
/// each paragraph (as the cleaner reads them) and of each line, of at least [`MIN_WORDS`] words.
fn candidate_sentences(description: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut take = |piece: &str| {
        for s in sentences(piece) {
            let n = normalise_sentence(s);
            if n.split(' ').count() >= MIN_WORDS {
                out.insert(n);
            }
        }
    };
    for paragraph in description.split("\n\n") {
        take(paragraph);
        if paragraph.contains('\n') {
            paragraph.lines().for_each(&mut take);
        }
    }
    out
}

impl Learner {
    pub(crate) fn new(params: BoilerplateParams) -> Self {
        Self { params, tenants: RwLock::new(HashMap::new()) }
    }

    /// Counts one resolved ticket's description (and its label: category, else assignment
    /// group) for its tenant.
    pub(crate) fn observe(&self, tenant: &TenantId, description: &str, label: Option<&str>) {
        let found = candidate_sentences(description);
        let label = label.unwrap_or("");
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        let t = tenants.entry(tenant.as_str().to_owned()).or_default();
        t.tickets += 1;
        *t.labels.entry(label.to_owned()).or_insert(0) += 1;
        for s in found {
            let h = hash(&s);
            let n = t.counts.entry(h).or_insert(0);
            *n += 1;
            if *n == KEEP_TEXT_AT {
                t.text.insert(h, s);
            }
            if *n >= KEEP_TEXT_AT {
                *t.sentence_labels.entry(h).or_default().entry(label.to_owned()).or_insert(0) += 1;
            }
        }
        let grown = t.tickets - t.learned_at;
        if grown >= 20 && grown as f64 >= 0.01 * t.tickets as f64 {
            t.learned = Arc::new(Boilerplate::with_phrases(self.phrases_of(t).into_iter().map(|p| p.text)));
            t.learned_at = t.tickets;
        }
    }

    fn phrases_of(&self, t: &TenantCounts) -> Vec<LearnedPhrase> {
        let floor = (self.params.min_share * t.tickets as f64).ceil().max(self.params.min_tickets as f64) as u32;
        let mut phrases: Vec<LearnedPhrase> = t
            .text
            .iter()
            .filter_map(|(h, text)| {
                let n = *t.counts.get(h)?;
                (n >= floor && spread(t, h)).then(|| LearnedPhrase {
                    text: text.clone(),
                    tickets: u64::from(n),
                    share: f64::from(n) / t.tickets as f64,
                })
            })
            .collect();
        phrases.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.text.cmp(&b.text)));
        phrases
    }

    /// The boilerplate learned for `tenant` (empty when nothing is learned yet).
    pub(crate) fn for_tenant(&self, tenant: &TenantId) -> Option<Arc<Boilerplate>> {
        let tenants = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        tenants.get(tenant.as_str()).map(|t| Arc::clone(&t.learned)).filter(|b| !b.is_empty())
    }

    /// What was learned for `tenant`, for review.
    pub(crate) fn report(&self, tenant: &TenantId) -> LearnedBoilerplate {
        let tenants = self.tenants.read().unwrap_or_else(|p| p.into_inner());
        let (tickets, phrases) = tenants.get(tenant.as_str()).map_or((0, Vec::new()), |t| (t.tickets, self.phrases_of(t)));
        LearnedBoilerplate { tickets, min_share: self.params.min_share, min_tickets: self.params.min_tickets, phrases }
    }

    /// Forgets every count (before counting the store again).
    pub(crate) fn clear(&self) {
        self.tenants.write().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Rebuilds every tenant's learned set from the counts (after counting the store).
    pub(crate) fn settle(&self) {
        let mut tenants = self.tenants.write().unwrap_or_else(|p| p.into_inner());
        for t in tenants.values_mut() {
            t.learned = Arc::new(Boilerplate::with_phrases(self.phrases_of(t).into_iter().map(|p| p.text)));
            t.learned_at = t.tickets;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn north() -> TenantId {
        TenantId::parse("northmoor").unwrap()
    }

    const DISCLAIMER: &str = "Northmoor District Council accepts no liability for the views expressed in this message.";

    #[test]
    fn a_sentence_in_enough_of_a_tenants_tickets_is_learned_and_short_or_rare_ones_are_not() {
        let learner = Learner::new(BoilerplateParams { min_share: 0.05, min_tickets: 20 });
        for i in 0..200 {
            let mut body = format!("printer {i} on floor two is offline again today.");
            if i % 2 == 0 {
                body.push_str("\nplease reset my password.");
            }
            if i % 4 == 0 {
                body.push_str(&format!("\n\n{DISCLAIMER}"));
            }
            if i < 9 {
                body.push_str("\nthe scanner in the planning office jams on every page.");
            }
            let label = ["printing", "accounts", "network"][i % 3];
            learner.observe(&north(), &body, Some(label));
        }
        let report = learner.report(&north());
        let texts: Vec<&str> = report.phrases.iter().map(|p| p.text.as_str()).collect();
        let cases = [
            (
                "northmoor district council accepts no liability for the views expressed in this message",
                true,
                "in 25% of tickets, 13 words",
            ),
            (
                "please reset my password",
                false,
                "in 50% of tickets, but 4 words: short sentences are the problem more often than boilerplate",
            ),
            ("the scanner in the planning office jams on every page", false, "9 tickets: under min_tickets"),
        ];
        for (text, learned, why) in cases {
            assert_eq!(texts.contains(&text), learned, "{why}: {texts:?}");
        }
        assert_eq!(report.tickets, 200);
        assert_eq!(report.phrases[0].tickets, 50);
        assert!((report.phrases[0].share - 0.25).abs() < 1e-9);
        let learned = learner.for_tenant(&north()).expect("learned while observing");
        assert!(learned.contains(DISCLAIMER));
        assert!(learner.for_tenant(&TenantId::parse("eastbrook").unwrap()).is_none(), "another tenant learns nothing from it");
    }

    #[test]
    fn a_recurring_sentence_that_marks_one_category_is_not_boilerplate() {
        let learner = Learner::new(BoilerplateParams { min_share: 0.01, min_tickets: 20 });
        for i in 0..400 {
            let label = ["accounts", "printing", "network", "hardware"][i % 4];
            let mut body = format!("ticket {i} about something or other.");
            if label == "network" && i % 8 == 2 {
                body.push_str("\nDoes the site have a backup circuit in place.");
            }
            if i % 5 == 0 {
                body.push_str("\nThis message has been scanned for viruses by the council gateway.");
            }
            learner.observe(&north(), &body, Some(label));
        }
        let texts: Vec<String> = learner.report(&north()).phrases.into_iter().map(|p| p.text).collect();
        assert!(texts.contains(&"this message has been scanned for viruses by the council gateway".to_owned()), "spread: {texts:?}");
        assert!(!texts.iter().any(|t| t.contains("backup circuit")), "50 tickets, all `network` (25% of tickets): it routes: {texts:?}");
    }

    #[test]
    fn sentences_wrapped_over_lines_and_single_lines_are_both_candidates() {
        let found = candidate_sentences(
            "Revenues and Benefits Service, Northmoor District Council\n\nThis e-mail and any files are\nconfidential to the addressee only.",
        );
        assert!(found.contains("revenues and benefits service northmoor district council"), "{found:?}");
        assert!(found.contains("this email and any files are confidential to the addressee only"), "{found:?}");
        assert!(found.contains("confidential to the addressee only"), "each line of a paragraph too: {found:?}");
    }
}
