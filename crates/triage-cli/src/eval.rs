//! `triage eval retrieval`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use triage_engine::eval::retrieval;

use crate::progress;
use crate::train::{DataArgs, run_eval};

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
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
    },
}

pub fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Classify { data, test, json, report, no_baseline } => run_eval(data, test, json, report, no_baseline),
        EvalCommand::Retrieval { articles, queries, json } => {
            let docs = retrieval::load_articles(&articles)?;
            let qs = retrieval::load_queries(&queries)?;
            let bar = progress::bar(qs.len() as u64, "queries");
            let report = retrieval::evaluate(&docs, &qs, |done| bar.set_position(done as u64))?;
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
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
