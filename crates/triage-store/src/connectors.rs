//! Connector state: inbound events, source tickets, poll cursors and the write-back outbox.
//!
//! The outbox is the delivery guarantee: an action is committed here (in the same transaction
//! that records what the ticket was triaged as) before anything is sent, and a worker delivers
//! it. A row claimed for delivery is `sending` until the answer is recorded, so a row still
//! `sending` after a crash is known to be in doubt: the worker asks the remote system whether the
//! action's marker is already there before sending again.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::Result;

/// One inbound event as received, before it is processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConnectorEvent {
    /// The connector's configured name.
    pub connector: String,
    /// The source's id of this event (a delivery id, or a ticket id and its change time): a
    /// second event with the same key is a retry and is dropped.
    pub event_key: String,
    /// The source ticket's id.
    pub external_id: String,
    /// The event normalised to the connector's own JSON (ticket text included, until processed).
    pub payload: serde_json::Value,
}

/// A stored inbound event.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorEvent {
    /// Row id.
    pub id: i64,
    /// The source's event key.
    pub event_key: String,
    /// The source ticket's id.
    pub external_id: String,
    /// The normalised event (empty once processed: ticket text is not kept here).
    pub payload: serde_json::Value,
    /// Processing state.
    pub state: EventState,
    /// Why it was ignored or failed.
    pub detail: Option<String>,
    /// When it arrived (UTC RFC 3339).
    pub received_at: String,
}

/// Where an inbound event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Stored, not processed yet.
    Pending,
    /// Processed: triaged, or stored as a resolved ticket.
    Done,
    /// Deliberately not processed (our own note, text unchanged, unmapped queue ...).
    Ignored,
    /// Processing failed for good (the detail says why).
    Failed,
}

impl EventState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Ignored => "ignored",
            Self::Failed => "failed",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "done" => Self::Done,
            "ignored" => Self::Ignored,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// What a connector knows about one source ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorTicket {
    /// The connector's name.
    pub connector: String,
    /// The source ticket's id.
    pub external_id: String,
    /// The tenant it maps to.
    pub tenant: Option<String>,
    /// Hash of the text last triaged: a change to anything else does not re-triage.
    pub text_hash: String,
    /// The latest triage of this ticket.
    pub triage_id: Option<String>,
    /// Connector-specific state (fields we set under `auto`, the first queue and owner seen).
    pub state: serde_json::Value,
    /// Whether it has been stored as a resolved ticket.
    pub resolved: bool,
}

/// A write-back action to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxAction {
    /// The connector's name.
    pub connector: String,
    /// The source ticket's id.
    pub external_id: String,
    /// The kind of action (`note`, `fields`).
    pub action: String,
    /// What to send, as the connector will send it.
    pub payload: serde_json::Value,
    /// Unique idempotency key (written into a note, so a delivery in doubt can be checked).
    pub marker: String,
}

/// Where an outbox action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by the worker; still so after a crash means the delivery is in doubt.
    Sending,
    /// The remote system accepted it.
    Delivered,
    /// Given up after the configured tries (or refused for good); an admin can retry it.
    Dead,
}

impl OutboxState {
    /// Its name in the store and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }
    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "sending" => Self::Sending,
            "delivered" => Self::Delivered,
            "dead" => Self::Dead,
            _ => Self::Pending,
        }
    }
}

/// A stored outbox action.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxAction {
    /// Row id.
    pub id: i64,
    /// The connector's name.
    pub connector: String,
    /// The source ticket's id.
    pub external_id: String,
    /// `note` or `fields`.
    pub action: String,
    /// What is sent.
    pub payload: serde_json::Value,
    /// Idempotency key.
    pub marker: String,
    /// Where it is.
    pub state: OutboxState,
    /// Attempts made so far.
    pub attempts: u32,
    /// Next attempt, Unix milliseconds; for a `sending` row, when its claim's lease ends.
    pub next_attempt_ms: i64,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When it was queued (UTC RFC 3339).
    pub created_at: String,
    /// When the remote system accepted it.
    pub delivered_at: Option<String>,
    /// Claimed while it was already `sending` (a crash during an earlier attempt) or after an
    /// attempt whose outcome is unknown: check the remote system before sending again.
    pub in_doubt: bool,
}

