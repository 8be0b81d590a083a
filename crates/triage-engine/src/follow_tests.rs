//! Two replicas on one database: two engines, each with its own data directory and indexes, on
//! two handles of one SQLite file (two origins, as two processes on PostgreSQL would be). The
//! follower is stepped by hand (`follow_once`), so each assertion sees exactly one step.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use triage_core::auth::Role;
use triage_core::tenant::TenantId;
use triage_core::ticket::{Channel, NewTicket};
use triage_store::{Outcome, SqliteStore, Store};

use crate::{EngineParams, FeedbackInput, TriageEngine};

fn kb() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base")
}

fn starter() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/starter")
}

struct Replicas {
    root: tempfile::TempDir,
    a: Arc<TriageEngine>,
    b: Arc<TriageEngine>,
}

fn open(root: &Path, name: &str) -> Arc<TriageEngine> {
    Arc::new(open_with_report(root, name).0)
}

fn open_with_report(root: &Path, name: &str) -> (TriageEngine, crate::OpenReport) {
    let mut params = EngineParams::new(kb(), root.join(name)).with_model(starter());
    params.follow.enabled = Some(true);
    params.incidents.min_history = 0;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&root.join("shared.db")).unwrap());
    TriageEngine::open_on(&params, store).unwrap()
}

fn replicas() -> Replicas {
    let root = tempfile::tempdir().unwrap();
    let a = open(root.path(), "a");
    let b = open(root.path(), "b");
    Replicas { root, a, b }
}

fn north() -> TenantId {
    TenantId::parse("northmoor").unwrap()
}

/// Runs `b`'s follower until the feed has nothing more; how many changes it read.
fn catch_up(b: &TriageEngine) -> usize {
    let mut n = 0;
    loop {
        let read = b.follow_once().unwrap();
        if read == 0 {
            return n;
        }
        n += read;
    }
}

#[test]
fn resolved_tickets_and_erasures_written_on_one_replica_are_suggested_and_forgotten_by_the_other() {
    let r = replicas();
    let tickets = crate::synthetic::resolved_tickets("northmoor", 30, 5);
    r.a.ingest_resolved(&tickets).unwrap();
    let terms = triage_kb::KbIndex::query_terms(&format!("{}\n{}", tickets[0].title, tickets[0].description));
    assert!(r.b.similar_tickets(&terms, &north(), 5).unwrap().is_empty(), "B has not followed yet");
    assert_eq!(catch_up(&r.b), 30, "one change per ticket");
    assert_eq!(r.b.ticket_count(), 30);
    let hits = r.b.similar_tickets(&terms, &north(), 5).unwrap();
    assert!(hits.iter().any(|h| h.external_id == tickets[0].external_id), "B suggests A's ticket: {hits:?}");
    assert_eq!(r.b.tickets.applied_seq(), Some(r.b.store.resolved_seq().unwrap()), "B's index records the store's sequence");

    r.a.erase_resolved(&north(), &tickets[0].external_id).unwrap();
    catch_up(&r.b);
    assert_eq!(r.b.ticket_count(), 29);
    let hits = r.b.similar_tickets(&terms, &north(), 30).unwrap();
    assert!(hits.iter().all(|h| h.external_id != tickets[0].external_id), "the erased ticket is gone on B too");

    // A's own writes come back to A as changes it skips: nothing is indexed twice
    let before = r.a.ticket_count();
    assert!(catch_up(&r.a) >= 31);
    assert_eq!(r.a.ticket_count(), before);
    let status = r.a.follow_status();
    let head = r.a.store.change_head().unwrap();
    assert_eq!((status.applied_seq, status.head_seq, status.last_error), (head, head, None));
    drop(r.root);
}

