//! Which model the engine serves at start-up, and where a registered bundle is on disk.
//!
//! A model that cannot be loaded (corrupt, missing, trained with another text analysis) never
//! stops the engine: it falls back to the previous live model that loads, then to the configured
//! `model_dir` bundle (the starter model), else serves without labels. [`ModelHealth`] says
//! which, in words without server paths (they are logged, never answered).
//!
//! Bundles are shared through the store (issue 15): a bundle registered from a folder (a
//! trained one, the configured initial one) has its files stored under its version, written
//! once. A replica whose data directory lacks a registered bundle, or holds one that fails its
//! checks, fetches it from the store into `<data_dir>/models/<version>` (a temporary folder,
//! files synced, checked, then renamed into place) and loads it as any other.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use triage_model::ModelError;
use triage_model::bundle::{MANIFEST, ModelBundle, WEIGHTS};
use triage_model::version::ModelVersion;
use triage_store::{ModelFile, ModelRecord, ModelStatus, Store};

use crate::{EngineParams, Result};

/// How the model part of the engine is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelHealth {
    /// The registry's live model (or the configured initial one) is served.
    Ok,
    /// No model is configured: suggestions only, by choice.
    NotConfigured,
    /// The intended model cannot be served; the text says why and what is served instead.
    Degraded(String),
}

/// The reason a bundle failed to load, without the server path (safe to answer to clients).
pub(crate) fn public_reason(e: &ModelError) -> String {
    match e {
        ModelError::Bundle { reason, hint, .. } => format!("{reason}; {hint}"),
        ModelError::Io(io) => format!("i/o failure ({})", io.kind()),
        other => other.to_string(),
    }
}

/// The registry path for a bundle: relative to the data directory when inside it, else
/// absolute, so neither the service nor the CLI depends on its working directory.
pub(crate) fn registry_path(params: &EngineParams, dir: &Path) -> String {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let data = std::path::absolute(&params.data_dir).unwrap_or_else(|_| params.data_dir.clone());
    absolute.strip_prefix(&data).map(Path::to_path_buf).unwrap_or(absolute).display().to_string()
}

fn manifest_version(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["version"].as_str().map(str::to_owned)
}

/// Where a registered bundle is: the stored path (relative to the data directory, or
/// absolute); for rows written before paths were relative to the data directory, relative to
/// the working directory; for the configured initial model moved with its install, the
/// configured `model_dir` when its version matches.
pub(crate) fn bundle_dir(params: &EngineParams, record: &ModelRecord) -> PathBuf {
    let stored = Path::new(&record.path);
    let primary = if stored.is_absolute() { stored.to_path_buf() } else { params.data_dir.join(stored) };
    if primary.join(MANIFEST).is_file() {
        return primary;
    }
    if stored.is_relative() && stored.join(MANIFEST).is_file() {
        tracing::info!(version = %record.version, path = %record.path, "model path found relative to the working directory (a registry row from an older release)");
        return stored.to_path_buf();
    }
    if let Some(dir) = params.model_dir.as_ref().filter(|d| manifest_version(d).as_deref() == Some(record.version.as_str())) {
        tracing::info!(version = %record.version, path = %record.path, configured = %dir.display(), "registered model path not found; using the configured model.dir of the same version");
        return dir.clone();
    }
    // a copy fetched from the store (a bundle registered from another replica's folder)
    let fetched = params.models_dir().join(&record.version);
    if ModelVersion::parse(&record.version).is_ok() && fetched.join(MANIFEST).is_file() {
        return fetched;
    }
    primary
}

/// The files of a bundle folder, as the store keeps them.
const BUNDLE_FILES: [&str; 2] = [MANIFEST, WEIGHTS];

/// Stores the files of the bundle in `dir` under `version`, once: `false` when the store
/// already holds that version's files (nothing written).
pub(crate) fn store_bundle_files(store: &dyn Store, version: &str, dir: &Path) -> Result<bool> {
    let mut files = Vec::with_capacity(BUNDLE_FILES.len());
    for name in BUNDLE_FILES {
        files.push(ModelFile { name: name.to_owned(), bytes: std::fs::read(dir.join(name))? });
    }
    Ok(store.save_model_files(version, &files)?)
}