/// The outcome of one delivery attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxUpdate {
    /// Accepted by the remote system.
    Delivered,
    /// Failed; try again at `next_attempt_ms`. `in_doubt` when the request may have arrived.
    Retry {
        /// Unix milliseconds of the next attempt.
        next_attempt_ms: i64,
        /// What went wrong.
        error: String,
        /// The request may have been applied (a timeout after sending, a 5xx).
        in_doubt: bool,
    },
    /// Given up: dead letter.
    Dead {
        /// Why.
        error: String,
    },
}

/// Counts for a connector's status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConnectorCounts {
    /// Events received in total.
    pub events_received: u64,
    /// Events not processed yet.
    pub events_pending: u64,
    /// Events ignored (our own notes, unchanged text, unmapped source).
    pub events_ignored: u64,
    /// Events that failed for good.
    pub events_failed: u64,
    /// When the last event arrived.
    pub last_event_at: Option<String>,
    /// Actions waiting (pending or sending).
    pub outbox_pending: u64,
    /// Actions delivered.
    pub outbox_delivered: u64,
    /// Dead letters.
    pub outbox_dead: u64,
    /// When the oldest waiting action was queued (its age is the write-back lag).
    pub oldest_pending_at: Option<String>,
    /// When the last action was delivered.
    pub last_delivered_at: Option<String>,
}

pub(crate) const OUTBOX_COLUMNS: &str =
    "id, connector, external_id, action, payload_json, marker, state, attempts, next_attempt_ms, last_error, created_at, delivered_at";

fn row_to_action(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxAction, String)> {
    let payload: String = r.get(4)?;
    let state: String = r.get(6)?;
    let error: Option<String> = r.get(9)?;
    Ok((
        OutboxAction {
            id: r.get(0)?,
            connector: r.get(1)?,
            external_id: r.get(2)?,
            action: r.get(3)?,
            payload: serde_json::Value::Null,
            marker: r.get(5)?,
            state: OutboxState::parse(&state),
            attempts: r.get::<_, i64>(7)? as u32,
            next_attempt_ms: r.get(8)?,
            in_doubt: error.as_deref().is_some_and(|e| e.starts_with(IN_DOUBT)),
            last_error: error,
            created_at: r.get(10)?,
            delivered_at: r.get(11)?,
        },
        payload,
    ))
}

/// Prefix of a recorded error after which the delivery is in doubt.
pub(crate) const IN_DOUBT: &str = "in doubt: ";

fn with_payload((mut a, payload): (OutboxAction, String)) -> Result<OutboxAction> {
    a.payload = serde_json::from_str(&payload)?;
    Ok(a)
}

pub(crate) fn insert_event(conn: &rusqlite::Connection, e: &NewConnectorEvent, now: &str) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO connector_events (connector, event_key, external_id, payload_json, state, received_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5) ON CONFLICT (connector, event_key) DO NOTHING",
        params![e.connector, e.event_key, e.external_id, e.payload.to_string(), now],
    )?;
    Ok(n == 1)
}

pub(crate) fn events(conn: &rusqlite::Connection, connector: &str, state: Option<EventState>, limit: usize) -> Result<Vec<ConnectorEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_key, external_id, payload_json, state, detail, received_at FROM connector_events
         WHERE connector = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![connector, state.map(EventState::as_str), limit as i64], |r| {
        Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get(5)?, r.get(6)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, event_key, external_id, payload, state, detail, received_at) = row?;
        out.push(ConnectorEvent {
            id,
            event_key,
            external_id,
            payload: serde_json::from_str(&payload)?,
            state: EventState::parse(&state),
            detail,
            received_at,
        });
    }
    Ok(out)
}

