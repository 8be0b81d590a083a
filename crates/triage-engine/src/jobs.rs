//! Background jobs (retraining) leased through the store, so several replicas sharing one
//! database run one job of a kind at a time and any replica answers a job's status.
//!
//! A job is a row in the store (`Store::job_insert` refuses a second active job of its kind,
//! on any replica). The replica that runs it holds a lease on the row and renews it from a
//! thread of its own every [`JobLease::renew_every`]; progress (phase, done, total) is kept in
//! memory and written at most every [`JobLease::progress_every`] (and with each renewal), so
//! training is not slowed. A job whose lease expired (its replica stopped) ends `failed` with
//! the reason when anyone reads or starts jobs, and at start-up. Rows survive restarts.
//!
//! | constant | default | purpose |
//! |---|---|---|
//! | [`JobLease::LEASE`] | 30 s | how long a job is held without a renewal |
//! | [`JobLease::RENEW_EVERY`] | 10 s | how often the running replica renews (well inside the lease) |
//! | [`JobLease::PROGRESS_EVERY`] | 500 ms | the most often progress is written to the store |

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use triage_store::{JobRow, Store};

use crate::Result;

/// Where a background job is in its life. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Accepted; its thread has not started yet.
    Queued,
    /// Its thread is working.
    Running,
    /// Finished; for a training job, a model version was registered.
    Succeeded,
    /// Ended with an error (see [`JobStatus::error`]).
    Failed,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [JobState::Queued, JobState::Running, JobState::Succeeded, JobState::Failed].into_iter().find(|s| s.as_str() == raw)
    }
}

/// What a job is doing, or how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    /// The job's id, as returned when it was started.
    pub id: String,
    /// What the job does; `train` is the only kind so far.
    pub kind: String,
    /// Where the job is in its life.
    pub state: JobState,
    /// What the job is doing now, in words (`queued`, `features`, `saving`, `done`, `failed`, ...).
    pub phase: String,
    /// Units of `phase` done so far.
    pub done: usize,
    /// Units `phase` has in all; 0 when not known.
    pub total: usize,
    /// When the job was accepted, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub started_at: String,
    /// When the job ended; `None` while queued or running.
    pub finished_at: Option<String>,
    /// The model version a successful training job registered.
    pub version: Option<String>,
    /// Why a job failed, and what to do.
    pub error: Option<String>,
}

impl JobStatus {
    fn from_row(row: &JobRow) -> Option<Self> {
        Some(Self {
            id: row.id.clone(),
            kind: row.kind.clone(),
            state: JobState::parse(&row.state)?,
            phase: row.phase.clone(),
            done: usize::try_from(row.done).unwrap_or(usize::MAX),
            total: usize::try_from(row.total).unwrap_or(usize::MAX),
            started_at: row.started_at.clone(),
            finished_at: row.finished_at.clone(),
            version: row.version.clone(),
            error: row.error.clone(),
        })
    }
}

/// How jobs hold their lease; see the module docs for the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLease {
    /// How long a job is held without a renewal.
    pub lease: Duration,
    /// How often the running replica renews its lease (well inside `lease`).
    pub renew_every: Duration,
    /// The most often progress is written to the store.
    pub progress_every: Duration,
}

impl JobLease {
    /// Default lease: a replica that stops is noticed within 30 s.
    pub const LEASE: Duration = Duration::from_secs(30);
    /// Default renewal interval: three renewals per lease, so one slow write loses nothing.
    pub const RENEW_EVERY: Duration = Duration::from_secs(10);
    /// Default progress throttle.
    pub const PROGRESS_EVERY: Duration = Duration::from_millis(500);
}

impl Default for JobLease {
    fn default() -> Self {
        Self { lease: Self::LEASE, renew_every: Self::RENEW_EVERY, progress_every: Self::PROGRESS_EVERY }
    }
}

/// A job this replica runs: its row as last known here.
struct Held {
    row: JobRow,
    last_write: Instant,
    /// The store refused a write: the lease expired and another replica failed the job.
    lost: bool,
}

