//! The change feed replicas follow: every write a replica keeps in memory appends one entry in
//! its own transaction, numbered without gaps in commit order, tagged with the writer's origin.

use std::sync::Arc;

use triage_core::tenant::TenantId;

use super::now;
use super::records::ticket;
use crate::{ApiKeyRecord, ChangeKind, Feedback, IncidentRow, ModelRecord, ModelStatus, Outcome, Store, TriageRecord};

fn kinds(s: &dyn Store, after: u64) -> Vec<(ChangeKind, String, Option<String>)> {
    s.changes_since(after, 100).unwrap().into_iter().map(|c| (c.kind, c.subject, c.detail)).collect()
}

fn record(id: &str) -> TriageRecord {
    TriageRecord {
        triage_id: id.into(),
        tenant: Some(TenantId::parse("north").unwrap()),
        external_id: None,
        created_at: now(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec!["article:vpn".into()],
        text: Some("vpn down".into()),
        no_good_fix: false,
    }
}

pub(super) fn every_followed_write_appends_one_change_in_order_with_its_origin(s: &dyn Store) {
    let north = TenantId::parse("north").unwrap();
    assert_eq!(s.change_head().unwrap(), 0);
    assert!(s.changes_since(0, 10).unwrap().is_empty());
    let report = s.upsert_resolved(&[ticket("north", "T1", "vpn", None), ticket("north", "T2", "mail", None)]).unwrap();
    let seq = report.seq.to_string();
    assert_eq!(
        kinds(s, 0),
        [(ChangeKind::Resolved, "T1".to_owned(), Some(seq.clone())), (ChangeKind::Resolved, "T2".to_owned(), Some(seq))],
        "one change per ticket, carrying the resolved-ticket sequence the index records"
    );
    let (_, erased_seq) = s.delete_resolved(&north, "T2").unwrap();
    s.record_triage(&record("tr1")).unwrap();
    let feedback = |outcome| Feedback {
        triage_id: "tr1".into(),
        tenant: Some(north.clone()),
        suggestion: Some("article:vpn".into()),
        outcome,
        corrected_labels: Default::default(),
        created_at: now(),
    };
    s.add_feedback(&feedback(Outcome::Resolved)).unwrap();
    s.add_feedback(&feedback(Outcome::Resolved)).unwrap(); // a retry changes nothing: no entry
    s.register_model(&ModelRecord {
        version: "v1".into(),
        path: "models/v1".into(),
        created_at: now(),
        status: ModelStatus::Candidate,
        report: serde_json::json!({}),
    })
    .unwrap();
    s.set_live("v1", "promote").unwrap();
    let key = ApiKeyRecord {
        id: "k1".into(),
        hash: "h1".into(),
        tenant: Some(north.clone()),
        role: triage_core::auth::Role::Agent,
        label: "desk".into(),
        created_at: now(),
        revoked_at: None,
    };
    s.create_key(&key).unwrap();
    assert!(s.revoke_key(Some(&north), "k1").unwrap());
    assert!(!s.revoke_key(Some(&north), "k1").unwrap(), "a second revocation changes nothing: no entry");
    let incident = IncidentRow {
        id: "inc-1".into(),
        status: "suspected".into(),
        opened_at: now(),
        status_at: now(),
        message: None,
        expected_at_open: 0.1,
    };
    s.incident_save(&incident, &[]).unwrap();
    assert_eq!(
        kinds(s, 2),
        [
            (ChangeKind::ResolvedErased, "T2".to_owned(), Some(erased_seq.to_string())),
            (ChangeKind::Feedback, "tr1".to_owned(), Some("resolved article:vpn".to_owned())),
            (ChangeKind::ModelLive, "v1".to_owned(), Some("promote".to_owned())),
            (ChangeKind::Key, "k1".to_owned(), Some("created".to_owned())),
            (ChangeKind::Key, "k1".to_owned(), Some("revoked".to_owned())),
            (ChangeKind::Incident, "inc-1".to_owned(), None),
        ]
    );
    let all = s.changes_since(0, 100).unwrap();
    assert_eq!(all.iter().map(|c| c.seq).collect::<Vec<_>>(), (1..=8).collect::<Vec<u64>>(), "numbered without gaps");
    assert_eq!(s.change_head().unwrap(), 8);
    assert!(all.iter().all(|c| c.origin == s.origin()), "every entry names the handle that wrote it");
    assert_eq!(all[0].tenant.as_ref(), Some(&north));
    assert_eq!(s.changes_since(3, 2).unwrap().iter().map(|c| c.seq).collect::<Vec<_>>(), [4, 5], "paged from a sequence");
}

pub(super) fn a_failed_write_leaves_no_change_and_no_gap(s: &dyn Store) {
    s.upsert_resolved(&[ticket("north", "T1", "vpn", None)]).unwrap();
    // an unknown version is refused inside the transaction: the feed is untouched
    assert!(s.set_live("nope", "promote").is_err());
    s.upsert_resolved(&[ticket("north", "T2", "vpn", None)]).unwrap();
    let seqs: Vec<u64> = s.changes_since(0, 10).unwrap().iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [1, 2]);
}

