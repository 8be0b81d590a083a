//! Background jobs (retraining) and their progress, kept in memory. A restart forgets finished
//! jobs; the models they registered stay in the store.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Serialize;

/// Where a background job is in its life. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// What a job is doing, or how it ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobStatus {
    /// The job's id, as returned when it was started.
    pub id: String,
    /// What the job does; `train` is the only kind so far.
    pub kind: &'static str,
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

#[derive(Debug, Default)]
pub(crate) struct Jobs {
    jobs: Mutex<HashMap<String, JobStatus>>,
    /// Test seam: makes the next thread spawns fail as an exhausted machine would.
    #[cfg(test)]
    pub(crate) fail_spawn: std::sync::atomic::AtomicBool,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, JobStatus>> {
        self.jobs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts tracking a job, `queued`, unless one of the same kind is queued or running.
    pub(crate) fn start(&self, id: &str, kind: &'static str) -> Result<(), String> {
        let mut jobs = self.lock();
        if let Some(running) = jobs.values().find(|j| j.kind == kind && matches!(j.state, JobState::Queued | JobState::Running)) {
            return Err(running.id.clone());
        }
        jobs.insert(
            id.to_owned(),
            JobStatus {
                id: id.to_owned(),
                kind,
                state: JobState::Queued,
                phase: "queued".into(),
                done: 0,
                total: 0,
                started_at: now(),
                finished_at: None,
                version: None,
                error: None,
            },
        );
        Ok(())
    }

    /// Runs `work` on a new named thread; the job turns `running` once the thread has
    /// started. When no thread can be started the job ends `failed` with the reason, so another
    /// job of its kind can start later.
    pub(crate) fn spawn(&self, id: &str, thread_name: &str, work: impl FnOnce() + Send + 'static) -> Result<(), String> {
        #[cfg(test)]
        let forced_failure = self.fail_spawn.load(std::sync::atomic::Ordering::SeqCst);
        #[cfg(not(test))]
        let forced_failure = false;
        let spawned = if forced_failure {
            Err(std::io::Error::other("resource temporarily unavailable (test)"))
        } else {
            std::thread::Builder::new().name(thread_name.to_owned()).spawn(work).map(drop)
        };
        spawned.map_err(|e| {
            let reason = format!("the job's thread could not start ({e}); the machine is short of threads or memory, try again later");
            self.finish(id, Err(reason.clone()));
            reason
        })
    }

    /// Marks a queued job as running (called first thing on its thread).
    pub(crate) fn mark_running(&self, id: &str) {
        if let Some(j) = self.lock().get_mut(id).filter(|j| j.state == JobState::Queued) {
            j.state = JobState::Running;
            j.phase = "starting".into();
        }
    }

    pub(crate) fn progress(&self, id: &str, phase: &str, done: usize, total: usize) {
        if let Some(j) = self.lock().get_mut(id) {
            if j.phase != phase {
                j.phase = phase.to_owned();
            }
            j.done = done;
            j.total = total;
        }
    }

    pub(crate) fn finish(&self, id: &str, result: Result<String, String>) {
        if let Some(j) = self.lock().get_mut(id) {
            j.finished_at = Some(now());
            match result {
                Ok(version) => {
                    j.state = JobState::Succeeded;
                    j.phase = "done".into();
                    // a finished job reports complete progress, whatever its last phase counted
                    j.total = j.total.max(1);
                    j.done = j.total;
                    j.version = Some(version);
                }
                Err(e) => {
                    j.state = JobState::Failed;
                    j.phase = "failed".into();
                    j.error = Some(e);
                }
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<JobStatus> {
        self.lock().get(id).cloned()
    }

    /// Jobs by state, for metrics.
    pub(crate) fn counts(&self) -> HashMap<JobState, usize> {
        let mut out = HashMap::new();
        for j in self.lock().values() {
            *out.entry(j.state).or_insert(0) += 1;
        }
        out
    }
}

impl std::hash::Hash for JobState {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (*self as u8).hash(state);
    }
}

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_job_of_a_kind_at_a_time_and_outcomes_are_kept() {
        let jobs = Jobs::default();
        jobs.start("a", "train").unwrap();
        assert_eq!(jobs.get("a").unwrap().state, JobState::Queued, "not running before its thread starts");
        assert_eq!(jobs.start("b", "train").unwrap_err(), "a", "a queued job blocks another of its kind");
        jobs.mark_running("a");
        assert_eq!(jobs.get("a").unwrap().state, JobState::Running);
        assert_eq!(jobs.start("b", "train").unwrap_err(), "a");
        jobs.progress("a", "features", 5, 10);
        assert_eq!(jobs.get("a").unwrap().done, 5);
        jobs.finish("a", Err("one label only".into()));
        let a = jobs.get("a").unwrap();
        assert_eq!((a.state, a.error.as_deref()), (JobState::Failed, Some("one label only")));
        jobs.start("b", "train").unwrap();
        jobs.progress("b", "saving", 0, 1);
        jobs.finish("b", Ok("v2".into()));
        let b = jobs.get("b").unwrap();
        assert_eq!(b.version.as_deref(), Some("v2"));
        assert_eq!((b.done, b.total), (1, 1), "a finished job reports its progress as complete");
        assert_eq!(jobs.counts()[&JobState::Failed], 1);
    }
}