pub(crate) fn finish_event(conn: &rusqlite::Connection, id: i64, state: EventState, detail: Option<&str>, now: &str) -> Result<()> {
    // the ticket text leaves the event row once it is processed
    conn.execute(
        "UPDATE connector_events SET state = ?2, detail = ?3, processed_at = ?4, payload_json = '{}' WHERE id = ?1",
        params![id, state.as_str(), detail, now],
    )?;
    Ok(())
}

pub(crate) fn ticket(conn: &rusqlite::Connection, connector: &str, external_id: &str) -> Result<Option<ConnectorTicket>> {
    let row = conn
        .query_row(
            "SELECT tenant, text_hash, triage_id, state_json, resolved FROM connector_tickets WHERE connector = ?1 AND external_id = ?2",
            params![connector, external_id],
            |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            },
        )
        .optional()?;
    row.map(|(tenant, text_hash, triage_id, state, resolved)| {
        Ok(ConnectorTicket {
            connector: connector.to_owned(),
            external_id: external_id.to_owned(),
            tenant,
            text_hash,
            triage_id,
            state: serde_json::from_str(&state)?,
            resolved: resolved != 0,
        })
    })
    .transpose()
}

pub(crate) fn apply(
    tx: &rusqlite::Transaction<'_>,
    t: &ConnectorTicket,
    actions: &[NewOutboxAction],
    now: &str,
    now_ms: i64,
) -> Result<usize> {
    tx.execute(
        "INSERT INTO connector_tickets (connector, external_id, tenant, text_hash, triage_id, state_json, resolved, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (connector, external_id) DO UPDATE SET tenant = excluded.tenant, text_hash = excluded.text_hash,
            triage_id = excluded.triage_id, state_json = excluded.state_json, resolved = excluded.resolved, updated_at = excluded.updated_at",
        params![t.connector, t.external_id, t.tenant, t.text_hash, t.triage_id, t.state.to_string(), t.resolved as i64, now],
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (connector, external_id, action, payload_json, marker, state, next_attempt_ms, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7) ON CONFLICT (marker) DO NOTHING",
    )?;
    let mut queued = 0;
    for a in actions {
        queued += insert.execute(params![a.connector, a.external_id, a.action, a.payload.to_string(), a.marker, now_ms, now])?;
    }
    Ok(queued)
}

pub(crate) fn cursor(conn: &rusqlite::Connection, connector: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT cursor FROM connector_cursors WHERE connector = ?1", params![connector], |r| r.get(0)).optional()?)
}

pub(crate) fn set_cursor(conn: &rusqlite::Connection, connector: &str, cursor: &str, now: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO connector_cursors (connector, cursor, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (connector) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        params![connector, cursor, now],
    )?;
    Ok(())
}

pub(crate) fn claim(
    tx: &rusqlite::Transaction<'_>,
    connector: &str,
    now_ms: i64,
    limit: usize,
    lease_ms: i64,
) -> Result<Vec<OutboxAction>> {
    let mut out = Vec::new();
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE connector = ?1 AND state IN ('pending', 'sending') AND next_attempt_ms <= ?2
             ORDER BY next_attempt_ms, id LIMIT ?3"
        ))?;
        for row in stmt.query_map(params![connector, now_ms, limit as i64], row_to_action)? {
            let mut a = with_payload(row?)?;
            // still `sending` when claimed (its lease is over): an earlier attempt was cut off (a
            // crash) mid-delivery
            a.in_doubt |= a.state == OutboxState::Sending;
            out.push(a);
        }
    }
    let until = now_ms.saturating_add(lease_ms.max(0));
    let mut mark = tx.prepare_cached("UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_attempt_ms = ?2 WHERE id = ?1")?;
    for a in &mut out {
        mark.execute(params![a.id, until])?;
        a.state = OutboxState::Sending;
        a.next_attempt_ms = until;
        a.attempts += 1;
    }
    Ok(out)
}

/// Rows the claim that made its `attempts`-th try still holds (see `Store::outbox_update`).
const HELD: &str = "id = ?1 AND state = 'sending' AND attempts = ?2";

