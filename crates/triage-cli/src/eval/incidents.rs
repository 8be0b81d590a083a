//! `triage eval incidents`: major-incident detection replayed over a timestamped stream.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;
use triage_engine::eval::incidents::{self, IncidentScores, MeanWorst, Summary, TargetCheck};
use triage_engine::eval::incidents_stream::{self as stream, BackgroundSource, StreamParams};
use triage_engine::eval::retrieval;
use triage_engine::incidents::IncidentParams;

use crate::progress;

/// Where the stream comes from, how it is shaped, and the detector's parameters.
#[derive(Debug, Args)]
pub(crate) struct IncidentsArgs {
    /// Background tickets, FILE=COLUMN[,COLUMN...] (CSV or JSON Lines; the columns are joined
    /// with new lines and the first line is the title); repeatable.
    #[arg(long = "background", value_name = "FILE=COLUMNS", default_values = [
        "../shared/datasets/endava-topics/train.csv=text",
        "../shared/datasets/ata-assignment-groups/train.csv=short_description,description",
    ])]
    background: Vec<String>,
    /// Surge paraphrases, JSON Lines {"query","article_id"}: one article per surge.
    #[arg(long, value_name = "FILE", default_value = "../shared/datasets/stackfaq/queries.jsonl")]
    surge_queries: PathBuf,
    /// Tenants sharing the desk.
    #[arg(long, default_value_t = StreamParams::default().tenants)]
    tenants: usize,
    /// Background tickets per tenant on an average weekday.
    #[arg(long, default_value_t = StreamParams::default().per_tenant_day)]
    per_tenant_day: f64,
    /// Weekend volume as a share of a weekday's.
    #[arg(long, default_value_t = StreamParams::default().weekend_share)]
    weekend_share: f64,
    /// Simulated days, warm-up included.
    #[arg(long, default_value_t = StreamParams::default().days)]
    days: u32,
    /// Days of history only: no surges, nothing scored (also applies to --replay).
    #[arg(long, default_value_t = StreamParams::default().warmup_days)]
    warmup_days: u32,
    /// Surges per run.
    #[arg(long, default_value_t = StreamParams::default().surges)]
    surges: usize,
    /// Fewest tickets in a surge.
    #[arg(long, default_value_t = StreamParams::default().surge_min)]
    surge_min: usize,
    /// Most tickets in a surge.
    #[arg(long, default_value_t = StreamParams::default().surge_max)]
    surge_max: usize,
    /// Shortest surge, in minutes.
    #[arg(long, default_value_t = StreamParams::default().surge_minutes_min)]
    surge_minutes_min: u32,
    /// Longest surge, in minutes.
    #[arg(long, default_value_t = StreamParams::default().surge_minutes_max)]
    surge_minutes_max: u32,
    /// Most tenants one surge comes from.
    #[arg(long, default_value_t = StreamParams::default().surge_tenants_max)]
    surge_tenants_max: usize,
    /// Seed of the (first) stream.
    #[arg(long, default_value_t = StreamParams::default().seed)]
    seed: u64,
    /// Run this many seeds (seed, seed+1, ...) and report the mean and the worst of each figure.
    #[arg(long, default_value_t = 1, conflicts_with = "replay")]
    seeds: u64,
    /// Replay a prepared stream instead of generating one: JSON Lines
    /// {"at","tenant","title","description","incident"} in time order (`incident` null for background).
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Write the generated stream in the --replay format (one seed only).
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    write_replay: Option<PathBuf>,
    #[command(flatten)]
    detector: DetectorArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

/// The detector's parameters (`[incidents]` settings of the same names).
#[derive(Debug, Args)]
struct DetectorArgs {
    /// Sliding window a surge is counted in, minutes.
    #[arg(long, default_value_t = IncidentParams::default().window_minutes)]
    window_minutes: u32,
    /// Tickets a cluster needs in the window before the surge test.
    #[arg(long, default_value_t = IncidentParams::default().min_tickets)]
    min_tickets: usize,
    /// Cosine a ticket needs with a centroid to join a cluster or an incident.
    #[arg(long, default_value_t = IncidentParams::default().similarity)]
    similarity: f32,
    /// A surge is at least this many times the expected count.
    #[arg(long, default_value_t = IncidentParams::default().rate_ratio)]
    rate_ratio: f64,
    /// ... and that count is this unlikely under the normal rate (Poisson tail).
    #[arg(long, default_value_t = IncidentParams::default().max_p_value)]
    max_p_value: f64,
    /// Days of history behind the normal rate.
    #[arg(long, default_value_t = IncidentParams::default().baseline_days)]
    baseline_days: u32,
    /// Share of traffic assumed for a kind of ticket history has not seen.
    #[arg(long, default_value_t = IncidentParams::default().prior_share)]
    prior_share: f64,
    /// Weight of that assumption, in tickets.
    #[arg(long, default_value_t = IncidentParams::default().prior_tickets)]
    prior_tickets: f64,
    /// History tickets needed before any incident opens.
    #[arg(long, default_value_t = IncidentParams::default().min_history)]
    min_history: usize,
    /// Hours without a new member after which a suspected incident resolves itself.
    #[arg(long, default_value_t = IncidentParams::default().quiet_hours)]
    quiet_hours: u32,
    /// Minutes a resolved incident still links new tickets.
    #[arg(long, default_value_t = IncidentParams::default().resolved_grace_minutes)]
    resolved_grace_minutes: u32,
}

