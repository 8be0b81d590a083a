//! Clean and noisy figures side by side: the same test set scored as it is and with an e-mail
//! tail ([`Noise`]) appended to every test ticket or query. Training data stays clean.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use triage_kb::KbDocument;
use triage_model::eval::EvalReport;
use triage_model::train::TrainingRow;

use super::noise::Noise;
use super::retrieval::{self, FaqQuery, RetrievalReport};
use crate::Result;

/// Which noise was applied, and how much text it added.
#[derive(Debug, Clone, Serialize)]
pub struct NoiseSummary {
    /// The template file, as given.
    pub file: String,
    /// Templates in the file.
    pub templates: usize,
    /// Seed of the template choice and of the filled values.
    pub seed: u64,
    /// Texts a tail was appended to.
    pub texts: usize,
    /// Mean characters appended per text (tail and the blank line before it).
    pub mean_added_chars: f64,
}

/// Retrieval figures with and without e-mail noise on the queries.
#[derive(Debug, Clone, Serialize)]
pub struct RetrievalSideBySide {
    /// What was appended.
    pub noise: NoiseSummary,
    /// The queries as they are.
    pub clean: RetrievalReport,
    /// Every query with its tail.
    pub noisy: RetrievalReport,
    /// Noisy minus clean.
    pub delta: RetrievalDelta,
}

/// Noisy minus clean, per retrieval figure (negative: the noise costs).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RetrievalDelta {
    /// Change of P@1.
    pub p_at_1: f64,
    /// Change of MRR.
    pub mrr: f64,
    /// Change of Hit@3.
    pub hit_at_3: f64,
    /// Change of Hit@5.
    pub hit_at_5: f64,
}

/// Classification figures with and without e-mail noise on the test tickets.
#[derive(Debug, Clone, Serialize)]
pub struct ClassifySideBySide {
    /// What was appended.
    pub noise: NoiseSummary,
    /// The test set as it is.
    pub clean: EvalReport,
    /// Every test ticket with its tail.
    pub noisy: EvalReport,
    /// Noisy minus clean, per head.
    pub delta: BTreeMap<String, HeadDelta>,
}

/// Noisy minus clean, per classification figure of one head.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HeadDelta {
    /// Change of accuracy.
    pub accuracy: f64,
    /// Change of macro-F1.
    pub macro_f1: f64,
    /// Change of the share decided `auto`.
    pub auto_coverage: f64,
    /// Change of the accuracy of `auto` decisions.
    pub auto_precision: f64,
}

/// The test rows with a tail appended to each text, keyed by the row id; labels and ids kept.
pub fn noisy_rows(rows: &[TrainingRow], noise: &Noise) -> Vec<TrainingRow> {
    rows.iter().map(|r| TrainingRow { text: noise.apply(&r.id, &r.text), ..r.clone() }).collect()
}

/// The queries with a tail appended to each, keyed by the query's index in the file.
pub fn noisy_queries(queries: &[FaqQuery], noise: &Noise) -> Vec<FaqQuery> {
    queries.iter().enumerate().map(|(i, q)| FaqQuery { query: noise.apply(&i.to_string(), &q.query), ..q.clone() }).collect()
}

/// What `noisy` added to `clean`, summed over `texts`.
pub fn summarise(noise: &Noise, file: &str, clean: impl Iterator<Item = usize>, noisy: impl Iterator<Item = usize>) -> NoiseSummary {
    let (mut texts, mut added) = (0usize, 0usize);
    for (c, n) in clean.zip(noisy) {
        texts += 1;
        added += n.saturating_sub(c);
    }
    NoiseSummary {
        file: file.to_owned(),
        templates: noise.template_count(),
        seed: noise.seed(),
        texts,
        mean_added_chars: if texts == 0 { 0.0 } else { added as f64 / texts as f64 },
    }
}

