//! Two engines sharing one store, as replicas share one database (issue 15): model bundles
//! load from the store on a replica whose data directory lacks them, and training jobs are
//! leased through the store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use triage_store::{SqliteStore, Store};

use crate::training::tests::{kb, starter, wait_until_finished};
use crate::{EngineError, EngineParams, JobLease, JobState, ModelHealth, TrainRequest, TriageEngine};

fn shared_store(root: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&root.join("shared.db")).unwrap())
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_model_trained_on_one_replica_loads_on_another_from_the_store_and_one_training_runs_at_a_time() {
    let root = tempfile::tempdir().unwrap();
    let store = shared_store(root.path());
    // A's starter is installed in a folder B never sees (removed once A registered it)
    let install = root.path().join("install/starter");
    copy_dir(&starter(), &install);
    let (a, _) = TriageEngine::open_on(&EngineParams::new(kb(), root.path().join("a")).with_model(&install), store.clone()).unwrap();
    let a = Arc::new(a);
    std::fs::remove_dir_all(&install).unwrap();
    let b_data = root.path().join("b");
    let (b, _) = TriageEngine::open_on(&EngineParams::new(kb(), &b_data), store.clone()).unwrap();
    let b = Arc::new(b);
    assert_eq!(b.model_version().as_deref(), Some("starter"), "B loaded A's starter while A's install still had it");

    a.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 300, 7)).unwrap();
    let id = a.start_training(TrainRequest { version: Some("v2".into()) }).unwrap();
    let refused = b.start_training(TrainRequest { version: Some("v3".into()) }).unwrap_err();
    assert!(matches!(&refused, EngineError::Conflict(m) if m.contains(&id)), "a job on A blocks a start on B: {refused}");
    assert!(b.job(&id).unwrap().is_some(), "B answers for A's job");
    let done = wait_until_finished(&b, &id);
    assert_eq!((done.state, done.version.as_deref()), (JobState::Succeeded, Some("v2")), "{done:?}");
    assert_eq!(b.job_counts().unwrap()[&JobState::Succeeded], 1, "B counts A's jobs");

    assert!(!b_data.join("models/v2").exists());
    b.promote("v2", true).expect("B loads the version A trained");
    assert_eq!((b.model_version().as_deref(), b.model_health()), (Some("v2"), ModelHealth::Ok));
    triage_model::bundle::ModelBundle::load(&b_data.join("models/v2")).expect("fetched into B's data directory");
    assert!(
        std::fs::read_dir(b_data.join("models")).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().starts_with(".fetch")),
        "no temporary folder left behind"
    );

    // the initial model was stored when A registered it: B rolls back to it without its folder
    assert_eq!(b.rollback().unwrap(), "starter");
    assert_eq!((b.model_version().as_deref(), b.model_health()), (Some("starter"), ModelHealth::Ok));
    assert!(b_data.join("models/starter/weights.bin").is_file());

    // a third replica starting now serves the live model from the store
    let (c, _) = TriageEngine::open_on(&EngineParams::new(kb(), root.path().join("c")), store).unwrap();
    assert_eq!((c.model_version().as_deref(), c.model_health()), (Some("starter"), ModelHealth::Ok));
}

#[test]
fn a_job_whose_replica_stopped_ends_failed_with_the_reason_once_its_lease_expires() {
    let root = tempfile::tempdir().unwrap();
    let store = shared_store(root.path());
    let short =
        JobLease { lease: Duration::from_millis(200), renew_every: Duration::from_millis(50), progress_every: Duration::from_millis(50) };
    let params = |name: &str| EngineParams { jobs: short, ..EngineParams::new(kb(), root.path().join(name)) };
    let (a, _) = TriageEngine::open_on(&params("a"), store.clone()).unwrap();
    let (b, _) = TriageEngine::open_on(&params("b"), store.clone()).unwrap();
    let b = Arc::new(b);
    // A accepts a job and stops before its thread runs: nobody renews the lease
    a.jobs.start("train-orphan", "train").unwrap().unwrap();
    drop(a);
    let refused = b.start_training(TrainRequest::default()).unwrap_err();
    assert!(matches!(&refused, EngineError::Conflict(m) if m.contains("train-orphan")), "held while its lease runs: {refused}");
    std::thread::sleep(short.lease + Duration::from_millis(50));

    // at start-up a replica fails it (read raw: the store's own read expires nothing)
    let (_c, _) = TriageEngine::open_on(&params("c"), store.clone()).unwrap();
    let row = store.job("train-orphan").unwrap().unwrap();
    assert_eq!(row.state, "failed");
    let job = b.job("train-orphan").unwrap().unwrap();
    assert_eq!((job.state, job.phase.as_str()), (JobState::Failed, "failed"));
    let reason = job.error.unwrap();
    assert!(reason.contains("the replica running it stopped; lease expired at "), "{reason}");
    assert!(job.finished_at.is_some());
    let next = b.start_training(TrainRequest::default()).expect("another training may start");
    // an empty store has nothing to train: the job ran and says why
    assert!(wait_until_finished(&b, &next).error.unwrap().contains("nothing to train"));

    // job rows survive a restart (the store opened again from its file)
    drop(b);
    let (again, _) = TriageEngine::open_on(&params("b"), shared_store(root.path())).unwrap();
    assert_eq!(again.job("train-orphan").unwrap().unwrap().error.as_deref(), Some(reason.as_str()));
    assert_eq!(again.job_counts().unwrap()[&JobState::Failed], 2);
}

#[test]
fn a_stored_copy_that_fails_its_checks_is_refused_with_why_and_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("a");
    let (engine, _) = TriageEngine::open_on(&EngineParams::new(kb(), &data), shared_store(root.path())).unwrap();
    let store = engine.store();
    let manifest = std::fs::read(starter().join("manifest.json")).unwrap();
    let files = [
        triage_store::ModelFile { name: "manifest.json".into(), bytes: manifest },
        triage_store::ModelFile { name: "weights.bin".into(), bytes: b"TRGW0001 truncated".to_vec() },
    ];
    assert!(store.save_model_files("starter", &files).unwrap());
    store
        .register_model(&triage_store::ModelRecord {
            version: "starter".into(),
            path: "models/starter".into(),
            created_at: "2026-11-30T10:00:00Z".into(),
            status: triage_store::ModelStatus::Candidate,
            report: serde_json::json!({}),
        })
        .unwrap();
    let err = engine.promote("starter", true).unwrap_err();
    let EngineError::Unloadable(reason) = &err else { panic!("unloadable expected: {err}") };
    assert!(reason.contains("its copy in the store cannot be used either"), "{reason}");
    assert!(!reason.contains(root.path().to_str().unwrap()), "no server path: {reason}");
    let left: Vec<_> = std::fs::read_dir(data.join("models")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "neither the bundle nor a temporary folder is left: {left:?}");
    assert_eq!(engine.model_version(), None);
}
