//! A desk's own redaction pattern (`[redaction.extra_patterns]` in a `--config` file) applies to
//! `triage import` and `triage train` as it does to the service: nothing they write keeps it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use triage_core::tenant::TenantId;
use triage_kb::TicketIndex;
use triage_store::{SqliteStore, Store};

/// A housing-benefit claim number, the desk's own personal reference.
const CLAIM: &str = "123456";

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn triage(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .env("TRIAGE__KNOWLEDGE_BASE__DIR", repo("knowledge-base"))
        .env("TRIAGE__MODEL__DIR", repo("models/starter"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "triage {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Tickets mentioning a claim number in the title, the description and the notes.
fn write_tickets(dir: &Path) -> PathBuf {
    let csv = dir.join("resolved.csv");
    let mut text = String::from("id,title,description,category,notes\n");
    for i in 0..60 {
        let cat = ["benefits", "printing", "accounts"][i % 3];
        text.push_str(&format!(
            "INC{i:04},\"{cat} query about HB-{CLAIM}\",\"caller asked about claim HB-{CLAIM} and {cat} case {i}\",{cat},\"closed HB-{CLAIM}\"\n"
        ));
    }
    std::fs::write(&csv, text).unwrap();
    csv
}

fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("triage.toml");
    std::fs::write(&path, "[redaction.extra_patterns]\nhb = '(?i)\\bHB-\\d{6}\\b'\n").unwrap();
    path
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn import_with_a_desk_pattern_keeps_the_claim_number_out_of_the_store_and_the_ticket_index() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, config, data) = (write_tickets(dir.path()), write_config(dir.path()), dir.path().join("data"));
    triage(&[
        "import",
        csv.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--text",
        "title,description",
        "--label",
        "category=category",
        "--id",
        "id",
        "--tenant",
        "northmoor",
        "--notes",
        "notes",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let store = SqliteStore::open(&data.join("triage.db")).unwrap();
    let mut seen = 0;
    store
        .for_each_resolved(&mut |t| {
            seen += 1;
            assert!(t.title.contains("[piihb]") && t.description.contains("[piihb]") && t.resolution_notes.contains("[piihb]"), "{t:?}");
        })
        .unwrap();
    assert_eq!(seen, 60);
    drop(store);
    let db_files: Vec<PathBuf> = files_containing(&data, CLAIM).into_iter().filter(|p| !p.starts_with(data.join("index"))).collect();
    assert!(db_files.is_empty(), "the claim number is on disk in {db_files:?}");
    let index = TicketIndex::open_or_create(&data.join("index").join("tickets")).unwrap();
    let north = TenantId::parse("northmoor").unwrap();
    assert!(index.search_terms(&[CLAIM.to_owned()], &north, 5).unwrap().is_empty(), "the claim number is an index term");
    let hits = index.search("benefits query", &north, 5).unwrap();
    assert!(!hits.is_empty(), "the tickets are indexed");
    assert!(hits.iter().all(|h| !h.title.contains(CLAIM) && !h.resolution_notes.contains(CLAIM)), "{hits:?}");
}

#[test]
fn train_with_a_desk_pattern_writes_a_bundle_without_the_claim_number() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, config) = (write_tickets(dir.path()), write_config(dir.path()));
    let train = |out: &Path, config: Option<&Path>| {
        let mut args = vec!["train", "--train", csv.to_str().unwrap(), "--text", "title,description", "--label", "category=category"];
        args.extend(["--id", "id", "--out", out.to_str().unwrap()]);
        if let Some(c) = config {
            args.extend(["--config", c.to_str().unwrap()]);
        }
        triage(&args);
    };
    // control: without the pattern the number is a term of the bundle, so the check below can fail
    let plain = dir.path().join("plain");
    train(&plain, None);
    assert!(!files_containing(&plain, CLAIM).is_empty(), "a bundle keeps its terms on disk");
    let redacted = dir.path().join("redacted");
    train(&redacted, Some(&config));
    assert_eq!(files_containing(&redacted, CLAIM), Vec::<PathBuf>::new(), "the claim number is in the bundle");
    assert_eq!(files_containing(&redacted, "12345"), Vec::<PathBuf>::new(), "no character n-gram of it either");
}

#[test]
fn every_command_refuses_to_start_with_an_invalid_desk_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, config) = (write_tickets(dir.path()), dir.path().join("bad.toml"));
    std::fs::write(&config, "[redaction.extra_patterns]\nhousingbenefitclaimnumberreference = 'HB-\\d{6}'\n").unwrap();
    let data = dir.path().join("data");
    let (csv, config, data, out) = (csv.to_str().unwrap(), config.to_str().unwrap(), data.to_str().unwrap(), dir.path().join("m"));
    let commands: [(Vec<&str>, &str); 4] = [
        (vec!["train", "--train", csv, "--text", "title", "--label", "category=category", "--out", out.to_str().unwrap()], "train"),
        (vec!["import", csv, "--text", "title", "--id", "id", "--tenant", "northmoor", "--data-dir", data], "import"),
        (vec!["eval", "classify", "--train", csv, "--test", csv, "--text", "title", "--label", "category=category"], "eval"),
        (vec!["kb", "check"], "kb"),
    ];
    for (mut args, why) in commands {
        args.extend(["--config", config]);
        let out = Command::new(env!("CARGO_BIN_EXE_triage"))
            .args(&args)
            .env("TRIAGE__KNOWLEDGE_BASE__DIR", repo("knowledge-base"))
            .env("TRIAGE__MODEL__DIR", repo("models/starter"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{why} must not run with a 34-letter pattern name");
        assert!(stderr.contains("redaction.extra_patterns") && stderr.contains("1-32 lower-case"), "{why}: {stderr}");
    }
    assert!(!out.exists() && !Path::new(data).exists(), "nothing was written");
}