/// Loads a registered version: from this data directory, else from the store's copy (fetched
/// into the data directory first); with a path-free reason on failure. A bundle that loads
/// from a folder but is not in the store yet (registered before bundles were shared) is stored.
pub(crate) fn load_record(store: &dyn Store, params: &EngineParams, record: &ModelRecord) -> std::result::Result<ModelBundle, String> {
    let dir = bundle_dir(params, record);
    let local = match ModelBundle::load(&dir) {
        Ok(bundle) => {
            if let Err(e) = store_bundle_files(store, &record.version, &dir) {
                tracing::warn!(version = %record.version, error = %e, "model bundle could not be copied to the store; other replicas cannot load it until it is");
            }
            return Ok(bundle);
        }
        Err(e) => e,
    };
    tracing::warn!(version = %record.version, error = %local, "model bundle not loadable from this data directory; trying the store's copy");
    let cannot = format!("model `{}` cannot be loaded: {}", record.version, public_reason(&local));
    match fetch_bundle(store, params, &record.version) {
        Ok(Some(bundle)) => Ok(bundle),
        Ok(None) => {
            tracing::error!(version = %record.version, "model bundle is neither loadable here nor in the store");
            Err(format!("{cannot}; the store holds no copy of it either"))
        }
        Err(reason) => {
            tracing::error!(version = %record.version, reason = %reason, "the store's copy of the model bundle cannot be used");
            Err(format!("{cannot}; its copy in the store cannot be used either: {reason}"))
        }
    }
}

/// Fetches `version`'s files from the store into `<data_dir>/models/<version>`, atomically: a
/// temporary folder, files synced, the bundle checked, then renamed into place (replacing a
/// folder of that name that fails its checks). `None` when the store has no copy; `Err` with a
/// path-free reason when the copy cannot be written or fails its checks.
fn fetch_bundle(store: &dyn Store, params: &EngineParams, version: &str) -> std::result::Result<Option<ModelBundle>, String> {
    let io = |e: std::io::Error| format!("i/o failure writing it to the data directory ({})", e.kind());
    let Some(files) = store.model_files(version).map_err(|e| format!("the store cannot be read ({e})"))? else { return Ok(None) };
    ModelVersion::parse(version).map_err(|_| "its version name cannot be a folder name".to_owned())?;
    if let Some(f) = files.iter().find(|f| !BUNDLE_FILES.contains(&f.name.as_str())) {
        return Err(format!("it holds an unexpected file `{}`", f.name.escape_debug()));
    }
    let models = params.models_dir();
    std::fs::create_dir_all(&models).map_err(io)?;
    let tmp = models.join(format!(".fetch-{version}-{}", uuid::Uuid::now_v7().simple()));
    let written = write_synced(&tmp, &files).map_err(io);
    let checked = written.and_then(|()| ModelBundle::load(&tmp).map_err(|e| public_reason(&e)));
    let bundle = match checked {
        Ok(b) => b,
        Err(reason) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(reason);
        }
    };
    let target = models.join(version);
    if target.exists() {
        if ModelBundle::load(&target).is_ok() {
            // another load fetched it meanwhile
            let _ = std::fs::remove_dir_all(&tmp);
            return Ok(Some(bundle));
        }
        tracing::warn!(version, path = %target.display(), "replacing a bundle folder that fails its checks with the store's copy");
        std::fs::remove_dir_all(&target).map_err(io)?;
    }
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_dir_all(&tmp);
        if ModelBundle::load(&target).is_err() {
            return Err(io(e));
        }
    }
    std::fs::File::open(&models).and_then(|d| d.sync_all()).map_err(io)?;
    tracing::info!(version, path = %target.display(), "model bundle fetched from the store");
    Ok(Some(bundle))
}

