//! Desk statistics against a hand-made history.

use triage_core::tenant::TenantId;
use triage_core::ticket_resolved::{RawResolved, ResolvedTicket};
use triage_core::time::{DeskTimeZone, Timestamp};

use crate::{CategoryStats, Feedback, Outcome, StatsQuery, Store, TriageRecord};

fn resolved(tenant: &str, id: &str, category: &str, fcr: Option<bool>, at: &str) -> ResolvedTicket {
    ResolvedTicket::parse(&RawResolved {
        tenant,
        external_id: id,
        title: Some("t"),
        category: Some(category),
        resolved_at_first_contact: fcr,
        resolved_at: Some(at),
        ..RawResolved::default()
    })
    .unwrap()
}

fn triage(id: &str, tenant: &str, ext: &str, at: &str, label: &str, decision: &str) -> TriageRecord {
    TriageRecord {
        triage_id: id.into(),
        tenant: Some(TenantId::parse(tenant).unwrap()),
        external_id: Some(ext.into()),
        created_at: at.into(),
        model_version: Some("v1".into()),
        labels: serde_json::json!({"category": {"label": label, "decision": decision}}),
        suggestions: vec![],
        text: None,
        no_good_fix: false,
    }
}

pub(super) fn stats_match_a_hand_made_history(s: &dyn Store) {
    // northmoor: 4 resolved in the window (3 flagged, 2 at first contact), 1 outside it
    s.upsert_resolved(&[
        resolved("northmoor", "A", "printing", Some(true), "2026-11-20T09:00:00Z"),
        resolved("northmoor", "B", "printing", Some(false), "2026-11-20T10:00:00Z"),
        resolved("northmoor", "C", "accounts", Some(true), "2026-11-21T09:00:00Z"),
        resolved("northmoor", "D", "accounts", None, "2026-11-21T11:00:00Z"),
        resolved("northmoor", "OLD", "accounts", Some(false), "2026-10-01T09:00:00Z"),
        resolved("eastbrook", "X", "printing", Some(false), "2026-11-20T09:00:00Z"),
    ])
    .unwrap();
    // triages: A auto right, B auto wrong, C suggest, E auto without a resolved ticket
    for r in [
        triage("t1", "northmoor", "A", "2026-11-20T08:00:00Z", "printing", "auto"),
        triage("t2", "northmoor", "B", "2026-11-20T08:30:00Z", "network", "auto"),
        triage("t3", "northmoor", "C", "2026-11-21T08:00:00Z", "accounts", "suggest"),
        triage("t4", "northmoor", "E", "2026-11-21T08:10:00Z", "printing", "auto"),
        triage("t5", "eastbrook", "X", "2026-11-20T08:00:00Z", "printing", "auto"),
    ] {
        s.record_triage(&r).unwrap();
    }
    for (id, outcome) in [("t1", Outcome::Resolved), ("t2", Outcome::NotHelpful), ("t5", Outcome::Helpful)] {
        let f = Feedback {
            triage_id: id.into(),
            tenant: None,
            suggestion: None,
            outcome,
            corrected_labels: Default::default(),
            created_at: "2026-11-22T00:00:00Z".into(),
        };
        s.add_feedback(&f).unwrap();
    }
    let q = StatsQuery {
        tenant: Some(TenantId::parse("northmoor").unwrap()),
        from: Some(Timestamp::parse("2026-11-01T00:00:00Z").unwrap()),
        to: Some(Timestamp::parse("2026-12-01T00:00:00Z").unwrap()),
        time_zone: DeskTimeZone::default(),
    };
    let st = s.stats(&q).unwrap();
    assert_eq!(st.triages, 4);
    assert_eq!(st.resolved, 4);
    assert_eq!(st.first_contact_rate, Some(2.0 / 3.0));
    assert_eq!(st.feedback_rate, Some(0.5));
    assert_eq!(st.acceptance_rate, Some(0.5));
    let cat = &st.auto["category"];
    assert_eq!((cat.decisions, cat.auto, cat.auto_checked, cat.auto_correct), (4, 3, 2, 1));
    assert_eq!(cat.auto_share, Some(0.75));
    assert_eq!(cat.auto_accuracy, Some(0.5));
    assert_eq!(
        st.per_category,
        vec![
            CategoryStats { category: "accounts".into(), resolved: 2, first_contact_rate: Some(1.0) },
            CategoryStats { category: "printing".into(), resolved: 2, first_contact_rate: Some(0.5) },
        ]
    );
    assert_eq!(
        st.per_day.iter().map(|d| (d.day.as_str(), d.triages, d.resolved)).collect::<Vec<_>>(),
        vec![("2026-11-20", 2, 2), ("2026-11-21", 2, 2)]
    );
    let everyone = s.stats(&StatsQuery { from: q.from, ..StatsQuery::default() }).unwrap();
    assert_eq!((everyone.triages, everyone.resolved), (5, 5));
}

