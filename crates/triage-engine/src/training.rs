//! Retraining from stored resolved tickets as a background job, champion / challenger
//! evaluation on a held-out slice, the model registry, promotion and rollback with an atomic
//! swap of the live model.
//!
//! The held-out slice is every ticket whose `tenant/external_id` hashes to 0 mod 5 (20%), so it
//! is stable between runs. The candidate trains on the other 80%; candidate and live model are
//! scored on the same slice. Promotion is refused when the candidate's macro-F1 on any head is
//! below the live model's by more than `promote_margin`, unless forced.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::json;
use triage_core::article::content_hash;
use triage_model::train::{TrainParams, TrainingRow, train};
use triage_model::version::ModelVersion;
use triage_store::{ModelRecord, ModelStatus};

use crate::fusion::FIRST_CONTACT_HEAD;
use crate::{EngineError, Result, TriageEngine};

/// Heads trained from resolved tickets (those with at least one label in the data).
pub(crate) const HEADS: [&str; 4] = ["category", "priority", "assignment_group", FIRST_CONTACT_HEAD];

/// Options of a retraining job.
#[derive(Debug, Clone, Default)]
pub struct TrainRequest {
    /// Version name; default `m-<UTC time>`.
    pub version: Option<String>,
}

/// Training rows: every stored resolved ticket (its final labels), then agents' label
/// corrections on triages whose ticket was never sent as resolved (a resolved ticket's final
/// labels win over a correction of the same ticket). Corrections always train, never hold out.
fn rows_from_store(engine: &TriageEngine) -> Result<(Vec<TrainingRow>, Vec<TrainingRow>)> {
    engine.recorder.flush();
    let (mut train_rows, mut holdout) = (Vec::new(), Vec::new());
    let mut resolved_keys = std::collections::HashSet::new();
    engine.store.for_each_resolved(&mut |t| {
        let mut labels = BTreeMap::new();
        for (head, value) in [("category", &t.category), ("priority", &t.priority), ("assignment_group", &t.assignment_group)] {
            if let Some(v) = value {
                labels.insert(head.to_owned(), v.clone());
            }
        }
        if let Some(fc) = t.resolved_at_first_contact {
            labels.insert(FIRST_CONTACT_HEAD.to_owned(), if fc { "yes" } else { "no" }.to_owned());
        }
        let key = format!("{}/{}", t.tenant, t.external_id);
        resolved_keys.insert(key.clone());
        let row = TrainingRow { id: key.clone(), text: engine.clean_learned(&t.tenant, t.text()), labels };
        let bucket = content_hash(key.as_bytes()).as_bytes()[0] % 5;
        if bucket == 0 { holdout.push(row) } else { train_rows.push(row) }
    })?;
    for (i, c) in engine.store.corrections()?.into_iter().enumerate() {
        let key = match (&c.tenant, &c.external_id) {
            (Some(t), Some(e)) => format!("{t}/{e}"),
            _ => format!("correction/{i}"),
        };
        if resolved_keys.contains(&key) {
            continue;
        }
        let labels = c.labels.into_iter().filter(|(h, v)| HEADS.contains(&h.as_str()) && !v.trim().is_empty()).collect::<BTreeMap<_, _>>();
        if !labels.is_empty() {
            train_rows.push(TrainingRow { id: key, text: c.text, labels });
        }
    }
    Ok((train_rows, holdout))
}

/// Heads with at least two labels in the data, and why the others were skipped. When no head
/// can be trained, the job fails with every reason.
fn heads_to_train(rows: &[TrainingRow]) -> Result<(Vec<String>, Vec<String>)> {
    let (mut heads, mut skipped) = (Vec::new(), Vec::new());
    for head in HEADS {
        let mut labels: Vec<&str> = rows.iter().filter_map(|r| r.labels.get(head).map(String::as_str)).collect();
        labels.sort_unstable();
        labels.dedup();
        match labels.len() {
            0 => skipped.push(format!("head `{head}`: no stored resolved ticket carries it")),
            1 => skipped.push(format!(
                "head `{head}`: every stored resolved ticket has the label `{}`; a classifier needs at least two labels",
                labels[0]
            )),
            _ => heads.push(head.to_owned()),
        }
    }
    if heads.is_empty() {
        return Err(EngineError::Invalid(format!(
            "nothing to train: {}; ingest resolved tickets with varied labels first",
            skipped.join("; ")
        )));
    }
    Ok((heads, skipped))
}