pub(super) fn one_resolved_ticket_and_feedback_counts_of_named_suggestions_are_read_back(s: &dyn Store) {
    let north = TenantId::parse("north").unwrap();
    s.upsert_resolved(&[ticket("north", "T1", "vpn drops", Some(true))]).unwrap();
    let t = s.resolved_ticket(&north, "T1").unwrap().expect("stored");
    assert_eq!((t.title.as_str(), t.resolved_at_first_contact), ("vpn drops", Some(true)));
    assert!(s.resolved_ticket(&TenantId::parse("south").unwrap(), "T1").unwrap().is_none(), "another tenant's id is not it");
    s.upsert_resolved(&[ticket("south", "T2", "mail", None)]).unwrap();
    let keys = [
        (north.clone(), "T1".to_owned()),
        (TenantId::parse("south").unwrap(), "T1".to_owned()),
        (TenantId::parse("south").unwrap(), "T2".to_owned()),
    ];
    let mut many: Vec<(String, String)> =
        s.resolved_tickets(&keys).unwrap().into_iter().map(|t| (t.tenant.as_str().to_owned(), t.external_id)).collect();
    many.sort();
    assert_eq!(
        many,
        [("north".to_owned(), "T1".to_owned()), ("south".to_owned(), "T2".to_owned())],
        "the stored ones, by tenant and id together"
    );
    s.record_triage(&record("tr1")).unwrap();
    s.record_triage(&TriageRecord { suggestions: vec!["article:vpn".into(), "article:mail".into()], ..record("tr2") }).unwrap();
    for (triage, suggestion, outcome) in
        [("tr1", "article:vpn", Outcome::Resolved), ("tr2", "article:vpn", Outcome::NotHelpful), ("tr2", "article:mail", Outcome::Helpful)]
    {
        s.add_feedback(&Feedback {
            triage_id: triage.into(),
            tenant: Some(north.clone()),
            suggestion: Some(suggestion.into()),
            outcome,
            corrected_labels: Default::default(),
            created_at: now(),
        })
        .unwrap();
    }
    let counts = s.feedback_counts_for(&["article:vpn".into(), "article:none".into()]).unwrap();
    assert_eq!(counts.len(), 1, "a suggestion without feedback is left out, an unnamed one is not read");
    assert_eq!(counts[0].0, "article:vpn");
    assert_eq!((counts[0].1.resolved, counts[0].1.helpful, counts[0].1.not_helpful), (1, 0, 1));
}

pub(super) fn pruning_keeps_the_newest_change_and_the_head(s: &dyn Store) {
    for id in ["T1", "T2", "T3"] {
        s.upsert_resolved(&[ticket("north", id, "vpn", None)]).unwrap();
    }
    assert_eq!(s.prune_changes("2000-01-01T00:00:00Z").unwrap(), 0, "nothing that old");
    assert_eq!(s.prune_changes("2999-01-01T00:00:00Z").unwrap(), 2);
    let left = s.changes_since(0, 10).unwrap();
    assert_eq!(left.iter().map(|c| c.seq).collect::<Vec<_>>(), [3], "a follower at 0 sees the gap (first entry 3, not 1)");
    assert_eq!(s.change_head().unwrap(), 3);
    s.upsert_resolved(&[ticket("north", "T4", "vpn", None)]).unwrap();
    assert_eq!(s.change_head().unwrap(), 4, "numbering continues after pruning");
}

