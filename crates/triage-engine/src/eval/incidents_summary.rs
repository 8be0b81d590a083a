//! Mean and worst over several seeds, and the targets.

use serde::Serialize;

use super::IncidentScores;

/// A metric's mean and worst value over runs (runs where it is undefined are left out).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanWorst {
    /// Mean over the runs where it is defined.
    pub mean: Option<f64>,
    /// Worst of them: the lowest for a rate to raise, the highest for a cost or a delay.
    pub worst: Option<f64>,
    /// Runs where it is defined.
    pub runs: usize,
}

impl MeanWorst {
    fn of(values: impl Iterator<Item = Option<f64>>, higher_is_better: bool) -> Self {
        let values: Vec<f64> = values.flatten().collect();
        if values.is_empty() {
            return Self { mean: None, worst: None, runs: 0 };
        }
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let fold = if higher_is_better { f64::min } else { f64::max };
        let worst = values.iter().copied().reduce(fold);
        Self { mean: Some(mean), worst, runs: values.len() }
    }
}

/// Mean and worst of every headline figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Runs summarised.
    pub runs: usize,
    /// Incident recall.
    pub recall: MeanWorst,
    /// Incident precision.
    pub precision: MeanWorst,
    /// Median tickets to detect.
    pub median_tickets_to_detect: MeanWorst,
    /// Median minutes to detect.
    pub median_minutes_to_detect: MeanWorst,
    /// False alarms per simulated week.
    pub false_alarms_per_week: MeanWorst,
    /// Duplicate incidents per run.
    pub duplicates: MeanWorst,
    /// Member-linking precision.
    pub linking_precision: MeanWorst,
    /// Member-linking recall.
    pub linking_recall: MeanWorst,
    /// Mean microseconds per `observe`.
    pub observe_mean_micros: MeanWorst,
}

/// Mean and worst over `runs`.
pub fn summarise(runs: &[IncidentScores]) -> Summary {
    let up = |f: fn(&IncidentScores) -> Option<f64>| MeanWorst::of(runs.iter().map(f), true);
    let down = |f: fn(&IncidentScores) -> Option<f64>| MeanWorst::of(runs.iter().map(f), false);
    Summary {
        runs: runs.len(),
        recall: up(|r| Some(r.recall)),
        precision: up(|r| r.precision),
        median_tickets_to_detect: down(|r| r.median_tickets_to_detect),
        median_minutes_to_detect: down(|r| r.median_minutes_to_detect),
        false_alarms_per_week: down(|r| Some(r.false_alarms_per_week)),
        duplicates: down(|r| Some(r.duplicates as f64)),
        linking_precision: up(|r| r.linking_precision),
        linking_recall: up(|r| r.linking_recall),
        observe_mean_micros: down(|r| Some(r.observe_mean_micros)),
    }
}

/// One of the targets, checked against the mean and the worst run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetCheck {
    /// The metric's name in [`Summary`].
    pub metric: &'static str,
    /// The target, as the issue states it.
    pub rule: &'static str,
    /// Whether the mean meets it (false when undefined).
    pub mean_met: bool,
    /// Whether the worst run meets it (false when undefined).
    pub worst_met: bool,
}

/// The targets: recall >= 0.9, median <= 5 tickets to detect, <= 1 false alarm per
/// simulated week, member-linking precision >= 0.9.
pub fn targets(summary: &Summary) -> Vec<TargetCheck> {
    let check = |metric, rule, m: &MeanWorst, ok: fn(f64) -> bool| TargetCheck {
        metric,
        rule,
        mean_met: m.mean.is_some_and(ok),
        worst_met: m.worst.is_some_and(ok) && m.runs == summary.runs,
    };
    vec![
        check("recall", ">= 0.9", &summary.recall, |v| v >= 0.9),
        check("median_tickets_to_detect", "<= 5", &summary.median_tickets_to_detect, |v| v <= 5.0),
        check("false_alarms_per_week", "<= 1", &summary.false_alarms_per_week, |v| v <= 1.0),
        check("linking_precision", ">= 0.9", &summary.linking_precision, |v| v >= 0.9),
    ]
}
