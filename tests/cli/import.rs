//! `triage import` survives SIGKILL: every committed batch is there, nothing twice, and a rerun
//! completes the import.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROWS: usize = 20_000;
const BATCH: usize = 200;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn import(data: &Path, csv: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_triage"));
    c.args([
        "import",
        csv.to_str().unwrap(),
        "--text",
        "title,description",
        "--label",
        "category=category",
        "--id",
        "id",
        "--tenant",
        "northmoor",
    ])
    .args(["--notes", "notes", "--first-contact", "fcr", "--batch", &BATCH.to_string(), "--data-dir", data.to_str().unwrap()])
    .env("TRIAGE__KNOWLEDGE_BASE__DIR", repo("knowledge-base"))
    .env("TRIAGE__MODEL__DIR", repo("models/starter"))
    .env("RUST_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// Rows committed so far, read as a plain read-only connection (opening the store itself would
/// migrate and normalise, slow enough that a fast import can finish between two polls).
fn count(db: &Path) -> u64 {
    if !db.exists() {
        return 0;
    }
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else { return 0 };
    conn.query_row("SELECT COUNT(*) FROM resolved_tickets", [], |r| r.get::<_, i64>(0)).map_or(0, |n| n as u64)
}

#[test]
fn a_killed_import_keeps_every_committed_row_once_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("resolved.csv");
    let mut text = String::from("id,title,description,category,notes,fcr\n");
    for i in 0..ROWS {
        let cat = ["printing", "accounts", "network"][i % 3];
        text.push_str(&format!(
            "INC{i:06},\"{cat} problem {i}\",\"details of case {i}, caller rang twice\",{cat},\"fixed it, step {i}\",{}\n",
            i % 2 == 0
        ));
    }
    std::fs::write(&csv, text).unwrap();
    let data = dir.path().join("data");
    let db = data.join("triage.db");

    let mut child = import(&data, &csv).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&db) < BATCH as u64 {
        assert!(Instant::now() < deadline, "import committed nothing in 60 s");
        assert!(child.try_wait().unwrap().is_none(), "import finished before it could be killed; raise ROWS");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let after_kill = count(&db);
    assert!(after_kill > 0 && after_kill < ROWS as u64, "killed mid-way: {after_kill}");
    assert_eq!(after_kill % BATCH as u64, 0, "only whole batches are committed");

    let status = import(&data, &csv).status().unwrap();
    assert!(status.success());
    assert_eq!(count(&db), ROWS as u64, "every row once, none twice");

    // the ticket index agrees with the store after the next start
    let params = triage_engine::EngineParams::new(repo("knowledge-base"), &data).with_model(repo("models/starter"));
    let (engine, _) = triage_engine::TriageEngine::open(&params).unwrap();
    assert_eq!(engine.ticket_count(), ROWS as u64);
}
