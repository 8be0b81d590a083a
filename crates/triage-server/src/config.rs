//! Configuration: embedded defaults, then an optional file, then `TRIAGE__...` environment
//! variables, then command-line overrides. Unknown keys are an error.
//!
//! | name | default | purpose | range |
//! |---|---|---|---|
//! | `data_dir` | `data` | indexes and state | writable folder |
//! | `server.host` | `127.0.0.1` | listen address (`0.0.0.0` in the container) | IP address |
//! | `server.port` | 8080 | listen port; 0 picks a free one | 0..=65535 |
//! | `server.workers` | 0 | HTTP workers; 0 = one per core | 0..=256 |
//! | `server.shutdown_timeout_secs` | 30 | grace period for in-flight requests | 0..=600 |
//! | `server.max_body_bytes` | 262144 | largest request body | 1 KiB..=64 MiB |
//! | `knowledge_base.dir` | `knowledge-base` | Markdown articles; a relative path is searched for (see [`search_roots`]) | existing folder |
//! | `model.dir` | `models/starter` | initial model bundle (a live model in the registry wins); `""` disables; a relative path is searched for like `knowledge_base.dir` | bundle folder |
//! | `model.promote_margin` | 0.02 | largest macro-F1 drop a promotion accepts without `force` | 0..=1 |
//! | `ingest.max_batch` | 1000 | most resolved tickets per request | 1..=10000 |
//! | `metrics.enabled` | true | serve `GET /metrics` | |
//! | `triage.max_suggestions` | 5 | suggestions per triage | 1..=50 |
//! | `triage.no_good_fix_below` | 0.3 | `no_good_fix` when no suggestion's fix probability reaches it | 0..=1 |
//! | `search.default_limit` | 5 | results when `limit` is absent | 1..=`max_limit` |
//! | `search.max_limit` | 50 | largest accepted `limit` | 1..=200 |
//! | `search.similar_max_terms` | 20 | most terms of a similar-ticket query (rarest first) | 1..=64 |
//! | `search.similar_max_df` | 0.15 | leave out terms in more than this share of the tenant's tickets | (0, 1] |
//! | `server.cors_allowed_origin` | `""` | browser origin allowed to call the API (the console) | origin or empty |
//! | `server.request_timeout_secs` | 10 | time a client has to send the request head | 1..=300 |
//! | `limits.requests_per_second` / `limits.burst` | 200 / 400 | per-key rate limit (429 + Retry-After) | >= 1 |
//! | `redaction.extra_patterns` | none | name -> regex of a desk's own personal references, redacted to `[pii<name>]` by `serve` and every CLI command | name 1-32 lower-case letters; regex compiles, never matches the empty string |
//! | `tenants` | four demo councils | id, name, assignment_groups ([] = any), shared_kb | |
//! | `cleaning.phrases` | none | a desk's own boilerplate sentences, removed like the shipped UK phrasings | sentences of 3+ words |
//! | `cleaning.learn_min_share` / `cleaning.learn_min_tickets` | 0.01 / 20 | a sentence in at least this share, and this many, of a tenant's resolved tickets is learned as its boilerplate | 0..=1 / >= 1 |
//! | `learning.enabled` | true | articles learn callers' phrasing from resolved tickets naming them (`kb_article`) and from `resolved` / `helpful` feedback (`not_helpful` counts against), per tenant | |
//! | `learning.weight` | 4.0 | per query word an article scores the larger of its BM25 and weight x its learned score | 0..=10 |
//! | `learning.half_life_days` | 180 | a learned text counts half after this many days | 1..=3650 |
//! | `learning.max_per_article` | 200 | learned texts kept per tenant and article (the most recent) | 1..=10000 |
//! | `learning.shared_articles` | true | whether articles shared with every tenant learn too (each tenant's phrasing only for itself) | |
//! | `learning.helpful_weight` / `learning.not_helpful_weight` | 0.5 / 0.5 | weight of a `helpful` feedback, and weight subtracted for a `not_helpful` one (`resolved` and `kb_article` weigh 1) | 0..=1 |
//! | `incidents.enabled` | true | detect major incidents: a surge of similar tickets across all tenants | |
//! | `incidents.window_minutes` | 60 | sliding window a surge is counted in | 1..=1440 |
//! | `incidents.min_tickets` | 4 | similar tickets in the window before the surge test | 2..=1000 |
//! | `incidents.similarity` | 0.4 | cosine (TF-IDF over search terms) a ticket needs with a cluster's or an incident's centroid to join it | (0, 1) |
//! | `incidents.rate_ratio` / `incidents.max_p_value` | 4.0 / 0.0001 | a surge is at least this many times the count the baseline expects, and this unlikely under it (Poisson) | >= 1 / (0, 1] |
//! | `incidents.baseline_days` | 7 | history behind each kind of ticket's normal share of traffic | 1..=90 |
//! | `incidents.prior_share` / `incidents.prior_tickets` | 0.002 / 200 | share assumed for a kind of ticket the history has not seen, and its weight in tickets | (0, 1) / >= 0 |
//! | `incidents.min_history` | 500 | baseline tickets needed before any incident opens (seeded at start from stored triages, else resolved tickets) | >= 0 |
//! | `incidents.resolved_grace_minutes` / `incidents.quiet_hours` | 60 / 4 | a resolved incident still links this long; a suspected one with no new ticket this long resolves itself | |
//! | `incidents.max_window_tickets` / `incidents.max_history_tickets` | 2000 / 100000 | memory bounds (oldest leave first) | >= min_tickets / >= 1 |
//! | `incidents.max_per_second` | 100 | tickets a second detection takes; the excess is left out of detection and counted (`triage_incident_tickets_dropped_total`); answers still name active incidents | >= 1 |
//! | `store.url` | `""` | the store's database: empty for the SQLite file `triage.db` in `data_dir`; `postgres://user:password@host:port/database` for a PostgreSQL database that several `triage serve` replicas share (migrated at start; a newer schema is refused). Checked at start; the password is never logged | `""` or `postgres://...` / `postgresql://...` |
//! | `store.durability` | `batched` | `batched`: triage records are written behind the answer in group commits (a crash may lose the last ~10 ms of answered triages; feedback on those then answers 404); `durable`: each record is committed, and synced to disk, before its answer is sent (slower) | `batched`, `durable` |
//! | `log.format` | `pretty` | `pretty` or `json` | |
//! | `log.level` | `info` | filter when `RUST_LOG` is unset | tracing filter |
//! | `desk.time_zone` | `Europe/London` | zone of the desk: `/v1/stats` days and day bounds (`from=2026-11-01`) | IANA name (database compiled in) |

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;
use triage_engine::EngineParams;

