//! Major incidents and the triage texts that seed the detector.

use crate::{IncidentMemberRow, IncidentRow, Store, TriageRecord};

fn member(id: &str, at: &str) -> IncidentMemberRow {
    IncidentMemberRow {
        triage_id: id.into(),
        tenant: Some("north".into()),
        at: at.into(),
        similarity: 0.5,
        title: format!("ticket {id}"),
        terms: "outlook send".into(),
    }
}

fn row(status: &str) -> IncidentRow {
    IncidentRow {
        id: "inc-000000000001".into(),
        status: status.into(),
        opened_at: "2026-11-30T09:00:00Z".into(),
        status_at: "2026-11-30T09:00:00Z".into(),
        message: None,
        expected_at_open: 0.25,
    }
}

pub(super) fn an_incident_keeps_its_latest_state_and_each_member_once(store: &dyn Store) {
    store.incident_save(&row("suspected"), &[member("t1", "2026-11-30T09:00:00Z"), member("t2", "2026-11-30T09:01:00Z")]).unwrap();
    let confirmed = IncidentRow { status: "confirmed".into(), message: Some("Known fault".into()), ..row("confirmed") };
    // a member saved twice (a retried write) stays one member
    store.incident_save(&confirmed, &[member("t2", "2026-11-30T09:01:00Z"), member("t3", "2026-11-30T09:02:00Z")]).unwrap();
    let loaded = store.incidents("2100-01-01T00:00:00Z").unwrap();
    assert_eq!(loaded.len(), 1, "an open incident loads whatever its age");
    let (incident, members) = &loaded[0];
    assert_eq!(incident, &confirmed);
    assert_eq!(members.iter().map(|m| m.triage_id.as_str()).collect::<Vec<_>>(), ["t1", "t2", "t3"]);
    assert_eq!(members[0], member("t1", "2026-11-30T09:00:00Z"));
}

pub(super) fn closed_incidents_load_only_when_changed_in_the_window(store: &dyn Store) {
    store.incident_save(&row("dismissed"), &[]).unwrap();
    assert!(store.incidents("2100-01-01T00:00:00Z").unwrap().is_empty());
    assert_eq!(store.incidents("2000-01-01T00:00:00Z").unwrap().len(), 1);
}

pub(super) fn triage_texts_replay_the_newest_records_oldest_first(store: &dyn Store) {
    let record = |id: &str, at: &str, text: Option<&str>| TriageRecord {
        triage_id: id.into(),
        tenant: None,
        external_id: None,
        created_at: at.into(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec![],
        text: text.map(str::to_owned),
        no_good_fix: false,
    };
    store
        .record_triages(&[
            record("a", "2026-11-28T09:00:00Z", Some("too old")),
            record("b", "2026-11-30T09:00:00Z", Some("first")),
            record("c", "2026-11-30T09:05:00Z", None),
            record("d", "2026-11-30T09:10:00Z", Some("second")),
            record("e", "2026-11-30T09:20:00Z", Some("third")),
        ])
        .unwrap();
    let mut seen = Vec::new();
    store.for_each_triage_text("2026-11-29T00:00:00Z", 2, &mut |at, text| seen.push(format!("{at} {text}"))).unwrap();
    assert_eq!(seen, ["2026-11-30T09:10:00Z second", "2026-11-30T09:20:00Z third"]);
}

crate::conformance::cases!(
    an_incident_keeps_its_latest_state_and_each_member_once,
    closed_incidents_load_only_when_changed_in_the_window,
    triage_texts_replay_the_newest_records_oldest_first,
);
