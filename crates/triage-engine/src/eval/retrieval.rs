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

use crate::fix::{self, FixModel};
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
    /// Expected calibration error (10 bins) of the top suggestion's `fix_probability` against
    /// whether it is the query's article.
    pub ece: f64,
    /// The reliability table behind `ece` (10 bins; empty ones left out).
    pub calibration: Vec<fix::ReliabilityBin>,
    /// Mean `fix_probability` of the top suggestion.
    pub top_fix_probability_mean: f64,
    /// Share of queries whose top suggestion is their article (the same as `p_at_1`, over every
    /// query, dropped articles included).
    pub top_fix_accuracy: f64,
    /// How well `no_good_fix` (no suggestion shown, the first five, reaches the threshold, as
    /// the engine answers) finds the queries whose article was dropped.
    pub no_good_fix: NoGoodFixReport,
    /// The model fitted on this run's rankings (`--fit-fix`), else `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fitted_fix_model: Option<FixModel>,
}

/// `no_good_fix` against the truth "this query's article was dropped from the knowledge base".
#[derive(Debug, Clone, Default, Serialize)]
pub struct NoGoodFixReport {
    /// `no_good_fix` when no shown suggestion's `fix_probability` reaches this.
    pub threshold: f64,
    /// Articles dropped (`--drop-articles`).
    pub dropped_articles: usize,
    /// Queries whose article was dropped (the positives).
    pub queries_without_article: usize,
    /// Queries answered `no_good_fix`.
    pub flagged: usize,
    /// Of those flagged, the share whose article was dropped (0 when none flagged).
    pub precision: f64,
    /// Of the queries whose article was dropped, the share flagged (0 when there are none).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// What a retrieval evaluation does beyond ranking the queries.
#[derive(Debug, Clone)]
pub struct RetrievalOptions {
    /// Articles removed from the knowledge base before indexing, chosen with `seed`: their
    /// queries should get `no_good_fix`.
    pub drop_articles: usize,
    /// Seed of the choice of dropped articles.
    pub seed: u64,
    /// `no_good_fix` threshold on the top `fix_probability`.
    pub no_good_fix_below: f64,
    /// The fix-probability model scored.
    pub fix_model: FixModel,
    /// Fit a fix-probability model on this run's rankings (reported; the run is scored with it):
    /// the first [`fix::FIT_DEPTH`] hits of each query, on the features [`FIT_FEATURES`]; with
    /// dropped articles, the queries are ranked over the whole knowledge base too and those
    /// rankings join the fit.
    pub fit_fix: bool,
}

impl Default for RetrievalOptions {
    fn default() -> Self {
        Self {
            drop_articles: 0,
            seed: 1,
            no_good_fix_below: crate::fusion::NO_GOOD_FIX_BELOW,
            fix_model: FixModel::DEFAULT,
            fit_fix: false,
        }
    }
}

/// The ids of `k` articles chosen with `seed` (a seeded Fisher-Yates over the ids, sorted).
pub fn choose_dropped(ids: &[String], k: usize, seed: u64) -> Vec<String> {
    let mut ids: Vec<String> = ids.to_vec();
    ids.sort();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1);
    for i in (1..ids.len()).rev() {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    ids.truncate(k.min(ids.len()));
    ids.sort();
    ids
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
    evaluate_with(articles, queries, &RetrievalOptions::default(), progress)
}

/// As [`evaluate`], with dropped articles, a `no_good_fix` threshold and the fix-probability
/// model to score (or to fit: see [`RetrievalOptions::fit_fix`]).
pub fn evaluate_with(
    articles: &[KbDocument],
    queries: &[FaqQuery],
    options: &RetrievalOptions,
    progress: impl FnMut(usize),
) -> Result<RetrievalReport> {
    let Indexed { index, kept, dropped, index_millis } = index_without_dropped(articles, options)?;
    let ranked = rank_queries(&index, None, queries, progress)?;
    let fitted = options.fit_fix.then(|| -> Result<FixModel> {
        let mut runs = vec![ranked.hits.clone()];
        if !dropped.is_empty() {
            let whole = index_without_dropped(articles, &RetrievalOptions { drop_articles: 0, ..options.clone() })?;
            runs.push(rank_queries(&whole.index, None, queries, |_| {})?.hits);
        }
        Ok(fit_fix_model(&runs, &options.fix_model))
    });
    let fitted = fitted.transpose()?;
    let model = fitted.unwrap_or(options.fix_model);
    Ok(summarise(ranked, &model, fitted, kept, index_millis, queries, options, &dropped))
}

/// The evaluation's index: every article but the dropped ones.
struct Indexed {
    index: KbIndex,
    kept: usize,
    dropped: Vec<String>,
    index_millis: f64,
}

fn index_without_dropped(articles: &[KbDocument], options: &RetrievalOptions) -> Result<Indexed> {
    let ids: Vec<String> = articles.iter().map(|a| a.id.clone()).collect();
    let dropped = choose_dropped(&ids, options.drop_articles, options.seed);
    let kept: Vec<KbDocument> = articles.iter().filter(|a| dropped.binary_search(&a.id).is_err()).cloned().collect();
    let started = Instant::now();
    let index = KbIndex::create_in_ram().map_err(EngineError::from)?;
    index.sync(&kept)?;
    Ok(Indexed { index, kept: kept.len(), dropped, index_millis: started.elapsed().as_secs_f64() * 1e3 })
}

/// `history` learned as one tenant's resolved tickets naming their article (cleaned and
/// redacted as `ResolvedTicket::parse` does, then learned as the engine learns a ticket's
/// `kb_article`). History naming a `dropped` article is not learned: at a desk whose knowledge
/// base lacks the article, those tickets were resolved without naming one.
fn learn_history(history: &[FaqQuery], dropped: &[String], params: LearningParams) -> crate::learned::Learned {
    let learned = crate::learned::Learned::new(LearningParams { enabled: true, ..params });
    let tenant = eval_tenant();
    let today = crate::learned::today();
    for (i, h) in history.iter().enumerate().filter(|(_, h)| dropped.binary_search(&h.article_id).is_err()) {
        let text = redact(&clean_joined(&h.query, boilerplate())).into_owned();
        learned.add(&tenant, &crate::learned::ticket_key(&format!("H{i}")), &h.article_id, &text, 1.0, today);
    }
    learned
}

fn eval_tenant() -> TenantId {
    TenantId::parse(EVAL_TENANT).expect("a valid tenant id")
}

/// Ranks the test `queries` without history, then learns `history` (see [`learn_history`]) and
/// ranks them again for that tenant. `progress` counts both passes.
///
/// With [`RetrievalOptions::fit_fix`], one fix-probability model is fitted on every ranking of
/// the run (without and with history, so it learns what the learned-phrasing features say when
/// there is history and when there is none; and, when articles were dropped, the same two passes
/// over the whole knowledge base, so it sees a desk whose knowledge base covers the query as well
/// as one that does not) and scores both passes.
pub fn evaluate_with_history(
    articles: &[KbDocument],
    history: &[FaqQuery],
    queries: &[FaqQuery],
    params: crate::LearningParams,
    options: &RetrievalOptions,
    mut progress: impl FnMut(usize),
) -> Result<HistoryReport> {
    let tenant = eval_tenant();
    let Indexed { index, kept, dropped, index_millis } = index_without_dropped(articles, options)?;
    let without = rank_queries(&index, None, queries, &mut progress)?;
    let started = Instant::now();
    let learned = learn_history(history, &dropped, params);
    let history_millis = started.elapsed().as_secs_f64() * 1e3;
    let with = rank_queries(&index, Some((&learned, &tenant)), queries, |done| progress(queries.len() + done))?;
    let fitted = options.fit_fix.then(|| -> Result<FixModel> {
        let mut runs = vec![without.hits.clone(), with.hits.clone()];
        if !dropped.is_empty() {
            let whole = index_without_dropped(articles, &RetrievalOptions { drop_articles: 0, ..options.clone() })?;
            let learned = learn_history(history, &[], params);
            runs.push(rank_queries(&whole.index, None, queries, |_| {})?.hits);
            runs.push(rank_queries(&whole.index, Some((&learned, &tenant)), queries, |_| {})?.hits);
        }
        Ok(fit_fix_model(&runs, &options.fix_model))
    });
    let fitted = fitted.transpose()?;
    let model = fitted.unwrap_or(options.fix_model);
    let summary = |r: Ranked| summarise(r, &model, fitted, kept, index_millis, queries, options, &dropped);
    Ok(HistoryReport {
        without_history: summary(without),
        with_history: summary(with),
        history_queries: history.len(),
        history_millis,
        learning: LearningSummary { weight: params.weight },
    })
}

/// A query's ranking: per hit its fix-probability features and whether it is the query's article.
type RankedHits = Vec<Vec<([f64; fix::FEATURES], bool)>>;

/// Each query's ranking: per hit its fix-probability features and whether it is the query's
/// article; the search times; the ranking metrics.
struct Ranked {
    hits: RankedHits,
    latencies: Vec<Duration>,
    metrics: RankingMetrics,
}

fn rank_queries(
    index: &KbIndex,
    learned: Option<(&crate::learned::Learned, &TenantId)>,
    queries: &[FaqQuery],
    mut progress: impl FnMut(usize),
) -> Result<Ranked> {
    let today = crate::learned::today();
    let mut metrics = RankingMetrics::default();
    let mut latencies: Vec<Duration> = Vec::with_capacity(queries.len());
    let mut ranked: Vec<Vec<([f64; fix::FEATURES], bool)>> = Vec::with_capacity(queries.len());
    for (i, q) in queries.iter().enumerate() {
        let t = Instant::now();
        // cleaned as the service cleans a ticket (timed with the search: the service pays it too)
        let query = clean_joined(&q.query, boilerplate());
        let (hits, terms, boosts, history) = match learned {
            // as the engine does for a tenant: redacted, analysed once, learned boosts applied
            Some((learned, tenant)) => {
                let redacted = redact(&query);
                let terms = KbIndex::query_terms(&redacted);
                let (boosts, history) = learned.boosts_except(tenant, &terms, today, &[]);
                let q = KbQuery::new(&redacted).with_terms(&terms).with_boosts(&boosts).tenant(Some(tenant));
                (index.search(&q.limit(EVAL_DEPTH).snippets(false))?, terms, boosts, history)
            }
            None => {
                let terms = KbIndex::query_terms(&query);
                (index.search(&KbQuery::new(&query).with_terms(&terms).limit(EVAL_DEPTH).snippets(false))?, terms, Vec::new(), false)
            }
        };
        latencies.push(t.elapsed());
        metrics.record(hits.iter().position(|h| h.id == q.article_id).map(|p| p + 1));
        let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
        // only kept articles learned (see `learn_history`): every boost is of a shown article
        let best = fix::best_learned_evidence(&boosts, |_| true);
        ranked.push(
            hits.iter()
                .enumerate()
                .map(|(j, h)| {
                    let f = fix::article_features(&scores, h.coverage, h.query_known, j, terms.len(), 0.0, 0.0);
                    let f = fix::with_learned(f, fix::learned_evidence(&boosts, &h.id), best, history);
                    (f, h.id == q.article_id)
                })
                .collect(),
        );
        progress(i + 1);
    }
    latencies.sort_unstable();
    Ok(Ranked { hits: ranked, latencies, metrics })
}

/// The features the default model is fitted on (the others keep their documented priors).
pub const FIT_FEATURES: [usize; 11] = [0, 1, 2, 3, 4, 7, 11, 12, 13, 14, 15];

/// Fits the fix-probability model on the first [`fix::FIT_DEPTH`] hits of every ranking of `runs`.
fn fit_fix_model(runs: &[RankedHits], start: &FixModel) -> FixModel {
    let rows: Vec<([f64; fix::FEATURES], bool)> =
        runs.iter().flat_map(|r| r.iter().flat_map(|hits| hits.iter().take(fix::FIT_DEPTH))).cloned().collect();
    let mut mask = [false; fix::FEATURES];
    for j in FIT_FEATURES {
        mask[j] = true;
    }
    fix::fit(&rows, start, &mask, 1e-3, 30)
}

/// Suggestions a triage shows (the engine's default `max_suggestions`): `no_good_fix` when none
/// of these reaches the threshold.
const SHOWN: usize = 5;

#[allow(clippy::too_many_arguments)]
fn summarise(
    ranked: Ranked,
    model: &FixModel,
    fitted: Option<FixModel>,
    articles: usize,
    index_millis: f64,
    queries: &[FaqQuery],
    options: &RetrievalOptions,
    dropped: &[String],
) -> RetrievalReport {
    let Ranked { hits: ranked, latencies, metrics } = ranked;
    // the top suggestion of each query: its probability, and whether it is the query's article
    let top: Vec<(f64, bool)> =
        ranked.iter().map(|hits| hits.first().map_or((0.0, false), |(f, right)| (model.probability(f), *right))).collect();
    let positives: Vec<bool> = queries.iter().map(|q| dropped.binary_search(&q.article_id).is_ok()).collect();
    // as the engine answers: no suggestion shown reaches the threshold
    let flagged: Vec<bool> =
        ranked.iter().map(|hits| hits.iter().take(SHOWN).all(|(f, _)| model.probability(f) < options.no_good_fix_below)).collect();
    let tp = flagged.iter().zip(&positives).filter(|(f, p)| **f && **p).count() as f64;
    let n_flagged = flagged.iter().filter(|f| **f).count();
    let n_positive = positives.iter().filter(|p| **p).count();
    let precision = if n_flagged == 0 { 0.0 } else { tp / n_flagged as f64 };
    let recall = if n_positive == 0 { 0.0 } else { tp / n_positive as f64 };
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    let n = top.len().max(1) as f64;
    RetrievalReport {
        p_at_1: metrics.p_at_1(),
        mrr: metrics.mrr(),
        hit_at_3: metrics.hit_at_3(),
        hit_at_5: metrics.hit_at_5(),
        queries: metrics.queries(),
        articles,
        index_millis,
        query_p50_micros: percentile_micros(&latencies, 0.50),
        query_p99_micros: percentile_micros(&latencies, 0.99),
        ece: fix::expected_calibration_error(&top, 10),
        calibration: fix::reliability(&top, 10),
        top_fix_probability_mean: top.iter().map(|(p, _)| p).sum::<f64>() / n,
        top_fix_accuracy: top.iter().filter(|(_, r)| *r).count() as f64 / n,
        no_good_fix: NoGoodFixReport {
            threshold: options.no_good_fix_below,
            dropped_articles: dropped.len(),
            queries_without_article: n_positive,
            flagged: n_flagged,
            precision,
            recall,
            f1,
        },
        fitted_fix_model: fitted,
    }
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
        let report =
            evaluate_with_history(&articles, &history, &test, LearningParams::default(), &RetrievalOptions::default(), |_| {}).unwrap();
        assert_eq!((report.without_history.p_at_1, report.with_history.p_at_1), (0.5, 1.0), "{report:?}");
        assert_eq!(report.history_queries, 1);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["p_at_1"], 0.5, "the fields of a run without history stay at the top level");
        assert_eq!(json["with_history"]["p_at_1"], 1.0);
    }

    #[test]
    fn one_model_is_fitted_on_both_passes_and_the_whole_knowledge_base_and_scores_both() {
        let doc = |id: &str, title: &str| KbDocument { id: id.into(), title: title.into(), ..KbDocument::default() };
        let articles = vec![
            doc("A", "Delete a Facebook account"),
            doc("B", "Strikethrough in GitHub markdown"),
            doc("C", "Archive mail in Gmail"),
            doc("D", "Change the Twitter password"),
        ];
        let q = |query: &str, article_id: &str| FaqQuery { query: query.into(), article_id: article_id.into() };
        let history = vec![q("remove my facebook profile", "A"), q("cross out words on github", "B"), q("file away gmail messages", "C")];
        let test = vec![
            q("how do I remove facebook for good", "A"),
            q("cross out text in a github readme", "B"),
            q("gmail archive button", "C"),
            q("new twitter password", "D"),
        ];
        // drop one article: its query is a positive for no_good_fix
        let options = RetrievalOptions { drop_articles: 1, seed: 3, fit_fix: true, ..RetrievalOptions::default() };
        let report = evaluate_with_history(&articles, &history, &test, LearningParams::default(), &options, |_| {}).unwrap();
        let fitted = report.with_history.fitted_fix_model.expect("fitted");
        assert_eq!(report.without_history.fitted_fix_model, Some(fitted), "one model for both passes");
        for j in FIT_FEATURES {
            assert_ne!(fitted.weights[j], FixModel::DEFAULT.weights[j], "feature {j} was fitted: {fitted:?}");
        }
        assert_eq!(report.with_history.no_good_fix.dropped_articles, 1);
        assert_eq!(report.with_history.no_good_fix.queries_without_article, 1);
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