/// The embedded defaults.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// Everything the service reads at start-up; see the module docs for each key, its default and its range. Check it with [`Settings::validate`] before use.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Folder for the store, the indexes and trained models (`data_dir`).
    pub data_dir: PathBuf,
    /// The HTTP listener (`server.*`).
    pub server: ServerSettings,
    /// Where the Markdown articles are (`knowledge_base.*`).
    pub knowledge_base: KnowledgeBaseSettings,
    /// The initial model and promotion rule (`model.*`).
    pub model: ModelSettings,
    /// Limits on sending resolved tickets (`ingest.*`).
    pub ingest: IngestSettings,
    /// Whether `GET /metrics` is served (`metrics.*`).
    pub metrics: MetricsSettings,
    /// Triage answers (`triage.*`).
    pub triage: TriageSettings,
    /// Knowledge-base and similar-ticket search (`search.*`).
    pub search: SearchSettings,
    /// Log output (`log.*`).
    pub log: LogSettings,
    /// Per-key rate limit (`limits.*`).
    pub limits: LimitSettings,
    /// The desk's own personal-data patterns (`redaction.*`).
    pub redaction: RedactionSettings,
    /// When triage records reach the disk (`store.*`).
    pub store: StoreSettings,
    /// E-mail cleaning and learned boilerplate (`cleaning.*`).
    pub cleaning: CleaningSettings,
    /// Learned phrasing of articles (`learning.*`).
    pub learning: LearningSettings,
    /// Major-incident detection (`incidents.*`; see `triage_engine::incidents::IncidentParams`).
    pub incidents: triage_engine::incidents::IncidentParams,
    /// The tenants the service knows, with their policy (`[[tenants]]`).
    pub tenants: Vec<TenantSettings>,
    /// The desk's time zone (`desk.*`).
    pub desk: DeskSettings,
    /// Connectors to ticketing systems (`[[connectors]]`).
    #[serde(default)]
    pub connectors: Vec<triage_connectors::ConnectorSpec>,
}

/// Settings of the desk itself (`desk.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    /// IANA name, checked against the compiled-in database when the settings load.
    pub time_zone: triage_core::time::DeskTimeZone,
}

/// How e-mail-born ticket text is cleaned before analysis (see `triage_core::clean`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleaningSettings {
    /// A desk's own boilerplate sentences (its disclaimer, its e-mail banner), removed from every
    /// ticket as the shipped UK public-sector phrasings are.
    pub phrases: Vec<String>,
    /// Share of a tenant's resolved tickets a sentence must be in to be learned as boilerplate.
    pub learn_min_share: f64,
    /// Fewest resolved tickets a sentence must be in to be learned, whatever the share.
    pub learn_min_tickets: u64,
}

/// How articles learn the words callers use (`learning.*`; see `triage_engine::LearningParams`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningSettings {
    /// Whether articles learn from resolved tickets and feedback.
    pub enabled: bool,
    /// Weight of the learned score against the article's own BM25 score.
    pub weight: f32,
    /// Days after which a learned text counts half.
    pub half_life_days: f32,
    /// Most learned texts per tenant and article.
    pub max_per_article: usize,
    /// Whether articles shared with every tenant learn too.
    pub shared_articles: bool,
    /// Weight of a `helpful` feedback.
    pub helpful_weight: f32,
    /// Weight subtracted for a `not_helpful` feedback.
    pub not_helpful_weight: f32,
}

