//! Connector state on PostgreSQL: inbound events, source tickets, cursors and the outbox.

use postgres::{GenericClient, Row, Transaction};

use super::limit;
use crate::connectors::{IN_DOUBT, OUTBOX_COLUMNS};
use crate::{
    ConnectorCounts, ConnectorEvent, ConnectorTicket, EventState, NewConnectorEvent, NewOutboxAction, OutboxAction, OutboxState,
    OutboxUpdate, Result,
};

fn row_to_action(r: &Row) -> Result<OutboxAction> {
    let error: Option<String> = r.get(9);
    Ok(OutboxAction {
        id: r.get(0),
        connector: r.get(1),
        external_id: r.get(2),
        action: r.get(3),
        payload: serde_json::from_str(r.get(4))?,
        marker: r.get(5),
        state: OutboxState::parse(r.get(6)),
        attempts: r.get::<_, i64>(7) as u32,
        next_attempt_ms: r.get(8),
        in_doubt: error.as_deref().is_some_and(|e| e.starts_with(IN_DOUBT)),
        last_error: error,
        created_at: r.get(10),
        delivered_at: r.get(11),
    })
}

pub(super) fn insert_event(c: &mut impl GenericClient, e: &NewConnectorEvent, now: &str) -> Result<bool> {
    let n = c.execute(
        "INSERT INTO connector_events (connector, event_key, external_id, payload_json, state, received_at)
         VALUES ($1, $2, $3, $4, 'pending', $5) ON CONFLICT (connector, event_key) DO NOTHING",
        &[&e.connector, &e.event_key, &e.external_id, &e.payload.to_string(), &now],
    )?;
    Ok(n == 1)
}

pub(super) fn events(c: &mut impl GenericClient, connector: &str, state: Option<EventState>, max: usize) -> Result<Vec<ConnectorEvent>> {
    let rows = c.query(
        "SELECT id, event_key, external_id, payload_json, state, detail, received_at FROM connector_events
         WHERE connector = $1 AND ($2::TEXT IS NULL OR state = $2) ORDER BY id LIMIT $3",
        &[&connector, &state.map(EventState::as_str), &limit(max)],
    )?;
    rows.iter()
        .map(|r| {
            Ok(ConnectorEvent {
                id: r.get(0),
                event_key: r.get(1),
                external_id: r.get(2),
                payload: serde_json::from_str(r.get(3))?,
                state: EventState::parse(r.get(4)),
                detail: r.get(5),
                received_at: r.get(6),
            })
        })
        .collect()
}

pub(super) fn finish_event(c: &mut impl GenericClient, id: i64, state: EventState, detail: Option<&str>, now: &str) -> Result<()> {
    // the ticket text leaves the event row once it is processed
    c.execute(
        "UPDATE connector_events SET state = $2, detail = $3, processed_at = $4, payload_json = '{}' WHERE id = $1",
        &[&id, &state.as_str(), &detail, &now],
    )?;
    Ok(())
}

pub(super) fn ticket(c: &mut impl GenericClient, connector: &str, external_id: &str) -> Result<Option<ConnectorTicket>> {
    let row = c.query_opt(
        "SELECT tenant, text_hash, triage_id, state_json, resolved FROM connector_tickets WHERE connector = $1 AND external_id = $2",
        &[&connector, &external_id],
    )?;
    row.map(|r| {
        Ok(ConnectorTicket {
            connector: connector.to_owned(),
            external_id: external_id.to_owned(),
            tenant: r.get(0),
            text_hash: r.get(1),
            triage_id: r.get(2),
            state: serde_json::from_str(r.get(3))?,
            resolved: r.get(4),
        })
    })
    .transpose()
}

pub(super) fn apply(tx: &mut Transaction<'_>, t: &ConnectorTicket, actions: &[NewOutboxAction], now: &str, now_ms: i64) -> Result<usize> {
    tx.execute(
        "INSERT INTO connector_tickets (connector, external_id, tenant, text_hash, triage_id, state_json, resolved, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (connector, external_id) DO UPDATE SET tenant = excluded.tenant, text_hash = excluded.text_hash,
            triage_id = excluded.triage_id, state_json = excluded.state_json, resolved = excluded.resolved, updated_at = excluded.updated_at",
        &[&t.connector, &t.external_id, &t.tenant, &t.text_hash, &t.triage_id, &t.state.to_string(), &t.resolved, &now],
    )?;
    let insert = tx.prepare(
        "INSERT INTO outbox (connector, external_id, action, payload_json, marker, state, next_attempt_ms, created_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7) ON CONFLICT (marker) DO NOTHING",
    )?;
    let mut queued = 0;
    for a in actions {
        queued += tx.execute(&insert, &[&a.connector, &a.external_id, &a.action, &a.payload.to_string(), &a.marker, &now_ms, &now])?;
    }
    Ok(queued as usize)
}

