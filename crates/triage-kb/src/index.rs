//! The knowledge-base index: open or create on disk (or in RAM), and keep it in line with the
//! articles by content hash.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use tantivy::schema::Value;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use triage_core::article::{Article, content_hash};
use triage_core::tenant::Audience;

use crate::schema::{KbFields, SCHEMA_VERSION};
use crate::search::FieldWeights;
use crate::snippet::SnippetSource;
use crate::tokenizer::{TOKENIZER_NAME, TriageTokenizer};
use crate::{KbError, Result};

/// Memory budget of the index writer; tantivy needs at least 15 MB per thread.
const WRITER_MEMORY_BYTES: usize = 50_000_000;
const VERSION_FILE: &str = "triage-kb.version";

/// One searchable document: a knowledge-base article, or an article of an evaluation set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbDocument {
    /// Article id; unique within the index, and the key `sync` replaces documents by.
    pub id: String,
    /// Title, the most heavily weighted field.
    pub title: String,
    /// One-line summary of the fix.
    pub summary: String,
    /// How callers describe the problem.
    pub symptoms: Vec<String>,
    /// Curated keywords.
    pub tags: Vec<String>,
    /// Plain-text body (see [`Article::plain_body`]), used for matching and snippets.
    pub body: String,
    /// Category slug; searches may filter on it.
    pub category: String,
    /// Which tenants may find the document.
    pub audience: Audience,
}

impl Default for KbDocument {
    fn default() -> Self {
        Self {
            id: String::new(),
            title: String::new(),
            summary: String::new(),
            symptoms: Vec::new(),
            tags: Vec::new(),
            body: String::new(),
            category: String::new(),
            audience: Audience::All,
        }
    }
}

impl KbDocument {
    /// Hash of everything that is indexed, so a change in any field re-indexes the document.
    pub fn fingerprint(&self) -> String {
        let mut s = String::with_capacity(self.body.len() + 256);
        for part in [&self.id, &self.title, &self.summary, &self.body, &self.category] {
            s.push_str(part);
            s.push('\u{1f}');
        }
        for part in self.symptoms.iter().chain(&self.tags) {
            s.push_str(part);
            s.push('\u{1e}');
        }
        s.push_str(&self.audience.index_terms().join(","));
        s.push_str(&SCHEMA_VERSION.to_string());
        content_hash(s.as_bytes())
    }
}

impl From<&Article> for KbDocument {
    fn from(a: &Article) -> Self {
        Self {
            id: a.id.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            symptoms: a.symptoms.clone(),
            tags: a.tags.clone(),
            body: a.plain_body(),
            category: a.category.clone(),
            audience: a.audience.clone(),
        }
    }
}

/// What [`KbIndex::sync`] changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents new to the index.
    pub added: usize,
    /// Documents whose fingerprint changed, re-indexed.
    pub updated: usize,
    /// Documents in the index but no longer in the source, deleted.
    pub removed: usize,
    /// Documents left as they were.
    pub unchanged: usize,
}

impl SyncReport {
    /// Whether the index was written.
    pub fn changed(&self) -> bool {
        self.added + self.updated + self.removed > 0
    }
}

/// A tantivy index of knowledge-base documents. `Send + Sync`; share it behind an `Arc`.
pub struct KbIndex {
    pub(crate) index: Index,
    pub(crate) reader: IndexReader,
    pub(crate) fields: KbFields,
    pub(crate) weights: FieldWeights,
    /// Serialises writers; the writer itself is created only when something changes.
    write_lock: Mutex<()>,
    /// Display fields and pre-analysed bodies by id, so a search never touches the doc store.
    pub(crate) cache: RwLock<HashMap<String, Arc<CachedDoc>>>,
    /// Every term indexed (any field), so a query skips words no article contains without
    /// touching the term dictionaries. `None` until the first sync (then every term is tried).
    pub(crate) vocabulary: RwLock<Option<std::collections::HashSet<String>>>,
    /// Per-term article scores computed at sync (see `impacts.rs`); `None` before the first sync.
    pub(crate) impacts: RwLock<Option<Arc<crate::impacts::Impacts>>>,
}

