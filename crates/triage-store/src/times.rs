//! Stored times are UTC, `YYYY-MM-DDTHH:MM:SSZ` ([`Timestamp::to_stored`]), so windows can
//! compare them as text. Older versions stored resolved-ticket times as given (with an offset,
//! a fraction or a lower-case `t`); on open they are rewritten to the stored form. Times that
//! cannot be parsed are kept as they are (statistics count them by their first ten characters)
//! and only their number is logged.

use rusqlite::{Connection, params};
use triage_core::time::Timestamp;

use crate::Result;

/// The shape of the stored form, for SQLite's `GLOB`.
const STORED_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z";

/// Rewrites resolved-ticket times not yet in the stored form. Returns (rewritten, unparseable).
pub(crate) fn normalise_stored_times(conn: &Connection) -> Result<(usize, usize)> {
    let (mut rewritten, mut unparseable) = (0, 0);
    for column in ["opened_at", "resolved_at"] {
        let select = format!("SELECT rowid, {column} FROM resolved_tickets WHERE {column} IS NOT NULL AND {column} NOT GLOB ?1");
        let rows: Vec<(i64, String)> =
            conn.prepare(&select)?.query_map(params![STORED_GLOB], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let update = format!("UPDATE resolved_tickets SET {column} = ?1 WHERE rowid = ?2");
        for (rowid, text) in rows {
            match Timestamp::parse(text.trim()) {
                Ok(t) => {
                    conn.execute(&update, params![t.to_stored(), rowid])?;
                    rewritten += 1;
                }
                Err(_) => unparseable += 1,
            }
        }
    }
    if rewritten > 0 {
        tracing::info!(rewritten, "resolved-ticket times rewritten to UTC");
    }
    if unparseable > 0 {
        tracing::warn!(
            unparseable,
            "resolved-ticket times that are not valid RFC 3339 were kept as they are; statistics count them by their first ten characters; send those tickets again with valid times to fix them"
        );
    }
    Ok((rewritten, unparseable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqliteStore, StatsQuery, Store};
    use triage_core::time::DeskTimeZone;

    /// A store file written by an older version: times as they were sent.
    fn old_store_with(times: &[(&str, Option<&str>)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(&dir.path().join("store.db")).unwrap());
        let conn = Connection::open(dir.path().join("store.db")).unwrap();
        for (i, (resolved_at, opened_at)) in times.iter().enumerate() {
            conn.execute(
                "INSERT INTO resolved_tickets (tenant, external_id, title, description, resolution_notes, resolved_at, opened_at, updated_at)
                 VALUES ('northmoor', ?1, 't', '', '', ?2, ?3, '2026-11-30T00:00:00Z')",
                params![format!("INC{i}"), resolved_at, opened_at],
            )
            .unwrap();
        }
        dir
    }

    #[test]
    fn old_times_with_offsets_are_rewritten_to_utc_on_open_and_counted_on_their_local_day() {
        let dir = old_store_with(&[
            ("2026-07-01T00:30:00+01:00", Some("2026-06-30t20:00:00.5z")),
            ("2026-07-01T12:00:00Z", None),
            ("yesterday", Some("2026-99-99T99:99:99Z")),
        ]);
        let store = SqliteStore::open(&dir.path().join("store.db")).unwrap();
        let mut times = Vec::new();
        store.for_each_resolved(&mut |t| times.push((t.external_id, t.resolved_at, t.opened_at))).unwrap();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            times,
            vec![
                ("INC0".into(), s("2026-06-30T23:30:00Z"), s("2026-06-30T20:00:00Z")),
                ("INC1".into(), s("2026-07-01T12:00:00Z"), None),
                ("INC2".into(), s("yesterday"), s("2026-99-99T99:99:99Z")),
            ],
            "offsets and fractions are rewritten to UTC; unparseable times are kept"
        );
        let st = store.stats(&StatsQuery { time_zone: DeskTimeZone::default(), ..StatsQuery::default() }).unwrap();
        let days: Vec<(&str, u64)> = st.per_day.iter().map(|d| (d.day.as_str(), d.resolved)).collect();
        assert_eq!(days, vec![("2026-07-01", 2), ("yesterday", 1)]);
    }

    #[test]
    fn normalising_twice_changes_nothing_the_second_time() {
        let dir = old_store_with(&[("2026-07-01T00:30:00+01:00", None), ("not a time", None)]);
        let conn = Connection::open(dir.path().join("store.db")).unwrap();
        assert_eq!(normalise_stored_times(&conn).unwrap(), (1, 1));
        assert_eq!(normalise_stored_times(&conn).unwrap(), (0, 1));
    }
}