/// Settings of the store (`store.*`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The database: empty for the SQLite file in `data_dir`, or a `postgres://` URL (holds a
    /// password: never logged; `Debug` shows it without).
    pub url: String,
    /// When a triage answer's record reaches the disk (`batched` or `durable`).
    pub durability: DurabilitySetting,
    /// Whether this process follows the change feed other replicas write: `auto` (when `url`
    /// names PostgreSQL), `on` or `off`.
    pub follow: FollowSetting,
    /// Longest wait between two reads of the change feed without a notification (10-10000 ms).
    pub follow_poll_ms: u64,
    /// Days the change feed keeps its entries (1-365); a replica down longer reloads at start.
    pub change_retention_days: u32,
    /// Pooled PostgreSQL connections per replica (1-64).
    pub pool_size: u32,
}

/// Whether to follow the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowSetting {
    /// Follow when the store is PostgreSQL (shared by replicas).
    Auto,
    /// Always follow (e.g. several processes on one SQLite file on one machine).
    On,
    /// Never follow.
    Off,
}

impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = if self.url.trim().is_empty() { String::new() } else { triage_engine::StoreUrl::redact(&self.url) };
        f.debug_struct("StoreSettings")
            .field("url", &url)
            .field("durability", &self.durability)
            .field("follow", &self.follow)
            .field("follow_poll_ms", &self.follow_poll_ms)
            .field("change_retention_days", &self.change_retention_days)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

impl StoreSettings {
    /// The PostgreSQL database, if `url` names one; an error says what is wrong without the password.
    fn parse_url(&self) -> Result<Option<triage_engine::StoreUrl>, ConfigError> {
        if self.url.trim().is_empty() {
            return Ok(None);
        }
        triage_engine::StoreUrl::parse(&self.url).map(Some).map_err(|e| ConfigError::Invalid(e.to_string()))
    }
}

/// When a triage answer's record reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DurabilitySetting {
    /// Written behind the answer in group commits; a crash may lose the last ~10 ms of answered triages. The default.
    Batched,
    /// Committed and synced to disk before the answer is sent (slower).
    Durable,
}

/// Extra redaction (`redaction.*`), applied by `serve` and every CLI command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionSettings {
    /// Extra personal-data patterns: name (lower-case letters) -> regular expression.
    pub extra_patterns: std::collections::BTreeMap<String, String>,
}

/// Per-key rate limit (`limits.*`); over it, requests get 429 with `Retry-After`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Requests per second a key may make on average (at least 1).
    pub requests_per_second: u32,
    /// Requests a key may make at once before the rate applies (at least 1).
    pub burst: u32,
}

/// One tenant (`[[tenants]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Tenant id: 1-64 lower-case letters, digits or hyphens; unique.
    pub id: String,
    /// Display name, shown in the console.
    pub name: String,
    /// Assignment groups the tenant's tickets may be routed to; empty allows any.
    pub assignment_groups: Vec<String>,
    /// Whether the tenant sees knowledge-base articles shared with every tenant.
    pub shared_kb: bool,
}

/// The HTTP listener (`server.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address, an IP address (`127.0.0.1`; `0.0.0.0` in the container).
    pub host: String,
    /// Listen port; 0 picks a free one.
    pub port: u16,
    /// HTTP workers (0..=256); 0 starts one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish at shutdown (0..=600).
    pub shutdown_timeout_secs: u64,
    /// Largest request body, in bytes (1024..=67108864).
    pub max_body_bytes: usize,
    /// Browser origin allowed to call the API (the console); empty allows none.
    pub cors_allowed_origin: String,
    /// Seconds a client has to send the request head (1..=300).
    pub request_timeout_secs: u64,
}

/// Where the knowledge base is (`knowledge_base.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBaseSettings {
    /// Folder of Markdown articles; a relative path is searched for (see [`search_roots`]). Must exist.
    pub dir: PathBuf,
}

/// The initial model and promotion rule (`model.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    /// Initial model bundle; a live model in the registry wins. Empty serves without a model; a relative path is searched for like `knowledge_base.dir`.
    pub dir: PathBuf,
    /// Largest macro-F1 drop a promotion accepts without `force` (0..=1).
    pub promote_margin: f64,
}

/// Limits on sending resolved tickets (`ingest.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    /// Most resolved tickets in one request (1..=10000).
    pub max_batch: usize,
}

/// Metrics (`metrics.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether `GET /metrics` is served.
    pub enabled: bool,
}

/// Triage answers (`triage.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageSettings {
    /// Suggestions per triage (1..=50).
    pub max_suggestions: usize,
    /// `no_good_fix` when no suggestion's fix probability reaches this (0..=1).
    pub no_good_fix_below: f64,
}

