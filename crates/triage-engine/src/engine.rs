//! The engine: knowledge base and resolved tickets indexed, model loaded, store open.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Instant;

use arc_swap::ArcSwapOption;
use triage_core::article::Article;
use triage_core::redact::redact;
use triage_core::suggestion::Suggestion;
use triage_core::tenant::TenantId;
use triage_core::ticket::NewTicket;
use triage_kb::{KbDocument, KbIndex, KbQuery, SyncReport, TicketIndex};
use triage_model::bundle::ModelBundle;
use triage_model::classifier::HeadPrediction;
use triage_store::{FeedbackCounts, PgStore, SqliteStore, Store, TriageRecord};
use uuid::Uuid;

use crate::Result;
use crate::fusion::{self, FirstContact};
use crate::jobs::Jobs;
use crate::model_load::ModelHealth;

/// Where the engine finds its inputs and keeps its state.
///
/// | name | default | purpose |
/// |---|---|---|
/// | `kb_dir` | `knowledge-base` | folder of Markdown articles |
/// | `data_dir` | `data` | indexes, `triage.db`, trained models |
/// | `store_pool_size` | 8 | pooled PostgreSQL connections per process |
/// | `store_url` | none | `None`: the SQLite file `triage.db` in `data_dir`; a `postgres://` URL: that database (`PgStore`) |
/// | `max_suggestions` | 5 | suggestions returned per triage, 1..=50 |
/// | `model_dir` | none | initial model bundle (a live model in the registry wins) |
/// | `promote_margin` | 0.02 | largest macro-F1 drop a promotion accepts without `force` |
/// | `similar` | 20 terms, max df 0.15 | how similar-ticket queries are built (`SimilarQueryPolicy`) |
/// | `learning` | see [`crate::LearningParams`] | learned phrasing: weights, half-life, cap per article |
/// | `incidents` | see [`crate::incidents::IncidentParams`] | major-incident detection |
/// | `follow` | see [`crate::FollowParams`] | following the change feed other replicas write (issue 15) |
/// | `jobs` | lease 30 s, renewed every 10 s, progress written at most every 500 ms | background jobs' lease ([`crate::JobLease`]) |
#[derive(Debug, Clone)]
pub struct EngineParams {
    /// Folder of Markdown knowledge-base articles, synced into the index at open.
    pub kb_dir: PathBuf,
    /// Folder for the store, the indexes and trained model bundles (see the `*_dir` methods).
    pub data_dir: PathBuf,
    /// The store's database: `None` for the SQLite file in `data_dir` ([`EngineParams::store_path`]),
    /// or a PostgreSQL database shared by several replicas.
    pub store_url: Option<triage_store::StoreUrl>,
    /// Pooled connections to PostgreSQL per process (default [`PgStore::POOL_SIZE`]).
    pub store_pool_size: u32,
    /// Suggestions returned per triage (1..=50).
    pub max_suggestions: usize,
    /// Initial model bundle; a live model in the registry wins over it. `None`: no model until one is trained.
    pub model_dir: Option<PathBuf>,
    /// Largest macro-F1 drop a promotion accepts without `force` (default 0.02).
    pub promote_margin: f64,
    /// Per-tenant policy (tenants not listed: any group, shared articles visible).
    pub tenants: HashMap<String, TenantPolicy>,
    /// How similar-ticket queries are built.
    pub similar: triage_kb::SimilarQueryPolicy,
    /// When a triage answer's record is on disk (see [`crate::Durability`]).
    pub durability: crate::Durability,
    /// When a sentence recurring in a tenant's resolved tickets is learned as boilerplate.
    pub boilerplate: crate::BoilerplateParams,
    /// A triage says `no_good_fix` when no suggestion's `fix_probability` reaches this.
    pub no_good_fix_below: f64,
    /// How articles learn callers' phrasing from resolved tickets and feedback.
    pub learning: crate::LearningParams,
    /// Major-incident detection (issue 14).
    pub incidents: crate::incidents::IncidentParams,
    /// Following the change feed that other replicas write (issue 15).
    pub follow: crate::FollowParams,
    /// How background jobs hold their lease in the store (issue 15; shortened in tests).
    pub jobs: crate::JobLease,
}

/// What one tenant may be offered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantPolicy {
    /// Assignment groups that may be predicted for the tenant (empty = any).
    pub assignment_groups: Vec<String>,
    /// Whether the tenant sees articles shared with every tenant.
    pub shared_kb: bool,
}

