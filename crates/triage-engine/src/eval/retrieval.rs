//! Retrieval evaluation on the StackFAQ format: articles (`{"id","title","answers":[...]}`) and
//! queries (`{"query","article_id"}`), one JSON object per line.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use triage_core::clean::{boilerplate, clean_joined};
use triage_core::metrics::RankingMetrics;
use triage_core::redact::redact;
use triage_core::tenant::TenantId;
use triage_kb::{KbDocument, KbIndex, KbQuery};

use crate::{EngineError, LearningParams, Result};

/// How deep the ranking is read when looking for the expected article.
pub const EVAL_DEPTH: usize = 10;

#[derive(Debug, Deserialize)]
struct FaqArticle {
    id: String,
    title: String,
    #[serde(default)]
    answers: Vec<String>,
}

/// One query and the article that answers it.
#[derive(Debug, Clone, Deserialize)]
pub struct FaqQuery {
    /// What a user asked.
    pub query: String,
    /// Id of the article that answers it.
    pub article_id: String,
}

/// The figures of one evaluation run.
#[derive(Debug, Clone, Serialize)]
pub struct RetrievalReport {
    /// Share of queries whose article ranked first (0..=1).
    pub p_at_1: f64,
    /// Mean reciprocal rank of the expected article within the first [`EVAL_DEPTH`] (0..=1; 0 when not found).
    pub mrr: f64,
    /// Share of queries whose article was in the first three.
    pub hit_at_3: f64,
    /// Share of queries whose article was in the first five.
    pub hit_at_5: f64,
    /// Number of queries run.
    pub queries: usize,
    /// Number of articles indexed.
    pub articles: usize,
    /// Milliseconds building the index took.
    pub index_millis: f64,
    /// Median time of one search, in microseconds.
    pub query_p50_micros: f64,
    /// 99th-percentile time of one search, in microseconds.
    pub query_p99_micros: f64,
}

/// Reads a JSON Lines file, reporting the line of the first bad record.
fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let err = |message: String| EngineError::EvalData { path: path.display().to_string(), message };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| err(format!("line {}: {e}", i + 1))))
        .collect()
}

/// Loads StackFAQ articles as knowledge-base documents: the title, and every answer as body.
pub fn load_articles(path: &Path) -> Result<Vec<KbDocument>> {
    let raw: Vec<FaqArticle> = read_jsonl(path)?;
    Ok(raw.into_iter().map(|a| KbDocument { id: a.id, title: a.title, body: a.answers.join("\n"), ..KbDocument::default() }).collect())
}

/// Loads StackFAQ queries.
pub fn load_queries(path: &Path) -> Result<Vec<FaqQuery>> {
    read_jsonl(path)
}

/// The figures without and with history, side by side (`triage eval retrieval --history`).
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// Without history: the articles' own text only (the fields of a run without `--history`).
    #[serde(flatten)]
    pub without_history: RetrievalReport,
    /// The same test queries after the history was learned.
    pub with_history: RetrievalReport,
    /// History queries learned (as resolved tickets naming their article).
    pub history_queries: usize,
    /// Milliseconds learning the history took.
    pub history_millis: f64,
    /// The learning parameters used.
    pub learning: LearningSummary,
}

/// The learning parameters of a run, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct LearningSummary {
    /// `learning.weight`.
    pub weight: f32,
}

/// The tenant the evaluation's history belongs to.
const EVAL_TENANT: &str = "eval";

/// Indexes `articles` in RAM and ranks every query, cleaned of e-mail tails first
/// (`triage_core::clean`), calling `progress` after each.
pub fn evaluate(articles: &[KbDocument], queries: &[FaqQuery], progress: impl FnMut(usize)) -> Result<RetrievalReport> {
    let started = Instant::now();
    let index = KbIndex::create_in_ram().map_err(EngineError::from)?;
    index.sync(articles)?;
    let index_millis = started.elapsed().as_secs_f64() * 1e3;
    run_queries(&index, None, articles.len(), index_millis, queries, progress)
}

/// Ranks the test `queries` without history, then learns `history` as one tenant's resolved
/// tickets naming their article (cleaned and redacted as `ResolvedTicket::parse` does, then
/// learned as the engine learns a ticket's `kb_article`) and ranks them again for that tenant.
/// `progress` counts both passes.
pub fn evaluate_with_history(
    articles: &[KbDocument],
    history: &[FaqQuery],
    queries: &[FaqQuery],
    params: crate::LearningParams,
    mut progress: impl FnMut(usize),
) -> Result<HistoryReport> {
    let started = Instant::now();
    let index = KbIndex::create_in_ram().map_err(EngineError::from)?;
    index.sync(articles)?;
    let index_millis = started.elapsed().as_secs_f64() * 1e3;
    let without_history = run_queries(&index, None, articles.len(), index_millis, queries, &mut progress)?;
    let started = Instant::now();
    let learned = crate::learned::Learned::new(LearningParams { enabled: true, ..params });
    let tenant = TenantId::parse(EVAL_TENANT).map_err(|e| EngineError::Invalid(e.to_string()))?;
    let today = crate::learned::today();
    for (i, h) in history.iter().enumerate() {
        let text = redact(&clean_joined(&h.query, boilerplate())).into_owned();
        learned.add(&tenant, &crate::learned::ticket_key(&format!("H{i}")), &h.article_id, &text, 1.0, today);
    }
    let history_millis = started.elapsed().as_secs_f64() * 1e3;
    let with_history =
        run_queries(&index, Some((&learned, &tenant)), articles.len(), index_millis, queries, |done| progress(queries.len() + done))?;
    Ok(HistoryReport {
        without_history,
        with_history,
        history_queries: history.len(),
        history_millis,
        learning: LearningSummary { weight: params.weight },
    })
}

