//! Which model the engine serves at start-up, and where a registered bundle is on disk.
//!
//! A model that cannot be loaded (corrupt, missing, trained with another text analysis) never
//! stops the engine: it falls back to the previous live model that loads, then to the configured
//! `model_dir` bundle (the starter model), else serves without labels. [`ModelHealth`] says
//! which, in words without server paths (they are logged, never answered).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use triage_model::ModelError;
use triage_model::bundle::{MANIFEST, ModelBundle};
use triage_store::{ModelRecord, ModelStatus, Store};

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
    primary
}

/// Loads a registered version, with a path-free reason on failure.
pub(crate) fn load_record(params: &EngineParams, record: &ModelRecord) -> std::result::Result<ModelBundle, String> {
    let dir = bundle_dir(params, record);
    ModelBundle::load(&dir).map_err(|e| {
        tracing::error!(version = %record.version, error = %e, "model bundle cannot be loaded");
        format!("model `{}` cannot be loaded: {}", record.version, public_reason(&e))
    })
}

/// The model to serve at start-up and how healthy that is; see the module docs for the order.
pub(crate) fn load_live_model(store: &dyn Store, params: &EngineParams) -> Result<(Option<ModelBundle>, ModelHealth)> {
    let models = store.models()?;
    let Some(live) = models.iter().find(|m| m.status == ModelStatus::Live) else {
        return load_configured_initial(store, params);
    };
    tracing::info!(version = %live.version, path = %live.path, "loading the live model from the registry");
    let failure = match load_record(params, live) {
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
        if let Some(bundle) = by_version.get(version.as_str()).and_then(|r| load_record(params, r).ok()) {
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
    store.set_live(&bundle.manifest.version, "initial")?;
    Ok((Some(bundle), ModelHealth::Ok))
}