impl EngineParams {
    /// Defaults from the table above, with the two folders every engine needs.
    pub fn new(kb_dir: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            kb_dir: kb_dir.into(),
            data_dir: data_dir.into(),
            store_url: None,
            store_pool_size: PgStore::POOL_SIZE,
            max_suggestions: 5,
            model_dir: None,
            promote_margin: 0.02,
            tenants: HashMap::new(),
            similar: triage_kb::SimilarQueryPolicy::default(),
            durability: crate::Durability::default(),
            boilerplate: crate::BoilerplateParams::default(),
            no_good_fix_below: fusion::NO_GOOD_FIX_BELOW,
            learning: crate::LearningParams::default(),
            incidents: crate::incidents::IncidentParams::default(),
            follow: crate::FollowParams::default(),
            jobs: crate::JobLease::default(),
        }
    }

    /// Sets the initial model bundle.
    pub fn with_model(mut self, dir: impl Into<PathBuf>) -> Self {
        self.model_dir = Some(dir.into());
        self
    }

    /// Folder of the knowledge-base index inside the data directory.
    pub fn kb_index_dir(&self) -> PathBuf {
        self.data_dir.join("index").join("kb")
    }

    /// Folder of the resolved-ticket index.
    pub fn ticket_index_dir(&self) -> PathBuf {
        self.data_dir.join("index").join("tickets")
    }

    /// The SQLite store (used when `store_url` is `None`).
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("triage.db")
    }

    /// Where trained model bundles are written.
    pub fn models_dir(&self) -> PathBuf {
        self.data_dir.join("models")
    }
}

/// What opening the engine did, for logs and the CLI.
#[derive(Debug, Clone, Copy)]
pub struct OpenReport {
    /// Articles loaded from the knowledge-base folder.
    pub articles: usize,
    /// What syncing the knowledge-base index changed.
    pub sync: SyncReport,
    /// Resolved tickets in the store.
    pub resolved_tickets: u64,
    /// Whether the resolved-ticket index was behind the store and was rebuilt.
    pub tickets_reindexed: bool,
    /// Resolved-ticket changes applied from the change feed to an index that was behind (a
    /// replica catching up from its last applied sequence, instead of a rebuild).
    pub tickets_caught_up: Option<usize>,
    /// Milliseconds opening took.
    pub millis: u128,
}

/// The answer to one triage request.
#[derive(Debug, Clone)]
pub struct TriageOutcome {
    /// Id of this answer (UUID v7, so ids sort by time); feedback refers to it.
    pub triage_id: Uuid,
    /// Knowledge-base articles and similar resolved tickets, best first (at most `max_suggestions`).
    pub suggestions: Vec<Suggestion>,
    /// One prediction per head of the live model (empty without a model).
    pub labels: Vec<HeadPrediction>,
    /// What cleaning removed from the ticket's text before analysis (the ticket's own report).
    pub cleaning: triage_core::clean::CleaningReport,
    /// Version of the model that produced `labels`; `None` without a model.
    pub model_version: Option<String>,
    /// Why `labels` is empty although a model is expected (the model part is degraded).
    pub labels_unavailable: Option<String>,
    /// How likely the ticket is to be resolved at first contact.
    pub first_contact: FirstContact,
    /// No suggestion's `fix_probability` reaches `EngineParams::no_good_fix_below`: the knowledge
    /// base has no answer the engine trusts (a KB gap, or a ticket to route rather than fix).
    pub no_good_fix: bool,
    /// The active major incident the ticket belongs to (then the first suggestion names it).
    pub incident: Option<crate::incidents::IncidentMatch>,
}

/// The triage engine. `Send + Sync`: one instance serves every worker.
pub struct TriageEngine {
    pub(crate) params: EngineParams,
    pub(crate) kb: KbIndex,
    pub(crate) tickets: TicketIndex,
    pub(crate) articles: HashMap<String, Arc<Article>>,
    max_suggestions: usize,
    pub(crate) model: ArcSwapOption<ModelBundle>,
    /// Whether the intended model is served (see `model_load`).
    model_health: RwLock<ModelHealth>,
    pub(crate) store: Arc<dyn Store>,
    /// Feedback totals per `kind:id`, kept in memory for ranking.
    pub(crate) feedback: RwLock<HashMap<String, FeedbackCounts>>,
    pub(crate) jobs: Jobs,
    /// Active API keys: hash -> principal.
    pub(crate) keys: RwLock<HashMap<String, triage_core::auth::Principal>>,
    /// Serialises resolved-ticket writes (store, then index), so the change sequence an index
    /// commit records covers every earlier store write.
    pub(crate) index_writes: std::sync::Mutex<()>,
    /// Sentences learned as boilerplate per tenant, from its resolved tickets.
    pub(crate) learner: crate::boilerplate::Learner,
    /// Callers' phrasing learned per tenant and article (issue 13).
    pub(crate) learned: crate::learned::Learned,
    /// A candidate model answering beside the live one, off the request path (issue 13).
    pub(crate) shadow: crate::shadow::Shadow,
    /// The fix-probability model: the live version's, fitted on the desk's history, or the default.
    pub(crate) fix_model: RwLock<crate::fix::FixModel>,
    /// Why the ticket index is behind the store (a failed index write), until repaired.
    pub(crate) index_lag: RwLock<Option<String>>,
    /// Where this replica is in the change feed (issue 15).
    pub(crate) follow: crate::follow::FollowState,
    /// Major-incident detection, fed off the request path (issue 14).
    pub(crate) incidents: crate::incidents::Incidents,
    /// Writes triage records behind the request (declared last: dropped, and so flushed, last).
    pub(crate) recorder: crate::recorder::Recorder,
}