/// Knowledge-base and similar-ticket search (`search.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// Results when a search sends no `limit` (1..=`max_limit`).
    pub default_limit: usize,
    /// Largest `limit` a search may ask for (1..=200).
    pub max_limit: usize,
    /// Most terms of a similar-ticket query, the rarest first (1..=64).
    pub similar_max_terms: usize,
    /// Terms in more than this share of the tenant's tickets are left out of similar-ticket queries (over 0, at most 1).
    pub similar_max_df: f32,
}

/// Log output (`log.*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Human-readable lines or JSON lines.
    pub format: LogFormat,
    /// Filter used when `RUST_LOG` is unset, in `tracing` filter syntax (`info`, `triage_engine=debug`).
    pub level: String,
    /// OpenTelemetry collector to export spans to over OTLP/HTTP (JSON), e.g.
    /// `http://otel-collector:4318`; empty (the default): no export.
    pub otlp_endpoint: String,
    /// The `service.name` the exported spans carry.
    pub otlp_service_name: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Settings that passed [`Settings::validate`].
#[derive(Debug, Clone)]
pub struct ValidatedSettings(Settings, Vec<triage_connectors::Connector>, Option<triage_engine::StoreUrl>);

impl ValidatedSettings {
    /// The PostgreSQL store, when `store.url` names one (`None`: the SQLite file in `data_dir`).
    pub fn store_url(&self) -> Option<&triage_engine::StoreUrl> {
        self.2.as_ref()
    }

    /// The checked connectors, secrets loaded.
    pub fn connectors(&self) -> &[triage_connectors::Connector] {
        &self.1
    }
}

impl std::ops::Deref for ValidatedSettings {
    type Target = Settings;
    fn deref(&self) -> &Settings {
        &self.0
    }
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Listen port, overriding `server.port`.
    pub port: Option<u16>,
    /// Data folder, overriding `data_dir`.
    pub data_dir: Option<PathBuf>,
}

/// Why the configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The sources could not be read or merged, or a value has the wrong type or an unknown key.
    #[error("configuration is not valid: {0}")]
    Load(#[from] config::ConfigError),
    /// A value is out of range or inconsistent; the text says which and what to use.
    #[error("configuration is not valid: {0}")]
    Invalid(String),
}

/// Loads and validates the settings. `env` is the process environment (tests pass a map).
pub fn load(
    file: Option<&Path>,
    overrides: &Overrides,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<ValidatedSettings, ConfigError> {
    let env: HashMap<String, String> = env.into_iter().filter(|(k, _)| k.starts_with("TRIAGE__")).collect();
    let mut builder = Config::builder().add_source(File::from_str(DEFAULTS_TOML, FileFormat::Toml));
    if let Some(path) = file {
        builder = builder.add_source(File::from(path).format(FileFormat::Toml).required(true));
    }
    builder =
        builder.add_source(Environment::with_prefix("TRIAGE").prefix_separator("__").separator("__").try_parsing(true).source(Some(env)));
    if let Some(port) = overrides.port {
        builder = builder.set_override("server.port", port)?;
    }
    if let Some(dir) = &overrides.data_dir {
        builder = builder.set_override("data_dir", dir.to_string_lossy().into_owned())?;
    }
    let mut settings: Settings = builder.build()?.try_deserialize()?;
    settings.resolve_paths(file);
    settings.validate()
}

/// Where a relative `knowledge_base.dir` or `model.dir` is looked for, in order: the working
/// directory (`/app` in the container); the folder of the `--config` file; the executable's
/// folder and its four nearest ancestors (a binary copied into an install folder, or left in a
/// checkout's `target/release`); the checkout the binary was built from. The first that holds it wins; when none does, the path stays as written and
/// validation says so. `data_dir` is not searched: relative to the working directory.
pub fn search_roots(config_file: Option<&Path>) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Some(dir) = config_file.and_then(Path::parent) {
        roots.push(if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir.to_path_buf() });
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(4).map(Path::to_path_buf));
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    roots
}

/// The first of `roots` that holds `rel` as a folder, made absolute.
fn find_in(rel: &Path, roots: &[PathBuf]) -> Option<PathBuf> {
    roots.iter().map(|r| r.join(rel)).find(|p| p.is_dir()).and_then(|p| std::path::absolute(p).ok())
}

impl Settings {
    /// Turns a relative `knowledge_base.dir` / `model.dir` into the absolute folder found by
    /// [`search_roots`], so the service and every command start from any working directory.
    fn resolve_paths(&mut self, config_file: Option<&Path>) {
        let roots = search_roots(config_file);
        for dir in [&mut self.knowledge_base.dir, &mut self.model.dir] {
            if dir.is_relative()
                && !dir.as_os_str().is_empty()
                && let Some(found) = find_in(dir, &roots)
            {
                *dir = found;
            }
        }
    }

