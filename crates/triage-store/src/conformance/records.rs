//! Resolved tickets, triage records, feedback, the model registry, keys and the audit log.

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_core::time::Timestamp;

use super::now;
use crate::{
    ApiKeyRecord, AuditEntry, Feedback, FeedbackCounts, FeedbackWrite, ModelRecord, ModelStatus, Outcome, Store, StoreError, TriageRecord,
    UpsertReport,
};

pub(super) fn ticket(tenant: &str, id: &str, title: &str, fcr: Option<bool>) -> ResolvedTicket {
    ResolvedTicket::parse(&RawResolved {
        tenant,
        external_id: id,
        title: Some(title),
        category: Some("printing"),
        resolution_notes: Some("restarted the spooler"),
        resolved_at_first_contact: fcr,
        resolved_at: Some("2026-11-20T10:00:00Z"),
        ..RawResolved::default()
    })
    .unwrap()
}

pub(super) fn upsert_is_idempotent_on_tenant_and_external_id(s: &dyn Store) {
    let a = ticket("northmoor", "INC1", "printer jam", Some(true));
    let r = s.upsert_resolved(&[a.clone(), ticket("eastbrook", "INC1", "vpn", None)]).unwrap();
    assert_eq!(r, UpsertReport { inserted: 2, updated: 0, seq: 1 });
    let changed = ResolvedTicket { title: "printer jam again".into(), ..a };
    let r = s.upsert_resolved(&[changed]).unwrap();
    assert_eq!(r, UpsertReport { inserted: 0, updated: 1, seq: 2 });
    assert_eq!(s.resolved_count(None).unwrap(), 2);
    let mut titles = Vec::new();
    s.for_each_resolved(&mut |t| titles.push(t.title)).unwrap();
    assert_eq!(titles, vec!["vpn", "printer jam again"]);
}

