//! `triage eval retrieval | classify | similar | incidents`.

mod incidents;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use triage_engine::LearningParams;
use triage_engine::eval::noise::{DEFAULT_NOISE_SEED, Noise, NoiseTemplates};
use triage_engine::eval::{noisy, retrieval, similar};
use triage_kb::SimilarQueryPolicy;
use triage_model::dataset::ColumnMapping;

use crate::progress;
use crate::train::{DataArgs, read, run_eval};

#[derive(Debug, Subcommand)]
pub(crate) enum EvalCommand {
    /// Rank FAQ queries against FAQ articles with the service's search (StackFAQ format).
    Retrieval {
        /// Articles, JSON Lines: {"id","title","answers":[...]}.
        #[arg(long)]
        articles: PathBuf,
        /// Queries, JSON Lines: {"query","article_id"}.
        #[arg(long)]
        queries: PathBuf,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Queries learned first, JSON Lines {"query","article_id"}: ingested as one tenant's
        /// resolved tickets naming their article (learned phrasing), then the --queries are run
        /// for that tenant; the figures without and with history are reported side by side.
        #[arg(long, value_name = "FILE", conflicts_with = "noise")]
        history: Option<PathBuf>,
        /// Weight of learned phrasing against the article's own score (`learning.weight`).
        #[arg(long, default_value_t = LearningParams::default().weight, requires = "history")]
        learning_weight: f32,
        #[command(flatten)]
        noise: NoiseArgs,
        /// Remove this many articles (chosen with --seed) before indexing: their queries should
        /// get `no_good_fix`.
        #[arg(long, default_value_t = 0)]
        drop_articles: usize,
        /// Seed of the choice of dropped articles.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// `no_good_fix` when no suggestion shown (the first five) has a fix probability of at
        /// least this.
        #[arg(long, default_value_t = triage_engine::fusion::NO_GOOD_FIX_BELOW)]
        no_good_fix_below: f64,
        /// Fit the fix-probability model on this run's rankings, print it and score with it.
        #[arg(long)]
        fit_fix: bool,
        /// Score with this fix-probability model instead of the default: a JSON file
        /// {"bias","weights"}, e.g. the `fitted_fix_model` of another run's --json (to score one
        /// half with the model fitted on the other).
        #[arg(long, value_name = "FILE", conflicts_with = "fit_fix")]
        fix_model: Option<PathBuf>,
    },
    /// Train on --train files, score --test, report per head (writes a Markdown report too).
    Classify {
        #[command(flatten)]
        data: DataArgs,
        /// Test file, same format and columns as the training files.
        #[arg(long)]
        test: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Where to write the Markdown report (default: a file in the temp folder).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Skip the Naive Bayes baseline.
        #[arg(long)]
        no_baseline: bool,
        #[command(flatten)]
        noise: NoiseArgs,
    },
    /// Index labelled tickets as one tenant's resolved tickets, query with held-out tickets, and
    /// report how often the similar tickets returned carry the query's label.
    Similar {
        /// Tickets to index, CSV or JSON Lines (repeatable).
        #[arg(long = "train", required = true)]
        train: Vec<PathBuf>,
        /// Query tickets, same format and columns.
        #[arg(long)]
        test: PathBuf,
        /// Columns joined into the ticket text (first line is the title), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        text: Vec<String>,
        /// HEAD=COLUMN of the label compared, e.g. `category=topic_group`.
        #[arg(long)]
        label: String,
        /// Column holding the ticket id.
        #[arg(long)]
        id: Option<String>,
        /// Most query terms (rarest first).
        #[arg(long, default_value_t = SimilarQueryPolicy::default().max_terms)]
        max_terms: usize,
        /// Leave out terms found in more than this share of the tickets (1 keeps all).
        #[arg(long, default_value_t = SimilarQueryPolicy::default().max_df)]
        max_df: f32,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Replay a timestamped ticket stream (generated from background tickets and surges of
    /// paraphrases, or read with --replay) through the major-incident detector and report
    /// detection recall and precision, time to detect, false alarms and member linking.
    Incidents(incidents::IncidentsArgs),
}

/// E-mail noise on the test side (issue 16): the figures clean and noisy, side by side.
#[derive(Debug, Args)]
pub(crate) struct NoiseArgs {
    /// E-mail tail templates (e.g. benches/noise/email-tails.txt): also score with one filled tail
    /// appended to every test ticket or query, and report both. Training data stays clean.
    #[arg(long, value_name = "FILE")]
    noise: Option<PathBuf>,
    /// Seed of which template each test text gets and of the values filled in.
    #[arg(long, default_value_t = DEFAULT_NOISE_SEED, requires = "noise")]
    noise_seed: u64,
}

impl NoiseArgs {
    /// The noise and its file name for the report, when `--noise` was given.
    pub(crate) fn load(&self) -> anyhow::Result<Option<(Noise, String)>> {
        let Some(path) = &self.noise else { return Ok(None) };
        let templates = NoiseTemplates::load(path)?;
        Ok(Some((Noise::new(templates, self.noise_seed), path.display().to_string())))
    }
}

pub(crate) fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Incidents(args) => incidents::run(args),
        EvalCommand::Similar { train, test, text, label, id, max_terms, max_df, json } => {
            if !(0.0..=1.0).contains(&max_df) || max_df == 0.0 || max_terms == 0 {
                anyhow::bail!("--max-df must be in (0, 1] and --max-terms at least 1");
            }
            let (head, column) = ColumnMapping::parse_label(&label)?;
            let mapping = ColumnMapping { text, labels: vec![(head.clone(), column)], id };
            let tickets = read(&train, &mapping, "tickets to index")?;
            let queries = read(std::slice::from_ref(&test), &mapping, "test queries")?;
            let bar = progress::bar(queries.rows.len() as u64, "queries");
            let policy = SimilarQueryPolicy { max_terms, max_df };
            let report = similar::evaluate(&tickets.rows, &queries.rows, &head, policy, |done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "similar tickets: {} queries over {} tickets (indexed in {:.1} s), max_terms {max_terms}, max_df {max_df}",
                    report.queries, report.tickets, report.index_seconds
                );
                println!("  label@1      {:.3}", report.label_at_1);
                println!("  majority@5   {:.3}", report.majority_at_5);
                println!("  hit@5        {:.3}", report.hit_at_5);
                println!(
                    "  search latency p50 {:.0} µs, p99 {:.0} µs, mean {:.0} µs",
                    report.search_p50_micros, report.search_p99_micros, report.search_mean_micros
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        EvalCommand::Classify { data, test, json, report, no_baseline, noise } => {
            run_eval(data, test, json, report, no_baseline, noise.load()?)
        }
        EvalCommand::Retrieval {
            articles,
            queries,
            json,
            history,
            learning_weight,
            noise,
            drop_articles,
            seed,
            no_good_fix_below,
            fit_fix,
            fix_model,
        } => {
            let noise = noise.load()?;
            let fix_model = match fix_model {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read --fix-model {}", path.display()))?;
                    serde_json::from_str(&text)
                        .with_context(|| format!("--fix-model {}: expected {{\"bias\": number, \"weights\": [numbers]}}", path.display()))?
                }
                None => triage_engine::fix::FixModel::DEFAULT,
            };
            let docs = retrieval::load_articles(&articles)?;
            let qs = retrieval::load_queries(&queries)?;
            if let Some(history) = history {
                if !(0.0..=10.0).contains(&learning_weight) {
                    anyhow::bail!("--learning-weight must be in 0..=10");
                }
                let history = retrieval::load_queries(&history)?;
                let params = LearningParams { weight: learning_weight, ..LearningParams::default() };
                let bar = progress::bar(2 * qs.len() as u64, "queries, without then with history");
                let options = retrieval::RetrievalOptions { drop_articles, seed, no_good_fix_below, fit_fix, fix_model };
                let report =
                    retrieval::evaluate_with_history(&docs, &history, &qs, params, &options, |done| bar.set_position(done as u64))?;
                bar.finish_and_clear();
                if json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    print_history_report(&report);
                }
                return Ok(ExitCode::SUCCESS);
            }
            if let Some((noise, file)) = noise {
                let bar = progress::bar(2 * qs.len() as u64, "queries, clean then noisy");
                let report = noisy::evaluate_retrieval(&docs, &qs, &noise, &file, |done| bar.set_position(done as u64))?;
                bar.finish_and_clear();
                if json {
                    println!("{}", serde_json::to_string(&report)?);
                } else {
                    println!("retrieval: {} queries over {} articles", report.clean.queries, report.clean.articles);
                    print!("{}", report.markdown());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let bar = progress::bar(qs.len() as u64, "queries");
            let options = retrieval::RetrievalOptions { drop_articles, seed, no_good_fix_below, fit_fix, fix_model };
            let report = retrieval::evaluate_with(&docs, &qs, &options, |done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "retrieval: {} queries over {} articles (indexed in {:.0} ms)",
                    report.queries, report.articles, report.index_millis
                );
                println!("  P@1    {:.3}", report.p_at_1);
                println!("  MRR    {:.3}", report.mrr);
                println!("  Hit@3  {:.3}", report.hit_at_3);
                println!("  Hit@5  {:.3}", report.hit_at_5);
                println!("  query latency p50 {:.0} µs, p99 {:.0} µs", report.query_p50_micros, report.query_p99_micros);
                println!(
                    "  fix probability of the top suggestion: mean {:.3}, right {:.3}, ECE {:.3}",
                    report.top_fix_probability_mean, report.top_fix_accuracy, report.ece
                );
                let g = &report.no_good_fix;
                println!(
                    "  no_good_fix (below {:.2}): {} articles dropped, {} queries without their article, {} flagged; precision {:.3}, recall {:.3}, F1 {:.3}",
                    g.threshold, g.dropped_articles, g.queries_without_article, g.flagged, g.precision, g.recall, g.f1
                );
                if let Some(m) = &report.fitted_fix_model {
                    println!("  fitted fix model: bias {:.4}, weights {:?}", m.bias, m.weights.map(|w| (w * 1e4).round() / 1e4));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_history_report(report: &retrieval::HistoryReport) {
    let (a, b) = (&report.without_history, &report.with_history);
    println!(
        "retrieval: {} queries over {} articles, {} history queries learned in {:.0} ms (learning weight {})",
        a.queries, a.articles, report.history_queries, report.history_millis, report.learning.weight
    );
    println!("           without history   with history");
    for (name, x, y) in [
        ("P@1", a.p_at_1, b.p_at_1),
        ("MRR", a.mrr, b.mrr),
        ("Hit@3", a.hit_at_3, b.hit_at_3),
        ("Hit@5", a.hit_at_5, b.hit_at_5),
        ("ECE", a.ece, b.ece),
        ("top p", a.top_fix_probability_mean, b.top_fix_probability_mean),
        ("NGF P", a.no_good_fix.precision, b.no_good_fix.precision),
        ("NGF R", a.no_good_fix.recall, b.no_good_fix.recall),
        ("NGF F1", a.no_good_fix.f1, b.no_good_fix.f1),
    ] {
        println!("  {name:<6}   {x:>15.3}   {y:>12.3}");
    }
    println!(
        "  query latency p50 {:.0} / {:.0} µs, p99 {:.0} / {:.0} µs",
        a.query_p50_micros, b.query_p50_micros, a.query_p99_micros, b.query_p99_micros
    );
    println!(
        "  (ECE: of the top suggestion's fix probability; NGF: no_good_fix below {:.2} against {} queries whose article is among the {} dropped)",
        a.no_good_fix.threshold, a.no_good_fix.queries_without_article, a.no_good_fix.dropped_articles
    );
}