/// `m-<UTC time>`, e.g. `m-20261130t101500z`.
fn default_version() -> Result<ModelVersion> {
    let now = triage_core::time::rfc3339_utc(std::time::SystemTime::now()).replace([':', '-'], "").to_lowercase();
    ModelVersion::parse(&format!("m-{now}")).map_err(EngineError::Invalid)
}

impl TriageEngine {
    /// Starts retraining in the background (never on a request worker); returns the job id.
    /// A bad or already used version name is refused here, before any work starts. The job is
    /// `queued` until its thread runs; if no thread can be started it ends `failed` with why.
    pub fn start_training(self: &Arc<Self>, request: TrainRequest) -> Result<String> {
        let version = match &request.version {
            Some(raw) => ModelVersion::parse(raw).map_err(EngineError::Invalid)?,
            None => default_version()?,
        };
        self.check_version_is_new(&version)?;
        let job_id = format!("train-{}", uuid::Uuid::now_v7());
        // refused on any replica sharing the store while another training job holds its lease
        if let Err(running) = self.jobs.start(&job_id, "train")? {
            return Err(EngineError::Conflict(format!("training job {running} is still running; wait for it to finish")));
        }
        let engine = Arc::clone(self);
        let id = job_id.clone();
        let span = tracing::info_span!("training_job", job_id = %id);
        let spawned = self.jobs.spawn(&job_id, "train-job", move || {
            let _enter = span.enter();
            engine.jobs.mark_running(&id);
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.run_training(&id, &version)));
            let result = match run {
                Ok(result) => result.map_err(|e| e.to_string()),
                Err(_) => Err("training stopped on an internal error; the service log has the details, report it".to_owned()),
            };
            match &result {
                Ok(v) => tracing::info!(version = %v, "training job succeeded"),
                Err(e) => tracing::warn!(error = %e, "training job failed; the live model keeps serving"),
            }
            engine.jobs.finish(&id, result);
        });
        // the job ended `failed` with the reason; the caller polls it like any other job
        if let Err(reason) = spawned {
            tracing::error!(job_id = %job_id, error = %reason, "training job could not start");
        }
        Ok(job_id)
    }

    /// Refuses a version name already in the registry or with a bundle folder in the data
    /// directory (a bundle is never overwritten).
    fn check_version_is_new(&self, version: &ModelVersion) -> Result<()> {
        let registered = self.store.models()?.iter().any(|m| m.version == version.as_str());
        if registered || self.params.models_dir().join(version.as_str()).exists() {
            return Err(EngineError::VersionExists(version.to_string()));
        }
        Ok(())
    }

    /// Status of a job, started by this replica or another sharing the store (a job whose
    /// replica stopped reads `failed` once its lease expired).
    pub fn job(&self, id: &str) -> Result<Option<crate::JobStatus>> {
        self.jobs.get(id)
    }

    /// Number of jobs in each state, over every replica sharing the store (for metrics).
    pub fn job_counts(&self) -> Result<HashMap<crate::JobState, usize>> {
        self.jobs.counts()
    }

    fn run_training(&self, job_id: &str, version: &ModelVersion) -> Result<String> {
        self.jobs.progress(job_id, "reading resolved tickets", 0, 0);
        let (rows, holdout) = rows_from_store(self)?;
        let (heads, skipped_heads) = heads_to_train(&rows)?;
        let version = version.as_str().to_owned();
        let started = std::time::Instant::now();
        let params = TrainParams { threads: 1, ..TrainParams::default() };
        let bundle = train(&rows, &heads, &params, &version, vec!["store".into()], &mut |phase, done, total| {
            self.jobs.progress(job_id, phase, done, total)
        })?;
        let train_seconds = started.elapsed().as_secs_f64();
        self.jobs.progress(job_id, "champion / challenger evaluation", 0, 1);
        let live = self.model.load_full();
        let candidate_eval = triage_model::eval::evaluate(&bundle.classifier, &holdout, train_seconds, rows.len());
        let live_eval = live.as_ref().map(|m| triage_model::eval::evaluate(&m.classifier, &holdout, 0.0, 0));
        let mut report_heads = serde_json::Map::new();
        for (head, m) in &candidate_eval.heads {
            let live_m = live_eval.as_ref().and_then(|e| e.heads.get(head));
            report_heads.insert(
                head.clone(),
                json!({
                    "candidate": {"accuracy": m.accuracy, "macro_f1": m.macro_f1, "ece": m.ece, "auto_coverage": m.auto_coverage, "auto_precision": m.auto_precision, "top3_accuracy": m.top3_accuracy, "rows": m.rows,
                        "per_class": m.per_class, "confusion": m.confusion, "reliability": m.reliability},
                    "live": live_m.map(|l| json!({"accuracy": l.accuracy, "macro_f1": l.macro_f1, "rows": l.rows})),
                }),
            );
        }
        self.jobs.progress(job_id, "fix probability from the desk's history", 0, 1);
        // the refit's learned-phrasing features need the store's history loaded (the service
        // loads it just after it starts answering): fitting before would teach "no history"
        let fix = if self.params.learning.enabled && !self.learned.loaded() {
            crate::fix::desk::DeskFit::not_ready(
                "learned phrasing is still loading from the store (GET /readyz says similar_tickets ready once it has): the default model stays; train again then",
            )
        } else {
            crate::fix::desk::fit(&self.fix_history()?)
        };
        self.jobs.progress(job_id, "saving", 0, 1);
        // checked again: the name may have been taken while this job trained
        self.check_version_is_new(&ModelVersion::parse(&version).map_err(EngineError::Invalid)?)?;
        if !self.jobs.still_held(job_id) {
            return Err(EngineError::Conflict(
                "the job's lease expired while it trained (this replica could not renew it in time); nothing was registered; start the training again".into(),
            ));
        }
        let dir = self.params.models_dir().join(&version);
        bundle.save(&dir)?;
        // the files first, so a registered version is loadable on every replica
        let stored = match crate::model_load::store_bundle_files(self.store.as_ref(), &version, &dir) {
            Ok(true) => Ok(()),
            Ok(false) => Err(EngineError::VersionExists(version.clone())),
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let registered = self.store.register_model(&ModelRecord {
            version: version.clone(),
            path: crate::model_load::registry_path(&self.params, &dir),
            created_at: bundle.manifest.created.clone(),
            status: ModelStatus::Candidate,
            report: json!({
                "train_rows": rows.len(),
                "holdout_rows": holdout.len(),
                "train_seconds": train_seconds,
                "live_version": live.as_ref().map(|m| m.manifest.version.clone()),
                "skipped_heads": skipped_heads,
                "heads": report_heads,
                "fix_model": fix,
            }),
        });
        if let Err(e) = registered {
            // the folder was created by this job (saving refuses an existing one): leave nothing behind
            let _ = std::fs::remove_dir_all(&dir);
            return Err(match e {
                triage_store::StoreError::ModelExists(v) => EngineError::VersionExists(v),
                other => other.into(),
            });
        }
        Ok(version)
    }

    /// Serves `bundle` (the registered `record`) from the next request on, with the fix model
    /// its report carries: one swap, so a request never mixes two models.
    pub(crate) fn serve(&self, bundle: triage_model::bundle::ModelBundle, record: &ModelRecord) {
        self.model.store(Some(Arc::new(bundle)));
        *self.fix_model.write().unwrap_or_else(|p| p.into_inner()) = crate::fix::desk::from_report(&record.report);
        self.set_model_health(crate::ModelHealth::Ok);
    }

    /// Makes `version` live, atomically. Refused when it is worse than the live model by more
    /// than the margin on the held-out slice, or was evaluated against another live model,
    /// unless `force`.
    pub fn promote(&self, version: &str, force: bool) -> Result<()> {
        let record =
            self.store.models()?.into_iter().find(|m| m.version == version).ok_or(EngineError::NotFound(crate::Resource::ModelVersion))?;
        let live_version = self.model_version();
        if live_version.as_deref() == Some(version) {
            return Err(EngineError::Conflict(format!("{version} is already live")));
        }
        if !force {
            self.check_promotion(&record, live_version.as_deref())?;
        }
        let bundle = crate::model_load::load_record(self.store.as_ref(), &self.params, &record).map_err(EngineError::Unloadable)?;
        self.serve(bundle, &record);
        self.store.set_live(version, if force { "promote (forced)" } else { "promote" })?;
        tracing::info!(version, force, "model promoted");
        Ok(())
    }

    /// The desk's history as fix-probability training data: every resolved ticket that names
    /// the article that fixed it, searched as a triage would search it (that article is the
    /// right hit), and every agent's verdict on an article suggestion (`resolved` / `helpful`
    /// positive, `not_helpful` negative), with the article's features in today's knowledge base.
    /// Feedback counts and category agreement are left out of the features here, since the
    /// verdict being learned is part of them.
    ///
    /// Each is searched as if the learned documents of the same ticket had never been learned:
    /// its own, and the copies its triages' feedback made (a ticket resolved naming the article
    /// an agent marked `resolved` is learned twice, once per key).
    pub(crate) fn fix_history(&self) -> Result<Vec<crate::fix::desk::Query>> {
        use crate::fix::desk::{Query, held_out};
        use crate::learned::{feedback_key, ticket_key};
        use std::collections::HashMap;
        // the article feedback, and which ticket each triage was about
        let mut feedback = Vec::new();
        self.store.for_each_article_feedback(&mut |f| feedback.push(f))?;
        let mut ticket_of: HashMap<(String, String), Option<String>> = HashMap::new();
        for f in &feedback {
            let key = (f.tenant.to_string(), f.triage_id.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = ticket_of.entry(key) {
                slot.insert(self.store.triage_record(Some(&f.tenant), &f.triage_id)?.and_then(|r| r.external_id));
            }
        }
        // the learned keys of each ticket's feedback, and of each triage's
        let mut keys_of_ticket: HashMap<(String, String), Vec<String>> = HashMap::new();
        let mut keys_of_triage: HashMap<(String, String), Vec<String>> = HashMap::new();
        for f in &feedback {
            let Some(article) = f.suggestion.strip_prefix("article:") else { continue };
            let key = feedback_key(&f.triage_id, article, f.outcome.as_str());
            let triage = (f.tenant.to_string(), f.triage_id.clone());
            if let Some(Some(external)) = ticket_of.get(&triage) {
                keys_of_ticket.entry((f.tenant.to_string(), external.clone())).or_default().push(key.clone());
            }
            keys_of_triage.entry(triage).or_default().push(key);
        }
        let mut out = Vec::new();
        let mut failed = None;
        self.store.for_each_resolved(&mut |t| {
            let Some(article) = t.kb_article.as_deref() else { return };
            let mut except = vec![ticket_key(&t.external_id)];
            except.extend(keys_of_ticket.get(&(t.tenant.to_string(), t.external_id.clone())).into_iter().flatten().cloned());
            match self.fix_features_for(&format!("{}\n{}", t.title, t.description), &t.tenant, &except) {
                Ok(hits) => {
                    let right = hits.iter().position(|(id, _)| id == article);
                    let key = format!("{}/{}", t.tenant, t.external_id);
                    out.push(Query { hits: hits.into_iter().map(|(_, f)| f).collect(), right, holdout: held_out(&key), ranked: true });
                }
                Err(e) => failed = Some(e),
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        for f in &feedback {
            let Some(article) = f.suggestion.strip_prefix("article:") else { continue };
            let positive = match f.outcome {
                triage_store::Outcome::Resolved | triage_store::Outcome::Helpful => true,
                triage_store::Outcome::NotHelpful => false,
                triage_store::Outcome::Corrected => continue,
            };
            let triage = (f.tenant.to_string(), f.triage_id.clone());
            let mut except: Vec<String> = keys_of_triage.get(&triage).into_iter().flatten().cloned().collect();
            if let Some(Some(external)) = ticket_of.get(&triage) {
                except.push(ticket_key(external));
            }
            let hits = self.fix_features_for(&f.text, &f.tenant, &except)?;
            if let Some((_, features)) = hits.into_iter().find(|(id, _)| id == article) {
                let right = positive.then_some(0);
                out.push(Query { hits: vec![features], right, holdout: held_out(&f.triage_id), ranked: false });
            }
        }
        Ok(out)
    }

    /// The top 10 articles for a (redacted) text of `tenant`, searched as a triage searches,
    /// with their fix-probability features (no feedback or category agreement), as if the
    /// learned documents `except` (the text's own copies) had never been learned: a ticket that
    /// finds its own words in an article's learned phrasing would teach the model to trust
    /// learned evidence far more than a new ticket earns.
    pub(crate) fn fix_features_for(
        &self,
        text: &str,
        tenant: &triage_core::tenant::TenantId,
        except: &[String],
    ) -> Result<Vec<(String, [f64; crate::fix::FEATURES])>> {
        let policy = self.params.tenants.get(tenant.as_str());
        let include_shared = policy.is_none_or(|p| p.shared_kb);
        let terms = triage_kb::KbIndex::query_terms(text);
        let (boosts, history) = self.learned.boosts_except(tenant, &terms, crate::learned::today(), except);
        let query = triage_kb::KbQuery::new(text)
            .with_terms(&terms)
            .with_boosts(&boosts)
            .tenant(Some(tenant))
            .include_shared(include_shared)
            .limit(10)
            .snippets(false);
        let hits = self.kb.search(&query)?;
        let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
        let best =
            crate::fix::best_learned_evidence(&boosts, |a| crate::fusion::article_shown(&self.articles, a, Some(tenant), include_shared));
        Ok(hits
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let f = crate::fix::article_features(&scores, h.coverage, h.query_known, i, terms.len(), 0.0, 0.0);
                (h.id.clone(), crate::fix::with_learned(f, crate::fix::learned_evidence(&boosts, &h.id), best, history))
            })
            .collect())
    }

    fn check_promotion(&self, record: &ModelRecord, live_version: Option<&str>) -> Result<()> {
        let evaluated_against = record.report["live_version"].as_str();
        if live_version.is_some() && evaluated_against != live_version {
            return Err(EngineError::Conflict(format!(
                "{} was evaluated against {:?} but {:?} is live now; retrain to compare on the same slice, or force the promotion",
                record.version, evaluated_against, live_version
            )));
        }
        let margin = self.params.promote_margin;
        if let Some(heads) = record.report["heads"].as_object() {
            for (head, h) in heads {
                let (Some(cand), Some(live)) = (h["candidate"]["macro_f1"].as_f64(), h["live"]["macro_f1"].as_f64()) else { continue };
                if cand + margin < live {
                    return Err(EngineError::Conflict(format!(
                        "{}: `{head}` macro-F1 {cand:.3} is below the live model's {live:.3} by more than the margin {margin}; promotion refused (force it to override)",
                        record.version
                    )));
                }
            }
        }
        Ok(())
    }

    /// Runs registered `version` beside the live model on live traffic, off the request path
    /// (replacing a running shadow). The live version itself is refused.
    pub fn start_shadow(&self, version: &str) -> Result<()> {
        let record =
            self.store.models()?.into_iter().find(|m| m.version == version).ok_or(EngineError::NotFound(crate::Resource::ModelVersion))?;
        if self.model_version().as_deref() == Some(version) {
            return Err(EngineError::Conflict(format!("{version} is the live model; shadow a candidate")));
        }
        let bundle = crate::model_load::load_record(self.store.as_ref(), &self.params, &record).map_err(EngineError::Unloadable)?;
        self.shadow.start(version, Arc::new(bundle)).map_err(|e| EngineError::Invalid(format!("cannot start the shadow thread: {e}")))?;
        tracing::info!(version, "shadow model started");
        Ok(())
    }

    /// Stops the shadow model; whether one was running.
    pub fn stop_shadow(&self) -> bool {
        let stopped = self.shadow.stop();
        if stopped {
            tracing::info!("shadow model stopped");
        }
        stopped
    }

    /// The running shadow's figures: agreement with the live model, and both models' accuracy
    /// on the shadowed tickets whose labels have arrived.
    pub fn shadow_status(&self) -> Option<crate::ShadowStatus> {
        self.shadow.status()
    }

    /// Puts the previously live version back, atomically. Rollbacks unwind like a stack:
    /// v1 -> v2 -> v3, rollback -> v2, rollback -> v1.
    pub fn rollback(&self) -> Result<String> {
        let mut stack: Vec<String> = Vec::new();
        for (version, action) in self.store.live_history()? {
            if action == "rollback" {
                stack.pop();
            } else {
                stack.push(version);
            }
        }
        let previous = (stack.len() >= 2).then(|| stack[stack.len() - 2].clone());
        let Some(previous) = previous else {
            return Err(EngineError::Conflict("no earlier live model to roll back to".into()));
        };
        let record =
            self.store.models()?.into_iter().find(|m| m.version == previous).ok_or(EngineError::NotFound(crate::Resource::ModelVersion))?;
        let bundle = crate::model_load::load_record(self.store.as_ref(), &self.params, &record).map_err(EngineError::Unloadable)?;
        self.serve(bundle, &record);
        self.store.set_live(&previous, "rollback")?;
        tracing::info!(version = %previous, "model rolled back");
        Ok(previous)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    pub(crate) fn wait_until_finished(engine: &TriageEngine, id: &str) -> crate::JobStatus {
        for _ in 0..500 {
            let job = engine.job(id).unwrap().unwrap();
            if matches!(job.state, crate::JobState::Succeeded | crate::JobState::Failed) {
                return job;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("job {id} did not finish");
    }

    #[test]
    fn a_training_thread_that_cannot_start_fails_the_job_with_why_and_training_stays_possible() {
        let engine = Arc::new(TriageEngine::in_memory(Vec::new(), 5).unwrap());
        engine.jobs.fail_spawn.store(true, Ordering::SeqCst);
        let id = engine.start_training(TrainRequest::default()).unwrap();
        let job = engine.job(&id).unwrap().unwrap();
        assert_eq!(job.state, crate::JobState::Failed, "{job:?}");
        assert!(job.error.as_deref().unwrap().contains("could not start"), "{job:?}");
        assert!(job.finished_at.is_some());

        engine.jobs.fail_spawn.store(false, Ordering::SeqCst);
        let next = engine.start_training(TrainRequest { version: Some("next".into()) }).expect("a new training may start");
        let job = wait_until_finished(&engine, &next);
        // an empty store has nothing to train: the job ran, and says why it failed
        assert!(job.error.as_deref().unwrap().contains("nothing to train"), "{job:?}");
    }

    pub(crate) fn kb() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base")
    }

    pub(crate) fn starter() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/starter")
    }

    #[test]
    fn the_fix_model_is_fitted_on_the_desks_own_history_once_there_is_enough_and_served_when_live() {
        let root = tempfile::tempdir().unwrap();
        let params = crate::EngineParams::new(kb(), root.path()).with_model(starter());
        let (engine, _) = TriageEngine::open(&params).unwrap();
        let engine = Arc::new(engine);
        engine.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 120, 3)).unwrap();
        // before learned phrasing is loaded from the store (as the service does just after it
        // starts answering), the refit would see no history: it waits for the next training
        let id = engine.start_training(TrainRequest { version: Some("early".into()) }).unwrap();
        assert_eq!(wait_until_finished(&engine, &id).state, crate::JobState::Succeeded);
        let early = engine.store().models().unwrap().into_iter().find(|m| m.version == "early").unwrap();
        assert_eq!(early.report["fix_model"]["source"], "default");
        assert!(early.report["fix_model"]["note"].as_str().unwrap().contains("still loading"), "{}", early.report["fix_model"]);
        engine.load_ticket_scorer().unwrap();
        // too little history: the default model, said so in the report
        let id = engine.start_training(TrainRequest { version: Some("few".into()) }).unwrap();
        assert_eq!(wait_until_finished(&engine, &id).state, crate::JobState::Succeeded);
        let few = engine.store().models().unwrap().into_iter().find(|m| m.version == "few").unwrap();
        assert_eq!(few.report["fix_model"]["source"], "default", "{}", few.report["fix_model"]);
        assert!(few.report["fix_model"].get("note").is_none(), "too little history is no note: {}", few.report["fix_model"]);

        // tickets that name the article that fixed them, in callers' own words
        let phrasings = [
            (
                "account-locked-out",
                ["locked out after typing my password wrong", "my account says it is locked", "cannot log in account locked"],
            ),
            (
                "mfd-paper-jam-toner-fault",
                ["the printer keeps jamming paper", "paper jam in the copier tray", "toner fault on the multifunction printer"],
            ),
            (
                "printer-offline-not-printing",
                ["printer shows offline nothing prints", "my documents will not print printer offline", "print jobs go nowhere"],
            ),
            (
                "mfa-prompts-not-arriving",
                ["no authenticator prompt on my phone", "mfa code never arrives", "the sign in approval does not pop up"],
            ),
        ];
        let mut linked = Vec::new();
        for i in 0..160 {
            let (article, texts) = &phrasings[i % phrasings.len()];
            let raw = triage_core::ticket_resolved::RawResolved {
                tenant: "northmoor",
                external_id: &format!("KB-{i}"),
                title: Some(texts[(i / 4) % 3]),
                description: Some("since this morning, case number {i}"),
                category: None,
                priority: None,
                assignment_group: None,
                resolution_notes: Some("followed the article"),
                resolved_at_first_contact: Some(true),
                kb_article: Some(article),
                opened_at: None,
                resolved_at: None,
            };
            linked.push(triage_core::ticket_resolved::ResolvedTicket::parse(&raw).unwrap());
        }
        engine.ingest_resolved(&linked).unwrap();
        let id = engine.start_training(TrainRequest { version: Some("desk".into()) }).unwrap();
        assert_eq!(wait_until_finished(&engine, &id).state, crate::JobState::Succeeded);
        let desk = engine.store().models().unwrap().into_iter().find(|m| m.version == "desk").unwrap();
        let fit = &desk.report["fix_model"];
        assert_eq!(fit["source"], "desk", "{fit}");
        assert!(fit["rows"].as_u64().unwrap() >= crate::fix::desk::MIN_ROWS as u64 && fit["positives"].as_u64().unwrap() >= 30, "{fit}");
        assert!(fit["holdout_ece_fitted"].as_f64().is_some(), "{fit}");
        let fitted = crate::fix::desk::from_report(&desk.report);
        assert_ne!(fitted, crate::fix::FixModel::DEFAULT);
        engine.promote("desk", true).unwrap();
        assert_eq!(*engine.fix_model.read().unwrap(), fitted, "the live version's fix model serves");
        engine.rollback().unwrap();
        assert_eq!(*engine.fix_model.read().unwrap(), crate::fix::FixModel::DEFAULT, "and goes with it");
    }

    #[test]
    fn a_moved_data_directory_still_serves_its_live_model_a_corrupt_one_is_repaired_from_the_store_and_a_lost_one_degrades() {
        let root = tempfile::tempdir().unwrap();
        let (first, moved) = (root.path().join("data"), root.path().join("moved"));
        let params = crate::EngineParams::new(kb(), &first).with_model(starter());
        {
            let (engine, _) = TriageEngine::open(&params).unwrap();
            let engine = Arc::new(engine);
            engine.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 300, 7)).unwrap();
            let id = engine.start_training(TrainRequest { version: Some("v2".into()) }).unwrap();
            assert_eq!(wait_until_finished(&engine, &id).state, crate::JobState::Succeeded);
            engine.promote("v2", true).unwrap();
            let v2 = engine.store().models().unwrap().into_iter().find(|m| m.version == "v2").unwrap();
            assert_eq!(std::path::Path::new(&v2.path), std::path::Path::new("models/v2"), "stored relative to the data directory");
        }
        std::fs::rename(&first, &moved).unwrap();
        let moved_params = crate::EngineParams { data_dir: moved.clone(), ..params.clone() };
        let (engine, _) = TriageEngine::open(&moved_params).unwrap();
        assert_eq!((engine.model_version().as_deref(), engine.model_health()), (Some("v2"), crate::ModelHealth::Ok));
        drop(engine);

        std::fs::write(moved.join("models/v2/weights.bin"), b"TRGW0001 truncated").unwrap();
        let (engine, _) = TriageEngine::open(&moved_params).expect("a corrupt model never stops the engine");
        assert_eq!(
            (engine.model_version().as_deref(), engine.model_health()),
            (Some("v2"), crate::ModelHealth::Ok),
            "the store's copy replaces it"
        );
        triage_model::bundle::ModelBundle::load(&moved.join("models/v2")).expect("repaired on disk");

        // a live version neither in the data directory nor in the store: the previous live model serves
        let lost = ModelRecord {
            version: "v3".into(),
            path: "models/v3".into(),
            created_at: "2026-11-30T10:00:00Z".into(),
            status: ModelStatus::Candidate,
            report: json!({}),
        };
        engine.store().register_model(&lost).unwrap();
        engine.store().set_live("v3", "promote (forced)").unwrap();
        drop(engine);
        let (engine, _) = TriageEngine::open(&moved_params).expect("a lost model never stops the engine");
        assert_eq!(engine.model_version().as_deref(), Some("v2"), "the previous live model serves");
        let crate::ModelHealth::Degraded(reason) = engine.model_health() else { panic!("degraded expected") };
        assert!(reason.contains("`v3`") && reason.contains("`v2`") && reason.contains("the store holds no copy"), "{reason}");
        assert!(!reason.contains(root.path().to_str().unwrap()), "no server path: {reason}");
        let err = engine.promote("v3", true).unwrap_err();
        assert!(matches!(err, EngineError::Unloadable(_)), "{err}");
        assert!(engine.audit_log(None, 10).unwrap().iter().any(|e| e.action == "model.fallback"), "the fallback is audited");
    }
}