pub(super) fn triage_records_are_found_only_by_their_tenant(s: &dyn Store) {
    let north = TenantId::parse("northmoor").unwrap();
    let rec = TriageRecord {
        triage_id: "t1".into(),
        tenant: Some(north.clone()),
        external_id: None,
        created_at: now(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec!["article:a".into()],
        text: Some("printer [piiphone]".into()),
        no_good_fix: false,
    };
    s.record_triage(&rec).unwrap();
    assert_eq!(s.triage_record(Some(&north), "t1").unwrap().unwrap(), rec);
    assert!(s.triage_record(Some(&TenantId::parse("eastbrook").unwrap()), "t1").unwrap().is_none());
    assert!(s.triage_record(None, "t1").unwrap().is_none());
}

pub(super) fn suggestion_usage_counts_offers_first_places_and_feedback_per_tenant_and_window(s: &dyn Store) {
    let north = TenantId::parse("northmoor").unwrap();
    let east = TenantId::parse("eastbrook").unwrap();
    let rec = |id: &str, tenant: &TenantId, at: &str, suggestions: &[&str]| TriageRecord {
        triage_id: id.into(),
        tenant: Some(tenant.clone()),
        external_id: None,
        created_at: at.into(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: suggestions.iter().map(|s| (*s).to_owned()).collect(),
        text: None,
        no_good_fix: false,
    };
    s.record_triages(&[
        rec("t1", &north, "2026-11-01T09:00:00Z", &["article:a", "article:b"]),
        rec("t2", &north, "2026-11-20T09:00:00Z", &["article:b", "article:a", "ticket:INC9"]),
        rec("t3", &east, "2026-11-20T09:00:00Z", &["article:a"]),
    ])
    .unwrap();
    let fb = |id: &str, tenant: &TenantId, outcome: Outcome| Feedback {
        triage_id: id.into(),
        tenant: Some(tenant.clone()),
        suggestion: Some("article:a".into()),
        outcome,
        corrected_labels: Default::default(),
        created_at: "2026-11-20T10:00:00Z".into(),
    };
    s.add_feedback(&fb("t2", &north, Outcome::Resolved)).unwrap();
    s.add_feedback(&fb("t2", &north, Outcome::NotHelpful)).unwrap();
    s.add_feedback(&fb("t3", &east, Outcome::Helpful)).unwrap();

    let usage = s.suggestion_usage(Some(&north), None).unwrap();
    let a = usage.iter().find(|u| u.suggestion == "article:a").unwrap();
    assert_eq!((a.offered, a.offered_first), (2, 1));
    assert_eq!(a.feedback, FeedbackCounts { resolved: 1, helpful: 0, not_helpful: 1 }, "eastbrook's feedback is not counted");
    let b = usage.iter().find(|u| u.suggestion == "article:b").unwrap();
    assert_eq!((b.offered, b.offered_first), (2, 1));
    assert!(usage.iter().any(|u| u.suggestion == "ticket:INC9" && u.offered == 1 && u.offered_first == 0));

    let recent = s.suggestion_usage(Some(&north), Some(&Timestamp::parse("2026-11-10T00:00:00Z").unwrap())).unwrap();
    let a = recent.iter().find(|u| u.suggestion == "article:a").unwrap();
    assert_eq!((a.offered, a.offered_first), (1, 0), "the window drops t1");
    let all = s.suggestion_usage(None, None).unwrap();
    assert_eq!(all.iter().find(|u| u.suggestion == "article:a").unwrap().offered, 3);

    let given = s.feedback_for("t2").unwrap();
    assert_eq!(given.iter().map(|f| f.outcome).collect::<Vec<_>>(), vec![Outcome::Resolved, Outcome::NotHelpful]);
    assert!(s.feedback_for("nope").unwrap().is_empty());
}

pub(super) fn feedback_is_counted_per_suggestion(s: &dyn Store) {
    let rec = TriageRecord {
        triage_id: "t1".into(),
        tenant: None,
        external_id: None,
        created_at: now(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec![],
        text: Some("vpn down".into()),
        no_good_fix: false,
    };
    s.record_triage(&rec).unwrap();
    let writes = [
        (Outcome::Resolved, FeedbackWrite::New, "first resolved"),
        (Outcome::Helpful, FeedbackWrite::New, "another outcome of the same suggestion"),
        (Outcome::NotHelpful, FeedbackWrite::New, "the agent changed their mind"),
        (Outcome::Resolved, FeedbackWrite::Repeated, "a retried request is stored once"),
    ];
    for (outcome, expected, why) in writes {
        let f = Feedback {
            triage_id: "t1".into(),
            tenant: None,
            suggestion: Some("article:a".into()),
            outcome,
            corrected_labels: Default::default(),
            created_at: now(),
        };
        assert_eq!(s.add_feedback(&f).unwrap(), expected, "{why}");
    }
    let first = Feedback {
        triage_id: "t1".into(),
        tenant: None,
        suggestion: None,
        outcome: Outcome::Helpful,
        corrected_labels: [("category".to_owned(), "printing".to_owned())].into(),
        created_at: now(),
    };
    assert_eq!(s.add_feedback(&first).unwrap(), FeedbackWrite::New);
    assert_eq!(s.add_feedback(&first).unwrap(), FeedbackWrite::Repeated);
    let fix = Feedback {
        triage_id: "t1".into(),
        tenant: None,
        suggestion: None,
        outcome: Outcome::Helpful,
        corrected_labels: [("category".to_owned(), "remote-access".to_owned())].into(),
        created_at: now(),
    };
    assert_eq!(s.add_feedback(&fix).unwrap(), FeedbackWrite::Updated, "new labels replace the earlier ones");
    let corrections = s.corrections().unwrap();
    assert_eq!(corrections.len(), 1, "only the latest correction of a triage counts");
    assert_eq!((corrections[0].text.as_str(), corrections[0].labels["category"].as_str()), ("vpn down", "remote-access"));
    let counts = s.feedback_counts().unwrap();
    assert_eq!(counts, vec![("article:a".to_owned(), FeedbackCounts { resolved: 1, helpful: 1, not_helpful: 1 })]);
    assert_eq!(s.feedback_for("t1").unwrap().len(), 4, "three outcomes of the article and one set of labels");
    let orphan = Feedback {
        triage_id: "nope".into(),
        tenant: None,
        suggestion: None,
        outcome: Outcome::Helpful,
        corrected_labels: Default::default(),
        created_at: now(),
    };
    assert!(s.add_feedback(&orphan).is_err(), "feedback needs an existing triage");
}

pub(super) fn model_registry_tracks_the_live_version_and_its_history(s: &dyn Store) {
    for v in ["v1", "v2"] {
        s.register_model(&ModelRecord {
            version: v.into(),
            path: format!("/m/{v}"),
            created_at: now(),
            status: ModelStatus::Candidate,
            report: serde_json::json!({"v": v}),
        })
        .unwrap();
    }
    s.set_live("v1", "promote").unwrap();
    s.set_live("v2", "promote").unwrap();
    let status: Vec<(String, ModelStatus)> = s.models().unwrap().into_iter().map(|m| (m.version, m.status)).collect();
    assert!(status.contains(&("v2".into(), ModelStatus::Live)) && status.contains(&("v1".into(), ModelStatus::Retired)));
    assert_eq!(s.live_history().unwrap(), vec![("v1".to_owned(), "promote".to_owned()), ("v2".to_owned(), "promote".to_owned())]);
    assert!(matches!(s.set_live("v9", "promote"), Err(StoreError::UnknownModel(_))));
}

pub(super) fn every_resolved_write_advances_the_change_sequence(s: &dyn Store) {
    assert_eq!(s.resolved_seq().unwrap(), 0);
    let t = ticket("northmoor", "INC1", "printer", None);
    assert_eq!(s.upsert_resolved(std::slice::from_ref(&t)).unwrap().seq, 1);
    assert_eq!(s.upsert_resolved(&[t]).unwrap().seq, 2, "an update with the same count still advances it");
    let north = TenantId::parse("northmoor").unwrap();
    assert_eq!(s.delete_resolved(&north, "INC1").unwrap(), (true, 3));
    assert_eq!(s.delete_resolved(&north, "INC1").unwrap(), (false, 4));
    assert_eq!(s.resolved_seq().unwrap(), 4);
}

pub(super) fn registering_an_existing_version_is_refused_and_keeps_the_registered_bundle(s: &dyn Store) {
    let record = |path: &str| ModelRecord {
        version: "v1".into(),
        path: path.into(),
        created_at: now(),
        status: ModelStatus::Candidate,
        report: serde_json::json!({"path": path}),
    };
    s.register_model(&record("models/v1")).unwrap();
    s.set_live("v1", "promote").unwrap();
    assert!(matches!(s.register_model(&record("models/other")), Err(StoreError::ModelExists(v)) if v == "v1"));
    let kept = s.models().unwrap().remove(0);
    assert_eq!((kept.path.as_str(), kept.status), ("models/v1", ModelStatus::Live), "the live entry is untouched");
}

pub(super) fn keys_are_listed_per_tenant_and_revoked_once(s: &dyn Store) {
    let north = TenantId::parse("northmoor").unwrap();
    let key = |id: &str, tenant: Option<&TenantId>| ApiKeyRecord {
        id: id.into(),
        hash: format!("hash-{id}"),
        tenant: tenant.cloned(),
        role: triage_core::auth::Role::Agent,
        label: "desk".into(),
        created_at: now(),
        revoked_at: None,
    };
    s.create_key(&key("k1", Some(&north))).unwrap();
    s.create_key(&key("k2", None)).unwrap();
    assert_eq!(s.keys(Some(&north)).unwrap().len(), 1);
    assert_eq!(s.keys(None).unwrap().len(), 2);
    assert!(!s.revoke_key(Some(&TenantId::parse("eastbrook").unwrap()), "k1").unwrap(), "another tenant cannot revoke it");
    assert!(s.revoke_key(Some(&north), "k1").unwrap());
    assert!(!s.revoke_key(Some(&north), "k1").unwrap(), "already revoked");
    assert!(s.keys(Some(&north)).unwrap()[0].revoked_at.is_some());
    s.audit(&AuditEntry {
        at: now(),
        key_id: Some("k2".into()),
        tenant: Some(north.clone()),
        action: "key.revoke".into(),
        target: "k1".into(),
        outcome: "ok".into(),
    })
    .unwrap();
    s.audit(&AuditEntry {
        at: now(),
        key_id: None,
        tenant: None,
        action: "model.promote".into(),
        target: "v2".into(),
        outcome: "ok".into(),
    })
    .unwrap();
    assert_eq!(s.audit_log(Some(&north), 10).unwrap().len(), 1);
    assert_eq!(s.audit_log(None, 10).unwrap()[0].action, "model.promote", "newest first");
}

pub(super) fn listings_order_text_byte_wise_whatever_the_database_locale(s: &dyn Store) {
    // byte order, as SQLite compares text: `B` (0x42) < `_` (0x5f) < `a` (0x61); a locale's
    // collation would put `a` first
    s.upsert_resolved(&[ticket("northmoor", "a1", "x", None), ticket("northmoor", "B2", "x", None), ticket("eastbrook", "_3", "x", None)])
        .unwrap();
    let mut ids = Vec::new();
    s.for_each_resolved(&mut |t| ids.push(format!("{}/{}", t.tenant.as_str(), t.external_id))).unwrap();
    assert_eq!(ids, ["eastbrook/_3", "northmoor/B2", "northmoor/a1"]);
    for v in ["a", "B", "_"] {
        let record = ModelRecord {
            version: v.into(),
            path: format!("models/{v}"),
            created_at: "2026-11-20T10:00:00Z".into(),
            status: ModelStatus::Candidate,
            report: serde_json::json!({}),
        };
        s.register_model(&record).unwrap();
    }
    let versions: Vec<String> = s.models().unwrap().into_iter().map(|m| m.version).collect();
    assert_eq!(versions, ["a", "_", "B"], "same time: version descending, byte-wise");
}

pub(super) fn article_feedback_is_replayed_oldest_first_with_its_triage_text(s: &dyn Store) {
    let north = TenantId::parse("northmoor").unwrap();
    let record = |id: &str, tenant: Option<&TenantId>, text: Option<&str>| TriageRecord {
        triage_id: id.into(),
        tenant: tenant.cloned(),
        external_id: None,
        created_at: "2026-11-20T09:00:00Z".into(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec!["article:a".into()],
        text: text.map(str::to_owned),
        no_good_fix: false,
    };
    s.record_triages(&[
        record("t1", Some(&north), Some("printer jammed")),
        record("t2", None, Some("no tenant")),
        record("t3", Some(&north), None),
        record("t4", Some(&north), Some("vpn drops")),
    ])
    .unwrap();
    let fb = |id: &str, suggestion: &str, outcome: Outcome| Feedback {
        triage_id: id.into(),
        tenant: None,
        suggestion: Some(suggestion.into()),
        outcome,
        corrected_labels: Default::default(),
        created_at: format!("2026-11-20T10:00:0{}Z", id.len()),
    };
    for f in [
        fb("t4", "article:vpn", Outcome::NotHelpful),
        fb("t1", "article:a", Outcome::Resolved),
        fb("t1", "ticket:INC1", Outcome::Helpful),
        fb("t2", "article:a", Outcome::Helpful),
        fb("t3", "article:a", Outcome::Helpful),
    ] {
        s.add_feedback(&f).unwrap();
    }
    let mut seen = Vec::new();
    s.for_each_article_feedback(&mut |a| seen.push((a.triage_id, a.suggestion, a.outcome, a.text))).unwrap();
    assert_eq!(
        seen,
        [
            ("t4".to_owned(), "article:vpn".to_owned(), Outcome::NotHelpful, "vpn drops".to_owned()),
            ("t1".to_owned(), "article:a".to_owned(), Outcome::Resolved, "printer jammed".to_owned()),
        ],
        "in the order given; not a ticket suggestion, a triage without tenant or one without text"
    );
}

crate::conformance::cases!(
    article_feedback_is_replayed_oldest_first_with_its_triage_text,
    listings_order_text_byte_wise_whatever_the_database_locale,
    upsert_is_idempotent_on_tenant_and_external_id,
    triage_records_are_found_only_by_their_tenant,
    suggestion_usage_counts_offers_first_places_and_feedback_per_tenant_and_window,
    feedback_is_counted_per_suggestion,
    model_registry_tracks_the_live_version_and_its_history,
    every_resolved_write_advances_the_change_sequence,
    registering_an_existing_version_is_refused_and_keeps_the_registered_bundle,
    keys_are_listed_per_tenant_and_revoked_once,
);
