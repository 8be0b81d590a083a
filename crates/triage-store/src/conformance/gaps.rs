//! Knowledge-base gap candidates.

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_core::time::Timestamp;

use crate::{Feedback, Outcome, Store, TriageRecord};

fn record(id: &str, tenant: &str, ext: &str, at: &str, no_good_fix: bool) -> TriageRecord {
    TriageRecord {
        triage_id: id.into(),
        tenant: Some(TenantId::parse(tenant).unwrap()),
        external_id: Some(ext.into()),
        created_at: at.into(),
        model_version: None,
        labels: serde_json::json!({"category": {"label": "printing", "decision": "suggest"}}),
        suggestions: vec!["article:a".into()],
        text: Some(format!("text of {id}")),
        no_good_fix,
    }
}

fn not_helpful(id: &str, tenant: &str) -> Feedback {
    Feedback {
        triage_id: id.into(),
        tenant: Some(TenantId::parse(tenant).unwrap()),
        suggestion: Some("article:a".into()),
        outcome: Outcome::NotHelpful,
        corrected_labels: Default::default(),
        created_at: "2026-11-20T00:00:00Z".into(),
    }
}

fn resolved(tenant: &str, id: &str, notes: &str) -> ResolvedTicket {
    ResolvedTicket::parse(&RawResolved {
        tenant,
        external_id: id,
        title: Some("plotter"),
        resolution_notes: Some(notes),
        resolved_at: Some("2026-11-21T10:00:00Z"),
        ..RawResolved::default()
    })
    .unwrap()
}

pub(super) fn gap_candidates_are_no_good_fix_or_not_helpful_triages_of_the_tenant_in_the_window(s: &dyn Store) {
    let north = TenantId::parse("northmoor").unwrap();
    s.record_triages(&[
        record("ngf", "northmoor", "INC1", "2026-11-20T09:00:00Z", true),
        record("nh", "northmoor", "INC2", "2026-11-20T10:00:00Z", false),
        record("fine", "northmoor", "INC3", "2026-11-20T11:00:00Z", false),
        record("old", "northmoor", "INC4", "2026-10-01T11:00:00Z", true),
        record("east", "eastbrook", "INC1", "2026-11-20T09:30:00Z", true),
    ])
    .unwrap();
    s.add_feedback(&not_helpful("nh", "northmoor")).unwrap();
    s.upsert_resolved(&[resolved("northmoor", "INC1", "reseated the plotter drum"), resolved("eastbrook", "INC2", "east notes")]).unwrap();

    let from = Timestamp::parse("2026-11-01T00:00:00Z").unwrap();
    let got = s.gap_candidates(&north, Some(&from), None, 100).unwrap();
    let ids: Vec<&str> = got.iter().map(|c| c.triage_id.as_str()).collect();
    assert_eq!(ids, vec!["nh", "ngf"], "newest first; not the fine one, the old one or eastbrook's");
    assert!(got[0].not_helpful && !got[0].no_good_fix, "a not_helpful feedback counts");
    assert!(got[1].no_good_fix && !got[1].not_helpful, "no_good_fix counts");
    assert_eq!(got[1].resolution_notes.as_deref(), Some("reseated the plotter drum"), "notes of the same tenant and external id");
    assert_eq!(got[0].resolution_notes, None, "eastbrook's INC2 is not northmoor's");
    assert_eq!(got[1].category.as_deref(), Some("printing"));

    let to = Timestamp::parse("2026-11-20T10:00:00Z").unwrap();
    let early = s.gap_candidates(&north, Some(&from), Some(&to), 100).unwrap();
    assert_eq!(early.iter().map(|c| c.triage_id.as_str()).collect::<Vec<_>>(), vec!["ngf"], "`to` is exclusive");
    assert_eq!(s.gap_candidates(&north, None, None, 100).unwrap().len(), 3, "no window: all history");
    assert_eq!(s.gap_candidates(&north, None, None, 1).unwrap().len(), 1, "at most `max`");
    let east = s.gap_candidates(&TenantId::parse("eastbrook").unwrap(), None, None, 100).unwrap();
    assert_eq!(east.iter().map(|c| c.triage_id.as_str()).collect::<Vec<_>>(), vec!["east"]);
}

crate::conformance::cases!(gap_candidates_are_no_good_fix_or_not_helpful_triages_of_the_tenant_in_the_window,);