pub(crate) fn update(conn: &rusqlite::Connection, id: i64, attempts: u32, update: &OutboxUpdate, now: &str) -> Result<bool> {
    let n = match update {
        OutboxUpdate::Delivered => conn.execute(
            &format!("UPDATE outbox SET state = 'delivered', delivered_at = ?3, last_error = NULL WHERE {HELD}"),
            params![id, attempts, now],
        )?,
        OutboxUpdate::Retry { next_attempt_ms, error, in_doubt } => {
            let error = if *in_doubt { format!("{IN_DOUBT}{error}") } else { error.clone() };
            conn.execute(
                &format!("UPDATE outbox SET state = 'pending', next_attempt_ms = ?3, last_error = ?4 WHERE {HELD}"),
                params![id, attempts, next_attempt_ms, error],
            )?
        }
        OutboxUpdate::Dead { error } => {
            conn.execute(&format!("UPDATE outbox SET state = 'dead', last_error = ?3 WHERE {HELD}"), params![id, attempts, error])?
        }
    };
    Ok(n == 1)
}

pub(crate) fn list(conn: &rusqlite::Connection, connector: &str, state: Option<OutboxState>, limit: usize) -> Result<Vec<OutboxAction>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE connector = ?1 AND (?2 IS NULL OR state = ?2) ORDER BY id DESC LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![connector, state.map(OutboxState::as_str), limit as i64], row_to_action)?;
    rows.map(|r| with_payload(r?)).collect()
}

pub(crate) fn retry(conn: &rusqlite::Connection, connector: &str, id: i64, now_ms: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?3 WHERE connector = ?1 AND id = ?2 AND state = 'dead'",
        params![connector, id, now_ms],
    )?;
    Ok(n == 1)
}

/// Deletes a connector's processed events and delivered actions from before `before` (UTC RFC
/// 3339): pending events, waiting actions and dead letters stay. Returns (events, actions).
pub(crate) fn prune(tx: &rusqlite::Transaction<'_>, connector: &str, before: &str) -> Result<(usize, usize)> {
    let events = tx.execute(
        "DELETE FROM connector_events WHERE connector = ?1 AND state != 'pending' AND COALESCE(processed_at, received_at) < ?2",
        params![connector, before],
    )?;
    let actions =
        tx.execute("DELETE FROM outbox WHERE connector = ?1 AND state = 'delivered' AND delivered_at < ?2", params![connector, before])?;
    Ok((events, actions))
}

pub(crate) fn counts(conn: &rusqlite::Connection, connector: &str) -> Result<ConnectorCounts> {
    let mut c = ConnectorCounts::default();
    conn.query_row(
        "SELECT COUNT(*), COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'ignored'), 0), COALESCE(SUM(state = 'failed'), 0),
                MAX(received_at) FROM connector_events WHERE connector = ?1",
        params![connector],
        |r| {
            c.events_received = r.get::<_, i64>(0)? as u64;
            c.events_pending = r.get::<_, i64>(1)? as u64;
            c.events_ignored = r.get::<_, i64>(2)? as u64;
            c.events_failed = r.get::<_, i64>(3)? as u64;
            c.last_event_at = r.get(4)?;
            Ok(())
        },
    )?;
    conn.query_row(
        "SELECT COALESCE(SUM(state IN ('pending', 'sending')), 0), COALESCE(SUM(state = 'delivered'), 0), COALESCE(SUM(state = 'dead'), 0),
                MIN(CASE WHEN state IN ('pending', 'sending') THEN created_at END), MAX(delivered_at)
         FROM outbox WHERE connector = ?1",
        params![connector],
        |r| {
            c.outbox_pending = r.get::<_, i64>(0)? as u64;
            c.outbox_delivered = r.get::<_, i64>(1)? as u64;
            c.outbox_dead = r.get::<_, i64>(2)? as u64;
            c.oldest_pending_at = r.get(3)?;
            c.last_delivered_at = r.get(4)?;
            Ok(())
        },
    )?;
    Ok(c)
}