impl std::fmt::Debug for TriageEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriageEngine").field("articles", &self.articles.len()).field("model", &self.model_version()).finish()
    }
}

/// The store `params` name: PostgreSQL for a `store_url`, else the SQLite file in the data
/// directory (synced to disk on every commit when records are `durable`). PostgreSQL's own
/// `synchronous_commit` decides how a commit there reaches the disk.
fn open_store(params: &EngineParams) -> Result<Arc<dyn Store>> {
    Ok(match &params.store_url {
        Some(url) => {
            let store = PgStore::open_with_pool(url, params.store_pool_size)?;
            tracing::info!(store = %url, "store: postgresql");
            Arc::new(store)
        }
        None => {
            let full_sync = params.durability == crate::Durability::Durable;
            Arc::new(SqliteStore::open_with(&params.store_path(), full_sync)?)
        }
    })
}

impl TriageEngine {
    /// Loads the knowledge base and re-indexes only what changed, opens the store and the
    /// resolved-ticket index (rebuilt from the store if they disagree), and loads the live model.
    /// Refuses to start on an invalid article, so nothing goes live half-read; a model that
    /// cannot be loaded only degrades the engine (see [`TriageEngine::model_health`]).
    pub fn open(params: &EngineParams) -> Result<(Self, OpenReport)> {
        prepare_data_dir(&params.data_dir)?;
        Self::open_on(params, open_store(params)?)
    }

    /// As [`TriageEngine::open`], on a store opened by the caller (tests run two replicas on
    /// two handles of one SQLite file).
    pub(crate) fn open_on(params: &EngineParams, store: Arc<dyn Store>) -> Result<(Self, OpenReport)> {
        let started = Instant::now();
        prepare_data_dir(&params.data_dir)?;
        let articles = triage_kb::loader::load_dir(&params.kb_dir)?.into_valid()?;
        let kb = KbIndex::open_or_create(&params.kb_index_dir())?;
        let sync = sync_articles(&kb, &articles)?;
        // read before any state is loaded: what commits after it is applied by the follower,
        // perhaps again (every application is idempotent)
        let change_head = store.change_head()?;
        let tickets = TicketIndex::open_or_create(&params.ticket_index_dir())?.with_policy(params.similar);
        let resolved = store.resolved_count(None)?;
        // the sequence changes on every write, so an update the index missed (a crash between
        // the store's commit and the index's) is caught, not only a different count
        let (stored_seq, indexed_seq) = (store.resolved_seq()?, tickets.applied_seq());
        let behind = indexed_seq != Some(stored_seq) || tickets.num_docs() != resolved;
        // a replica that was down while others wrote resumes from the change feed when it
        // still holds every write since the index's sequence; else (or when that does not
        // bring the index level with the store) it rebuilds
        let tickets_caught_up = match indexed_seq {
            Some(seq) if behind && seq < stored_seq => crate::follow::catch_up_index(store.as_ref(), &tickets, seq)?,
            _ => None,
        };
        let tickets_reindexed = behind && tickets_caught_up.is_none();
        if tickets_reindexed {
            tracing::info!(
                indexed = tickets.num_docs(),
                stored = resolved,
                indexed_seq,
                stored_seq,
                "resolved-ticket index is behind the store; rebuilding it"
            );
            rebuild_ticket_index(store.as_ref(), &tickets)?;
        }
        let (model, model_health) = crate::model_load::load_live_model(store.as_ref(), params)?;
        let report = OpenReport {
            articles: articles.len(),
            sync,
            resolved_tickets: resolved,
            tickets_reindexed,
            tickets_caught_up,
            millis: started.elapsed().as_millis(),
        };
        let engine = Self::from_parts(params.clone(), kb, tickets, articles, store, model, change_head)?;
        if let ModelHealth::Degraded(reason) = &model_health {
            let served = engine.model_version().unwrap_or_else(|| "(none)".into());
            engine.audit(None, None, "model.fallback", &served, reason);
        }
        engine.set_model_health(model_health);
        if sync.changed() {
            let what = format!("{} added, {} updated, {} removed", sync.added, sync.updated, sync.removed);
            engine.audit(None, None, "kb.sync", &params.kb_dir.display().to_string(), &what);
        }
        Ok((engine, report))
    }