    /// Checks ranges and paths, so a bad value stops the start with a message instead of a
    /// surprise later.
    pub fn validate(self) -> Result<ValidatedSettings, ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if !(1024..=64 * 1024 * 1024).contains(&self.server.max_body_bytes) {
            return bad(format!("server.max_body_bytes is {}; use 1024..=67108864", self.server.max_body_bytes));
        }
        if self.server.workers > 256 {
            return bad(format!("server.workers is {}; use 0 (one per core) ..=256", self.server.workers));
        }
        if self.server.shutdown_timeout_secs > 600 {
            return bad("server.shutdown_timeout_secs is over 600; use 0..=600".into());
        }
        if !(0.0..=1.0).contains(&self.triage.no_good_fix_below) {
            return bad(format!("triage.no_good_fix_below is {}; use 0..=1", self.triage.no_good_fix_below));
        }
        if !(1..=50).contains(&self.triage.max_suggestions) {
            return bad(format!("triage.max_suggestions is {}; use 1..=50", self.triage.max_suggestions));
        }
        if !(1..=200).contains(&self.search.max_limit) || !(1..=self.search.max_limit).contains(&self.search.default_limit) {
            return bad("search.default_limit must be in 1..=search.max_limit, and search.max_limit in 1..=200".into());
        }
        let similar_ok =
            (1..=64).contains(&self.search.similar_max_terms) && self.search.similar_max_df > 0.0 && self.search.similar_max_df <= 1.0;
        if !similar_ok {
            return bad("search.similar_max_terms must be in 1..=64 and search.similar_max_df in (0, 1]".into());
        }
        if !self.knowledge_base.dir.is_dir() {
            return bad(format!(
                "knowledge_base.dir `{}` is not a folder (looked in the working directory, beside the config file and the executable, and in the checkout it was built from); set TRIAGE__KNOWLEDGE_BASE__DIR",
                self.knowledge_base.dir.display()
            ));
        }
        if self.limits.requests_per_second == 0 || self.limits.burst == 0 {
            return bad("limits.requests_per_second and limits.burst must be at least 1".into());
        }
        if !(1..=300).contains(&self.server.request_timeout_secs) {
            return bad("server.request_timeout_secs must be 1..=300".into());
        }
        if let Err(e) = self.redaction.parse_patterns() {
            return bad(format!("redaction.extra_patterns: {e}"));
        }
        for t in &self.tenants {
            if let Err(e) = triage_core::tenant::TenantId::parse(&t.id) {
                return bad(format!("tenants: {e}"));
            }
        }
        let mut ids: Vec<&str> = self.tenants.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return bad("tenants: an id is listed twice".into());
        }
        if !(0.0..=1.0).contains(&self.cleaning.learn_min_share) || self.cleaning.learn_min_tickets == 0 {
            return bad("cleaning.learn_min_share must be in 0..=1 and cleaning.learn_min_tickets at least 1".into());
        }
        if let Some(p) = self.cleaning.phrases.iter().find(|p| triage_core::clean::normalise_sentence(p).split(' ').count() < 3) {
            return bad(format!("cleaning.phrases: `{p}` is under three words; list whole boilerplate sentences, not words"));
        }
        let l = &self.learning;
        if !(0.0..=10.0).contains(&l.weight) {
            return bad(format!("learning.weight is {}; use 0..=10", l.weight));
        }
        if !(1.0..=3650.0).contains(&l.half_life_days) {
            return bad(format!("learning.half_life_days is {}; use 1..=3650", l.half_life_days));
        }
        if !(1..=10_000).contains(&l.max_per_article) {
            return bad(format!("learning.max_per_article is {}; use 1..=10000", l.max_per_article));
        }
        if !(0.0..=1.0).contains(&l.helpful_weight) || !(0.0..=1.0).contains(&l.not_helpful_weight) {
            return bad("learning.helpful_weight and learning.not_helpful_weight must be in 0..=1".into());
        }
        self.incidents.validate().map_err(ConfigError::Invalid)?;
        if !(0.0..=1.0).contains(&self.model.promote_margin) {
            return bad(format!("model.promote_margin is {}; use 0..=1", self.model.promote_margin));
        }
        if !(1..=10_000).contains(&self.ingest.max_batch) {
            return bad(format!("ingest.max_batch is {}; use 1..=10000", self.ingest.max_batch));
        }
        if !self.model.dir.as_os_str().is_empty() && !self.model.dir.is_dir() {
            return bad(format!(
                "model.dir `{}` is not a folder (looked in the working directory, beside the config file and the executable, and in the checkout it was built from); set TRIAGE__MODEL__DIR, or set it to \"\" to serve without a model",
                self.model.dir.display()
            ));
        }
        let otlp = self.log.otlp_endpoint.trim();
        if !(otlp.is_empty() || otlp.starts_with("http://") || otlp.starts_with("https://")) {
            return bad(format!(
                "log.otlp_endpoint `{otlp}` must be an http:// or https:// URL (an OTLP/HTTP collector, e.g. http://otel-collector:4318)"
            ));
        }
        if self.log.otlp_service_name.trim().is_empty() {
            return bad("log.otlp_service_name must not be empty".into());
        }
        if self.server.host.parse::<std::net::IpAddr>().is_err() {
            return bad(format!("server.host `{}` is not an IP address", self.server.host));
        }
        let store_url = self.store.parse_url()?;
        if !(10..=10_000).contains(&self.store.follow_poll_ms) {
            return bad(format!("store.follow_poll_ms must be 10-10000, not {}", self.store.follow_poll_ms));
        }
        if !(1..=64).contains(&self.store.pool_size) {
            return bad(format!("store.pool_size must be 1-64, not {}", self.store.pool_size));
        }
        if !(1..=365).contains(&self.store.change_retention_days) {
            return bad(format!("store.change_retention_days must be 1-365, not {}", self.store.change_retention_days));
        }
        let tenants: Vec<&str> = self.tenants.iter().map(|t| t.id.as_str()).collect();
        let connectors =
            triage_connectors::config::validate(&self.connectors, &|t| tenants.contains(&t), &triage_connectors::HEADS, &|name| {
                std::env::var(name).ok()
            })
            .map_err(|e| ConfigError::Invalid(format!("connectors: {e}")))?;
        Ok(ValidatedSettings(self, connectors, store_url))
    }
}