fn run_queries(
    index: &KbIndex,
    learned: Option<(&crate::learned::Learned, &TenantId)>,
    articles: usize,
    index_millis: f64,
    queries: &[FaqQuery],
    mut progress: impl FnMut(usize),
) -> Result<RetrievalReport> {
    let today = crate::learned::today();
    let mut metrics = RankingMetrics::default();
    let mut latencies: Vec<Duration> = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        // cleaned as the service cleans a ticket (timed with the search: the service pays it too)
        let query = clean_joined(&q.query, boilerplate());
        let hits = match learned {
            // as the engine does for a tenant: redacted, analysed once, learned boosts added
            Some((learned, tenant)) => {
                let redacted = redact(&query);
                let terms = KbIndex::query_terms(&redacted);
                let boosts = learned.boosts(tenant, &terms, today);
                let q = KbQuery::new(&redacted).with_terms(&terms).with_boosts(&boosts).tenant(Some(tenant));
                index.search(&q.limit(EVAL_DEPTH).snippets(false))?
            }
            None => index.search(&KbQuery::new(&query).limit(EVAL_DEPTH).snippets(false))?,
        };
        latencies.push(t.elapsed());
        metrics.record(hits.iter().position(|h| h.id == q.article_id).map(|p| p + 1));
        progress(i + 1);
    }
    latencies.sort_unstable();
    Ok(RetrievalReport {
        p_at_1: metrics.p_at_1(),
        mrr: metrics.mrr(),
        hit_at_3: metrics.hit_at_3(),
        hit_at_5: metrics.hit_at_5(),
        queries: metrics.queries(),
        articles,
        index_millis,
        query_p50_micros: percentile_micros(&latencies, 0.50),
        query_p99_micros: percentile_micros(&latencies, 0.99),
    })
}

/// The `q` quantile of sorted durations, in microseconds (nearest rank).
pub fn percentile_micros(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluation_ranks_queries_against_their_articles() {
        let dir = tempfile::tempdir().unwrap();
        let articles = dir.path().join("a.jsonl");
        let queries = dir.path().join("q.jsonl");
        std::fs::write(&articles, "{\"id\":\"A\",\"title\":\"Delete a Facebook account\",\"answers\":[\"Go to settings\"]}\n{\"id\":\"B\",\"title\":\"Strikethrough in GitHub markdown\",\"answers\":[\"Use tildes\"]}\n").unwrap();
        std::fs::write(&queries, "{\"query\":\"how to delete facebook\",\"article_id\":\"A\"}\n{\"query\":\"cross out text github\",\"article_id\":\"B\"}\n{\"query\":\"tildes\",\"article_id\":\"A\"}\n").unwrap();
        let docs = load_articles(&articles).unwrap();
        let qs = load_queries(&queries).unwrap();
        let mut calls = 0;
        let report = evaluate(&docs, &qs, |_| calls += 1).unwrap();
        assert_eq!(calls, 3);
        assert_eq!(report.queries, 3);
        assert!((report.p_at_1 - 2.0 / 3.0).abs() < 1e-9, "{report:?}");
        assert!((report.mrr - 2.0 / 3.0).abs() < 1e-9, "third query's article is never retrieved: {report:?}");
    }

    #[test]
    fn history_teaches_the_words_the_articles_lack_and_both_runs_are_reported() {
        let doc = |id: &str, title: &str| KbDocument { id: id.into(), title: title.into(), ..KbDocument::default() };
        let articles = vec![doc("A", "Delete a Facebook account"), doc("B", "Strikethrough in GitHub markdown")];
        let q = |query: &str, article_id: &str| FaqQuery { query: query.into(), article_id: article_id.into() };
        let history = vec![q("cross out words on the code hosting site", "B")];
        let test = vec![q("how do I cross out words", "B"), q("delete facebook", "A")];
        let report = evaluate_with_history(&articles, &history, &test, LearningParams::default(), |_| {}).unwrap();
        assert_eq!((report.without_history.p_at_1, report.with_history.p_at_1), (0.5, 1.0), "{report:?}");
        assert_eq!(report.history_queries, 1);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["p_at_1"], 0.5, "the fields of a run without history stay at the top level");
        assert_eq!(json["with_history"]["p_at_1"], 1.0);
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        std::fs::write(&path, "{\"query\":\"x\",\"article_id\":\"A\"}\nnot json\n").unwrap();
        let err = load_queries(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile_micros(&d, 0.5), 50.0);
        assert_eq!(percentile_micros(&d, 0.99), 99.0);
        assert_eq!(percentile_micros(&[], 0.5), 0.0);
    }
}
