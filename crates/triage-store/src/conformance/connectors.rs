//! Connector state: inbound events, the outbox, retention.

use crate::{ConnectorTicket, EventState, NewConnectorEvent, NewOutboxAction, OutboxState, OutboxUpdate, Store};

fn action(marker: &str) -> NewOutboxAction {
    NewOutboxAction {
        connector: "rt".into(),
        external_id: "7".into(),
        action: "note".into(),
        payload: serde_json::json!({"text": "Top fixes"}),
        marker: marker.into(),
    }
}

fn ticket() -> ConnectorTicket {
    ConnectorTicket {
        connector: "rt".into(),
        external_id: "7".into(),
        tenant: Some("northmoor".into()),
        text_hash: "h1".into(),
        triage_id: Some("t1".into()),
        state: serde_json::json!({}),
        resolved: false,
    }
}

pub(super) fn a_retried_event_is_stored_once_and_its_text_leaves_when_processed(s: &dyn Store) {
    let e = NewConnectorEvent {
        connector: "zammad".into(),
        event_key: "delivery-1".into(),
        external_id: "42".into(),
        payload: serde_json::json!({"title": "VPN"}),
    };
    assert!(s.connector_event_insert(&e).unwrap());
    assert!(!s.connector_event_insert(&e).unwrap(), "the same delivery again is a retry");
    let pending = s.connector_events("zammad", Some(EventState::Pending), 10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].payload["title"], "VPN");
    s.connector_apply(&ticket(), &[], Some(pending[0].id)).unwrap();
    assert!(s.connector_events("zammad", Some(EventState::Pending), 10).unwrap().is_empty());
    let done = s.connector_events("zammad", Some(EventState::Done), 10).unwrap();
    assert_eq!(done[0].payload, serde_json::json!({}), "no ticket text kept after processing");
    assert_eq!(s.connector_counts("zammad").unwrap().events_received, 1);
}

pub(super) fn an_action_is_queued_once_held_by_one_claim_and_in_doubt_after_a_crash(s: &dyn Store) {
    assert_eq!(s.connector_apply(&ticket(), &[action("m1"), action("m2")], None).unwrap(), 2);
    assert_eq!(s.connector_apply(&ticket(), &[action("m1")], None).unwrap(), 0, "a marker already queued is skipped");
    let far = i64::MAX / 2;
    const LEASE: i64 = 50_000;
    let first = s.outbox_claim("rt", far, 1, LEASE).unwrap();
    assert_eq!(first.len(), 1);
    assert!(!first[0].in_doubt, "a first attempt is not in doubt");
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].next_attempt_ms, far + LEASE, "held for the lease");
    // while its worker holds it, another replica's outbox thread does not take it
    let elsewhere = s.outbox_claim("rt", far + LEASE - 1, 5, LEASE).unwrap();
    assert_eq!(elsewhere.len(), 1, "only the other action: {elsewhere:?}");
    assert_ne!(elsewhere[0].id, first[0].id, "a held action is not claimed twice");
    assert!(!elsewhere[0].in_doubt);
    // the worker died with the row `sending`: once the lease is over the next claim takes it, in doubt
    let again = s.outbox_claim("rt", far + LEASE, 5, LEASE).unwrap();
    assert_eq!(again.len(), 1, "the other action is still held: {again:?}");
    let crashed = &again[0];
    assert!(crashed.id == first[0].id && crashed.in_doubt && crashed.attempts == 2);
    // the first worker was only stalled: its late result must not overwrite the new claim's
    let late = OutboxUpdate::Retry { next_attempt_ms: 0, error: "late".into(), in_doubt: false };
    assert!(!s.outbox_update(first[0].id, first[0].attempts, &late).unwrap(), "a claim whose lease ended writes nothing");
    assert!(s.outbox_update(crashed.id, crashed.attempts, &OutboxUpdate::Delivered).unwrap());
    assert!(!s.outbox_update(crashed.id, crashed.attempts, &OutboxUpdate::Delivered).unwrap(), "recorded once");
    let other = &elsewhere[0];
    let retry = OutboxUpdate::Retry { next_attempt_ms: far + 3 * LEASE, error: "timeout".into(), in_doubt: true };
    assert!(s.outbox_update(other.id, other.attempts, &retry).unwrap());
    assert!(s.outbox_claim("rt", far + 2 * LEASE, 5, LEASE).unwrap().is_empty(), "not due yet; a delivered action never comes back");
    let later = s.outbox_claim("rt", far + 3 * LEASE, 5, LEASE).unwrap();
    assert!(later.len() == 1 && later[0].in_doubt, "a timeout leaves the delivery in doubt");
    assert!(s.outbox_update(later[0].id, later[0].attempts, &OutboxUpdate::Dead { error: "HTTP 403".into() }).unwrap());
    let c = s.connector_counts("rt").unwrap();
    assert_eq!((c.outbox_pending, c.outbox_delivered, c.outbox_dead), (0, 1, 1));
    assert!(!s.outbox_retry("other", later[0].id, 0).unwrap(), "another connector's row");
    assert!(s.outbox_retry("rt", later[0].id, 0).unwrap());
    let retried = s.outbox_claim("rt", 0, 5, LEASE).unwrap();
    assert_eq!((retried.len(), retried[0].attempts), (1, 1), "a retried dead letter starts its tries again");
    assert_eq!(s.outbox_list("rt", Some(OutboxState::Delivered), 10).unwrap().len(), 1);

    // retention: delivered actions go, the one waiting again stays
    assert_eq!(s.connector_prune("rt", "9999-01-01T00:00:00Z").unwrap(), (0, 1));
    assert_eq!(s.outbox_list("rt", None, 10).unwrap().len(), 1, "the retried action is waiting: kept");
    assert_eq!(s.connector_prune("rt", "0001-01-01T00:00:00Z").unwrap(), (0, 0), "nothing is older than year 1");
}

