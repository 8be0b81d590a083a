//! `triage kb check|index|search`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use triage_core::tenant::TenantId;
use triage_engine::{EngineParams, TriageEngine};
use triage_kb::KbQuery;

use crate::progress;

#[derive(Debug, Subcommand)]
pub(crate) enum KbCommand {
    /// Validate every article; prints problems as `file:line: message` and fails if there are any.
    Check {
        /// Knowledge-base folder (default: `knowledge_base.dir` from the configuration).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Bring the on-disk index in line with the articles (only changed articles are rewritten).
    Index {
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Search the knowledge base as the service would.
    Search {
        /// The text to search for.
        text: String,
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        category: Option<String>,
        #[arg(long, default_value_t = 5)]
        limit: usize,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn params(config: Option<PathBuf>, dir: Option<PathBuf>, data_dir: Option<PathBuf>) -> anyhow::Result<EngineParams> {
    let settings = crate::load_settings(config.as_deref(), data_dir)?;
    let mut params = settings.engine_params();
    if let Some(dir) = dir {
        params.kb_dir = dir;
    }
    Ok(params)
}

pub(crate) fn run(command: KbCommand, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    match command {
        KbCommand::Check { dir } => {
            let params = params(config, dir, None)?;
            let loaded = triage_kb::loader::load_dir(&params.kb_dir)?;
            for p in &loaded.problems {
                println!("{p}");
            }
            eprintln!("{} files, {} valid articles, {} problems", loaded.files, loaded.articles.len(), loaded.problems.len());
            Ok(if loaded.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        KbCommand::Index { dir, data_dir } => {
            let params = params(config, dir, data_dir)?;
            let spinner = progress::spinner("indexing");
            let (_, report) = TriageEngine::open(&params)?;
            spinner.finish_and_clear();
            let s = report.sync;
            println!(
                "{} articles: {} added, {} updated, {} removed, {} unchanged in {} ms ({})",
                report.articles,
                s.added,
                s.updated,
                s.removed,
                s.unchanged,
                report.millis,
                params.kb_index_dir().display()
            );
            Ok(ExitCode::SUCCESS)
        }
        KbCommand::Search { text, tenant, category, limit, data_dir, json } => {
            let params = params(config, None, data_dir)?;
            let tenant = tenant.as_deref().map(TenantId::parse).transpose()?;
            let (engine, _) = TriageEngine::open(&params)?;
            let query = KbQuery::new(&text).tenant(tenant.as_ref()).category(category.as_deref()).limit(limit.clamp(1, 100));
            let hits = engine.search(&query)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&hits)?);
            } else {
                for (i, h) in hits.iter().enumerate() {
                    println!("{}. {} ({:.2}) [{}]\n   {}\n   {}", i + 1, h.title, h.score, h.category, h.id, h.snippet.replace('\n', " "));
                }
                if hits.is_empty() {
                    println!("no matching articles");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