/// What a hit shows, kept in memory by id.
#[derive(Debug)]
pub(crate) struct CachedDoc {
    pub title: String,
    pub category: String,
    pub summary: String,
    pub body: SnippetSource,
}

impl CachedDoc {
    fn new(d: &KbDocument) -> Self {
        Self {
            title: d.title.clone(),
            category: d.category.clone(),
            summary: d.summary.clone(),
            body: SnippetSource::new(&triage_core::analysis::Analyzer::search(), d.body.clone()),
        }
    }
}

impl std::fmt::Debug for KbIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KbIndex").field("docs", &self.num_docs()).finish()
    }
}

impl KbIndex {
    /// An index in memory, for tests and evaluation.
    pub fn create_in_ram() -> Result<Self> {
        let (schema, fields) = KbFields::build();
        Self::from_index(Index::create_in_ram(schema), fields)
    }

    /// Opens the index in `dir`, creating it when absent. An index written by another schema
    /// version is deleted and created afresh (the caller then re-indexes with [`KbIndex::sync`]).
    pub fn open_or_create(dir: &Path) -> Result<Self> {
        let open_err = |source| KbError::Open { path: dir.to_path_buf(), source };
        let (schema, fields) = KbFields::build();
        let version_path = dir.join(VERSION_FILE);
        let current = std::fs::read_to_string(&version_path).ok().and_then(|v| v.trim().parse::<u32>().ok());
        if dir.join("meta.json").exists() && current == Some(SCHEMA_VERSION) {
            let index = Index::open_in_dir(dir).map_err(open_err)?;
            return Self::from_index(index, fields);
        }
        if dir.exists() {
            tracing::info!(path = %dir.display(), found = ?current, expected = SCHEMA_VERSION, "search index missing or of another version; rebuilding");
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        let index = Index::create_in_dir(dir, schema).map_err(open_err)?;
        write_atomically(&version_path, SCHEMA_VERSION.to_string().as_bytes())?;
        Self::from_index(index, fields)
    }

    fn from_index(index: Index, fields: KbFields) -> Result<Self> {
        index.tokenizers().register(TOKENIZER_NAME, tantivy::tokenizer::TextAnalyzer::from(TriageTokenizer::default()));
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            weights: FieldWeights::default(),
            write_lock: Mutex::new(()),
            cache: RwLock::new(HashMap::new()),
            vocabulary: RwLock::new(None),
            impacts: RwLock::new(None),
        })
    }

    /// Replaces the field weights used for ranking.
    pub fn with_weights(mut self, weights: FieldWeights) -> Self {
        self.weights = weights;
        self
    }

    /// Number of searchable documents.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Ids and fingerprints of the documents now in the index.
    fn indexed_fingerprints(&self) -> Result<HashMap<String, String>> {
        let searcher = self.reader.searcher();
        let mut out = HashMap::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let store = segment.get_store_reader(1)?;
            for doc_id in segment.doc_ids_alive() {
                let d: TantivyDocument = store.get(doc_id)?;
                let id = d.get_first(self.fields.id).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                let hash = d.get_first(self.fields.content_hash).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                out.insert(id, hash);
            }
        }
        Ok(out)
    }

    /// Makes the index hold exactly `docs`: adds new ones, rewrites changed ones, removes the
    /// rest. Nothing is written when nothing changed.
    pub fn sync(&self, docs: &[KbDocument]) -> Result<SyncReport> {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let mut existing = self.indexed_fingerprints()?;
        let mut report = SyncReport::default();
        let cache: HashMap<String, Arc<CachedDoc>> = docs.iter().map(|d| (d.id.clone(), Arc::new(CachedDoc::new(d)))).collect();
        let mut writer: Option<IndexWriter> = None;
        for d in docs {
            let fingerprint = d.fingerprint();
            match existing.remove(&d.id) {
                Some(old) if old == fingerprint => {
                    report.unchanged += 1;
                    continue;
                }
                Some(_) => report.updated += 1,
                None => report.added += 1,
            }
            let w = self.writer(&mut writer)?;
            w.delete_term(Term::from_field_text(self.fields.id, &d.id));
            w.add_document(self.to_tantivy(d, &fingerprint))?;
        }
        for id in existing.keys() {
            self.writer(&mut writer)?.delete_term(Term::from_field_text(self.fields.id, id));
            report.removed += 1;
        }
        if let Some(mut w) = writer {
            w.commit()?;
            w.wait_merging_threads()?;
            self.reader.reload()?;
        }
        *self.cache.write().unwrap_or_else(|p| p.into_inner()) = cache;
        let analyzer = triage_core::analysis::Analyzer::search();
        let mut vocabulary = std::collections::HashSet::new();
        for d in docs {
            for text in [&d.title, &d.summary, &d.body].into_iter().chain(&d.symptoms).chain(&d.tags) {
                analyzer.for_each_token(text, |t| {
                    if !vocabulary.contains(t.term) {
                        vocabulary.insert(t.term.to_owned());
                    }
                });
            }
        }
        let started = std::time::Instant::now();
        let impacts = crate::impacts::Impacts::build(self, &self.reader.searcher(), docs, &vocabulary)?;
        tracing::debug!(terms = impacts.term_count(), millis = started.elapsed().as_millis() as u64, "knowledge-base impact lists built");
        *self.impacts.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(impacts));
        *self.vocabulary.write().unwrap_or_else(|p| p.into_inner()) = Some(vocabulary);
        tracing::info!(
            added = report.added,
            updated = report.updated,
            removed = report.removed,
            unchanged = report.unchanged,
            "knowledge-base index in sync"
        );
        Ok(report)
    }

    fn writer<'w>(&self, slot: &'w mut Option<IndexWriter>) -> Result<&'w mut IndexWriter> {
        if slot.is_none() {
            *slot = Some(self.index.writer_with_num_threads(1, WRITER_MEMORY_BYTES)?);
        }
        Ok(slot.as_mut().expect("writer was just created"))
    }

    fn to_tantivy(&self, d: &KbDocument, fingerprint: &str) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = doc!(
            f.id => d.id.as_str(),
            f.title => d.title.as_str(),
            f.summary => d.summary.as_str(),
            f.body => d.body.as_str(),
            f.category => d.category.as_str(),
            f.content_hash => fingerprint,
        );
        for s in &d.symptoms {
            doc.add_text(f.symptoms, s);
        }
        for t in &d.tags {
            doc.add_text(f.tags, t);
        }
        for t in d.audience.index_terms() {
            doc.add_text(f.tenants, t);
        }
        doc
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(id: &str, title: &str) -> KbDocument {
        KbDocument { id: id.into(), title: title.into(), body: format!("{title} body"), ..KbDocument::default() }
    }

    #[test]
    fn sync_adds_updates_removes_and_skips_unchanged() {
        let index = KbIndex::create_in_ram().unwrap();
        let first = index.sync(&[doc("a", "printer"), doc("b", "vpn")]).unwrap();
        assert_eq!((first.added, first.updated, first.removed, first.unchanged), (2, 0, 0, 0));
        let second = index.sync(&[doc("a", "printer jam"), doc("c", "teams")]).unwrap();
        assert_eq!((second.added, second.updated, second.removed, second.unchanged), (1, 1, 1, 0));
        assert_eq!(index.num_docs(), 2);
        let third = index.sync(&[doc("a", "printer jam"), doc("c", "teams")]).unwrap();
        assert!(!third.changed());
        assert_eq!(third.unchanged, 2);
    }

    #[test]
    fn reopening_an_index_on_disk_does_not_reindex() {
        let dir = tempfile::tempdir().unwrap();
        let docs = [doc("a", "printer"), doc("b", "vpn")];
        let first = KbIndex::open_or_create(dir.path()).unwrap().sync(&docs).unwrap();
        assert_eq!(first.added, 2);
        let reopened = KbIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(reopened.num_docs(), 2);
        assert!(!reopened.sync(&docs).unwrap().changed());
    }

    #[test]
    fn an_index_of_another_schema_version_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        KbIndex::open_or_create(dir.path()).unwrap().sync(&[doc("a", "printer")]).unwrap();
        std::fs::write(dir.path().join(VERSION_FILE), "0").unwrap();
        let reopened = KbIndex::open_or_create(dir.path()).unwrap();
        assert_eq!(reopened.num_docs(), 0);
    }

    #[test]
    fn index_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<KbIndex>();
    }
}