    /// An engine over articles in memory, with in-RAM indexes and store (tests, benchmarks).
    pub fn in_memory(articles: Vec<Article>, max_suggestions: usize) -> Result<Self> {
        let kb = KbIndex::create_in_ram()?;
        sync_articles(&kb, &articles)?;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory()?);
        let params = EngineParams { max_suggestions, ..EngineParams::new("", std::env::temp_dir()) };
        Self::from_parts(params, kb, TicketIndex::create_in_ram()?, articles, store, None, 0)
    }

    fn from_parts(
        params: EngineParams,
        kb: KbIndex,
        tickets: TicketIndex,
        articles: Vec<Article>,
        store: Arc<dyn Store>,
        model: Option<ModelBundle>,
        change_head: u64,
    ) -> Result<Self> {
        let feedback = store.feedback_counts()?.into_iter().collect();
        let keys = crate::keys::load_keys(store.as_ref())?;
        let recorder = crate::recorder::Recorder::start(store.clone(), params.durability)?;
        let learner = crate::boilerplate::Learner::new(params.boilerplate);
        let learned = crate::learned::Learned::new(params.learning);
        let incidents = crate::incidents::Incidents::start(params.incidents.clone(), store.clone())?;
        let jobs = Jobs::new(store.clone(), params.jobs);
        // jobs whose replica stopped (this one, before a restart, or another) end failed now
        jobs.expire()?;
        let fix_model = store
            .models()?
            .iter()
            .find(|m| m.status == triage_store::ModelStatus::Live)
            .map_or(crate::fix::FixModel::DEFAULT, |m| crate::fix::desk::from_report(&m.report));
        Ok(Self {
            max_suggestions: params.max_suggestions.clamp(1, 50),
            params,
            kb,
            tickets,
            articles: articles.into_iter().map(|a| (a.id.clone(), Arc::new(a))).collect(),
            model_health: RwLock::new(if model.is_some() { ModelHealth::Ok } else { ModelHealth::NotConfigured }),
            model: ArcSwapOption::from(model.map(Arc::new)),
            feedback: RwLock::new(feedback),
            jobs,
            keys: RwLock::new(keys),
            index_writes: std::sync::Mutex::new(()),
            learner,
            learned,
            shadow: crate::shadow::Shadow::default(),
            fix_model: RwLock::new(fix_model),
            index_lag: RwLock::new(None),
            follow: crate::follow::FollowState::at(change_head),
            incidents,
            recorder,
            store,
        })
    }

    /// Replaces the live model in memory (tests and benchmarks).
    pub fn with_model(self, model: ModelBundle) -> Self {
        self.model.store(Some(Arc::new(model)));
        self.set_model_health(ModelHealth::Ok);
        self
    }

    /// Whether the intended model is served, and if not why (no server paths in the text).
    pub fn model_health(&self) -> ModelHealth {
        self.model_health.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn set_model_health(&self, health: ModelHealth) {
        *self.model_health.write().unwrap_or_else(|p| p.into_inner()) = health;
    }

    /// When the live model was trained with an older text analysis whose tokens still match
    /// this build's (only cleaning changed since, so it is served): that version and this
    /// build's. Retraining picks up the newer cleaning.
    pub fn model_retrain_recommended(&self) -> Option<(u32, u32)> {
        let current = triage_core::analysis::ANALYSIS_VERSION;
        self.model.load().as_ref().map(|m| m.manifest.analysis_version).filter(|&v| v != current).map(|v| (v, current))
    }

    /// Version of the live model, if one is loaded.
    pub fn model_version(&self) -> Option<String> {
        self.model.load().as_ref().map(|m| m.manifest.version.clone())
    }

    /// Major-incident detection: matching, listing and admin actions.
    pub fn incidents(&self) -> &crate::incidents::Incidents {
        &self.incidents
    }

    /// Number of articles served.
    pub fn article_count(&self) -> usize {
        self.articles.len()
    }

    /// Number of resolved tickets indexed.
    pub fn ticket_count(&self) -> u64 {
        self.tickets.num_docs()
    }

    /// Whether similar tickets are scored in memory (see `load_ticket_scorer`).
    pub fn ticket_scorer_ready(&self) -> bool {
        self.tickets.scorer_ready()
    }

    /// Fills the in-memory similar-ticket scorer from the store (the index on disk keeps no
    /// per-ticket term counts). Until it is full, similar tickets come from the index alone,
    /// so the service runs this after it starts answering (about 1 s per 50k tickets).
    /// Learned phrasing is loaded in the same pass (and on its own when the scorer needs no
    /// loading but learned phrasing was never loaded, e.g. an empty ticket index).
    pub fn load_ticket_scorer(&self) -> Result<()> {
        if self.tickets.scorer_ready() {
            if !self.learned.loaded() {
                self.learned.clear();
                self.store.for_each_resolved(&mut |t| self.learn_from_ticket(&t))?;
                self.load_learned_feedback()?;
            }
            return Ok(());
        }
        let started = Instant::now();
        let mut batch = Vec::with_capacity(5_000);
        self.learner.clear();
        self.learned.clear();
        self.store.for_each_resolved(&mut |t| {
            self.learner.observe(&t.tenant, &t.description, t.category.as_deref().or(t.assignment_group.as_deref()));
            self.learn_from_ticket(&t);
            batch.push(crate::ingest::ticket_doc(&t));
            if batch.len() == 5_000 {
                self.tickets.load_scorer(&batch);
                batch.clear();
            }
        })?;
        self.tickets.load_scorer(&batch);
        self.learner.settle();
        self.load_learned_feedback()?;
        let millis = started.elapsed().as_millis() as u64;
        if self.tickets.scorer_ready() {
            tracing::info!(tickets = self.tickets.num_docs(), millis, "similar-ticket scorer loaded");
        } else {
            // a ticket erased while loading can come back from the loader's earlier read
            tracing::warn!(
                tickets = self.tickets.num_docs(),
                millis,
                "similar-ticket scorer disagrees with the index (a ticket changed while it loaded); similar tickets keep coming from the index, slower; restart the service to load it again"
            );
        }
        Ok(())
    }

    /// The store (for statistics and the registry). Pending triage records are written first,
    /// so reads see every answer already given.
    pub fn store(&self) -> &dyn Store {
        self.recorder.flush();
        self.store.as_ref()
    }

    /// Triage one ticket: labels per head, first-contact likelihood, and the fixes most likely
    /// to resolve it (articles and the tenant's similar resolved tickets), best first. The
    /// answer is recorded for feedback and statistics.
    #[tracing::instrument(skip_all, fields(tenant = ticket.tenant.as_ref().map(TenantId::as_str), suggestions))]
    pub fn triage(&self, ticket: &NewTicket) -> Result<TriageOutcome> {
        let tenant = ticket.tenant.as_ref();
        // the tenant's learned boilerplate goes too (the ticket was cleaned with the shipped and
        // configured phrases when it was parsed)
        let (text, cleaning) = match (tenant.and_then(|t| self.learner.for_tenant(t)), &ticket.description) {
            (Some(learned), Some(description)) => {
                let c = triage_core::clean::clean_body_after_title(description.as_str(), &learned);
                let cleaning = triage_core::clean::CleaningReport {
                    removed: ticket.cleaning.removed.union(c.removed),
                    kept_chars: c.kept_chars,
                    removed_chars: ticket.cleaning.removed_chars + c.removed_chars,
                };
                let text = if c.text.trim().is_empty() {
                    ticket.title.as_str().to_owned()
                } else {
                    format!("{}\n{}", ticket.title.as_str(), c.text)
                };
                (text, cleaning)
            }
            _ => (ticket.full_text(), ticket.cleaning),
        };
        let policy = tenant.and_then(|t| self.params.tenants.get(t.as_str()));
        // the ticket's text is already cleaned (`NewTicket::parse`); analysed once for both
        // indexes; redaction first so no personal datum becomes a query term, and the record
        // keeps the cleaned, redacted text
        let redacted = redact(&text);
        let terms = KbIndex::query_terms(&redacted);
        // the tenant's learned phrasing for these terms, and whether it has any (one lock)
        let (boosts, history) = tenant.map(|t| self.learned.boosts_except(t, &terms, crate::learned::today(), &[])).unwrap_or_default();
        let query = KbQuery::new(&redacted)
            .with_terms(&terms)
            .with_boosts(&boosts)
            .tenant(tenant)
            .include_shared(policy.is_none_or(|p| p.shared_kb))
            .limit(self.max_suggestions);
        let kb_hits = self.kb.search(&query)?;
        let ticket_hits = match tenant {
            Some(t) => self.tickets.search_terms(&terms, t, self.max_suggestions)?,
            None => Vec::new(),
        };
        // one load of the model for the whole request: a promotion never mixes two models
        let model = self.model.load_full();
        let allowed_groups = policy.map(|p| p.assignment_groups.as_slice()).filter(|g| !g.is_empty());
        let mut labels = match (&model, allowed_groups) {
            // the ticket's text was cleaned when it was parsed (and above): not again
            (Some(m), Some(groups)) => {
                m.classifier.predict_cleaned_with(&text, &|head, label| head != "assignment_group" || groups.iter().any(|g| g == label))
            }
            (Some(m), None) => m.classifier.predict_cleaned_with(&text, &|_, _| true),
            (None, _) => Vec::new(),
        };
        let suggestions = {
            let feedback = self.feedback.read().unwrap_or_else(|p| p.into_inner());
            let category = labels.iter().find(|p| p.head == "category").map(|p| (p.label.as_str(), p.probability));
            let fix_model = *self.fix_model.read().unwrap_or_else(|p| p.into_inner());
            let context = fusion::FixContext {
                query_terms: terms.len(),
                category,
                model: &fix_model,
                boosts: &boosts,
                history,
                tenant,
                include_shared: policy.is_none_or(|p| p.shared_kb),
            };
            fusion::fuse(&kb_hits, &ticket_hits, &self.articles, &feedback, self.max_suggestions, &context)
        };
        let no_good_fix = fusion::no_good_fix(&suggestions, self.params.no_good_fix_below);
        // after fusion, which reads only the category head: this takes the first-contact head out
        let first_contact = fusion::first_contact(&mut labels, &suggestions);
        // a major incident under way: named first, and it may settle first contact
        let now = std::time::SystemTime::now();
        let now_seconds = triage_core::time::Timestamp::from_system_time(now).unix_seconds();
        let incident = self.incidents.matching(&terms, now_seconds);
        let first_contact = fusion::first_contact_with_incident(first_contact, incident.as_ref());
        let mut suggestions = suggestions;
        if let Some(m) = &incident {
            suggestions.insert(0, fusion::incident_suggestion(m));
            suggestions.truncate(self.max_suggestions);
        }
        tracing::Span::current().record("suggestions", suggestions.len());
        let outcome = TriageOutcome {
            triage_id: Uuid::now_v7(),
            suggestions,
            labels,
            model_version: model.as_ref().map(|m| m.manifest.version.clone()),
            labels_unavailable: match (&model, self.model_health()) {
                (None, ModelHealth::Degraded(reason)) => Some(reason),
                _ => None,
            },
            first_contact,
            cleaning,
            no_good_fix,
            incident,
        };
        // replicas: the leading replica reads every replica's triages from the store instead
        if self.incidents.enabled() && !self.follows_changes() {
            self.incidents.offer(|| crate::incidents::Observation {
                triage_id: outcome.triage_id.to_string(),
                tenant: ticket.tenant.as_ref().map(|t| t.as_str().to_owned()),
                at: now_seconds,
                terms,
                title: redacted.lines().next().unwrap_or_default().chars().take(100).collect(),
                hint: outcome.incident.as_ref().map(|m| m.id.clone()),
            });
        }
        self.shadow.offer(|| crate::shadow::ShadowJob {
            triage_id: outcome.triage_id.to_string(),
            ticket_key: ticket.tenant.as_ref().zip(ticket.external_id.as_ref()).map(|(t, e)| (t.as_str().to_owned(), e.clone())),
            text: redacted.to_string(),
            live: outcome.labels.iter().map(|p| (p.head.clone(), p.label.clone())).collect(),
            live_first_contact: outcome.first_contact.probability,
        });
        self.recorder.record(
            TriageRecord {
                triage_id: outcome.triage_id.to_string(),
                tenant: ticket.tenant.clone(),
                external_id: ticket.external_id.clone(),
                created_at: triage_core::time::rfc3339_utc(now),
                model_version: outcome.model_version.clone(),
                labels: serde_json::Value::Object(
                    outcome
                        .labels
                        .iter()
                        .map(|p| (p.head.clone(), serde_json::json!({"label": p.label, "decision": p.decision})))
                        .collect(),
                ),
                suggestions: outcome.suggestions.iter().map(fusion::suggestion_key).collect(),
                text: Some(redacted.into_owned()),
                no_good_fix: outcome.no_good_fix,
            },
            self.store.as_ref(),
        )?;
        Ok(outcome)
    }

    /// The tenant's resolved tickets most similar to already-analysed query terms.
    pub fn similar_tickets(&self, terms: &[String], tenant: &TenantId, limit: usize) -> Result<Vec<triage_kb::TicketHit>> {
        Ok(self.tickets.search_terms(terms, tenant, limit)?)
    }

    /// Searches the knowledge base; hits come back as suggestions with their steps. The
    /// tenant's policy decides whether shared articles are included; with a tenant, the
    /// phrasing its articles learned ranks too, as in [`TriageEngine::triage`].
    pub fn search(&self, query: &KbQuery<'_>) -> Result<Vec<Suggestion>> {
        let shared = query.tenant.and_then(|t| self.params.tenants.get(t.as_str())).is_none_or(|p| p.shared_kb);
        let owned_terms;
        let terms: &[String] = match query.terms {
            Some(t) => t,
            None => {
                owned_terms = KbIndex::query_terms(query.text);
                &owned_terms
            }
        };
        let boosts = query.tenant.map(|t| self.learned.boosts(t, terms, crate::learned::today())).unwrap_or_default();
        let query = query.clone().include_shared(shared).with_terms(terms).with_boosts(&boosts);
        Ok(self.kb.search(&query)?.into_iter().filter_map(|h| fusion::article_suggestion(h, &self.articles)).collect())
    }

    /// One article, if it exists and `tenant` may see it. Another tenant's article is `None`,
    /// exactly as a missing one, so its existence is not revealed.
    pub fn article(&self, id: &str, tenant: Option<&TenantId>) -> Option<Arc<Article>> {
        let shared = tenant.and_then(|t| self.params.tenants.get(t.as_str())).is_none_or(|p| p.shared_kb);
        self.articles.get(id).filter(|a| a.audience.admits(tenant) && (shared || a.audience != triage_core::tenant::Audience::All)).cloned()
    }
}