impl RedactionSettings {
    /// The extra patterns, checked by the one rule in core.
    fn parse_patterns(&self) -> Result<Vec<triage_core::redact::ExtraPattern>, triage_core::redact::PatternError> {
        self.extra_patterns.iter().map(|(name, re)| triage_core::redact::ExtraPattern::parse(name, re)).collect()
    }
}

/// Applies the redaction settings to this process: the one call `serve` and every CLI command
/// make before they touch ticket text, so the service, imports and training redact alike.
pub fn apply_text_settings(settings: &ValidatedSettings) -> Result<(), ConfigError> {
    let patterns = settings.redaction.parse_patterns().map_err(|e| ConfigError::Invalid(format!("redaction.extra_patterns: {e}")))?;
    triage_core::redact::install_extra_patterns(patterns).map_err(|e| ConfigError::Invalid(format!("redaction.extra_patterns: {e}")))?;
    triage_core::clean::install_boilerplate(&settings.cleaning.phrases).map_err(|e| ConfigError::Invalid(format!("cleaning.phrases: {e}")))
}

impl ValidatedSettings {
    /// Engine parameters derived from these settings.
    pub fn engine_params(&self) -> EngineParams {
        EngineParams {
            kb_dir: self.knowledge_base.dir.clone(),
            data_dir: self.data_dir.clone(),
            store_url: self.2.clone(),
            store_pool_size: self.store.pool_size,
            max_suggestions: self.triage.max_suggestions,
            no_good_fix_below: self.triage.no_good_fix_below,
            model_dir: Some(self.model.dir.clone()).filter(|d| !d.as_os_str().is_empty()),
            promote_margin: self.model.promote_margin,
            boilerplate: triage_engine::BoilerplateParams {
                min_share: self.cleaning.learn_min_share,
                min_tickets: self.cleaning.learn_min_tickets,
            },
            incidents: self.incidents.clone(),
            jobs: triage_engine::JobLease::default(),
            learning: triage_engine::LearningParams {
                enabled: self.learning.enabled,
                weight: self.learning.weight,
                half_life_days: self.learning.half_life_days,
                max_per_article: self.learning.max_per_article,
                shared_articles: self.learning.shared_articles,
                helpful_weight: self.learning.helpful_weight,
                not_helpful_weight: self.learning.not_helpful_weight,
            },
            durability: match self.store.durability {
                DurabilitySetting::Batched => triage_engine::Durability::Batched,
                DurabilitySetting::Durable => triage_engine::Durability::Durable,
            },
            follow: triage_engine::FollowParams {
                enabled: match self.store.follow {
                    FollowSetting::Auto => None,
                    FollowSetting::On => Some(true),
                    FollowSetting::Off => Some(false),
                },
                poll: std::time::Duration::from_millis(self.store.follow_poll_ms),
                retain: std::time::Duration::from_secs(u64::from(self.store.change_retention_days) * 86_400),
            },
            similar: triage_engine::SimilarQueryPolicy { max_terms: self.search.similar_max_terms, max_df: self.search.similar_max_df },
            tenants: self
                .tenants
                .iter()
                .map(|t| {
                    (t.id.clone(), triage_engine::TenantPolicy { assignment_groups: t.assignment_groups.clone(), shared_kb: t.shared_kb })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn kb_env() -> (String, String) {
        ("TRIAGE__KNOWLEDGE_BASE__DIR".into(), concat!(env!("CARGO_MANIFEST_DIR"), "/../../knowledge-base").into())
    }

    fn env_with_paths(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut e = env(pairs);
        e.push(kb_env());
        e.push(("TRIAGE__MODEL__DIR".into(), concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/starter").into()));
        e
    }

    #[test]
    fn environment_overrides_the_embedded_defaults() {
        let e = env_with_paths(&[("TRIAGE__SERVER__PORT", "0"), ("TRIAGE__LOG__FORMAT", "json")]);
        let s = load(None, &Overrides::default(), e).unwrap();
        assert_eq!(s.server.port, 0);
        assert_eq!(s.log.format, LogFormat::Json);
        assert_eq!(s.search.max_limit, 50);
    }

    #[test]
    fn command_line_overrides_win_over_environment() {
        let e = env_with_paths(&[("TRIAGE__SERVER__PORT", "9000")]);
        let o = Overrides { port: Some(9100), data_dir: Some("/tmp/x".into()) };
        let s = load(None, &o, e).unwrap();
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let e = env_with_paths(&[("TRIAGE__SERVER__PORTT", "1")]);
        assert!(load(None, &Overrides::default(), e).unwrap_err().to_string().contains("portt"));
        let e = env_with_paths(&[("TRIAGE__TRIAGE__MAX_SUGGESTIONS", "0")]);
        assert!(load(None, &Overrides::default(), e).unwrap_err().to_string().contains("max_suggestions"));
        let e = env(&[("TRIAGE__KNOWLEDGE_BASE__DIR", "/nonexistent")]);
        assert!(load(None, &Overrides::default(), e).unwrap_err().to_string().contains("not a folder"));
        for (key, value) in
            [("TRIAGE__SEARCH__SIMILAR_MAX_DF", "0"), ("TRIAGE__SEARCH__SIMILAR_MAX_DF", "1.5"), ("TRIAGE__SEARCH__SIMILAR_MAX_TERMS", "0")]
        {
            let e = env_with_paths(&[(key, value)]);
            assert!(load(None, &Overrides::default(), e).unwrap_err().to_string().contains("similar_max"), "{key}={value}");
        }
        let ok = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__SEARCH__SIMILAR_MAX_DF", "1")])).unwrap();
        assert_eq!(ok.engine_params().similar.max_df, 1.0);
    }

    #[test]
    fn the_store_is_the_sqlite_file_unless_a_postgres_url_is_given_and_its_password_never_shows() {
        let s = load(None, &Overrides::default(), env_with_paths(&[])).unwrap();
        assert!(s.engine_params().store_url.is_none(), "empty by default: the SQLite file in data_dir");
        let url = "postgres://triage:s3cret@db.internal:5432/desk";
        let s = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__STORE__URL", url)])).unwrap();
        assert_eq!(s.engine_params().store_url.as_ref().map(|u| u.expose_secret()), Some(url));
        assert!(!format!("{:?} {:?}", *s, s.engine_params()).contains("s3cret"), "settings and params print without the password");
        let cases = [
            ("mysql://triage:s3cret@db/desk", "postgres://", "another database"),
            ("postgres://triage:s3cret@db:port/desk", "store.url", "a port that is not a number"),
            ("/var/lib/triage/triage.db", "postgres://", "a path: the SQLite file's place is data_dir"),
        ];
        for (bad, expected, why) in cases {
            let err = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__STORE__URL", bad)])).unwrap_err().to_string();
            assert!(err.contains(expected) && !err.contains("s3cret"), "{why}: {err}");
        }
    }

    #[test]
    fn triage_records_are_batched_unless_durability_is_asked_for() {
        let s = load(None, &Overrides::default(), env_with_paths(&[])).unwrap();
        assert_eq!(s.engine_params().durability, triage_engine::Durability::Batched);
        let s = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__STORE__DURABILITY", "durable")])).unwrap();
        assert_eq!(s.engine_params().durability, triage_engine::Durability::Durable);
        let e = env_with_paths(&[("TRIAGE__STORE__DURABILITY", "sometimes")]);
        assert!(load(None, &Overrides::default(), e).unwrap_err().to_string().contains("sometimes"));
    }

    #[test]
    fn replica_settings_reach_the_engine_and_out_of_range_values_stop_loading() {
        let s = load(None, &Overrides::default(), env_with_paths(&[])).unwrap();
        let p = s.engine_params();
        assert_eq!((p.follow.enabled, p.follow.poll.as_millis(), p.store_pool_size), (None, 250, 8), "auto, 250 ms, 8");
        let e = env_with_paths(&[
            ("TRIAGE__STORE__FOLLOW", "on"),
            ("TRIAGE__STORE__FOLLOW_POLL_MS", "100"),
            ("TRIAGE__STORE__POOL_SIZE", "16"),
            ("TRIAGE__STORE__CHANGE_RETENTION_DAYS", "2"),
        ]);
        let p = load(None, &Overrides::default(), e).unwrap().engine_params();
        assert_eq!((p.follow.enabled, p.follow.poll.as_millis(), p.store_pool_size), (Some(true), 100, 16));
        assert_eq!(p.follow.retain.as_secs(), 2 * 86_400);
        let bad = [
            ("TRIAGE__STORE__FOLLOW", "sometimes", "sometimes"),
            ("TRIAGE__STORE__FOLLOW_POLL_MS", "5", "follow_poll_ms"),
            ("TRIAGE__STORE__POOL_SIZE", "0", "pool_size"),
            ("TRIAGE__STORE__CHANGE_RETENTION_DAYS", "0", "change_retention_days"),
            ("TRIAGE__LOG__OTLP_ENDPOINT", "collector:4318", "otlp_endpoint"),
            ("TRIAGE__LOG__OTLP_SERVICE_NAME", " ", "otlp_service_name"),
        ];
        for (key, value, named) in bad {
            let e = env_with_paths(&[(key, value)]);
            let err = load(None, &Overrides::default(), e).unwrap_err().to_string();
            assert!(err.contains(named), "{key}={value}: {err}");
        }
    }

    #[test]
    fn an_invalid_extra_redaction_pattern_stops_loading_and_names_the_pattern() {
        let cases = [
            ("TRIAGE__REDACTION__EXTRA_PATTERNS__HB", "(", "`hb`", "a regex that does not compile"),
            ("TRIAGE__REDACTION__EXTRA_PATTERNS__HB", "x*", "empty string", "a regex that matches nothing at all"),
            ("TRIAGE__REDACTION__EXTRA_PATTERNS__HOUSINGBENEFITCLAIMNUMBERSWITHSUFFIX", r"HB-\d{6}", "1-32 lower-case", "a 36-letter name"),
            ("TRIAGE__REDACTION__EXTRA_PATTERNS__HOUSINGBENEFITCLAIMNUMBERSABCDEFG", r"HB-\d{6}", "1-32 lower-case", "a 33-letter name"),
            ("TRIAGE__REDACTION__EXTRA_PATTERNS__CLAIM_NO", r"HB-\d{6}", "1-32 lower-case", "an underscore in the name"),
        ];
        for (key, value, says, why) in cases {
            let err = load(None, &Overrides::default(), env_with_paths(&[(key, value)])).unwrap_err().to_string();
            assert!(err.contains("redaction.extra_patterns") && err.contains(says), "{why}: {err}");
        }
        let ok = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__REDACTION__EXTRA_PATTERNS__HB", r"\bHB-\d{6}\b")]));
        assert_eq!(ok.unwrap().redaction.extra_patterns.len(), 1, "a 2-letter name and a sound regex load");
    }

    #[test]
    fn the_desk_time_zone_defaults_to_london_and_an_unknown_zone_stops_the_start() {
        let s = load(None, &Overrides::default(), env_with_paths(&[])).unwrap();
        assert_eq!(s.desk.time_zone.name(), "Europe/London");
        let s = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__DESK__TIME_ZONE", "Asia/Kolkata")])).unwrap();
        assert_eq!(s.desk.time_zone.name(), "Asia/Kolkata");
        let e = load(None, &Overrides::default(), env_with_paths(&[("TRIAGE__DESK__TIME_ZONE", "Europe/Londn")])).unwrap_err().to_string();
        assert!(e.contains("Europe/Londn") && e.contains("IANA name"), "{e}");
    }

    #[test]
    fn relative_folders_are_found_beside_the_config_file_from_any_working_directory() {
        let install = tempfile::tempdir().unwrap();
        let kb = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base");
        std::fs::create_dir(install.path().join("articles")).unwrap();
        for entry in std::fs::read_dir(kb.join("printing")).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, install.path().join("articles").join(p.file_name().unwrap())).unwrap();
        }
        let config = install.path().join("triage.toml");
        std::fs::write(&config, "[knowledge_base]\ndir = \"articles\"\n[model]\ndir = \"\"\n").unwrap();
        let s = load(Some(&config), &Overrides::default(), env(&[])).unwrap();
        assert!(s.knowledge_base.dir.is_absolute(), "{}", s.knowledge_base.dir.display());
        assert_eq!(s.knowledge_base.dir, std::path::absolute(install.path().join("articles")).unwrap());
        let e = load(None, &Overrides::default(), env(&[("TRIAGE__KNOWLEDGE_BASE__DIR", "no-such-articles")])).unwrap_err();
        assert!(e.to_string().contains("no-such-articles"), "{e}");
    }

    #[test]
    fn the_default_folders_are_found_without_being_named() {
        // the defaults are relative (`knowledge-base`, `models/starter`); the build's checkout is
        // one of the places searched, so they resolve whatever the working directory
        let s = load(None, &Overrides::default(), env(&[])).unwrap();
        assert!(s.knowledge_base.dir.is_absolute() && s.knowledge_base.dir.join("printing").is_dir());
        assert!(s.model.dir.is_absolute() && s.model.dir.join("manifest.json").is_file());
    }

    #[test]
    fn a_config_file_is_layered_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.toml");
        std::fs::write(&path, "[server]\nport = 7000\nworkers = 3\n").unwrap();
        let e = env_with_paths(&[("TRIAGE__SERVER__PORT", "7001")]);
        let s = load(Some(&path), &Overrides::default(), e).unwrap();
        assert_eq!((s.server.port, s.server.workers), (7001, 3));
    }
}
