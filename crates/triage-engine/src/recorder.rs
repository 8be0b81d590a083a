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
//! are not affected).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use triage_store::{Store, TriageRecord};

/// Most records written in one transaction.
const MAX_BATCH: usize = 2_048;
/// How long the writer lets a batch fill after the first record.
const LINGER: Duration = Duration::from_millis(10);

enum Msg {
    Record(Box<TriageRecord>),
    Flush(Sender<()>),
}

pub(crate) struct Recorder {
    tx: Mutex<Option<Sender<Msg>>>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Recorder {
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new().name("triage-recorder".into()).spawn(move || run(store, rx))?;
        Ok(Self { tx: Mutex::new(Some(tx)), handle: Mutex::new(Some(handle)) })
    }

    /// Queues a record. If the writer is gone (shutting down), writes it directly.
    pub fn record(&self, record: TriageRecord, store: &dyn Store) {
        let sent = match self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(Msg::Record(Box::new(record))).map_err(|e| e.0),
            None => Err(Msg::Record(Box::new(record))),
        };
        if let Err(Msg::Record(r)) = sent
            && let Err(e) = store.record_triage(&r)
        {
            tracing::error!(error = %e, "could not store a triage record");
        }
    }

    /// Waits until every record queued before this call is written.
    pub fn flush(&self) {
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

fn take(msg: Msg, batch: &mut Vec<TriageRecord>, waiting: &mut Vec<Sender<()>>) {
    match msg {
        Msg::Record(r) => batch.push(*r),
        Msg::Flush(done) => waiting.push(done),
    }
}

fn run(store: Arc<dyn Store>, rx: Receiver<Msg>) {
    let mut batch: Vec<TriageRecord> = Vec::with_capacity(MAX_BATCH);
    let mut waiting: Vec<Sender<()>> = Vec::new();
    let mut behind = false;
    while let Ok(first) = rx.recv() {
        let flush_asked = matches!(first, Msg::Flush(_));
        take(first, &mut batch, &mut waiting);
        if !flush_asked && !behind {
            // not blocked on the channel while lingering, so senders wake nobody
            std::thread::sleep(LINGER);
        }
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(msg) => take(msg, &mut batch, &mut waiting),
                Err(_) => break,
            }
        }
        // a full batch means more may be waiting: write the next one without lingering
        behind = batch.len() >= MAX_BATCH;
        if !batch.is_empty() {
            if let Err(e) = store.record_triages(&batch) {
                tracing::error!(error = %e, records = batch.len(), "could not store triage records");
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
        }
    }

    #[test]
    fn flushed_records_are_readable_and_drop_writes_the_rest() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
        let recorder = Recorder::start(store.clone()).unwrap();
        for i in 0..1000 {
            recorder.record(record(&format!("t{i}")), store.as_ref());
        }
        recorder.flush();
        assert!(store.triage_record(None, "t999").unwrap().is_some());
        recorder.record(record("last"), store.as_ref());
        drop(recorder);
        assert!(store.triage_record(None, "last").unwrap().is_some(), "dropping the recorder writes what was queued");
    }
}
