//! Model bundles' files and leased background jobs on PostgreSQL (issue 15); the same
//! semantics as `crate::shared` on SQLite. The partial unique index `jobs_one_active` makes a
//! second active job of a kind wait for the first insert's transaction and then insert nothing,
//! so two replicas starting a job at once start one.

use postgres::{GenericClient, Row, Transaction};

use crate::shared::{JOB_COLUMNS, lease_expired_reason};
use crate::{JobRow, ModelFile, Result};

fn row_to_job(r: &Row) -> JobRow {
    JobRow {
        id: r.get(0),
        kind: r.get(1),
        state: r.get(2),
        phase: r.get(3),
        done: r.get::<_, i64>(4).max(0) as u64,
        total: r.get::<_, i64>(5).max(0) as u64,
        started_at: r.get(6),
        finished_at: r.get(7),
        version: r.get(8),
        error: r.get(9),
        owner: r.get(10),
        lease_until_ms: r.get(11),
    }
}

pub(super) fn save_model_files(tx: &mut Transaction<'_>, version: &str, files: &[ModelFile], now: &str) -> Result<bool> {
    let inserted =
        tx.execute("INSERT INTO model_bundles (version, stored_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING", &[&version, &now])?;
    if inserted == 0 {
        return Ok(false);
    }
    let insert = tx.prepare("INSERT INTO model_files (version, name, bytes) VALUES ($1, $2, $3)")?;
    for f in files {
        tx.execute(&insert, &[&version, &f.name, &f.bytes])?;
    }
    Ok(true)
}

pub(super) fn model_files(c: &mut impl GenericClient, version: &str) -> Result<Option<Vec<ModelFile>>> {
    if c.query_opt("SELECT 1 FROM model_bundles WHERE version = $1", &[&version])?.is_none() {
        return Ok(None);
    }
    let rows = c.query("SELECT name, bytes FROM model_files WHERE version = $1 ORDER BY name", &[&version])?;
    Ok(Some(rows.iter().map(|r| ModelFile { name: r.get(0), bytes: r.get(1) }).collect()))
}

pub(super) fn expire(c: &mut impl GenericClient, now_ms: i64, now: &str) -> Result<usize> {
    let expired =
        c.query("SELECT id, lease_until_ms FROM jobs WHERE state IN ('queued', 'running') AND lease_until_ms < $1", &[&now_ms])?;
    let mut n = 0;
    for r in expired {
        let (id, lease_until_ms): (String, i64) = (r.get(0), r.get(1));
        n += c.execute(
            "UPDATE jobs SET state = 'failed', phase = 'failed', finished_at = $2, error = $3
             WHERE id = $1 AND state IN ('queued', 'running') AND lease_until_ms < $4",
            &[&id, &now, &lease_expired_reason(lease_until_ms), &now_ms],
        )? as usize;
        tracing::warn!(job_id = %id, "job failed: its lease expired (the replica running it stopped)");
    }
    Ok(n)
}

pub(super) fn job_insert(tx: &mut Transaction<'_>, job: &JobRow, now_ms: i64, now: &str) -> Result<Option<String>> {
    expire(tx, now_ms, now)?;
    let inserted = tx.execute(
        &format!("INSERT INTO jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"),
        &[
            &job.id,
            &job.kind,
            &job.state,
            &job.phase,
            &(job.done as i64),
            &(job.total as i64),
            &job.started_at,
            &job.finished_at,
            &job.version,
            &job.error,
            &job.owner,
            &job.lease_until_ms,
        ],
    )?;
    if inserted == 1 {
        return Ok(None);
    }
    let active = tx.query_opt("SELECT id FROM jobs WHERE kind = $1 AND state IN ('queued', 'running')", &[&job.kind])?;
    Ok(Some(active.map_or_else(|| job.id.clone(), |r| r.get(0))))
}

pub(super) fn job_write(c: &mut impl GenericClient, job: &JobRow) -> Result<bool> {
    let n = c.execute(
        "UPDATE jobs SET state = $3, phase = $4, done = $5, total = $6, finished_at = $7, version = $8, error = $9, lease_until_ms = $10
         WHERE id = $1 AND owner = $2 AND state IN ('queued', 'running')",
        &[
            &job.id,
            &job.owner,
            &job.state,
            &job.phase,
            &(job.done as i64),
            &(job.total as i64),
            &job.finished_at,
            &job.version,
            &job.error,
            &job.lease_until_ms,
        ],
    )?;
    Ok(n == 1)
}

pub(super) fn job(c: &mut impl GenericClient, id: &str) -> Result<Option<JobRow>> {
    Ok(c.query_opt(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"), &[&id])?.as_ref().map(row_to_job))
}

pub(super) fn job_counts(c: &mut impl GenericClient) -> Result<Vec<(String, u64)>> {
    let rows = c.query("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state", &[])?;
    Ok(rows.iter().map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64)).collect())
}
