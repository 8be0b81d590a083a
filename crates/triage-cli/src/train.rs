//! `triage train` and `triage eval classify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use indicatif::ProgressBar;
use triage_engine::eval::noise::Noise;
use triage_engine::eval::noisy;
use triage_model::bundle::ModelBundle;
use triage_model::dataset::{ColumnMapping, LoadReport, load_files, load_test_files};
use triage_model::features::FeatureParams;
use triage_model::train::{TrainParams, TrainingRow, train};

use crate::progress;

/// Where training data comes from and which columns mean what.
#[derive(Debug, Args)]
pub(crate) struct DataArgs {
    /// Training file, CSV or JSON Lines (repeatable).
    #[arg(long = "train", required = true)]
    pub train: Vec<PathBuf>,
    /// Columns joined into the ticket text, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub text: Vec<String>,
    /// HEAD=COLUMN, e.g. `category=topic_group` (repeatable).
    #[arg(long = "label", required = true)]
    pub labels: Vec<String>,
    /// Column holding the ticket id.
    #[arg(long)]
    pub id: Option<String>,
    /// SVM regularisation C.
    #[arg(long, default_value_t = 0.5)]
    pub c: f32,
    /// Precision that `auto` decisions must reach (per head: HEAD=0.95; or one value for all).
    #[arg(long = "target-precision")]
    pub target_precision: Vec<String>,
    /// Seed for the update order and the calibration folds.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Longest word n-gram.
    #[arg(long, default_value_t = FeatureParams::default().word_ngram_max)]
    pub word_ngrams: usize,
    /// Character n-gram lengths MIN-MAX (0-0 disables).
    #[arg(long, default_value = "2-5")]
    pub char_ngrams: String,
    /// Fewest training texts a feature must occur in.
    #[arg(long, default_value_t = FeatureParams::default().min_df)]
    pub min_df: u32,
}

impl DataArgs {
    pub(crate) fn mapping(&self) -> anyhow::Result<ColumnMapping> {
        let labels = self.labels.iter().map(|s| ColumnMapping::parse_label(s)).collect::<Result<_, _>>()?;
        Ok(ColumnMapping { text: self.text.clone(), labels, id: self.id.clone() })
    }

    pub(crate) fn params(&self) -> anyhow::Result<TrainParams> {
        let (char_min, char_max) = self
            .char_ngrams
            .split_once('-')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .ok_or_else(|| anyhow::anyhow!("--char-ngrams must look like 2-5 (or 0-0 to disable)"))?;
        let features = FeatureParams {
            word_ngram_max: self.word_ngrams,
            char_ngram_min: char_min,
            char_ngram_max: char_max,
            min_df: self.min_df,
            ..FeatureParams::default()
        };
        let mut p = TrainParams { c: self.c, seed: self.seed, features, ..TrainParams::default() };
        for spec in &self.target_precision {
            match spec.split_once('=') {
                Some((head, v)) => {
                    p.target_precision.insert(head.to_owned(), v.parse()?);
                }
                None => p.default_target_precision = spec.parse()?,
            }
        }
        p.check()?;
        Ok(p)
    }
}

/// Reads files with a spinner and prints what was dropped. Test sets keep duplicates.
pub(crate) fn read(paths: &[PathBuf], mapping: &ColumnMapping, what: &str) -> anyhow::Result<LoadReport> {
    let spinner = progress::spinner(&format!("reading {what}"));
    let report = if what.starts_with("test") { load_test_files(paths, mapping)? } else { load_files(paths, mapping)? };
    spinner.finish_and_clear();
    eprintln!(
        "{what}: {} rows read, {} kept, {} duplicates dropped, {} empty dropped, {} bad rows skipped",
        report.read,
        report.rows.len(),
        report.duplicates,
        report.empty,
        report.bad_rows.len()
    );
    for bad in report.bad_rows.iter().take(20) {
        eprintln!("  skipped {bad}");
    }
    if report.bad_rows.len() > 20 {
        eprintln!("  ... and {} more", report.bad_rows.len() - 20);
    }
    Ok(report)
}

/// Trains with a progress bar per phase.
pub(crate) fn train_with_progress(
    rows: &[TrainingRow],
    heads: &[String],
    params: &TrainParams,
    version: &str,
    sources: Vec<String>,
) -> anyhow::Result<ModelBundle> {
    let mut bar: Option<(String, ProgressBar)> = None;
    let mut on_progress = |phase: &str, done: usize, total: usize| {
        if bar.as_ref().is_none_or(|(p, _)| p != phase) {
            if let Some((_, b)) = bar.take() {
                b.finish_and_clear();
            }
            bar = Some((phase.to_owned(), progress::bar(total as u64, phase)));
        }
        if let Some((_, b)) = &bar {
            b.set_position(done as u64);
        }
    };
    let bundle = train(rows, heads, params, version, sources, &mut on_progress)?;
    if let Some((_, b)) = bar {
        b.finish_and_clear();
    }
    Ok(bundle)
}

