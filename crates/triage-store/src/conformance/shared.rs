//! Model bundles' files and leased jobs (issue 15): what several replicas share.

use crate::{JobRow, ModelFile, Store};

fn files(weights: &[u8]) -> Vec<ModelFile> {
    vec![
        ModelFile { name: "manifest.json".into(), bytes: b"{\"version\":\"v1\"}".to_vec() },
        ModelFile { name: "weights.bin".into(), bytes: weights.to_vec() },
    ]
}

fn job(id: &str, owner: &str, lease_until_ms: i64) -> JobRow {
    JobRow {
        id: id.into(),
        kind: "train".into(),
        state: "queued".into(),
        phase: "queued".into(),
        done: 0,
        total: 0,
        started_at: "2026-11-30T09:00:00Z".into(),
        finished_at: None,
        version: None,
        error: None,
        owner: owner.into(),
        lease_until_ms,
    }
}

const NOW: i64 = 1_800_000_000_000;

pub(super) fn a_bundle_is_stored_once_and_read_back_byte_for_byte(store: &dyn Store) {
    assert_eq!(store.model_files("v1").unwrap(), None, "nothing stored yet");
    // every byte value, and more than a page
    let weights: Vec<u8> = (0..70_000u32).map(|i| (i % 256) as u8).collect();
    assert!(store.save_model_files("v1", &files(&weights)).unwrap());
    assert_eq!(store.model_files("v1").unwrap(), Some(files(&weights)), "ordered by name, bytes intact");
    assert!(!store.save_model_files("v1", &files(b"other")).unwrap(), "a version's bundle is written once");
    assert_eq!(store.model_files("v1").unwrap(), Some(files(&weights)), "never replaced");
    assert_eq!(store.model_files("v2").unwrap(), None);
}

pub(super) fn one_active_job_per_kind_until_it_ends(store: &dyn Store) {
    assert_eq!(store.job_insert(&job("a", "r1", NOW + 30_000), NOW).unwrap(), None);
    assert_eq!(
        store.job_insert(&job("b", "r2", NOW + 30_000), NOW).unwrap().as_deref(),
        Some("a"),
        "a queued job blocks another replica's"
    );
    let running = JobRow { state: "running".into(), phase: "features".into(), done: 5, total: 10, ..job("a", "r1", NOW + 40_000) };
    assert!(store.job_write(&running).unwrap());
    assert_eq!(store.job("a").unwrap(), Some(running.clone()));
    assert!(!store.job_write(&JobRow { owner: "r2".into(), ..running.clone() }).unwrap(), "only the owner writes its job");
    assert_eq!(store.job_insert(&job("b", "r2", NOW + 30_000), NOW).unwrap().as_deref(), Some("a"), "a running job blocks too");
    let done = JobRow {
        state: "succeeded".into(),
        phase: "done".into(),
        done: 1,
        total: 1,
        finished_at: Some("2026-11-30T09:05:00Z".into()),
        version: Some("v2".into()),
        ..running
    };
    assert!(store.job_write(&done).unwrap());
    assert!(!store.job_write(&done).unwrap(), "an ended job is not written again");
    assert_eq!(store.job_insert(&job("b", "r2", NOW + 30_000), NOW).unwrap(), None, "the next may start once it ended");
    assert_eq!(store.job("a").unwrap(), Some(done));
    assert_eq!(store.job_counts().unwrap(), vec![("queued".to_owned(), 1), ("succeeded".to_owned(), 1)]);
    assert_eq!(store.job("missing").unwrap(), None);
}

pub(super) fn a_job_whose_lease_expired_fails_with_the_reason_and_unblocks_the_next(store: &dyn Store) {
    assert_eq!(store.job_insert(&job("a", "r1", NOW + 1_000), NOW).unwrap(), None);
    assert_eq!(store.job_expire(NOW + 1_000).unwrap(), 0, "a lease ending now is still held");
    assert_eq!(store.job("a").unwrap().unwrap().state, "queued");
    // another replica starts after the lease ended: the stale job is failed in the same transaction
    assert_eq!(store.job_insert(&job("b", "r2", NOW + 40_000), NOW + 1_001).unwrap(), None);
    let a = store.job("a").unwrap().unwrap();
    assert_eq!((a.state.as_str(), a.phase.as_str()), ("failed", "failed"));
    let error = a.error.unwrap();
    assert!(error.contains("the replica running it stopped; lease expired at 2027-01-15T08:00:01Z"), "{error}");
    assert!(a.finished_at.is_some());
    assert!(!store.job_write(&JobRow { state: "running".into(), ..job("a", "r1", NOW + 60_000) }).unwrap(), "its owner has lost it");
    assert_eq!(store.job_expire(NOW + 50_000).unwrap(), 1, "b's lease ended too");
    assert_eq!(store.job_expire(NOW + 50_000).unwrap(), 0, "failed once");
    assert_eq!(store.job_counts().unwrap(), vec![("failed".to_owned(), 2)]);
}

crate::conformance::cases!(
    a_bundle_is_stored_once_and_read_back_byte_for_byte,
    one_active_job_per_kind_until_it_ends,
    a_job_whose_lease_expired_fails_with_the_reason_and_unblocks_the_next,
);
