//! The cold-start model: a fresh install has no ticket history, so a starter classifier is
//! trained from the knowledge base itself. Every symptom, title and summary of an article is a
//! training text labelled with the article's category and escalation group.

use triage_core::article::Article;
use triage_model::train::TrainingRow;

/// Head names of the starter model.
pub const HEADS: [&str; 2] = ["category", "assignment_group"];

/// Training rows from articles, in a stable order (articles sorted by id).
pub fn training_rows(articles: &[Article]) -> Vec<TrainingRow> {
    let mut sorted: Vec<&Article> = articles.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    let mut rows = Vec::new();
    for a in sorted {
        let labels = [("category", &a.category), ("assignment_group", &a.escalation_group)]
            .into_iter()
            .map(|(h, l)| (h.to_owned(), l.clone()))
            .collect::<std::collections::BTreeMap<_, _>>();
        let texts = std::iter::once(&a.title).chain(std::iter::once(&a.summary)).chain(&a.symptoms);
        for (i, text) in texts.enumerate() {
            rows.push(TrainingRow { id: format!("{}#{i}", a.id), text: text.clone(), labels: labels.clone() });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use triage_model::bundle::ModelBundle;
    use triage_model::train::training_data_hash;

    fn bundled_articles() -> Vec<Article> {
        let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base");
        triage_kb::loader::load_dir(&kb).unwrap().into_valid().unwrap()
    }

    #[test]
    fn every_article_gives_title_summary_and_symptom_rows() {
        let articles = bundled_articles();
        let rows = training_rows(&articles);
        let expected: usize = articles.iter().map(|a| 2 + a.symptoms.len()).sum();
        assert_eq!(rows.len(), expected);
        assert!(rows.iter().all(|r| r.labels.len() == 2));
    }

    #[test]
    fn the_shipped_starter_model_was_trained_from_the_current_knowledge_base() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/starter");
        let bundle = ModelBundle::load(&dir).expect("models/starter loads; rebuild it with `triage train-starter --out models/starter`");
        let rows = training_rows(&bundled_articles());
        assert_eq!(
            bundle.manifest.training.data_sha256,
            training_data_hash(&rows),
            "knowledge-base changed since models/starter was trained; rebuild it with `triage train-starter --out models/starter`"
        );
        let heads: Vec<&str> = bundle.manifest.heads.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(heads, HEADS);
    }

    #[test]
    fn the_shipped_starter_model_matches_this_builds_text_analysis_and_redaction() {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/starter/manifest.json")).unwrap();
        let m: triage_model::bundle::Manifest = serde_json::from_str(&text).unwrap();
        let rebuild = "rebuild it with `triage train-starter --out models/starter`";
        assert_eq!(m.analysis_version, triage_core::analysis::ANALYSIS_VERSION, "text analysis changed; {rebuild}");
        assert_eq!(m.redaction_version, triage_core::redact::BUILTIN_VERSION, "redaction changed; {rebuild}");
        assert_eq!(m.redaction_extra, "", "the starter model is trained on the knowledge base, without desk patterns");
    }

    #[test]
    fn text_cleaned_once_predicts_as_raw_text_cleaned_by_the_model() {
        let bundle = triage_model::bundle::ModelBundle::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/starter")).unwrap();
        let raw = "Outlook keeps asking for my password\nSince the update Outlook prompts for my password every few minutes.\n\nKind regards\n\nJane Smith\nRevenues Officer\nNorthmoor District Council\nTel: 01632 960001\n\nFrom: IT Service Desk\nSent: 03 March 2026 09:12\nTo: Jane Smith\nSubject: RE: Outlook\n\nThank you for your e-mail.";
        let cleaned = triage_core::clean::clean_joined(raw, triage_core::clean::boilerplate());
        assert_ne!(cleaned, raw, "the tail is cleaned off");
        let by_model = bundle.classifier.predict(raw);
        let once = bundle.classifier.predict_cleaned_with(&cleaned, &|_, _| true);
        let view = |p: &[triage_model::classifier::HeadPrediction]| {
            p.iter().map(|h| (h.head.clone(), h.label.clone(), h.probability)).collect::<Vec<_>>()
        };
        assert_eq!(view(&once), view(&by_model));
        let uncleaned = bundle.classifier.predict_cleaned_with(raw, &|_, _| true);
        assert_ne!(view(&uncleaned), view(&by_model), "the flag really skips cleaning: the tail then changes the scores");
    }
}