pub(super) fn pruning_keeps_pending_events_and_removes_processed_ones(s: &dyn Store) {
    for key in ["e1", "e2"] {
        let e = NewConnectorEvent { connector: "z".into(), event_key: key.into(), external_id: "1".into(), payload: serde_json::json!({}) };
        assert!(s.connector_event_insert(&e).unwrap());
    }
    let first = s.connector_events("z", Some(EventState::Pending), 1).unwrap().remove(0);
    s.connector_event_finish(first.id, EventState::Ignored, Some("our own change")).unwrap();
    assert_eq!(s.connector_prune("z", "9999-01-01T00:00:00Z").unwrap(), (1, 0));
    let left = s.connector_events("z", None, 10).unwrap();
    assert_eq!((left.len(), left[0].state), (1, EventState::Pending), "an unprocessed event is never pruned");
}

pub(super) fn a_source_ticket_and_a_poll_cursor_keep_their_latest_state(s: &dyn Store) {
    assert_eq!(s.connector_ticket("rt", "7").unwrap(), None);
    assert_eq!(s.connector_cursor("rt").unwrap(), None);
    s.connector_apply(&ticket(), &[], None).unwrap();
    assert_eq!(s.connector_ticket("rt", "7").unwrap(), Some(ticket()));
    let resolved = ConnectorTicket { text_hash: "h2".into(), state: serde_json::json!({"auto": ["category"]}), resolved: true, ..ticket() };
    s.connector_apply(&resolved, &[], None).unwrap();
    assert_eq!(s.connector_ticket("rt", "7").unwrap(), Some(resolved), "the latest state replaces the earlier");
    assert_eq!(s.connector_ticket("zammad", "7").unwrap(), None, "another connector's ticket 7 is another ticket");
    s.set_connector_cursor("rt", "2026-11-30T09:00:00Z").unwrap();
    s.set_connector_cursor("rt", "2026-11-30T10:00:00Z").unwrap();
    assert_eq!(s.connector_cursor("rt").unwrap().as_deref(), Some("2026-11-30T10:00:00Z"));
    assert_eq!(s.connector_cursor("zammad").unwrap(), None);
}

crate::conformance::cases!(
    a_source_ticket_and_a_poll_cursor_keep_their_latest_state,
    a_retried_event_is_stored_once_and_its_text_leaves_when_processed,
    an_action_is_queued_once_held_by_one_claim_and_in_doubt_after_a_crash,
    pruning_keeps_pending_events_and_removes_processed_ones,
);