pub(crate) fn sources(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())).collect()
}

pub(crate) fn run_train(data: DataArgs, out: PathBuf, version: Option<String>) -> anyhow::Result<ExitCode> {
    let mapping = data.mapping()?;
    let params = data.params()?;
    let report = read(&data.train, &mapping, "training data")?;
    let version = version.unwrap_or_else(|| out.file_name().map_or("model".into(), |n| n.to_string_lossy().into_owned()));
    let bundle = train_with_progress(&report.rows, &mapping.heads(), &params, &version, sources(&data.train))?;
    bundle.save(&out)?;
    print_card(&bundle, &out);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn print_card(bundle: &ModelBundle, out: &Path) {
    let m = &bundle.manifest;
    println!(
        "model {} written to {} ({} rows, {} features, {:.1} s)",
        m.version,
        out.display(),
        m.training.rows,
        m.features.n_features,
        m.training.train_seconds
    );
    for h in &m.heads {
        if let Some(cv) = &h.cv_metrics {
            println!(
                "  {}: {} labels; out-of-fold accuracy {:.3}, macro-F1 {:.3}, ECE {:.3}, auto coverage {:.3} at precision {:.3} (target {})",
                h.name,
                h.labels.len(),
                cv.accuracy,
                cv.macro_f1,
                cv.ece,
                cv.auto_coverage,
                cv.auto_precision,
                h.calibration.target_precision
            );
        }
    }
}

pub(crate) fn run_eval(
    data: DataArgs,
    test: PathBuf,
    json: bool,
    report_path: Option<PathBuf>,
    no_baseline: bool,
    noise: Option<(Noise, String)>,
) -> anyhow::Result<ExitCode> {
    let mapping = data.mapping()?;
    let params = data.params()?;
    let train_rows = read(&data.train, &mapping, "training data")?;
    let test_rows = read(std::slice::from_ref(&test), &mapping, "test data")?;
    let started = Instant::now();
    let bundle = train_with_progress(&train_rows.rows, &mapping.heads(), &params, "eval", sources(&data.train))?;
    let train_seconds = started.elapsed().as_secs_f64();
    let mut report = triage_model::eval::evaluate(&bundle.classifier, &test_rows.rows, train_seconds, train_rows.rows.len());
    if !no_baseline {
        for head in mapping.heads() {
            let spinner = progress::spinner(&format!("baseline {head}"));
            report.baselines.insert(head.clone(), triage_model::baseline::naive_bayes(&train_rows.rows, &test_rows.rows, &head)?);
            spinner.finish_and_clear();
        }
    }
    let title = format!("Classification: {} -> {}", sources(&data.train).join(", "), sources(std::slice::from_ref(&test)).join(""));
    let mut md = triage_model::eval::markdown(&report, &title);
    let md_path = report_path.unwrap_or_else(|| std::env::temp_dir().join("triage-eval-classify.md"));
    let summary = md.split("\n## ").next().unwrap_or(&md).to_owned();
    let Some((noise, file)) = noise else {
        std::fs::write(&md_path, &md)?;
        eprintln!("markdown report written to {}", md_path.display());
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            println!("{summary}");
        }
        return Ok(ExitCode::SUCCESS);
    };
    // The same model scores the test tickets again, each with an e-mail tail appended.
    let noisy_test = noisy::noisy_rows(&test_rows.rows, &noise);
    let noisy_report = triage_model::eval::evaluate(&bundle.classifier, &noisy_test, train_seconds, train_rows.rows.len());
    let noise_summary = noisy::summarise(
        &noise,
        &file,
        test_rows.rows.iter().map(|r| r.text.chars().count()),
        noisy_test.iter().map(|r| r.text.chars().count()),
    );
    let side = noisy::compare_classification(noise_summary, report, noisy_report);
    let table = side.markdown();
    md.push_str(&format!("\n## E-mail noise: clean and noisy\n\n{table}\n"));
    md.push_str(&triage_model::eval::markdown(&side.noisy, &format!("{title}, with e-mail noise")));
    std::fs::write(&md_path, &md)?;
    eprintln!("markdown report written to {}", md_path.display());
    if json {
        println!("{}", serde_json::to_string(&side)?);
    } else {
        println!("{summary}\n{table}");
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn run_train_starter(kb: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let articles = triage_kb::loader::load_dir(kb)?.into_valid()?;
    let rows = triage_engine::starter::training_rows(&articles);
    let heads: Vec<String> = triage_engine::starter::HEADS.iter().map(|h| (*h).to_owned()).collect();
    let params = TrainParams { features: FeatureParams { min_df: 1, ..FeatureParams::default() }, ..TrainParams::default() };
    let bundle = train_with_progress(&rows, &heads, &params, "starter", vec![kb.display().to_string()])?;
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    bundle.save(out)?;
    print_card(&bundle, out);
    Ok(ExitCode::SUCCESS)
}