/// Claims due actions; rows another replica is claiming right now are skipped, not waited for.
pub(super) fn claim(tx: &mut Transaction<'_>, connector: &str, now_ms: i64, max: usize, lease_ms: i64) -> Result<Vec<OutboxAction>> {
    let until = now_ms.saturating_add(lease_ms.max(0));
    let rows = tx.query(
        &format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE connector = $1 AND state IN ('pending', 'sending') AND next_attempt_ms <= $2
             ORDER BY next_attempt_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED"
        ),
        &[&connector, &now_ms, &limit(max)],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut a = row_to_action(r)?;
        // still `sending` when claimed (its lease is over): an earlier attempt was cut off (a
        // crash) mid-delivery
        a.in_doubt |= a.state == OutboxState::Sending;
        tx.execute("UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_ms = $2 WHERE id = $1", &[&a.id, &until])?;
        a.state = OutboxState::Sending;
        a.next_attempt_ms = until;
        a.attempts += 1;
        out.push(a);
    }
    Ok(out)
}

/// Rows the claim that made its `attempts`-th try still holds (see `Store::outbox_update`).
const HELD: &str = "id = $1 AND state = 'sending' AND attempts = $2";

pub(super) fn update(c: &mut impl GenericClient, id: i64, attempts: u32, update: &OutboxUpdate, now: &str) -> Result<bool> {
    let attempts = i64::from(attempts);
    let n = match update {
        OutboxUpdate::Delivered => c.execute(
            &format!("UPDATE outbox SET state = 'delivered', delivered_at = $3, last_error = NULL WHERE {HELD}"),
            &[&id, &attempts, &now],
        )?,
        OutboxUpdate::Retry { next_attempt_ms, error, in_doubt } => {
            let error = if *in_doubt { format!("{IN_DOUBT}{error}") } else { error.clone() };
            c.execute(
                &format!("UPDATE outbox SET state = 'pending', next_attempt_ms = $3, last_error = $4 WHERE {HELD}"),
                &[&id, &attempts, next_attempt_ms, &error],
            )?
        }
        OutboxUpdate::Dead { error } => {
            c.execute(&format!("UPDATE outbox SET state = 'dead', last_error = $3 WHERE {HELD}"), &[&id, &attempts, error])?
        }
    };
    Ok(n == 1)
}

pub(super) fn list(c: &mut impl GenericClient, connector: &str, state: Option<OutboxState>, max: usize) -> Result<Vec<OutboxAction>> {
    let rows = c.query(
        &format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE connector = $1 AND ($2::TEXT IS NULL OR state = $2) ORDER BY id DESC LIMIT $3"),
        &[&connector, &state.map(OutboxState::as_str), &limit(max)],
    )?;
    rows.iter().map(row_to_action).collect()
}

pub(super) fn counts(c: &mut impl GenericClient, connector: &str) -> Result<ConnectorCounts> {
    let e = c.query_one(
        "SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'ignored'),
                COUNT(*) FILTER (WHERE state = 'failed'), MAX(received_at)
         FROM connector_events WHERE connector = $1",
        &[&connector],
    )?;
    let o = c.query_one(
        "SELECT COUNT(*) FILTER (WHERE state IN ('pending', 'sending')), COUNT(*) FILTER (WHERE state = 'delivered'),
                COUNT(*) FILTER (WHERE state = 'dead'), MIN(created_at) FILTER (WHERE state IN ('pending', 'sending')), MAX(delivered_at)
         FROM outbox WHERE connector = $1",
        &[&connector],
    )?;
    Ok(ConnectorCounts {
        events_received: e.get::<_, i64>(0) as u64,
        events_pending: e.get::<_, i64>(1) as u64,
        events_ignored: e.get::<_, i64>(2) as u64,
        events_failed: e.get::<_, i64>(3) as u64,
        last_event_at: e.get(4),
        outbox_pending: o.get::<_, i64>(0) as u64,
        outbox_delivered: o.get::<_, i64>(1) as u64,
        outbox_dead: o.get::<_, i64>(2) as u64,
        oldest_pending_at: o.get(3),
        last_delivered_at: o.get(4),
    })
}
