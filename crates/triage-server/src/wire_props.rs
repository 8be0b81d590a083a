//! Property tests: every parsed field of the request bodies of `POST /v1/triage`,
//! `POST /v1/tickets/resolved` and `POST /v1/triage/{id}/feedback`, and the window bounds of
//! `/v1/stats` and `/v1/kb/articles`, takes any string and answers `Ok` or `Err`, never a panic
//! (a panic resets the client's connection). The exact rules are tested elsewhere.

use proptest::prelude::*;
use triage_core::ticket::NewTicket;
use triage_core::time::DeskTimeZone;

use crate::wire::TriageRequest;
use crate::wire_loop::{FeedbackRequest, ResolvedBatch, ResolvedTicketWire, SuggestionRef, parse_window_bound};

const TIME: &str = "2026-11-25T09:30:00+01:00";

/// Any printable text, or a valid time with one character replaced by any character (the shape
/// that used to reach a slice at byte 19).
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        (0..TIME.len(), any::<char>()).prop_map(|(at, c)| TIME.chars().enumerate().map(|(i, v)| if i == at { c } else { v }).collect()),
        (0..=TIME.len(), "\\PC{0,3}").prop_map(|(cut, tail)| format!("{}{tail}", &TIME[..cut])),
    ]
}

/// Mostly `valid`, so the parse gets past that field to the next ones; sometimes any text.
fn mostly(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![3 => Just(valid.to_owned()), 1 => any_text()]
}

fn maybe_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(any_text())
}

fn resolved_wire() -> impl Strategy<Value = ResolvedTicketWire> {
    let ids = (mostly("northmoor"), mostly("INC1"), proptest::option::of(mostly("printer jam")), maybe_text());
    let labels = (maybe_text(), maybe_text(), maybe_text(), maybe_text(), maybe_text());
    let times = (proptest::option::of(any::<bool>()), maybe_text(), maybe_text());
    (ids, labels, times).prop_map(
        |(
            (tenant, external_id, title, description),
            (category, priority, assignment_group, resolution_notes, kb_article),
            (resolved_at_first_contact, opened_at, resolved_at),
        )| ResolvedTicketWire {
            tenant,
            external_id,
            title,
            description,
            description_format: None,
            category,
            priority,
            assignment_group,
            resolution_notes,
            resolved_at_first_contact,
            kb_article,
            opened_at,
            resolved_at,
        },
    )
}

proptest! {
    #[test]
    fn any_strings_in_a_triage_request_give_ok_or_err(
        (title, description, tenant) in (proptest::option::of(mostly("printer jam")), maybe_text(), proptest::option::of(mostly("northmoor"))),
        (caller, external_id) in (maybe_text(), maybe_text()),
    ) {
        let _ = NewTicket::try_from(TriageRequest { title, description, description_format: None, tenant, channel: None, caller, external_id });
    }

    #[test]
    fn any_strings_in_a_resolved_batch_give_ok_or_err(tickets in proptest::collection::vec(resolved_wire(), 1..4)) {
        for t in &tickets {
            let _ = t.parse();
        }
        let _ = ResolvedBatch { tickets }.parse(1000);
    }

    #[test]
    fn any_strings_in_feedback_give_ok_or_err(
        tenant in proptest::option::of(mostly("northmoor")),
        suggestion in proptest::option::of((any_text(), any_text())),
        outcome in mostly("resolved"),
        corrected in proptest::collection::btree_map(any_text(), any_text(), 0..4),
    ) {
        let body = FeedbackRequest {
            tenant,
            suggestion: suggestion.map(|(kind, id)| SuggestionRef { kind, id }),
            outcome,
            corrected_labels: corrected,
        };
        // the fields the feedback handler parses before it calls the engine
        let _ = body.tenant.as_deref().map(triage_core::tenant::TenantId::parse);
        let _ = triage_engine::Outcome::parse(&body.outcome);
        let json = serde_json::json!({
            "tenant": body.tenant,
            "outcome": body.outcome,
            "suggestion": body.suggestion.as_ref().map(|s| serde_json::json!({"kind": s.kind, "id": s.id})),
            "corrected_labels": body.corrected_labels,
        });
        let _ = crate::body::decode_json::<FeedbackRequest>(json.to_string().as_bytes());
    }

    #[test]
    fn any_string_as_a_window_bound_gives_ok_or_a_400(bound in any_text()) {
        for zone in ["Europe/London", "Asia/Kolkata", "Pacific/Kiritimati"] {
            if let Err(e) = parse_window_bound("from", &bound, &DeskTimeZone::parse(zone).unwrap()) {
                prop_assert_eq!(e.code, crate::problem::ErrorCode::InvalidQuery);
            }
        }
    }
}