pub(super) fn an_index_finds_where_it_resumes_in_the_feed_by_its_resolved_sequence(s: &dyn Store) {
    let r1 = s.upsert_resolved(&[ticket("north", "T1", "vpn", None)]).unwrap().seq;
    s.record_triage(&record("tr1")).unwrap();
    let r2 = s.upsert_resolved(&[ticket("north", "T2", "vpn", None), ticket("north", "T3", "vpn", None)]).unwrap().seq;
    let (_, r3) = s.delete_resolved(&TenantId::parse("north").unwrap(), "T1").unwrap();
    assert_eq!(s.resolved_changes_after(0).unwrap(), Some((1, r1)));
    assert_eq!(s.resolved_changes_after(r1).unwrap(), Some((2, r2)), "the first change of the next write");
    assert_eq!(s.resolved_changes_after(r2).unwrap(), Some((4, r3)));
    assert_eq!(s.resolved_changes_after(r3).unwrap(), None, "nothing later");
    // numbers compare as numbers, not text ("10" > "9")
    for i in 0..10 {
        s.upsert_resolved(&[ticket("north", &format!("N{i}"), "vpn", None)]).unwrap();
    }
    assert_eq!(s.resolved_changes_after(9).unwrap().map(|(_, r)| r), Some(10));
}

pub(super) fn triage_records_are_read_from_a_time_on_oldest_first_with_their_suggestions(s: &dyn Store) {
    let at = |id: &str, t: &str, text: Option<&str>| TriageRecord {
        created_at: t.into(),
        text: text.map(str::to_owned),
        suggestions: vec!["incident:inc-1".into(), "article:vpn".into()],
        ..record(id)
    };
    s.record_triages(&[
        at("t1", "2026-11-30T09:00:00Z", Some("old")),
        at("t3", "2026-11-30T09:05:00Z", Some("third")),
        at("t2", "2026-11-30T09:05:00Z", Some("second")),
        at("t4", "2026-11-30T09:06:00Z", None),
        at("t5", "2026-11-30T09:07:00Z", Some("fifth")),
    ])
    .unwrap();
    let read = s.triage_records_since("2026-11-30T09:05:00Z", 10).unwrap();
    let ids: Vec<&str> = read.iter().map(|r| r.triage_id.as_str()).collect();
    assert_eq!(ids, ["t2", "t3", "t5"], "from the time on (inclusive), by time then id, only with a text");
    assert_eq!(read[0].suggestions[0], "incident:inc-1");
    assert_eq!(read[0].tenant.as_ref().map(TenantId::as_str), Some("north"));
    assert_eq!(s.triage_records_since("2026-11-30T09:05:00Z", 1).unwrap().len(), 1);
}

pub(super) fn leadership_is_held_by_one_handle_at_a_time(s: &dyn Store) {
    assert!(s.hold_leadership("incidents").unwrap());
    assert!(s.hold_leadership("incidents").unwrap(), "held: asking again keeps it");
}

pub(super) fn concurrent_writers_number_changes_in_commit_order(s: &dyn Store) {
    // several threads write at once; every change is numbered once, without gaps, and a reader
    // never sees a number appear below one it has already read
    let store: &(dyn Store + Sync) = s;
    let seen = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    std::thread::scope(|scope| {
        for w in 0..4 {
            scope.spawn(move || {
                for i in 0..10 {
                    store.upsert_resolved(&[ticket("north", &format!("W{w}-{i}"), "vpn", None)]).unwrap();
                }
            });
        }
        let seen = Arc::clone(&seen);
        scope.spawn(move || {
            let mut last = 0;
            while last < 40 {
                for c in store.changes_since(last, 100).unwrap() {
                    assert_eq!(c.seq, last + 1, "a follower reads every number once, in order");
                    last = c.seq;
                    seen.lock().unwrap().push(c.seq);
                }
            }
        });
    });
    assert_eq!(seen.lock().unwrap().len(), 40);
}

crate::conformance::cases!(
    every_followed_write_appends_one_change_in_order_with_its_origin,
    a_failed_write_leaves_no_change_and_no_gap,
    one_resolved_ticket_and_feedback_counts_of_named_suggestions_are_read_back,
    pruning_keeps_the_newest_change_and_the_head,
    concurrent_writers_number_changes_in_commit_order,
    an_index_finds_where_it_resumes_in_the_feed_by_its_resolved_sequence,
    triage_records_are_read_from_a_time_on_oldest_first_with_their_suggestions,
    leadership_is_held_by_one_handle_at_a_time,
);
