//! Triage records are written behind the request: a request hands its record to a writer
//! thread and returns; the thread writes whatever has queued up in one transaction. Anything
//! that reads triage records (feedback, statistics, the training scan) flushes first, so reads
//! always see every answer already given. Dropping the engine flushes and joins the thread.
//!
//! Group commit: woken by a record, the writer waits [`LINGER`] for more before it writes, so
//! under load it commits a few hundred records at a time and is woken once per batch, not once
//! per request (measured: waking per record cost a third of the service's throughput at 64
//! connections, benches/README.md). A flush request is served at once. The price: a crash can
//! lose the records of the last few milliseconds (answers already sent; the tickets themselves
//! are not affected), and feedback on those triages then answers 404.
//!
//! [`Durability::Durable`] closes that window: each request waits until its record is committed
//! (no linger; records that queued meanwhile still share one transaction), and a record that
//! cannot be stored fails the request instead of being logged.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use triage_store::{Store, TriageRecord};

/// Most records written in one transaction.
const MAX_BATCH: usize = 2_048;
/// How long the writer lets a batch fill after the first record.
const LINGER: Duration = Duration::from_millis(10);

/// When a triage answer's record is on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// Written behind the answer in group commits (the default; a crash may lose the last
    /// ~10 ms of records).
    #[default]
    Batched,
    /// Committed before the answer is sent.
    Durable,
}

type Ack = Sender<Result<(), String>>;

enum Msg {
    Record(Box<TriageRecord>, Option<Ack>),
    Flush(Sender<()>),
}

pub(crate) struct Recorder {
    tx: Mutex<Option<Sender<Msg>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
    durability: Durability,
}

impl Recorder {
    pub(crate) fn start(store: Arc<dyn Store>, durability: Durability) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let linger = if durability == Durability::Durable { Duration::ZERO } else { LINGER };
        let handle = std::thread::Builder::new().name("triage-recorder".into()).spawn(move || run(store, rx, linger))?;
        Ok(Self { tx: Mutex::new(Some(tx)), handle: Mutex::new(Some(handle)), durability })
    }

    /// Queues a record (and, when durable, waits until it is committed). If the writer is gone
    /// (shutting down), writes it directly.
    pub(crate) fn record(&self, record: TriageRecord, store: &dyn Store) -> crate::Result<()> {
        let (ack, acked) = match self.durability {
            Durability::Durable => {
                let (tx, rx) = mpsc::channel();
                (Some(tx), Some(rx))
            }
            Durability::Batched => (None, None),
        };
        let sent = match self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(Msg::Record(Box::new(record), ack)).map_err(|e| e.0),
            None => Err(Msg::Record(Box::new(record), None)),
        };
        if let Err(Msg::Record(r, _)) = sent {
            return match store.record_triage(&r) {
                Err(e) if self.durability == Durability::Durable => Err(e.into()),
                Err(e) => {
                    tracing::error!(error = %e, "could not store a triage record");
                    Ok(())
                }
                Ok(()) => Ok(()),
            };
        }
        match acked.map(|rx| rx.recv()) {
            None => Ok(()),
            Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(crate::EngineError::Io(std::io::Error::other(format!("the triage record was not stored: {e}")))),
            Some(Err(_)) => Err(crate::EngineError::Io(std::io::Error::other("the triage-record writer stopped"))),
        }
    }

    /// Waits until every record queued before this call is written.
    pub(crate) fn flush(&self) {
        let (done_tx, done_rx) = mpsc::channel();
        let sent = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|tx| tx.send(Msg::Flush(done_tx)).is_ok());
        if sent {
            let _ = done_rx.recv();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = self.handle.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

fn take(msg: Msg, batch: &mut Vec<TriageRecord>, acks: &mut Vec<Ack>, waiting: &mut Vec<Sender<()>>) {
    match msg {
        Msg::Record(r, ack) => {
            batch.push(*r);
            acks.extend(ack);
        }
        Msg::Flush(done) => waiting.push(done),
    }
}

fn run(store: Arc<dyn Store>, rx: Receiver<Msg>, linger: Duration) {
    let mut batch: Vec<TriageRecord> = Vec::with_capacity(MAX_BATCH);
    let mut acks: Vec<Ack> = Vec::new();
    let mut waiting: Vec<Sender<()>> = Vec::new();
    let mut behind = false;
    while let Ok(first) = rx.recv() {
        let flush_asked = matches!(first, Msg::Flush(_));
        take(first, &mut batch, &mut acks, &mut waiting);
        if !flush_asked && !behind && !linger.is_zero() {
            // not blocked on the channel while lingering, so senders wake nobody
            std::thread::sleep(linger);
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => take(msg, &mut batch, &mut acks, &mut waiting),
                Err(_) => break,
            }
        }
        // a full batch means more may be waiting: write the next one without lingering
        behind = batch.len() >= MAX_BATCH;
        if !batch.is_empty() {
            let result = store.record_triages(&batch).map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::error!(error = %e, records = batch.len(), "could not store triage records");
            }
            for ack in acks.drain(..) {
                let _ = ack.send(result.clone());
            }
            batch.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use triage_store::SqliteStore;

    fn record(id: &str) -> TriageRecord {
        TriageRecord {
            triage_id: id.into(),
            tenant: None,
            external_id: None,
            created_at: "2026-11-25T10:00:00Z".into(),
            model_version: None,
            labels: serde_json::json!({}),
            suggestions: vec![],
            text: None,
            no_good_fix: false,
        }
    }

    #[test]
    fn flushed_records_are_readable_and_drop_writes_the_rest() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let recorder = Recorder::start(store.clone(), Durability::Batched).unwrap();
        for i in 0..1000 {
            recorder.record(record(&format!("t{i}")), store.as_ref()).unwrap();
        }
        recorder.flush();
        assert!(store.triage_record(None, "t999").unwrap().is_some());
        recorder.record(record("last"), store.as_ref()).unwrap();
        drop(recorder);
        assert!(store.triage_record(None, "last").unwrap().is_some(), "dropping the recorder writes what was queued");
    }

    #[test]
    fn a_durable_record_is_readable_when_record_returns_without_a_flush() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let recorder = Recorder::start(store.clone(), Durability::Durable).unwrap();
        for i in 0..50 {
            let id = format!("d{i}");
            recorder.record(record(&id), store.as_ref()).unwrap();
            // read through the store directly: no flush, no linger to wait out
            assert!(store.triage_record(None, &id).unwrap().is_some(), "{id} is committed when record returns");
        }
    }

    #[test]
    fn a_durable_record_that_cannot_be_stored_fails_the_request() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let recorder = Recorder::start(store.clone(), Durability::Durable).unwrap();
        recorder.record(record("dup"), store.as_ref()).unwrap();
        assert!(recorder.record(record("dup"), store.as_ref()).is_err(), "a second record with the same id violates the key");
        let batched = Recorder::start(store.clone(), Durability::Batched).unwrap();
        assert!(batched.record(record("dup"), store.as_ref()).is_ok(), "batched: logged, the answer stands");
    }
}