/// Creates the data directory readable by its owner only (an existing one is narrowed to that),
/// and sets the process's file-creation mask so the store, indexes, models and keys written
/// later are owner-only too: they hold redacted tickets, key hashes and the operator key.
fn prepare_data_dir(dir: &std::path::Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        // SAFETY: umask only swaps the process's file-creation mask; it cannot fail
        unsafe { libc::umask(0o077) };
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}

fn sync_articles(kb: &KbIndex, articles: &[Article]) -> Result<SyncReport> {
    let docs: Vec<KbDocument> = articles.iter().map(KbDocument::from).collect();
    Ok(kb.sync(&docs)?)
}

/// Replaces the ticket index with every stored resolved ticket, committed at the store's
/// change sequence. Callers hold `index_writes` (or are alone, at start).
pub(crate) fn rebuild_ticket_index(store: &dyn Store, tickets: &TicketIndex) -> Result<()> {
    let seq = store.resolved_seq()?;
    let mut rebuild = tickets.rebuild()?;
    let mut batch = Vec::with_capacity(5_000);
    let mut failure = None;
    store.for_each_resolved(&mut |t| {
        batch.push(crate::ingest::ticket_doc(&t));
        if batch.len() == 5_000 {
            if failure.is_none()
                && let Err(e) = rebuild.add(&batch)
            {
                failure = Some(e);
            }
            batch.clear();
        }
    })?;
    if let Some(e) = failure {
        return Err(e.into());
    }
    rebuild.add(&batch)?;
    rebuild.commit(seq)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> EngineParams {
        let dir = tempfile::tempdir().unwrap().keep();
        EngineParams::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base"), dir)
    }

    #[test]
    fn a_model_trained_before_the_latest_cleaning_is_served_with_retraining_recommended() {
        let params = bundled();
        let (engine, _) = TriageEngine::open(&params).unwrap();
        let starter = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/starter");
        let current = triage_model::bundle::ModelBundle::load(std::path::Path::new(starter)).unwrap();
        let engine = engine.with_model(current);
        assert_eq!(engine.model_retrain_recommended(), None, "the shipped starter matches this build");
        let mut older = triage_model::bundle::ModelBundle::load(std::path::Path::new(starter)).unwrap();
        older.manifest.analysis_version = triage_core::analysis::TOKENS_COMPATIBLE_SINCE;
        let engine = engine.with_model(older);
        if triage_core::analysis::TOKENS_COMPATIBLE_SINCE != triage_core::analysis::ANALYSIS_VERSION {
            assert_eq!(
                engine.model_retrain_recommended(),
                Some((triage_core::analysis::TOKENS_COMPATIBLE_SINCE, triage_core::analysis::ANALYSIS_VERSION))
            );
        }
        std::fs::remove_dir_all(&params.data_dir).unwrap();
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
    fn a_postgres_store_url_opens_postgresql_not_the_sqlite_file() {
        let data = tempfile::tempdir().unwrap();
        let mut params = EngineParams::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base"), data.path());
        // nothing listens on port 1: the error shows PostgreSQL was chosen, and names it without the password
        params.store_url = Some(triage_store::StoreUrl::parse("postgres://triage:s3cret@127.0.0.1:1/desk").unwrap());
        let err = TriageEngine::open(&params).unwrap_err().to_string();
        assert!(err.contains("PostgreSQL store at triage@127.0.0.1:1/desk") && !err.contains("s3cret"), "{err}");
        assert!(!params.store_path().exists(), "no SQLite file is created beside it");
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
    fn after_a_restart_similar_tickets_come_from_the_index_until_the_scorer_is_loaded() {
        let params = bundled();
        let tickets = crate::synthetic::resolved_tickets("northmoor", 400, 7);
        let query = triage_kb::KbIndex::query_terms(&format!("{} {}", tickets[0].title, tickets[0].description));
        let north = TenantId::parse("northmoor").unwrap();
        let before = {
            let (engine, _) = TriageEngine::open(&params).unwrap();
            engine.ingest_resolved(&tickets).unwrap();
            assert!(engine.tickets.scorer_ready(), "ingestion fills both");
            engine.similar_tickets(&query, &north, 5).unwrap()
        };
        let (engine, report) = TriageEngine::open(&params).unwrap();
        assert!(!report.tickets_reindexed);
        assert!(!engine.tickets.scorer_ready());
        let fallback = engine.similar_tickets(&query, &north, 5).unwrap();
        assert_eq!(fallback.len(), 5, "the index answers meanwhile");
        engine.load_ticket_scorer().unwrap();
        assert!(engine.tickets.scorer_ready());
        let after = engine.similar_tickets(&query, &north, 5).unwrap();
        let ids = |hits: &[triage_kb::TicketHit]| hits.iter().map(|h| h.external_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&after), ids(&before), "the loaded scorer answers as the one filled by ingestion");
        engine.load_ticket_scorer().unwrap();
        assert!(engine.tickets.scorer_ready(), "loading twice changes nothing");
    }

    #[test]
    fn an_update_the_index_missed_is_caught_at_start_even_when_the_counts_agree() {
        let params = bundled();
        let tickets = crate::synthetic::resolved_tickets("northmoor", 50, 3);
        TriageEngine::open(&params).unwrap().0.ingest_resolved(&tickets).unwrap();
        // the store commits an update, then the process dies before the index commits
        let renamed = triage_core::ticket_resolved::ResolvedTicket { title: "zebra crossing lights".into(), ..tickets[0].clone() };
        SqliteStore::open(&params.store_path()).unwrap().upsert_resolved(&[renamed]).unwrap();
        let (engine, report) = TriageEngine::open(&params).unwrap();
        assert_eq!(
            (report.tickets_caught_up, report.tickets_reindexed),
            (Some(1), false),
            "same count, newer sequence: the missed update is applied from the change feed"
        );
        let north = TenantId::parse("northmoor").unwrap();
        let hits = engine.similar_tickets(&KbIndex::query_terms("zebra crossing lights"), &north, 3).unwrap();
        assert_eq!(hits.first().map(|h| h.title.as_str()), Some("zebra crossing lights"));
        let again = TriageEngine::open(&params).unwrap().1;
        assert_eq!((again.tickets_caught_up, again.tickets_reindexed), (None, false), "and only once");
    }

    #[test]
    fn a_failed_index_write_is_reported_then_repaired_from_the_store() {
        let engine = TriageEngine::in_memory(Vec::new(), 5).unwrap();
        let north = TenantId::parse("northmoor").unwrap();
        let tickets = crate::synthetic::resolved_tickets("northmoor", 20, 5);
        engine.ingest_resolved(&tickets[..10]).unwrap();
        engine.tickets.inject_commit_failures(true);
        let report = engine.ingest_resolved(&tickets[10..]).unwrap();
        assert!(report.index_pending && report.inserted == 10, "{report:?}");
        assert!(engine.ticket_index_lag().is_some());
        let erased = engine.erase_resolved(&north, &tickets[0].external_id).unwrap();
        assert_eq!(erased, crate::Erasure { existed: true, index_pending: true });
        let query = KbIndex::query_terms(&format!("{} {}", tickets[0].title, tickets[0].description));
        assert!(
            engine.similar_tickets(&query, &north, 20).unwrap().iter().all(|h| h.external_id != tickets[0].external_id),
            "an erased ticket is never offered, even while the index lags"
        );
        engine.tickets.inject_commit_failures(false);
        assert!(engine.repair_ticket_index().unwrap());
        assert!(engine.ticket_index_lag().is_none() && engine.ticket_scorer_ready());
        assert_eq!(engine.ticket_count(), 19, "the ten stored while the index failed are back, the erased one is not");
        assert!(!engine.repair_ticket_index().unwrap(), "nothing left to repair");
    }

    #[cfg(unix)]
    #[test]
    fn every_file_in_the_data_directory_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let params = bundled();
        let (engine, _) = TriageEngine::open(&params).unwrap();
        engine.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 5, 1)).unwrap();
        engine.ensure_operator_key().unwrap();
        drop(engine);
        let mut stack = vec![params.data_dir.clone()];
        let mut seen = 0;
        while let Some(path) = stack.pop() {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
            seen += 1;
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            }
        }
        assert!(seen > 10, "the store, both indexes and the key were checked ({seen} paths)");
    }

    #[test]
    fn a_councils_own_disclaimer_is_learned_from_its_resolved_tickets_and_dropped_at_triage() {
        let engine = TriageEngine::in_memory(Vec::new(), 5).unwrap();
        let disclaimer = "Westwater Borough Council cannot accept liability for statements made in this e-mail by its officers.";
        let mut tickets = crate::synthetic::resolved_tickets("westwater", 120, 9);
        for t in tickets.iter_mut().step_by(3) {
            t.description = format!("{}\n\n{disclaimer}", t.description);
        }
        engine.ingest_resolved(&tickets).unwrap();
        let west = TenantId::parse("westwater").unwrap();
        let learned = engine.learned_boilerplate(&west);
        assert!(learned.phrases.iter().any(|p| disclaimer.to_lowercase().contains(&p.text[..20])), "{learned:?}");
        let ticket = |tenant: &str| {
            NewTicket::parse(
                Some("vpn keeps dropping"),
                Some(&format!("the vpn drops every ten minutes when working from home\n\n{disclaimer}")),
                Some(tenant),
                triage_core::ticket::Channel::Email,
                None,
                None,
            )
            .unwrap()
        };
        let outcome = engine.triage(&ticket("westwater")).unwrap();
        assert!(outcome.cleaning.removed.contains(triage_core::clean::RemovedKind::Boilerplate), "{:?}", outcome.cleaning);
        let other = engine.triage(&ticket("eastbrook")).unwrap();
        assert!(!other.cleaning.removed.contains(triage_core::clean::RemovedKind::Boilerplate), "learned per tenant");
        engine.count_boilerplate().unwrap();
        assert_eq!(engine.learned_boilerplate(&west).phrases, learned.phrases, "counting the store again learns the same");
    }

    #[test]
    fn engine_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<TriageEngine>();
    }
}