/// Writes `files` into the new folder `dir`, each synced, then the folder itself.
fn write_synced(dir: &Path, files: &[ModelFile]) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir(dir)?;
    for f in files {
        let mut out = std::fs::File::create(dir.join(&f.name))?;
        out.write_all(&f.bytes)?;
        out.sync_all()?;
    }
    std::fs::File::open(dir)?.sync_all()
}

/// The model to serve at start-up and how healthy that is; see the module docs for the order.
pub(crate) fn load_live_model(store: &dyn Store, params: &EngineParams) -> Result<(Option<ModelBundle>, ModelHealth)> {
    let models = store.models()?;
    let Some(live) = models.iter().find(|m| m.status == ModelStatus::Live) else {
        return load_configured_initial(store, params);
    };
    tracing::info!(version = %live.version, path = %live.path, "loading the live model from the registry");
    let failure = match load_record(store, params, live) {
        Ok(bundle) => return Ok((Some(bundle), ModelHealth::Ok)),
        Err(reason) => reason,
    };
    let by_version: HashMap<&str, &ModelRecord> = models.iter().map(|m| (m.version.as_str(), m)).collect();
    let mut tried = vec![live.version.clone()];
    for (version, _) in store.live_history()?.into_iter().rev() {
        if tried.contains(&version) {
            continue;
        }
        tried.push(version.clone());
        if let Some(bundle) = by_version.get(version.as_str()).and_then(|r| load_record(store, params, r).ok()) {
            tracing::warn!(live = %live.version, serving = %version, "live model cannot be loaded; serving the previous live model that loads");
            return Ok((Some(bundle), ModelHealth::Degraded(format!("{failure}; serving the previous live model `{version}` instead"))));
        }
    }
    if let Some(dir) = &params.model_dir {
        match ModelBundle::load(dir) {
            Ok(bundle) => {
                let version = bundle.manifest.version.clone();
                tracing::warn!(live = %live.version, serving = %version, "live model cannot be loaded; serving the configured model.dir");
                return Ok((Some(bundle), ModelHealth::Degraded(format!("{failure}; serving the configured model `{version}` instead"))));
            }
            Err(e) => tracing::error!(error = %e, "the configured model.dir cannot be loaded either"),
        }
    }
    Ok((None, ModelHealth::Degraded(format!("{failure}; no earlier model loads, so labels are omitted until a model is promoted"))))
}

/// No live model in the registry: the configured one, registered and made live so it can be
/// rolled back to.
fn load_configured_initial(store: &dyn Store, params: &EngineParams) -> Result<(Option<ModelBundle>, ModelHealth)> {
    let Some(dir) = &params.model_dir else { return Ok((None, ModelHealth::NotConfigured)) };
    let bundle = match ModelBundle::load(dir) {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "the configured model.dir cannot be loaded; serving without labels");
            let reason = format!("the configured model cannot be loaded: {}; labels are omitted", public_reason(&e));
            return Ok((None, ModelHealth::Degraded(reason)));
        }
    };
    let registered = store.register_model(&ModelRecord {
        version: bundle.manifest.version.clone(),
        path: registry_path(params, dir),
        created_at: bundle.manifest.created.clone(),
        status: ModelStatus::Candidate,
        report: serde_json::json!({
            "note": "initial model from configuration; figures are its out-of-fold (cross-validation) metrics on its training data",
            "heads": bundle.manifest.heads.iter().map(|h| (h.name.clone(), serde_json::json!({"candidate": h.cv_metrics, "live": null}))).collect::<HashMap<_, _>>(),
        }),
    });
    match registered {
        // registered before but never made live (a start that stopped half-way): keep that entry
        Ok(()) | Err(triage_store::StoreError::ModelExists(_)) => {}
        Err(e) => return Err(e.into()),
    }
    // every replica can load it from the store, whatever its own model.dir holds
    store_bundle_files(store, &bundle.manifest.version, dir)?;
    store.set_live(&bundle.manifest.version, "initial")?;
    Ok((Some(bundle), ModelHealth::Ok))
}
