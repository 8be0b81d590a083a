//! The engine: knowledge base loaded, index in sync, ready to triage.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use triage_core::article::Article;
use triage_core::suggestion::{Suggestion, SuggestionKind};
use triage_core::tenant::TenantId;
use triage_core::ticket::NewTicket;
use triage_kb::{KbDocument, KbHit, KbIndex, KbQuery, SyncReport};
use triage_model::bundle::ModelBundle;
use triage_model::classifier::HeadPrediction;
use uuid::Uuid;

use crate::Result;

/// Where the engine finds its inputs and keeps its state.
///
/// | name | default | purpose |
/// |---|---|---|
/// | `kb_dir` | `knowledge-base` | folder of Markdown articles |
/// | `data_dir` | `data` | indexes (and later store and models) |
/// | `max_suggestions` | 5 | suggestions returned per triage, 1..=50 |
/// | `model_dir` | none | model bundle to classify with; none serves suggestions only |
#[derive(Debug, Clone)]
pub struct EngineParams {
    pub kb_dir: PathBuf,
    pub data_dir: PathBuf,
    pub max_suggestions: usize,
    pub model_dir: Option<PathBuf>,
}

impl EngineParams {
    pub fn new(kb_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self { kb_dir: kb_dir.into(), data_dir: data_dir.into(), max_suggestions: 5, model_dir: None }
    }

    pub fn with_model(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }

    /// Folder of the knowledge-base index inside the data directory.
    pub fn kb_index_dir(&self) -> PathBuf {
        self.data_dir.join("index").join("kb")
    }
}

/// What opening the engine did, for logs and the CLI.
#[derive(Debug, Clone, Copy)]
pub struct OpenReport {
    pub articles: usize,
    pub sync: SyncReport,
    pub millis: u128,
}

/// The answer to one triage request.
#[derive(Debug, Clone)]
pub struct TriageOutcome {
    pub triage_id: Uuid,
    pub suggestions: Vec<Suggestion>,
    /// One prediction per head of the live model (empty without a model).
    pub labels: Vec<HeadPrediction>,
    pub model_version: Option<String>,
}

/// The triage engine. `Send + Sync`: one instance serves every worker.
#[derive(Debug)]
pub struct TriageEngine {
    kb: KbIndex,
    articles: HashMap<String, Arc<Article>>,
    max_suggestions: usize,
    model: Option<Arc<ModelBundle>>,
}

impl TriageEngine {
    /// Loads the knowledge base, opens (or creates) its index and re-indexes only what changed.
    /// Refuses to start when an article is invalid, so a broken edit never goes live half-read.
    pub fn open(params: &EngineParams) -> Result<(Self, OpenReport)> {
        let started = Instant::now();
        let articles = triage_kb::loader::load_dir(&params.kb_dir)?.into_valid()?;
        let kb = KbIndex::open_or_create(&params.kb_index_dir())?;
        let sync = sync_articles(&kb, &articles)?;
        let model = params.model_dir.as_deref().map(ModelBundle::load).transpose()?;
        let report = OpenReport { articles: articles.len(), sync, millis: started.elapsed().as_millis() };
        let mut engine = Self::from_parts(kb, articles, params.max_suggestions);
        engine.model = model.map(Arc::new);
        Ok((engine, report))
    }

    /// An engine over articles already in memory, with an in-RAM index (tests, benchmarks).
    pub fn in_memory(articles: Vec<Article>, max_suggestions: usize) -> Result<Self> {
        let kb = KbIndex::create_in_ram()?;
        sync_articles(&kb, &articles)?;
        Ok(Self::from_parts(kb, articles, max_suggestions))
    }

    fn from_parts(kb: KbIndex, articles: Vec<Article>, max_suggestions: usize) -> Self {
        let articles = articles.into_iter().map(|a| (a.id.clone(), Arc::new(a))).collect();
        Self { kb, articles, max_suggestions: max_suggestions.clamp(1, 50), model: None }
    }

    /// Replaces the model (tests and benchmarks; the service loads it in [`TriageEngine::open`]).
    pub fn with_model(mut self, model: ModelBundle) -> Self {
        self.model = Some(Arc::new(model));
        self
    }

