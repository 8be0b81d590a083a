//! The SQLite migration that records `no_good_fix` (gap candidates themselves: `conformance::gaps`).

use rusqlite::Connection;
use triage_core::tenant::TenantId;

use crate::{SqliteStore, Store, TriageRecord};

fn record(id: &str, tenant: &str, ext: &str, at: &str, no_good_fix: bool) -> TriageRecord {
    TriageRecord {
        triage_id: id.into(),
        tenant: Some(TenantId::parse(tenant).unwrap()),
        external_id: Some(ext.into()),
        created_at: at.into(),
        model_version: None,
        labels: serde_json::json!({"category": {"label": "printing", "decision": "suggest"}}),
        suggestions: vec!["article:a".into()],
        text: Some(format!("text of {id}")),
        no_good_fix,
    }
}

#[test]
fn no_good_fix_round_trips_and_older_records_migrate_as_false() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&crate::migrations::steps_up_to(5).join("\n")).unwrap();
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch(
            "INSERT INTO triage_records (triage_id, tenant, created_at, labels_json, suggestions_json, text)
             VALUES ('before', 'northmoor', '2026-11-01T00:00:00Z', '{}', '[]', 'printer');",
        )
        .unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let north = TenantId::parse("northmoor").unwrap();
    assert!(!s.triage_record(Some(&north), "before").unwrap().unwrap().no_good_fix);
    let rec = record("after", "northmoor", "INC9", "2026-11-02T00:00:00Z", true);
    s.record_triage(&rec).unwrap();
    assert_eq!(s.triage_record(Some(&north), "after").unwrap().unwrap(), rec);
    assert_eq!(s.gap_candidates(&north, None, None, 10).unwrap().len(), 1, "only the record answered no_good_fix");
}
