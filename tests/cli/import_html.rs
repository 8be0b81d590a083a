//! `triage import` turns HTML descriptions from a ticketing system's export into plain text
//! before it redacts and stores them (issue 16), and `--description-format text` keeps them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use triage_store::{SqliteStore, Store};

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

/// Imports `csv` into `data` with the given `--description-format`, and returns the stored
/// descriptions by id.
fn import_descriptions(csv: &Path, data: &Path, format: &str) -> BTreeMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["import", csv.to_str().unwrap(), "--text", "title,description", "--id", "id", "--tenant", "northmoor"])
        .args(["--description-format", format, "--data-dir", data.to_str().unwrap()])
        .env("TRIAGE__KNOWLEDGE_BASE__DIR", repo("knowledge-base"))
        .env("TRIAGE__MODEL__DIR", repo("models/starter"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
    let store = SqliteStore::open(&data.join("triage.db")).unwrap();
    let mut found = BTreeMap::new();
    store.for_each_resolved(&mut |t| drop(found.insert(t.external_id.to_string(), t.description.clone()))).unwrap();
    found
}

#[test]
fn import_converts_html_descriptions_unless_told_they_are_text() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("export.csv");
    std::fs::write(
        &csv,
        "id,title,description\n\
         INC1,VPN drops,\"<p>VPN drops every hour</p><ul><li>Error 809</li></ul><script>x()</script>\"\n\
         INC2,Printer,Printer on floor 2 jams (plain text)\n",
    )
    .unwrap();
    let auto = import_descriptions(&csv, &dir.path().join("auto"), "auto");
    assert_eq!(auto["INC1"], "VPN drops every hour\n- Error 809", "HTML recognised and converted");
    assert_eq!(auto["INC2"], "Printer on floor 2 jams (plain text)", "plain text untouched");
    let text = import_descriptions(&csv, &dir.path().join("text"), "text");
    assert!(text["INC1"].starts_with("<p>VPN drops"), "--description-format text keeps the markup: {}", text["INC1"]);
}
