//! Similar-ticket retrieval, measured: index a labelled ticket set as one tenant's resolved
//! tickets, query it with held-out tickets, and count how often the similar tickets returned
//! carry the query's own label (the same kind of problem, so likely the same kind of fix).
//!
//! - `label_at_1`: the first similar ticket has the query's label;
//! - `majority_at_5`: the most common label of the first five is the query's (ties: the
//!   earliest-ranked label);
//! - `hit_at_5`: any of the first five has it;
//! - latency of the search alone (analysis of the query included), one thread.
//!
//! A public-data stand-in for "would the agent find a useful resolved ticket": it rewards
//! returning tickets of the right kind, not the single best one, and it is what the query
//! policy ([`SimilarQueryPolicy`]) is chosen on.

use std::time::{Duration, Instant};

use serde::Serialize;
use triage_core::clean::{boilerplate, clean_body, clean_joined, clean_title};
use triage_core::tenant::TenantId;
use triage_kb::{KbIndex, SimilarQueryPolicy, TicketDoc, TicketIndex};
use triage_model::train::TrainingRow;

use crate::eval::retrieval::percentile_micros;
use crate::{EngineError, Result};

/// The figures of one similar-ticket evaluation run (see the module docs for their meaning).
#[derive(Debug, Clone, Serialize)]
pub struct SimilarReport {
    /// The head whose labels were compared.
    pub head: String,
    /// Tickets indexed (those with a label for `head`).
    pub tickets: usize,
    /// Queries run (those with a label for `head`).
    pub queries: usize,
    /// The query policy's most terms per query.
    pub max_terms: usize,
    /// The query policy's document-frequency cut-off (0..=1).
    pub max_df: f32,
    /// Share of queries whose first similar ticket had the query's label (0..=1).
    pub label_at_1: f64,
    /// Share of queries where the most common label of the first five was the query's (0..=1).
    pub majority_at_5: f64,
    /// Share of queries where any of the first five had the query's label (0..=1).
    pub hit_at_5: f64,
    /// Seconds building the index took.
    pub index_seconds: f64,
    /// Median time of one search, in microseconds.
    pub search_p50_micros: f64,
    /// 99th-percentile time of one search, in microseconds.
    pub search_p99_micros: f64,
    /// Mean time of one search, in microseconds.
    pub search_mean_micros: f64,
}

/// Indexes `tickets` (labelled by `head`) and queries with `queries`, calling `progress` with
/// the number of queries done.
pub fn evaluate(
    tickets: &[TrainingRow],
    queries: &[TrainingRow],
    head: &str,
    policy: SimilarQueryPolicy,
    mut progress: impl FnMut(usize),
) -> Result<SimilarReport> {
    let tenant = TenantId::parse("eval").expect("a valid tenant id");
    let index = TicketIndex::create_in_ram()?.with_policy(policy);
    let started = Instant::now();
    let docs: Vec<TicketDoc> = tickets
        .iter()
        .filter_map(|r| {
            let label = r.labels.get(head)?;
            // cleaned as `ResolvedTicket::parse` cleans a stored ticket
            let (title, description) = r.text.split_once('\n').unwrap_or((r.text.as_str(), ""));
            Some(TicketDoc {
                tenant: tenant.clone(),
                external_id: r.id.clone(),
                title: clean_title(title).into_owned(),
                description: clean_body(description, boilerplate()).text.into_owned(),
                resolution_notes: String::new(),
                category: label.clone(),
            })
        })
        .collect();
    if docs.is_empty() {
        return Err(EngineError::Invalid(format!("no ticket carries a `{head}` label; check --label")));
    }
    for chunk in docs.chunks(5_000) {
        index.upsert(chunk)?;
    }
    let index_seconds = started.elapsed().as_secs_f64();
    let (mut at1, mut majority, mut hit, mut n) = (0usize, 0usize, 0usize, 0usize);
    let mut latencies: Vec<Duration> = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let Some(truth) = q.labels.get(head) else { continue };
        let t = Instant::now();
        let hits = index.search_terms(&KbIndex::query_terms(&clean_joined(&q.text, boilerplate())), &tenant, 5)?;
        latencies.push(t.elapsed());
        n += 1;
        let labels: Vec<&str> = hits.iter().map(|h| h.category.as_str()).collect();
        at1 += usize::from(labels.first() == Some(&truth.as_str()));
        hit += usize::from(labels.contains(&truth.as_str()));
        majority += usize::from(majority_label(&labels) == Some(truth.as_str()));
        progress(i + 1);
    }
    latencies.sort_unstable();
    let ratio = |a: usize| if n == 0 { 0.0 } else { a as f64 / n as f64 };
    Ok(SimilarReport {
        head: head.to_owned(),
        tickets: docs.len(),
        queries: n,
        max_terms: policy.max_terms,
        max_df: policy.max_df,
        label_at_1: ratio(at1),
        majority_at_5: ratio(majority),
        hit_at_5: ratio(hit),
        index_seconds,
        search_p50_micros: percentile_micros(&latencies, 0.5),
        search_p99_micros: percentile_micros(&latencies, 0.99),
        search_mean_micros: if latencies.is_empty() {
            0.0
        } else {
            latencies.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e6 / latencies.len() as f64
        },
    })
}

/// The most frequent label; ties go to the label ranked first.
fn majority_label<'a>(labels: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(&str, usize)> = None;
    for (i, l) in labels.iter().enumerate() {
        if labels[..i].contains(l) {
            continue;
        }
        let count = labels.iter().filter(|x| *x == l).count();
        if best.is_none_or(|(_, c)| count > c) {
            best = Some((l, count));
        }
    }
    best.map(|(l, _)| l)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn row(id: &str, text: &str, label: &str) -> TrainingRow {
        TrainingRow { id: id.into(), text: text.into(), labels: BTreeMap::from([("category".to_owned(), label.to_owned())]) }
    }

    #[test]
    fn majority_breaks_ties_by_rank() {
        assert_eq!(majority_label(&["a", "b", "b", "a"]), Some("a"));
        assert_eq!(majority_label(&["a", "b", "b"]), Some("b"));
        assert_eq!(majority_label(&[]), None);
    }

    #[test]
    fn similar_tickets_of_the_right_kind_score_and_the_wrong_kind_do_not() {
        let tickets = vec![
            row("1", "printer jammed\npaper stuck in tray two", "printing"),
            row("2", "printer offline\nnothing prints from the office printer", "printing"),
            row("3", "vpn drops\nvpn disconnects when working from home", "network"),
            row("4", "password expired\ncannot sign in, password expired", "accounts"),
        ];
        let queries = vec![row("q1", "printer jammed again", "printing"), row("q2", "vpn keeps dropping at home", "accounts")];
        let r = evaluate(&tickets, &queries, "category", SimilarQueryPolicy::default(), |_| {}).unwrap();
        assert_eq!((r.tickets, r.queries), (4, 2));
        assert_eq!(r.label_at_1, 0.5, "q1 finds a printing ticket first; q2's label is wrong on purpose");
        assert_eq!(r.hit_at_5, 0.5);
        assert!(evaluate(&tickets, &queries, "priority", SimilarQueryPolicy::default(), |_| {}).is_err());
    }
}