    /// The live model's manifest, if a model is loaded.
    pub fn model_version(&self) -> Option<&str> {
        self.model.as_ref().map(|m| m.manifest.version.as_str())
    }

    /// Number of articles served.
    pub fn article_count(&self) -> usize {
        self.articles.len()
    }

    /// Triage one ticket: the fixes most likely to resolve it, best first.
    #[tracing::instrument(skip_all, fields(tenant = ticket.tenant.as_ref().map(TenantId::as_str), suggestions))]
    pub fn triage(&self, ticket: &NewTicket) -> Result<TriageOutcome> {
        let text = ticket.full_text();
        let query = KbQuery::new(&text).tenant(ticket.tenant.as_ref()).limit(self.max_suggestions);
        let suggestions: Vec<Suggestion> = self.kb.search(&query)?.into_iter().filter_map(|h| self.to_suggestion(h)).collect();
        tracing::Span::current().record("suggestions", suggestions.len());
        let labels = self.model.as_ref().map(|m| m.classifier.predict(&text)).unwrap_or_default();
        Ok(TriageOutcome { triage_id: Uuid::now_v7(), suggestions, labels, model_version: self.model_version().map(str::to_owned) })
    }

    /// Searches the knowledge base; hits come back as suggestions with their steps.
    pub fn search(&self, query: &KbQuery<'_>) -> Result<Vec<Suggestion>> {
        Ok(self.kb.search(query)?.into_iter().filter_map(|h| self.to_suggestion(h)).collect())
    }

    /// One article, if it exists and `tenant` may see it. Another tenant's article is `None`,
    /// exactly as a missing one, so its existence is not revealed.
    pub fn article(&self, id: &str, tenant: Option<&TenantId>) -> Option<Arc<Article>> {
        self.articles.get(id).filter(|a| a.audience.admits(tenant)).cloned()
    }

    fn to_suggestion(&self, hit: KbHit) -> Option<Suggestion> {
        let article = self.articles.get(&hit.id)?;
        Some(Suggestion {
            kind: SuggestionKind::Article,
            id: hit.id,
            title: hit.title,
            score: hit.score,
            snippet: hit.snippet,
            steps: article.steps.clone(),
            category: article.category.clone(),
            escalation_group: article.escalation_group.clone(),
        })
    }
}

fn sync_articles(kb: &KbIndex, articles: &[Article]) -> Result<SyncReport> {
    let docs: Vec<KbDocument> = articles.iter().map(KbDocument::from).collect();
    Ok(kb.sync(&docs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> EngineParams {
        let dir = tempfile::tempdir().unwrap().keep();
        EngineParams::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base"), dir)
    }

    #[test]
    fn a_restart_with_an_existing_index_reindexes_nothing() {
        let params = bundled();
        let (_, first) = TriageEngine::open(&params).unwrap();
        assert!(first.articles >= 80, "the bundled knowledge base has at least 80 articles");
        assert_eq!(first.sync.added, first.articles);
        let (_, second) = TriageEngine::open(&params).unwrap();
        assert!(!second.sync.changed(), "{:?}", second.sync);
        assert_eq!(second.sync.unchanged, first.articles);
        std::fs::remove_dir_all(&params.data_dir).unwrap();
    }

    #[test]
    fn an_edited_article_is_reindexed_alone() {
        let kb = tempfile::tempdir().unwrap();
        let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base"));
        let mut copied = 0;
        for entry in std::fs::read_dir(src.join("printing")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, kb.path().join(path.file_name().unwrap())).unwrap();
            copied += 1;
        }
        let data = tempfile::tempdir().unwrap();
        let params = EngineParams::new(kb.path(), data.path());
        TriageEngine::open(&params).unwrap();
        let target = kb.path().join("printer-offline-not-printing.md");
        let text = std::fs::read_to_string(&target).unwrap();
        std::fs::write(&target, text.replace("## Cause", "## Cause\n\nEdited.")).unwrap();
        let (_, report) = TriageEngine::open(&params).unwrap();
        assert_eq!((report.sync.updated, report.sync.added, report.sync.unchanged), (1, 0, copied - 1));
    }

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TriageEngine>();
    }
}