impl DetectorArgs {
    fn params(&self) -> anyhow::Result<IncidentParams> {
        let p = IncidentParams {
            window_minutes: self.window_minutes,
            min_tickets: self.min_tickets,
            similarity: self.similarity,
            rate_ratio: self.rate_ratio,
            max_p_value: self.max_p_value,
            baseline_days: self.baseline_days,
            prior_share: self.prior_share,
            prior_tickets: self.prior_tickets,
            min_history: self.min_history,
            quiet_hours: self.quiet_hours,
            resolved_grace_minutes: self.resolved_grace_minutes,
            ..IncidentParams::default()
        };
        p.validate().map_err(|e| anyhow::anyhow!("{e} (the matching flag is --{})", flag_of(&e)))?;
        Ok(p)
    }
}

/// `incidents.rate_ratio must ...` -> `rate-ratio`.
fn flag_of(message: &str) -> String {
    message.trim_start_matches("incidents.").split_whitespace().next().unwrap_or_default().replace('_', "-")
}

impl IncidentsArgs {
    fn stream_params(&self, seed: u64) -> StreamParams {
        StreamParams {
            tenants: self.tenants,
            per_tenant_day: self.per_tenant_day,
            weekend_share: self.weekend_share,
            days: self.days,
            warmup_days: self.warmup_days,
            surges: self.surges,
            surge_min: self.surge_min,
            surge_max: self.surge_max,
            surge_minutes_min: self.surge_minutes_min,
            surge_minutes_max: self.surge_minutes_max,
            surge_tenants_max: self.surge_tenants_max,
            seed,
        }
    }
}

/// The whole answer of `--json`.
#[derive(Serialize)]
struct Report<'a> {
    detector: &'a IncidentParams,
    /// The generator's parameters (first seed), `None` for a replay.
    stream: Option<StreamParams>,
    replay: Option<String>,
    runs: &'a [IncidentScores],
    summary: &'a Summary,
    targets: &'a [TargetCheck],
}

