//! What several replicas share through the store (issue 15): model bundles' files, so every
//! replica can load a version trained on another, and background jobs leased through the
//! database, so one training job runs at a time across replicas and a job whose replica stopped
//! ends `failed` once its lease expires. The SQLite side is here; `postgres::shared` mirrors it.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::Result;

/// One file of a model bundle (`manifest.json` or `weights.bin`), as bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    /// File name inside the bundle folder.
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// A background job's row. `state` is `queued`, `running`, `succeeded` or `failed`; a queued or
/// running job is *active* and holds a lease (`owner`, `lease_until_ms`) that its replica renews.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// The job's id.
    pub id: String,
    /// What it does (`train`); one active job per kind.
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// What it is doing now, in words.
    pub phase: String,
    /// Units of `phase` done.
    pub done: u64,
    /// Units of `phase` in all (0: not known).
    pub total: u64,
    /// When it was accepted (stored form, UTC).
    pub started_at: String,
    /// When it ended.
    pub finished_at: Option<String>,
    /// The model version a training job registered.
    pub version: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The replica that runs it (a process's id, see `triage_engine`'s jobs).
    pub owner: String,
    /// Unix milliseconds at which its lease ends unless renewed.
    pub lease_until_ms: i64,
}

impl JobRow {
    /// Whether the job is queued or running.
    pub fn is_active(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "running")
    }
}

/// Why a job whose lease ended was failed.
pub(crate) fn lease_expired_reason(lease_until_ms: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(lease_until_ms.max(0) as u64);
    format!("the replica running it stopped; lease expired at {}; start the job again", triage_core::time::rfc3339_utc(at))
}

pub(crate) const JOB_COLUMNS: &str = "id, kind, state, phase, done, total, started_at, finished_at, version, error, owner, lease_until_ms";

fn row_to_job(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        state: r.get(2)?,
        phase: r.get(3)?,
        done: r.get::<_, i64>(4)?.max(0) as u64,
        total: r.get::<_, i64>(5)?.max(0) as u64,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        version: r.get(8)?,
        error: r.get(9)?,
        owner: r.get(10)?,
        lease_until_ms: r.get(11)?,
    })
}

pub(crate) fn save_model_files(conn: &mut Connection, version: &str, files: &[ModelFile], now: &str) -> Result<bool> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // the bundle row is the write-once guard: a second save of a version changes nothing
    let inserted = tx.execute("INSERT OR IGNORE INTO model_bundles (version, stored_at) VALUES (?1, ?2)", params![version, now])?;
    if inserted == 0 {
        return Ok(false);
    }
    {
        let mut insert = tx.prepare_cached("INSERT INTO model_files (version, name, bytes) VALUES (?1, ?2, ?3)")?;
        for f in files {
            insert.execute(params![version, f.name, f.bytes])?;
        }
    }
    tx.commit()?;
    Ok(true)
}

pub(crate) fn model_files(conn: &Connection, version: &str) -> Result<Option<Vec<ModelFile>>> {
    let stored = conn.query_row("SELECT 1 FROM model_bundles WHERE version = ?1", [version], |_| Ok(())).optional()?;
    if stored.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached("SELECT name, bytes FROM model_files WHERE version = ?1 ORDER BY name")?;
    let files = stmt.query_map([version], |r| Ok(ModelFile { name: r.get(0)?, bytes: r.get(1)? }))?;
    Ok(Some(files.collect::<rusqlite::Result<_>>()?))
}

fn expire(conn: &Connection, now_ms: i64, now: &str) -> Result<usize> {
    let expired: Vec<(String, i64)> = conn
        .prepare_cached("SELECT id, lease_until_ms FROM jobs WHERE state IN ('queued', 'running') AND lease_until_ms < ?1")?
        .query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut fail = conn.prepare_cached(
        "UPDATE jobs SET state = 'failed', phase = 'failed', finished_at = ?2, error = ?3
         WHERE id = ?1 AND state IN ('queued', 'running') AND lease_until_ms < ?4",
    )?;
    let mut n = 0;
    for (id, lease_until_ms) in expired {
        n += fail.execute(params![id, now, lease_expired_reason(lease_until_ms), now_ms])?;
        tracing::warn!(job_id = %id, "job failed: its lease expired (the replica running it stopped)");
    }
    Ok(n)
}

pub(crate) fn job_expire(conn: &mut Connection, now_ms: i64, now: &str) -> Result<usize> {
    // a read first: jobs are read often (status polls, metrics) and rarely expire, so the write
    // lock is only taken when there is something to fail
    let due: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM jobs WHERE state IN ('queued', 'running') AND lease_until_ms < ?1)")?
        .query_row([now_ms], |r| r.get(0))?;
    if !due {
        return Ok(0);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = expire(&tx, now_ms, now)?;
    tx.commit()?;
    Ok(n)
}

pub(crate) fn job_insert(conn: &mut Connection, job: &JobRow, now_ms: i64, now: &str) -> Result<Option<String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    expire(&tx, now_ms, now)?;
    // the partial unique index `jobs_one_active` refuses a second active job of a kind
    let inserted = tx.execute(
        &format!("INSERT OR IGNORE INTO jobs ({JOB_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
        params![
            job.id,
            job.kind,
            job.state,
            job.phase,
            job.done as i64,
            job.total as i64,
            job.started_at,
            job.finished_at,
            job.version,
            job.error,
            job.owner,
            job.lease_until_ms
        ],
    )?;
    let blocking = if inserted == 1 {
        None
    } else {
        let active =
            tx.query_row("SELECT id FROM jobs WHERE kind = ?1 AND state IN ('queued', 'running')", [&job.kind], |r| r.get(0)).optional()?;
        Some(active.unwrap_or_else(|| job.id.clone()))
    };
    tx.commit()?;
    Ok(blocking)
}

pub(crate) fn job_write(conn: &Connection, job: &JobRow) -> Result<bool> {
    let n = conn.prepare_cached(
        "UPDATE jobs SET state = ?3, phase = ?4, done = ?5, total = ?6, finished_at = ?7, version = ?8, error = ?9, lease_until_ms = ?10
         WHERE id = ?1 AND owner = ?2 AND state IN ('queued', 'running')",
    )?
    .execute(params![
        job.id,
        job.owner,
        job.state,
        job.phase,
        job.done as i64,
        job.total as i64,
        job.finished_at,
        job.version,
        job.error,
        job.lease_until_ms
    ])?;
    Ok(n == 1)
}

pub(crate) fn job(conn: &Connection, id: &str) -> Result<Option<JobRow>> {
    Ok(conn.query_row(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"), [id], row_to_job).optional()?)
}

pub(crate) fn job_counts(conn: &Connection) -> Result<Vec<(String, u64)>> {
    let mut stmt = conn.prepare_cached("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