#[test]
fn feedback_keys_and_promotions_on_one_replica_take_effect_on_the_other() {
    let r = replicas();
    catch_up(&r.b);
    // feedback on A: B's counts (which rank suggestions) move
    let ticket = NewTicket::parse(Some("I am locked out of my account"), None, Some("northmoor"), Channel::Phone, None, None).unwrap();
    let outcome = r.a.triage(&ticket).unwrap();
    let suggestion = crate::fusion::suggestion_key(&outcome.suggestions[0]);
    r.a.add_feedback(
        Some(&north()),
        &outcome.triage_id.to_string(),
        FeedbackInput { suggestion: Some(suggestion.clone()), outcome: Outcome::Resolved, corrected_labels: Default::default() },
    )
    .unwrap();
    let counts = |e: &TriageEngine| e.feedback.read().unwrap().get(&suggestion).map_or(0, |c| c.resolved);
    assert_eq!((counts(&r.a), counts(&r.b)), (1, 0));
    catch_up(&r.b);
    assert_eq!(counts(&r.b), 1, "B counts A's feedback");
    catch_up(&r.b);
    assert_eq!(counts(&r.b), 1, "and only once");

    // a key created on A works on B; revoked on A, B refuses it
    let key = r.a.create_key(Some(&north()), Role::Agent, "desk").unwrap();
    assert!(r.b.authenticate(&key.secret).is_none());
    catch_up(&r.b);
    assert_eq!(r.b.authenticate(&key.secret).map(|p| p.key_id), Some(key.id.clone()));
    r.a.revoke_key(Some(&north()), &key.id).unwrap();
    catch_up(&r.b);
    assert!(r.b.authenticate(&key.secret).is_none(), "revoked on A, refused by B");

    // a version promoted on A is served by B
    let second = r.root.path().join("second");
    copy_bundle(&starter(), &second, "second");
    r.a.store
        .register_model(&triage_store::ModelRecord {
            version: "second".into(),
            path: second.display().to_string(),
            created_at: triage_core::time::rfc3339_utc(std::time::SystemTime::now()),
            status: triage_store::ModelStatus::Candidate,
            report: serde_json::json!({}),
        })
        .unwrap();
    r.a.promote("second", true).unwrap();
    assert_eq!(r.b.model_version().as_deref(), Some("starter"));
    catch_up(&r.b);
    assert_eq!(r.b.model_version().as_deref(), Some("second"), "B serves what A promoted");
    r.a.rollback().unwrap();
    catch_up(&r.b);
    assert_eq!(r.b.model_version().as_deref(), Some("starter"), "and follows the rollback");
}

#[test]
fn a_replica_the_feed_was_pruned_past_reloads_from_the_store() {
    let r = replicas();
    r.a.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 10, 1)).unwrap();
    let key = r.a.create_key(Some(&north()), Role::Agent, "desk").unwrap();
    r.a.ingest_resolved(&crate::synthetic::resolved_tickets("eastbrook", 5, 2)).unwrap();
    let head = r.a.store.change_head().unwrap();
    assert!(head >= 16, "the starter's promotion, 15 tickets and a key");
    assert_eq!(r.a.store.prune_changes("2999-01-01T00:00:00Z").unwrap() as u64, head - 1, "all but the newest change");
    assert!(catch_up(&r.b) > 0);
    assert_eq!(r.b.ticket_count(), 15, "every ticket, though only the last change was left");
    assert!(r.b.authenticate(&key.secret).is_some(), "and the keys");
    assert_eq!(r.b.follow_status().applied_seq, r.b.store.change_head().unwrap());
}

#[test]
fn a_restarted_replica_catches_its_index_up_from_the_feed_and_rebuilds_only_when_pruned_past() {
    let r = replicas();
    r.a.ingest_resolved(&crate::synthetic::resolved_tickets("northmoor", 20, 1)).unwrap();
    catch_up(&r.b);
    drop(r.b);
    // while B is down, A adds, updates and erases
    r.a.ingest_resolved(&crate::synthetic::resolved_tickets("eastbrook", 12, 2)).unwrap();
    let mut updated = crate::synthetic::resolved_tickets("northmoor", 3, 1);
    updated[0].title = "Zebra label printer prints blank labels".into();
    r.a.ingest_resolved(&updated).unwrap();
    r.a.erase_resolved(&north(), &updated[1].external_id).unwrap();
    let (b, report) = open_with_report(r.root.path(), "b");
    assert_eq!((report.tickets_caught_up, report.tickets_reindexed), (Some(12 + 3), false), "one per ticket changed: {report:?}");
    assert_eq!(b.ticket_count(), 31);
    let terms = triage_kb::KbIndex::query_terms("zebra label printer blank labels");
    assert_eq!(b.similar_tickets(&terms, &north(), 1).unwrap()[0].external_id, updated[0].external_id, "the update arrived");
    drop(b);

    r.a.ingest_resolved(&crate::synthetic::resolved_tickets("westwater", 4, 3)).unwrap();
    r.a.store.prune_changes("2999-01-01T00:00:00Z").unwrap();
    let (b, report) = open_with_report(r.root.path(), "b");
    assert_eq!((report.tickets_caught_up, report.tickets_reindexed), (None, true), "pruned past: rebuilt");
    assert_eq!(b.ticket_count(), 35);
}