struct Shared {
    store: Arc<dyn Store>,
    /// This replica's id in job rows (one per process and engine).
    owner: String,
    lease: JobLease,
    held: Mutex<HashMap<String, Held>>,
}

/// The jobs of one engine: started and run here, read from the store.
pub(crate) struct Jobs {
    shared: Arc<Shared>,
    /// Test seam: makes the next thread spawns fail as an exhausted machine would.
    #[cfg(test)]
    pub(crate) fail_spawn: std::sync::atomic::AtomicBool,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn lease_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2)
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes a held job's row with a fresh lease (under the lock, so writes never reorder).
    fn write(&self, held: &mut Held) {
        held.row.lease_until_ms = now_ms() + lease_ms(self.lease.lease);
        held.last_write = Instant::now();
        match self.store.job_write(&held.row) {
            Ok(true) => {}
            Ok(false) => {
                if !held.lost {
                    tracing::error!(job_id = %held.row.id, "job lease lost: another replica failed the job after its lease expired");
                }
                held.lost = true;
            }
            // a failed renewal is retried at the next one; the lease covers a few
            Err(e) => tracing::warn!(job_id = %held.row.id, error = %e, "job progress or lease could not be written; retrying"),
        }
    }

    fn update(&self, id: &str, force: bool, change: impl FnOnce(&mut JobRow)) {
        let mut held = self.lock();
        let Some(h) = held.get_mut(id) else { return };
        change(&mut h.row);
        if force || h.last_write.elapsed() >= self.lease.progress_every {
            self.write(h);
        }
    }

    /// Renews `id`'s lease every `renew_every` until `stop` is dropped.
    fn renew_until(&self, id: &str, stop: &std::sync::mpsc::Receiver<()>) {
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(self.lease.renew_every) {
            self.update(id, true, |_| {});
        }
    }
}