pub(super) fn per_day_rows_count_each_record_on_its_day_in_the_desk_time_zone(s: &dyn Store) {
    s.upsert_resolved(&[
        resolved("northmoor", "BST", "printing", Some(true), "2026-07-01T00:30:00+01:00"),
        resolved("northmoor", "GMT", "printing", Some(true), "2026-01-15T00:30:00Z"),
    ])
    .unwrap();
    s.record_triage(&triage("t1", "northmoor", "BST", "2026-06-30T23:10:00Z", "printing", "auto")).unwrap();
    let per_day = |zone: &str| {
        let q = StatsQuery { time_zone: DeskTimeZone::parse(zone).unwrap(), ..StatsQuery::default() };
        s.stats(&q).unwrap().per_day.into_iter().map(|d| (d.day, d.triages, d.resolved)).collect::<Vec<_>>()
    };
    let days = |rows: &[(&str, u64, u64)]| rows.iter().map(|(d, t, r)| ((*d).to_owned(), *t, *r)).collect::<Vec<_>>();
    assert_eq!(
        per_day("Europe/London"),
        days(&[("2026-01-15", 0, 1), ("2026-07-01", 1, 1)]),
        "00:30 BST and 00:10 BST are on the UK day; 00:30 GMT too"
    );
    assert_eq!(per_day("UTC"), days(&[("2026-01-15", 0, 1), ("2026-06-30", 1, 1)]), "the same records on UTC days");
    assert_eq!(
        per_day("America/St_Johns"),
        days(&[("2026-01-14", 0, 1), ("2026-06-30", 1, 1)]),
        "a half-hour zone (UTC-03:30 in winter, -02:30 in summer)"
    );
}

pub(super) fn window_bounds_compare_instants_not_the_text_that_was_sent(s: &dyn Store) {
    s.upsert_resolved(&[resolved("northmoor", "A", "printing", None, "2026-07-01T00:30:00+01:00")]).unwrap();
    let count = |from: &str, to: &str| {
        let q =
            StatsQuery { from: Some(Timestamp::parse(from).unwrap()), to: Some(Timestamp::parse(to).unwrap()), ..StatsQuery::default() };
        s.stats(&q).unwrap().resolved
    };
    assert_eq!(count("2026-06-30T23:00:00Z", "2026-07-01T00:00:00Z"), 1, "23:30 UTC is inside the last hour of 30 June");
    assert_eq!(count("2026-07-01T00:00:00+01:00", "2026-07-02T00:00:00+01:00"), 1, "and inside 1 July BST");
    assert_eq!(count("2026-07-01T00:00:00Z", "2026-07-02T00:00:00Z"), 0, "but not inside 1 July UTC");
}

crate::conformance::cases!(
    stats_match_a_hand_made_history,
    per_day_rows_count_each_record_on_its_day_in_the_desk_time_zone,
    window_bounds_compare_instants_not_the_text_that_was_sent,
);
