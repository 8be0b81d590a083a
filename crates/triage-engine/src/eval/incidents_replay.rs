//! The replay file of an incident stream (format: [`read_replay`]).

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde::Deserialize;
use triage_core::time::Timestamp;

use super::{DAY, Stream, StreamTicket};
use crate::{EngineError, Result};

/// Writes `stream` as a replay file (format: [`read_replay`]).
pub fn write_replay(stream: &Stream, path: &Path) -> Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for t in &stream.tickets {
        serde_json::to_writer(&mut out, t).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

/// Reads a replay file: JSON Lines, in time order, one ticket per line:
/// `{"at": "2026-01-12T09:14:03Z", "tenant": "tenant-2", "title": "...", "description": null,
/// "incident": "s3-FAQ-042"}`. `at` is RFC 3339; `tenant`, `title` and `description` may be
/// null (a ticket needs a title or a description); `incident` is null for background and one
/// shared id for the tickets of a surge. The stream starts at midnight (UTC) of its first
/// ticket's day and ends at the midnight after its last ticket; its first `warmup_days` days are
/// warm-up (seen by the detector, not scored).
pub fn read_replay(path: &Path, warmup_days: u32) -> Result<Stream> {
    let bad = |message: String| EngineError::EvalData { path: path.display().to_string(), message };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut tickets: Vec<StreamTicket> = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| bad(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let ticket: StreamTicket = serde_json::from_str(&line).map_err(|e| bad(format!("line {}: {e}", i + 1)))?;
        if tickets.last().is_some_and(|last| last.at > ticket.at) {
            return Err(bad(format!("line {}: tickets must be in time order (this one is earlier than the line before)", i + 1)));
        }
        if ticket.title.as_deref().is_none_or(|t| t.trim().is_empty()) && ticket.description.as_deref().is_none_or(|d| d.trim().is_empty())
        {
            return Err(bad(format!("line {}: a ticket needs a title or a description", i + 1)));
        }
        tickets.push(ticket);
    }
    let (Some(first), Some(last)) = (tickets.first(), tickets.last()) else {
        return Err(bad("no tickets".into()));
    };
    let start = first.at.div_euclid(DAY) * DAY;
    let end = (last.at.div_euclid(DAY) + 1) * DAY;
    Ok(Stream { start, warmup_end: start + i64::from(warmup_days) * DAY, end, tickets })
}

/// `at` as RFC 3339 (UTC, whole seconds) in the replay file.
pub(super) mod rfc3339 {
    use super::*;

    pub(crate) fn serialize<S: serde::Serializer>(at: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&Timestamp::from_unix_seconds(*at).to_stored())
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        let t = Timestamp::parse(&text).map_err(|e| serde::de::Error::custom(format!("`at` {text:?}: {e}")))?;
        Ok(t.unix_seconds())
    }
}