#[test]
fn the_leading_replica_detects_a_surge_sent_to_another_and_every_replica_then_names_it() {
    let r = replicas();
    let surge = [
        "Outlook cannot send email, stuck in outbox",
        "Email stuck in the Outlook outbox, cannot send",
        "Cannot send email from Outlook, error on send",
        "Outlook email send stuck since this morning",
        "Email in Outlook fails to send",
        "Outlook outbox will not send email",
    ];
    let triage = |e: &TriageEngine, text: &str| {
        e.triage(&NewTicket::parse(Some(text), None, Some("northmoor"), Channel::Email, None, None).unwrap()).unwrap()
    };
    for text in surge {
        triage(&r.b, text);
    }
    r.b.store(); // the triage records are written
    r.a.incidents.flush();
    assert!(r.a.incidents.list(None, None).is_empty(), "replicas do not detect from their own request path");
    let mut feed = crate::incidents::StoreFeed::default();
    assert_eq!(r.a.incidents.feed_from_store(&mut feed, false).unwrap(), 0, "a replica that does not lead reads nothing");
    assert_eq!(r.a.incidents.feed_from_store(&mut feed, true).unwrap(), surge.len(), "the leader reads B's triages");
    r.a.incidents.flush();
    assert_eq!(r.a.incidents.feed_from_store(&mut feed, true).unwrap(), 0, "each once");
    let opened = r.a.incidents.list(None, None);
    assert_eq!(opened.len(), 1, "the leader opened one incident from the surge B answered");
    assert_eq!(opened[0].count, surge.len());

    catch_up(&r.b);
    assert_eq!(r.b.incidents().list(None, None).len(), 1, "B follows the incident the leader stored");
    let next = triage(&r.b, "Outlook will not send my email, stuck in outbox");
    assert_eq!(next.incident.as_ref().map(|m| m.id.as_str()), Some(opened[0].id.as_str()), "B names it in its answers");
    // the leader links that ticket too (it reads it from the store); B's view follows
    r.b.store();
    r.a.incidents.feed_from_store(&mut feed, true).unwrap();
    r.a.incidents.flush();
    catch_up(&r.b);
    assert_eq!(r.b.incidents().get(&opened[0].id, None).unwrap().count, surge.len() + 1, "B counts what the leader linked");

    // an admin's confirmation on B reaches the leader's detector
    r.b.incidents().act(&opened[0].id, None, &crate::incidents::IncidentAction::Confirm(Some("Use webmail".into()))).unwrap();
    catch_up(&r.a);
    let on_a = r.a.incidents().get(&opened[0].id, None).unwrap();
    assert_eq!((on_a.status, on_a.message.as_deref()), (crate::incidents::Status::Confirmed, Some("Use webmail")));
}

#[test]
fn following_is_on_for_postgresql_and_off_for_the_embedded_store_unless_forced() {
    let root = tempfile::tempdir().unwrap();
    let params = EngineParams::new(kb(), root.path().join("x"));
    assert!(params.follow.enabled.is_none());
    let (engine, _) = TriageEngine::open(&params).unwrap();
    assert!(!engine.follows_changes(), "one process on its SQLite file has no one to follow");
    let engine = Arc::new(engine);
    assert!(!engine.start_following().unwrap());
    let mut pg = params.clone();
    pg.store_url = Some(triage_store::StoreUrl::parse("postgres://triage@127.0.0.1:1/triage").unwrap());
    assert!(pg.follow.enabled.unwrap_or(pg.store_url.is_some()), "auto follows a shared store");
}

/// A copy of a bundle under another version name (the manifest names its version).
fn copy_bundle(from: &Path, to: &Path, version: &str) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
    let manifest = to.join("manifest.json");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    json["version"] = serde_json::Value::String(version.into());
    std::fs::write(&manifest, serde_json::to_string_pretty(&json).unwrap()).unwrap();
}
