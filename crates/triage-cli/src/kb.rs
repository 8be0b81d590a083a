//! `triage kb check|index|search|gaps`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use triage_core::tenant::TenantId;
use triage_engine::{EngineParams, GapParams, KbGaps, TriageEngine};
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
    /// List a tenant's knowledge-base gaps (tickets with no good fix or marked not helpful,
    /// grouped), largest first, with a draft article for each (run with the service stopped,
    /// or use `GET /v1/kb/gaps` while it runs).
    Gaps {
        /// The tenant.
        #[arg(long)]
        tenant: String,
        /// Look back this many days.
        #[arg(long, default_value_t = 30)]
        days: u64,
        /// Most gaps to list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Write each draft article as `DIR/<draft id>.md`.
        #[arg(long)]
        out: Option<PathBuf>,
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
            eprintln!(
                "{} files, {} valid articles, {} drafts (not served), {} problems",
                loaded.files,
                loaded.articles.len(),
                loaded.drafts,
                loaded.problems.len()
            );
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
        KbCommand::Gaps { tenant, days, limit, data_dir, json, out } => {
            let params = params(config, None, data_dir)?;
            let tenant = TenantId::parse(&tenant)?;
            let (engine, _) = TriageEngine::open(&params)?;
            let since = std::time::SystemTime::now() - std::time::Duration::from_secs(days.saturating_mul(86_400));
            let from = triage_core::time::Timestamp::from_system_time(since);
            let gaps = engine.kb_gaps(&tenant, Some(from), None, &GapParams { limit: limit.clamp(1, 100), ..GapParams::default() })?;
            if let Some(dir) = &out {
                std::fs::create_dir_all(dir)?;
                for g in &gaps.gaps {
                    std::fs::write(dir.join(format!("{}.md", g.draft_id)), &g.draft)?;
                }
                eprintln!(
                    "{} drafts written to {} (draft: true; check with `triage kb check --dir {}`)",
                    gaps.gaps.len(),
                    dir.display(),
                    dir.display()
                );
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&gaps)?);
            } else {
                print_gaps(&gaps, days);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_gaps(gaps: &KbGaps, days: u64) {
    println!("{}: {} gaps from {} candidate tickets in the last {days} days", gaps.tenant, gaps.gaps.len(), gaps.candidates);
    for (i, g) in gaps.gaps.iter().enumerate() {
        println!(
            "\n{}. {} ({} tickets: {} no good fix, {} not helpful) [{}]\n   terms: {}\n   seen: {} .. {}\n   draft: {}",
            i + 1,
            g.id,
            g.size,
            g.no_good_fix,
            g.not_helpful,
            g.category.as_deref().unwrap_or("-"),
            g.top_terms.join(", "),
            g.first_seen,
            g.last_seen,
            g.draft_id
        );
        for r in &g.representatives {
            println!("   - {} {}", r.external_id.as_deref().unwrap_or(&r.triage_id), r.snippet);
        }
        for n in &g.resolution_notes {
            println!("   fix: {n}");
        }
    }
}