/// Ranks the queries clean, then with noise; `progress` counts both passes (2 x queries).
pub fn evaluate_retrieval(
    articles: &[KbDocument],
    queries: &[FaqQuery],
    noise: &Noise,
    file: &str,
    mut progress: impl FnMut(usize),
) -> Result<RetrievalSideBySide> {
    let noisy_qs = noisy_queries(queries, noise);
    let summary = summarise(noise, file, queries.iter().map(|q| q.query.chars().count()), noisy_qs.iter().map(|q| q.query.chars().count()));
    let clean = retrieval::evaluate(articles, queries, &mut progress)?;
    let noisy = retrieval::evaluate(articles, &noisy_qs, |done| progress(queries.len() + done))?;
    let delta = RetrievalDelta {
        p_at_1: noisy.p_at_1 - clean.p_at_1,
        mrr: noisy.mrr - clean.mrr,
        hit_at_3: noisy.hit_at_3 - clean.hit_at_3,
        hit_at_5: noisy.hit_at_5 - clean.hit_at_5,
    };
    Ok(RetrievalSideBySide { noise: summary, clean, noisy, delta })
}

/// Puts two classification reports of the same model side by side.
pub fn compare_classification(noise: NoiseSummary, clean: EvalReport, noisy: EvalReport) -> ClassifySideBySide {
    let delta = clean
        .heads
        .iter()
        .filter_map(|(head, c)| {
            let n = noisy.heads.get(head)?;
            Some((
                head.clone(),
                HeadDelta {
                    accuracy: n.accuracy - c.accuracy,
                    macro_f1: n.macro_f1 - c.macro_f1,
                    auto_coverage: n.auto_coverage - c.auto_coverage,
                    auto_precision: n.auto_precision - c.auto_precision,
                },
            ))
        })
        .collect();
    ClassifySideBySide { noise, clean, noisy, delta }
}

impl NoiseSummary {
    /// One line saying what was appended.
    pub fn describe(&self) -> String {
        format!(
            "e-mail noise: {} templates from {} (seed {}), one appended to each of {} test texts, {:.0} characters on average; training data and articles untouched",
            self.templates, self.file, self.seed, self.texts, self.mean_added_chars
        )
    }
}

impl RetrievalSideBySide {
    /// The figures as a Markdown table: metric, clean, noisy, delta.
    pub fn markdown(&self) -> String {
        let (c, n, d) = (&self.clean, &self.noisy, &self.delta);
        let mut md = format!("{}\n\n| metric | clean | noisy | delta |\n|---|---|---|---|\n", self.noise.describe());
        for (name, clean, noisy, delta) in [
            ("P@1", c.p_at_1, n.p_at_1, d.p_at_1),
            ("MRR", c.mrr, n.mrr, d.mrr),
            ("Hit@3", c.hit_at_3, n.hit_at_3, d.hit_at_3),
            ("Hit@5", c.hit_at_5, n.hit_at_5, d.hit_at_5),
        ] {
            let _ = writeln!(md, "| {name} | {clean:.3} | {noisy:.3} | {delta:+.3} |");
        }
        let _ = writeln!(
            md,
            "\nquery latency p50 / p99: clean {:.0} / {:.0} µs, noisy {:.0} / {:.0} µs",
            c.query_p50_micros, c.query_p99_micros, n.query_p50_micros, n.query_p99_micros
        );
        md
    }
}

