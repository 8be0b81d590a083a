//! `triage`: the one binary. Serves the API, checks and indexes the knowledge base, evaluates.

mod eval;
mod healthcheck;
mod import;
mod kb;
mod keys;
mod progress;
mod train;

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "triage", version, about = "Service-desk triage engine: classify tickets and suggest the fixes most likely to work")]
struct Cli {
    /// Configuration file (TOML) layered over the embedded defaults; `TRIAGE__...` variables win over both.
    #[arg(long, global = true, env = "TRIAGE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve {
        /// Port to listen on (overrides `server.port`).
        #[arg(long)]
        port: Option<u16>,
        /// Data directory for indexes and state (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Knowledge-base tools.
    Kb {
        #[command(subcommand)]
        command: kb::KbCommand,
    },
    /// Import resolved tickets in bulk (CSV or JSON Lines) into the store and the ticket index.
    /// Run it while the service is stopped (or send batches to POST /v1/tickets/resolved).
    Import {
        #[command(flatten)]
        args: import::ImportArgs,
        /// Data directory (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
        /// Data directory (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Train a model bundle from resolved tickets (CSV or JSON Lines).
    Train {
        #[command(flatten)]
        data: train::DataArgs,
        /// Folder to write the bundle to (must not exist), e.g. models/v2.
        #[arg(long)]
        out: PathBuf,
        /// Version name recorded in the manifest (default: the folder name).
        #[arg(long)]
        version: Option<String>,
    },
    /// Train the cold-start model from the knowledge base (symptoms -> category, escalation group).
    TrainStarter {
        /// Knowledge-base folder.
        #[arg(long, default_value = "knowledge-base")]
        kb: PathBuf,
        /// Folder to write the bundle to; an existing folder is replaced.
        #[arg(long, default_value = "models/starter")]
        out: PathBuf,
    },
    /// What the boilerplate detector learns from a tenant's stored resolved tickets: the
    /// sentences removed as its boilerplate (disclaimer, banner, signature template).
    Boilerplate {
        /// Tenant whose tickets to read.
        #[arg(long)]
        tenant: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Data directory (overrides `data_dir`).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Exit 0 when the local service answers 200 on /readyz (for container health checks).
    Healthcheck {
        #[arg(long, default_value_t = 8080)]
        port: u16,
        #[arg(long, default_value = "/readyz")]
        path: String,
    },
    /// Offline evaluation on public data sets.
    Eval {
        #[command(subcommand)]
        command: eval::EvalCommand,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { port, data_dir } => serve(cli.config, port, data_dir),
        Command::Kb { command } => kb::run(command, cli.config),
        Command::Eval { command } => load_settings(cli.config.as_deref(), None).and_then(|_| eval::run(command)),
        Command::Healthcheck { port, path } => healthcheck::run(port, &path),
        Command::Train { data, out, version } => {
            load_settings(cli.config.as_deref(), None).and_then(|_| train::run_train(data, out, version))
        }
        Command::TrainStarter { kb, out } => load_settings(cli.config.as_deref(), None).and_then(|_| train::run_train_starter(&kb, &out)),
        Command::Import { args, data_dir } => open_engine(cli.config, data_dir).and_then(|engine| import::run(args, &engine)),
        Command::Keys { command, data_dir } => open_engine(cli.config, data_dir).and_then(|engine| keys::run(command, &engine)),
        Command::Boilerplate { tenant, json, data_dir } => {
            open_engine(cli.config, data_dir).and_then(|engine| print_boilerplate(&engine, &tenant, json))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Loads the configuration and applies its redaction settings. Every command that reads ticket
/// text starts here, so `--config` and `TRIAGE__REDACTION__...` apply to all of them alike.
fn load_settings(config: Option<&Path>, data_dir: Option<PathBuf>) -> anyhow::Result<triage_server::config::ValidatedSettings> {
    let overrides = triage_server::config::Overrides { port: None, data_dir };
    let settings = triage_server::config::load(config, &overrides, std::env::vars())?;
    triage_server::config::apply_text_settings(&settings)?;
    Ok(settings)
}

/// Counts the store and prints what was learned for `tenant`.
fn print_boilerplate(engine: &triage_engine::TriageEngine, tenant: &str, json: bool) -> anyhow::Result<std::process::ExitCode> {
    let tenant = triage_core::tenant::TenantId::parse(tenant)?;
    let spinner = progress::spinner("counting sentences of the stored resolved tickets");
    engine.count_boilerplate()?;
    spinner.finish_and_clear();
    let learned = engine.learned_boilerplate(&tenant);
    if json {
        println!("{}", serde_json::to_string_pretty(&learned)?);
    } else {
        println!(
            "{}: {} resolved tickets; boilerplate = a sentence of {}+ words in at least {:.1}% and {} of them",
            tenant.as_str(),
            learned.tickets,
            triage_engine::MIN_WORDS,
            learned.min_share * 100.0,
            learned.min_tickets
        );
        for p in &learned.phrases {
            println!("{:>7} {:>6.2}%  {}", p.tickets, p.share * 100.0, p.text);
        }
        if learned.phrases.is_empty() {
            println!("nothing learned");
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Opens the engine as the service would (configuration, data directory) for offline commands.
fn open_engine(config: Option<PathBuf>, data_dir: Option<PathBuf>) -> anyhow::Result<triage_engine::TriageEngine> {
    let settings = load_settings(config.as_deref(), data_dir)?;
    triage_server::telemetry::init(&settings.log);
    Ok(triage_engine::TriageEngine::open(&settings.engine_params())?.0)
}

fn serve(config: Option<PathBuf>, port: Option<u16>, data_dir: Option<PathBuf>) -> anyhow::Result<std::process::ExitCode> {
    let overrides = triage_server::config::Overrides { port, data_dir };
    let settings = triage_server::config::load(config.as_deref(), &overrides, std::env::vars())?;
    triage_server::config::apply_text_settings(&settings)?;
    let _telemetry = triage_server::telemetry::init_service(&settings.log).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(triage_server::run(settings))?;
    Ok(std::process::ExitCode::SUCCESS)
}
