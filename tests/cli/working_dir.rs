//! The binary starts from any working directory: the knowledge base and the starter model are
//! found without being named, and the registry's live model loads wherever the command runs.

use std::process::Command;

fn triage_in(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TRIAGE__KNOWLEDGE_BASE__DIR")
        .env_remove("TRIAGE__MODEL__DIR")
        .env_remove("TRIAGE_CONFIG")
        .env("RUST_LOG", "info")
        .env("TRIAGE__LOG__FORMAT", "json")
        .output()
        .unwrap()
}

#[test]
fn commands_run_from_any_working_directory_and_load_the_live_model() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let out = triage_in(first.path(), &["kb", "check"]);
    assert!(out.status.success(), "kb check from elsewhere: {}", String::from_utf8_lossy(&out.stderr));
    // the first run registers the starter model as live; the second, from another folder, loads it
    for cwd in [first.path(), second.path()] {
        let out = triage_in(cwd, &["keys", "--data-dir", data_dir, "list"]);
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "keys list from {}: {log}", cwd.display());
        assert!(!log.contains("model.fallback") && !log.contains("degraded") && !log.contains("cannot load"), "{log}");
    }
    let db = live_model_path(data.path());
    assert!(db.is_some_and(|p| std::path::Path::new(&p).is_absolute()), "the configured starter is registered by absolute path");
}

/// The registry path of the live model, read with the store crate.
fn live_model_path(data: &std::path::Path) -> Option<String> {
    use triage_store::Store;
    let store = triage_store::SqliteStore::open(&data.join("triage.db")).unwrap();
    store.models().unwrap().into_iter().find(|m| m.status == triage_store::ModelStatus::Live).map(|m| m.path)
}