impl ClassifySideBySide {
    /// The figures as a Markdown table: head, metric, clean, noisy, delta.
    pub fn markdown(&self) -> String {
        let mut md = format!("{}\n\n| head | metric | clean | noisy | delta |\n|---|---|---|---|---|\n", self.noise.describe());
        for (head, d) in &self.delta {
            let (Some(c), Some(n)) = (self.clean.heads.get(head), self.noisy.heads.get(head)) else { continue };
            for (name, clean, noisy, delta) in [
                ("accuracy", c.accuracy, n.accuracy, d.accuracy),
                ("macro-F1", c.macro_f1, n.macro_f1, d.macro_f1),
                ("auto coverage", c.auto_coverage, n.auto_coverage, d.auto_coverage),
                ("auto precision", c.auto_precision, n.auto_precision, d.auto_precision),
            ] {
                let _ = writeln!(md, "| {head} | {name} | {clean:.3} | {noisy:.3} | {delta:+.3} |");
            }
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::noise::NoiseTemplates;

    fn noise() -> Noise {
        Noise::new(NoiseTemplates::parse("%%\nKind regards\n{name}\n{council}\nTel: {phone}\n").unwrap(), 16)
    }

    #[test]
    fn noisy_queries_differ_from_the_clean_ones_and_carry_a_filled_tail() {
        let queries = vec![
            FaqQuery { query: "how do I delete my facebook account".into(), article_id: "A".into() },
            FaqQuery { query: "strikethrough in github markdown".into(), article_id: "B".into() },
        ];
        let noisy = noisy_queries(&queries, &noise());
        for (clean, noisy) in queries.iter().zip(&noisy) {
            assert_eq!(clean.article_id, noisy.article_id);
            assert!(noisy.query.starts_with(&clean.query) && noisy.query.len() > clean.query.len() + 20, "{noisy:?}");
            assert!(noisy.query.contains("Tel: 01632 960") && !noisy.query.contains('{'), "{noisy:?}");
        }
    }

    #[test]
    fn noisy_rows_keep_ids_and_labels_and_differ_per_row() {
        let row = |id: &str| TrainingRow { id: id.into(), text: "vpn drops".into(), labels: [("category".into(), "Access".into())].into() };
        let rows = vec![row("1"), row("2"), row("3"), row("4")];
        let noisy = noisy_rows(&rows, &noise());
        assert!(
            noisy.iter().zip(&rows).all(|(n, r)| n.id == r.id && n.labels == r.labels && n.text.starts_with("vpn drops\n\nKind regards\n"))
        );
        let distinct: std::collections::HashSet<&str> = noisy.iter().map(|r| r.text.as_str()).collect();
        assert!(distinct.len() > 1, "the filled values vary with the row id");
        assert_eq!(noisy_rows(&rows, &noise()), noisy, "reruns agree");
    }

    #[test]
    fn retrieval_side_by_side_reports_both_runs_and_their_difference() {
        let articles = vec![
            KbDocument {
                id: "A".into(),
                title: "Delete a Facebook account".into(),
                body: "Go to settings".into(),
                ..KbDocument::default()
            },
            KbDocument {
                id: "B".into(),
                title: "Strikethrough in GitHub markdown".into(),
                body: "Use tildes".into(),
                ..KbDocument::default()
            },
            KbDocument {
                id: "C".into(),
                title: "Call the council phone line".into(),
                body: "Regards, council telephone".into(),
                ..KbDocument::default()
            },
        ];
        let queries = vec![
            FaqQuery { query: "delete facebook".into(), article_id: "A".into() },
            FaqQuery { query: "github strikethrough".into(), article_id: "B".into() },
        ];
        let mut calls = 0;
        let report = evaluate_retrieval(&articles, &queries, &noise(), "tails.txt", |_| calls += 1).unwrap();
        assert_eq!(calls, 4, "progress counts the clean and the noisy pass");
        assert_eq!((report.clean.queries, report.noisy.queries), (2, 2));
        assert_eq!(report.clean.p_at_1, 1.0);
        assert!((report.delta.p_at_1 - (report.noisy.p_at_1 - report.clean.p_at_1)).abs() < 1e-12);
        assert_eq!((report.noise.texts, report.noise.templates, report.noise.seed), (2, 1, 16));
        assert!(report.noise.mean_added_chars > 30.0, "{:?}", report.noise);
        let md = report.markdown();
        assert!(md.contains("| P@1 | 1.000 |") && md.contains("| Hit@5 |"), "{md}");
    }
}