pub(crate) fn run(args: IncidentsArgs) -> anyhow::Result<ExitCode> {
    let detector = args.detector.params()?;
    if args.seeds == 0 {
        anyhow::bail!("--seeds must be at least 1");
    }
    if args.write_replay.is_some() && args.seeds > 1 {
        anyhow::bail!("--write-replay writes one stream; drop --seeds or run once per seed");
    }
    let runs = match &args.replay {
        Some(path) => {
            let replay = stream::read_replay(path, args.warmup_days)?;
            let bar = progress::bar(replay.tickets.len() as u64, "tickets");
            let run = incidents::evaluate(&replay, &detector, None, |done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            vec![run]
        }
        None => generated_runs(&args, &detector)?,
    };
    let summary = incidents::summarise(&runs);
    let checks = incidents::targets(&summary);
    if args.json {
        let report = Report {
            detector: &detector,
            stream: args.replay.is_none().then(|| args.stream_params(args.seed)),
            replay: args.replay.as_ref().map(|p| p.display().to_string()),
            runs: &runs,
            summary: &summary,
            targets: &checks,
        };
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_table(&args, &detector, &runs, &summary, &checks);
    }
    Ok(ExitCode::SUCCESS)
}

fn generated_runs(args: &IncidentsArgs, detector: &IncidentParams) -> anyhow::Result<Vec<IncidentScores>> {
    args.stream_params(args.seed).validate()?;
    let sources = args.background.iter().map(|s| BackgroundSource::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let spinner = progress::spinner("reading background tickets and surge paraphrases");
    let background = stream::load_background(&sources)?;
    let queries = retrieval::load_queries(&args.surge_queries)?;
    spinner.finish_and_clear();
    eprintln!("background: {} tickets from {} file(s); surge queries: {}", background.len(), sources.len(), queries.len());
    let bar = progress::bar(args.seeds, "seeds");
    let mut runs = Vec::new();
    for seed in args.seed..args.seed + args.seeds {
        let generated = stream::generate(&args.stream_params(seed), &background, &queries)?;
        if let Some(path) = &args.write_replay {
            stream::write_replay(&generated, path)?;
        }
        let total = generated.tickets.len();
        runs.push(incidents::evaluate(&generated, detector, Some(seed), |done| bar.set_message(format!("seed {seed}: {done}/{total}")))?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(runs)
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
}

fn print_table(args: &IncidentsArgs, detector: &IncidentParams, runs: &[IncidentScores], summary: &Summary, checks: &[TargetCheck]) {
    let mean = |f: fn(&IncidentScores) -> f64| runs.iter().map(f).sum::<f64>() / runs.len().max(1) as f64;
    match &args.replay {
        Some(path) => println!("incidents: replay of {}, {} warm-up days", path.display(), args.warmup_days),
        None => println!(
            "incidents: {} seed(s) from {}, {} tenants x {} tickets a weekday (weekends x{}), {} days ({} warm-up), {} surges of {}-{} tickets over {}-{} min",
            runs.len(),
            args.seed,
            args.tenants,
            args.per_tenant_day,
            args.weekend_share,
            args.days,
            args.warmup_days,
            args.surges,
            args.surge_min,
            args.surge_max,
            args.surge_minutes_min,
            args.surge_minutes_max
        ),
    }
    println!(
        "  detector: window {} min, min_tickets {}, similarity {}, rate_ratio {}, max_p_value {}, baseline {} days, prior {} x {}, min_history {}, quiet {} h, grace {} min",
        detector.window_minutes,
        detector.min_tickets,
        detector.similarity,
        detector.rate_ratio,
        detector.max_p_value,
        detector.baseline_days,
        detector.prior_share,
        detector.prior_tickets,
        detector.min_history,
        detector.quiet_hours,
        detector.resolved_grace_minutes
    );
    println!(
        "  per run: {:.0} tickets ({:.0} in surges), {:.1} surges, {:.1} incidents opened, {:.1} scored days; \
         {:.1} surges missed, {:.1} of them absorbed by another incident still active",
        mean(|r| r.tickets as f64),
        mean(|r| r.surge_tickets as f64),
        mean(|r| r.surges as f64),
        mean(|r| r.incidents_opened as f64),
        mean(|r| r.scored_days),
        mean(|r| (r.surges - r.detected) as f64),
        mean(|r| r.missed_absorbed as f64)
    );
    println!("  {:<26} {:>8} {:>8}   {:<8} met (mean / worst)", "", "mean", "worst", "target");
    let rows: [(&str, &str, &MeanWorst, usize); 9] = [
        ("incident recall", "recall", &summary.recall, 3),
        ("incident precision", "precision", &summary.precision, 3),
        ("median tickets to detect", "median_tickets_to_detect", &summary.median_tickets_to_detect, 1),
        ("median minutes to detect", "median_minutes_to_detect", &summary.median_minutes_to_detect, 1),
        ("false alarms per week", "false_alarms_per_week", &summary.false_alarms_per_week, 2),
        ("duplicates per run", "duplicates", &summary.duplicates, 1),
        ("linking precision", "linking_precision", &summary.linking_precision, 3),
        ("linking recall", "linking_recall", &summary.linking_recall, 3),
        ("observe, µs", "observe_mean_micros", &summary.observe_mean_micros, 1),
    ];
    let yes = |b: bool| if b { "met" } else { "NOT met" };
    for (label, metric, m, decimals) in rows {
        let (rule, met) = match checks.iter().find(|c| c.metric == metric) {
            Some(c) => (c.rule, format!("{} / {}", yes(c.mean_met), yes(c.worst_met))),
            None => ("", String::new()),
        };
        let line = format!("  {label:<26} {:>8} {:>8}   {rule:<8} {met}", fmt(m.mean, decimals), fmt(m.worst, decimals));
        println!("{}", line.trim_end());
    }
    println!(
        "  (worst: the lowest over runs for rates, the highest for delays, false alarms and cost; text analysis, {:.1} s a run, not timed)",
        mean(|r| r.analysis_seconds)
    );
}
