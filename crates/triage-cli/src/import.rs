//! `triage import`: resolved tickets in bulk from CSV or JSON Lines, with the column mapping of
//! `triage train`. Commits in batches: a crash loses at most the batch in flight, and re-running
//! the import updates rather than duplicates (idempotent on tenant + external id).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_engine::TriageEngine;
use triage_model::dataset::{ColumnMapping, load_test_files};
use triage_server::html::DescriptionFormat;

use crate::progress;

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// CSV or JSON Lines file(s) of resolved tickets.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Columns of the text: the first is the title, the rest the description.
    #[arg(long, value_delimiter = ',', required = true)]
    pub text: Vec<String>,
    /// Final labels: `category=COL`, `priority=COL`, `assignment_group=COL` (repeatable).
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Column with the ticket's id in the ticketing system.
    #[arg(long, required = true)]
    pub id: String,
    /// Tenant of every row (or use --tenant-column).
    #[arg(long, conflicts_with = "tenant_column")]
    pub tenant: Option<String>,
    /// Column holding each row's tenant.
    #[arg(long)]
    pub tenant_column: Option<String>,
    /// Column with the resolution notes.
    #[arg(long)]
    pub notes: Option<String>,
    /// Column saying whether it was resolved at first contact (true/false, yes/no, 1/0).
    #[arg(long)]
    pub first_contact: Option<String>,
    /// Rows per committed batch.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// How descriptions are written: `auto` converts those that look like HTML (an `<html` or
    /// `<!DOCTYPE` start, or block tags with a closing tag) to plain text; `html` converts every
    /// one; `text` takes them as they are.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub description_format: FormatArg,
}

/// `--description-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    Auto,
    Text,
    Html,
}

impl From<FormatArg> for DescriptionFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Auto => DescriptionFormat::Auto,
            FormatArg::Text => DescriptionFormat::Text,
            FormatArg::Html => DescriptionFormat::Html,
        }
    }
}

const KNOWN_HEADS: [&str; 3] = ["category", "priority", "assignment_group"];

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" => Some(true),
        "false" | "no" | "n" | "0" => Some(false),
        _ => None,
    }
}

pub(crate) fn run(args: ImportArgs, engine: &TriageEngine) -> anyhow::Result<ExitCode> {
    if args.tenant.is_none() && args.tenant_column.is_none() {
        anyhow::bail!("say whose tickets these are: --tenant ID or --tenant-column COLUMN");
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    for spec in &args.labels {
        let (head, col) = ColumnMapping::parse_label(spec)?;
        if !KNOWN_HEADS.contains(&head.as_str()) {
            anyhow::bail!("--label {head}=...: resolved tickets carry {}; use one of those", KNOWN_HEADS.join(", "));
        }
        labels.push((head, col));
    }
    // extra columns travel through the reader as pseudo-labels
    for (name, col) in [("_tenant", &args.tenant_column), ("_notes", &args.notes), ("_first_contact", &args.first_contact)] {
        if let Some(col) = col {
            labels.push((name.to_owned(), col.clone()));
        }
    }
    let mapping = ColumnMapping { text: args.text.clone(), labels, id: Some(args.id.clone()) };
    let spinner = progress::spinner("reading");
    let report = load_test_files(&args.files, &mapping)?;
    spinner.finish_and_clear();
    let mut bad = report.bad_rows.clone();
    let mut tickets: Vec<ResolvedTicket> = Vec::with_capacity(report.rows.len());
    for row in &report.rows {
        // exports carry stray control characters (form feeds, vertical tabs from forwarded
        // e-mail); the API refuses them, a bulk import replaces them with spaces
        let text: String = row.text.chars().map(|c| if c.is_control() && !matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }).collect();
        let row_text = text.as_str();
        let (mut title, mut description) = row_text.split_once('\n').map_or((Some(row_text), None), |(t, d)| (Some(t), Some(d)));
        if title.is_some_and(|t| t.chars().count() > triage_core::ticket::NewTicket::MAX_TITLE_CHARS) {
            // one long text column: keep it all as the description; the title is derived from it
            (title, description) = (None, Some(row_text));
        }
        // HTML bodies from the ticketing system's export become plain text, as over the API
        let description = description.map(|d| DescriptionFormat::from(args.description_format).to_text(d));
        let tenant = row.labels.get("_tenant").map(String::as_str).or(args.tenant.as_deref()).unwrap_or("");
        let fc_raw = row.labels.get("_first_contact");
        let first_contact = fc_raw.and_then(|v| parse_bool(v));
        if fc_raw.is_some() && first_contact.is_none() {
            bad.push(format!("{}: first-contact value `{}` is not true/false", row.id, fc_raw.map_or("", String::as_str)));
            continue;
        }
        let raw = RawResolved {
            tenant,
            external_id: &row.id,
            title,
            description: description.as_deref(),
            category: row.labels.get("category").map(String::as_str),
            priority: row.labels.get("priority").map(String::as_str),
            assignment_group: row.labels.get("assignment_group").map(String::as_str),
            resolution_notes: row.labels.get("_notes").map(String::as_str),
            resolved_at_first_contact: first_contact,
            ..RawResolved::default()
        };
        match ResolvedTicket::parse(&raw) {
            Ok(t) => tickets.push(t),
            Err(e) => bad.push(format!("{}: {e}", row.id)),
        }
    }
    let bar = progress::bar(tickets.len() as u64, "importing");
    let (mut inserted, mut updated) = (0, 0);
    for chunk in tickets.chunks(args.batch.clamp(1, 10_000)) {
        let r = engine.ingest_resolved(chunk)?;
        inserted += r.inserted;
        updated += r.updated;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    for b in bad.iter().take(20) {
        eprintln!("  skipped {b}");
    }
    println!("{} rows read: {inserted} inserted, {updated} updated, {} skipped (bad rows), {} empty", report.read, bad.len(), report.empty);
    Ok(ExitCode::SUCCESS)
}