impl Jobs {
    /// Jobs of a replica on `store`, with a new replica id.
    pub(crate) fn new(store: Arc<dyn Store>, lease: JobLease) -> Self {
        let owner = format!("replica-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple());
        Self {
            shared: Arc::new(Shared { store, owner, lease, held: Mutex::new(HashMap::new()) }),
            #[cfg(test)]
            fail_spawn: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Fails the jobs whose lease expired (at start-up, and before every read).
    pub(crate) fn expire(&self) -> Result<usize> {
        Ok(self.shared.store.job_expire(now_ms())?)
    }

    /// Starts a job, `queued`, unless one of the same kind is queued or running on any replica
    /// (then `Err` with that job's id).
    pub(crate) fn start(&self, id: &str, kind: &str) -> Result<std::result::Result<(), String>> {
        let row = JobRow {
            id: id.to_owned(),
            kind: kind.to_owned(),
            state: JobState::Queued.as_str().into(),
            phase: "queued".into(),
            done: 0,
            total: 0,
            started_at: now(),
            finished_at: None,
            version: None,
            error: None,
            owner: self.shared.owner.clone(),
            lease_until_ms: now_ms() + lease_ms(self.shared.lease.lease),
        };
        let now = now_ms();
        if let Some(active) = self.shared.store.job_insert(&row, now)? {
            return Ok(Err(active));
        }
        self.shared.lock().insert(id.to_owned(), Held { row, last_write: Instant::now(), lost: false });
        Ok(Ok(()))
    }

    /// Runs `work` on a new named thread, with the job's lease renewed beside it until `work`
    /// returns; the job turns `running` once the thread has started. When no thread can be
    /// started the job ends `failed` with the reason, so another job of its kind can start later.
    pub(crate) fn spawn(&self, id: &str, thread_name: &str, work: impl FnOnce() + Send + 'static) -> std::result::Result<(), String> {
        #[cfg(test)]
        let forced_failure = self.fail_spawn.load(std::sync::atomic::Ordering::SeqCst);
        #[cfg(not(test))]
        let forced_failure = false;
        let shared = Arc::clone(&self.shared);
        let job = id.to_owned();
        let run = move || {
            std::thread::scope(|scope| {
                let (stop, stopped) = std::sync::mpsc::channel::<()>();
                let renewer = std::thread::Builder::new().name("job-lease".into()).spawn_scoped(scope, {
                    let (shared, job) = (&shared, &job);
                    move || shared.renew_until(job, &stopped)
                });
                if let Err(e) = renewer {
                    finish(&shared, &job, Err(cannot_start(&e)));
                    return;
                }
                work();
                drop(stop);
            });
        };
        let spawned = if forced_failure {
            Err(std::io::Error::other("resource temporarily unavailable (test)"))
        } else {
            std::thread::Builder::new().name(thread_name.to_owned()).spawn(run).map(drop)
        };
        spawned.map_err(|e| {
            let reason = cannot_start(&e);
            finish(&self.shared, id, Err(reason.clone()));
            reason
        })
    }

    /// Marks a queued job as running (called first thing on its thread).
    pub(crate) fn mark_running(&self, id: &str) {
        self.shared.update(id, true, |row| {
            if row.state == JobState::Queued.as_str() {
                row.state = JobState::Running.as_str().into();
                row.phase = "starting".into();
            }
        });
    }

    /// Progress of a running job: kept here, written to the store at most every
    /// `progress_every` (a new phase is written at once).
    pub(crate) fn progress(&self, id: &str, phase: &str, done: usize, total: usize) {
        let mut new_phase = false;
        let mut held = self.shared.lock();
        let Some(h) = held.get_mut(id) else { return };
        if h.row.phase != phase {
            h.row.phase = phase.to_owned();
            new_phase = true;
        }
        h.row.done = done as u64;
        h.row.total = total as u64;
        if new_phase || h.last_write.elapsed() >= self.shared.lease.progress_every {
            self.shared.write(h);
        }
    }

    /// Whether this replica still holds the job (its lease did not expire meanwhile).
    pub(crate) fn still_held(&self, id: &str) -> bool {
        self.shared.lock().get(id).is_some_and(|h| !h.lost)
    }

    pub(crate) fn finish(&self, id: &str, result: std::result::Result<String, String>) {
        finish(&self.shared, id, result);
    }

    /// A job's status, from the store (any replica's job), or this replica's fresher progress
    /// for a job it runs.
    pub(crate) fn get(&self, id: &str) -> Result<Option<JobStatus>> {
        self.expire()?;
        let Some(stored) = self.shared.store.job(id)? else { return Ok(None) };
        if stored.is_active()
            && let Some(h) = self.shared.lock().get(id).filter(|h| !h.lost)
        {
            return Ok(JobStatus::from_row(&h.row));
        }
        Ok(JobStatus::from_row(&stored))
    }

    /// Jobs by state, for metrics (every replica's, from the store).
    pub(crate) fn counts(&self) -> Result<HashMap<JobState, usize>> {
        self.expire()?;
        let mut out = HashMap::new();
        for (state, n) in self.shared.store.job_counts()? {
            if let Some(s) = JobState::parse(&state) {
                out.insert(s, n as usize);
            }
        }
        Ok(out)
    }
}

fn cannot_start(e: &std::io::Error) -> String {
    format!("the job's thread could not start ({e}); the machine is short of threads or memory, try again later")
}

/// Ends a held job: its final row is written at once, and this replica stops holding it.
fn finish(shared: &Shared, id: &str, result: std::result::Result<String, String>) {
    let mut held = shared.lock();
    let Some(mut h) = held.remove(id) else { return };
    let row = &mut h.row;
    row.finished_at = Some(now());
    match result {
        Ok(version) => {
            row.state = JobState::Succeeded.as_str().into();
            row.phase = "done".into();
            // a finished job reports complete progress, whatever its last phase counted
            row.total = row.total.max(1);
            row.done = row.total;
            row.version = Some(version);
        }
        Err(e) => {
            row.state = JobState::Failed.as_str().into();
            row.phase = "failed".into();
            row.error = Some(e);
        }
    }
    shared.write(&mut h);
    if h.lost {
        tracing::warn!(job_id = %id, "the job's outcome is not recorded: its lease had expired and the job was failed");
    }
}

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_store::SqliteStore;

    fn fast() -> JobLease {
        JobLease { lease: Duration::from_millis(300), renew_every: Duration::from_millis(40), progress_every: Duration::from_millis(50) }
    }

    #[test]
    fn one_job_of_a_kind_at_a_time_and_outcomes_are_kept() {
        let jobs = Jobs::new(Arc::new(SqliteStore::open_in_memory().unwrap()), JobLease::default());
        jobs.start("a", "train").unwrap().unwrap();
        assert_eq!(jobs.get("a").unwrap().unwrap().state, JobState::Queued, "not running before its thread starts");
        assert_eq!(jobs.start("b", "train").unwrap().unwrap_err(), "a", "a queued job blocks another of its kind");
        jobs.mark_running("a");
        assert_eq!(jobs.get("a").unwrap().unwrap().state, JobState::Running);
        assert_eq!(jobs.start("b", "train").unwrap().unwrap_err(), "a");
        jobs.progress("a", "features", 5, 10);
        assert_eq!(jobs.get("a").unwrap().unwrap().done, 5);
        jobs.finish("a", Err("one label only".into()));
        let a = jobs.get("a").unwrap().unwrap();
        assert_eq!((a.state, a.error.as_deref()), (JobState::Failed, Some("one label only")));
        jobs.start("b", "train").unwrap().unwrap();
        jobs.progress("b", "saving", 0, 1);
        jobs.finish("b", Ok("v2".into()));
        let b = jobs.get("b").unwrap().unwrap();
        assert_eq!(b.version.as_deref(), Some("v2"));
        assert_eq!((b.done, b.total), (1, 1), "a finished job reports its progress as complete");
        assert_eq!(jobs.counts().unwrap()[&JobState::Failed], 1);
    }

    #[test]
    fn progress_reaches_the_store_throttled_and_another_replica_reads_it() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let lease = JobLease { progress_every: Duration::from_secs(3600), ..JobLease::default() };
        let (a, b) = (Jobs::new(store.clone(), lease), Jobs::new(store, lease));
        a.start("j", "train").unwrap().unwrap();
        a.mark_running("j");
        a.progress("j", "features", 1, 100);
        a.progress("j", "features", 2, 100);
        assert_eq!(a.get("j").unwrap().unwrap().done, 2, "the replica running it answers its latest progress");
        let seen = b.get("j").unwrap().unwrap();
        assert_eq!(
            (seen.state, seen.phase.as_str(), seen.done),
            (JobState::Running, "features", 1),
            "a new phase is written at once, counts throttled"
        );
        a.finish("j", Ok("v1".into()));
        assert_eq!(b.get("j").unwrap().unwrap().state, JobState::Succeeded, "the outcome is written at once");
    }

    #[test]
    fn a_running_job_keeps_its_lease_and_one_whose_replica_stopped_fails_with_the_reason() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let (a, b) = (Jobs::new(store.clone(), fast()), Jobs::new(store, fast()));
        a.start("long", "train").unwrap().unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        a.spawn("long", "test-job", move || {
            let _ = wait.recv();
        })
        .unwrap();
        std::thread::sleep(fast().lease * 2);
        assert_eq!(b.get("long").unwrap().unwrap().state, JobState::Queued, "renewed past its first lease");
        assert_eq!(b.start("other", "train").unwrap().unwrap_err(), "long", "and it still blocks another replica");
        drop(release);
        a.finish("long", Ok("v1".into()));

        // a replica accepts a job and stops before running it: nobody renews the lease
        a.start("orphan", "train").unwrap().unwrap();
        std::thread::sleep(fast().lease + Duration::from_millis(50));
        let orphan = b.get("orphan").unwrap().unwrap();
        assert_eq!(orphan.state, JobState::Failed);
        assert!(orphan.error.as_deref().unwrap().contains("the replica running it stopped; lease expired at"), "{orphan:?}");
        b.start("next", "train").unwrap().expect("the next job may start");
        a.progress("orphan", "late", 1, 1);
        assert!(!a.still_held("orphan"), "the stopped replica learns it lost the job at its next write");
    }
}
