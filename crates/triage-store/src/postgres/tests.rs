//! What only the PostgreSQL store does: URLs, the schema version table, concurrent writers.
//! The behaviour both backends share is in `crate::conformance`.

use super::testing::{self, TestPg};
use super::*;

#[test]
fn store_urls_are_checked_and_shown_without_their_password() {
    assert!(
        url::is_postgres_url("postgres://h/db") && url::is_postgres_url("postgresql://h/db") && !url::is_postgres_url("/var/lib/triage.db")
    );
    assert_eq!(StoreUrl::redact("postgres://triage:s3cret@db.internal:6543/desk"), "postgres://triage@db.internal:6543/desk");
    assert_eq!(StoreUrl::redact("postgresql://triage:s3cret@db/desk?sslmode=disable"), "postgres://triage@db:5432/desk");
    let cases = [
        ("mysql://u:p@h/db", "postgres://", "another database"),
        ("postgres://u:s3cret@/db", "no host", "no host"),
        ("postgres://u:s3cret@h:notaport/db", "postgres://user:password@host", "a port that is not a number"),
    ];
    for (url, expected, why) in cases {
        let err = StoreUrl::parse(url).unwrap_err().to_string();
        assert!(err.contains(expected), "{why}: {err}");
        assert!(!err.contains("s3cret"), "{why}: the password leaked: {err}");
    }
    let url = StoreUrl::parse(" postgres://triage:s3cret@db:6543/desk ").unwrap();
    assert_eq!(url.expose_secret(), "postgres://triage:s3cret@db:6543/desk", "trimmed, password kept for connecting");
    assert!(!format!("{url} {url:?}").contains("s3cret"), "Display and Debug hide the password");
}

#[test]
fn an_unreachable_server_is_named_without_its_password() {
    // port 1 on loopback: refused at once
    let err = PgStore::open("postgres://triage:s3cret@127.0.0.1:1/desk").unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{message}");
    assert!(message.contains("triage@127.0.0.1:1/desk") && !message.contains("s3cret"), "{message}");
}

#[test]
fn a_database_written_by_a_newer_binary_is_refused_with_both_versions() {
    let Some(s) = testing::store("a_database_written_by_a_newer_binary_is_refused_with_both_versions") else { return };
    let newer = migrations::SCHEMA_VERSION as i32 + 1;
    s.conn().unwrap().execute("UPDATE schema_version SET version = $1", &[&newer]).unwrap();
    let err = PgStore::open(&s.url).unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, supported } if found as i32 == newer && supported as i32 == newer - 1),
        "{err}"
    );
}

#[test]
fn reopening_keeps_the_data_and_migrates_nothing() {
    let Some(s) = testing::store("reopening_keeps_the_data_and_migrates_nothing") else { return };
    s.set_connector_cursor("rt", "c1").unwrap();
    let again = PgStore::open(&s.url).unwrap();
    assert_eq!(again.connector_cursor("rt").unwrap().as_deref(), Some("c1"));
    let version = migrations::current_version(&mut again.conn().unwrap()).unwrap();
    assert_eq!(version, migrations::SCHEMA_VERSION);
}

#[test]
fn concurrent_writers_keep_one_change_sequence_and_one_live_model() {
    let Some(s) = testing::store("concurrent_writers_keep_one_change_sequence_and_one_live_model") else { return };
    let s: &TestPg = &s;
    for v in ["v1", "v2", "v3", "v4"] {
        s.register_model(&ModelRecord {
            version: v.into(),
            path: format!("models/{v}"),
            created_at: now(),
            status: crate::ModelStatus::Candidate,
            report: serde_json::json!({}),
        })
        .unwrap();
    }
    let ticket = |i: usize| {
        triage_core::ticket_resolved::ResolvedTicket::parse(&triage_core::ticket_resolved::RawResolved {
            tenant: "northmoor",
            external_id: &format!("INC{i}"),
            title: Some("printer"),
            ..Default::default()
        })
        .unwrap()
    };
    std::thread::scope(|scope| {
        for w in 0..4 {
            scope.spawn(move || {
                for i in 0..10 {
                    s.upsert_resolved(&[ticket(w * 10 + i)]).unwrap();
                }
                s.set_live(&format!("v{}", w + 1), "promote").unwrap();
            });
        }
    });
    assert_eq!(s.resolved_seq().unwrap(), 40, "every write advanced the sequence once");
    assert_eq!(s.resolved_count(None).unwrap(), 40);
    let live = s.models().unwrap().into_iter().filter(|m| m.status == crate::ModelStatus::Live).count();
    assert_eq!(live, 1, "one live version whatever the race");
}

#[test]
fn replicas_starting_jobs_at_once_start_one_and_each_one_stores_a_bundle_once() {
    let Some(s) = testing::store("replicas_starting_jobs_at_once_start_one_and_each_one_stores_a_bundle_once") else { return };
    let s: &TestPg = &s;
    let job = |w: usize| crate::JobRow {
        id: format!("job-{w}"),
        kind: "train".into(),
        state: "queued".into(),
        phase: "queued".into(),
        done: 0,
        total: 0,
        started_at: now(),
        finished_at: None,
        version: None,
        error: None,
        owner: format!("replica-{w}"),
        lease_until_ms: now_ms() + 30_000,
    };
    let (started, stored) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|w| {
                scope.spawn(move || {
                    let file = crate::ModelFile { name: "weights.bin".into(), bytes: vec![w as u8; 1024] };
                    let started = s.job_insert(&job(w), now_ms()).unwrap().is_none();
                    let stored = s.save_model_files("v1", &[file]).unwrap();
                    (started, stored)
                })
            })
            .collect();
        let outcomes: Vec<(bool, bool)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        (outcomes.iter().filter(|o| o.0).count(), outcomes.iter().filter(|o| o.1).count())
    });
    assert_eq!((started, stored), (1, 1), "one job started and one bundle stored whatever the race");
    assert_eq!(s.job_counts().unwrap(), vec![("queued".to_owned(), 1)]);
    assert_eq!(s.model_files("v1").unwrap().unwrap().len(), 1);
}

#[test]
fn one_replica_leads_at_a_time_and_another_takes_over_when_it_goes() {
    let Some(db) = crate::postgres::testing::store("leadership") else { return };
    let other = crate::PgStore::open(&db.url).unwrap();
    assert!(db.hold_leadership("incidents").unwrap());
    assert!(!other.hold_leadership("incidents").unwrap(), "taken by the first handle");
    assert!(other.hold_leadership("connector:rt").unwrap(), "another name is another lock");
    assert!(!db.hold_leadership("connector:rt").unwrap(), "held by the other, though the first leads something else");
    drop(db.leader.lock().unwrap().take()); // the leader's connection goes, as when its process dies
    assert!(other.hold_leadership("incidents").unwrap(), "the other takes over");
    assert!(other.hold_leadership("connector:rt").unwrap(), "and keeps what it held");
}

/// A cluster of its own with TLS on (`PG_SSL=1`): this test needs a server certificate.
fn tls_cluster() -> Option<(String, std::path::PathBuf)> {
    if std::env::var("TRIAGE_REQUIRE_PG").as_deref() != Ok("1") {
        return None;
    }
    let script = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg/pg-instance.sh");
    let dir = std::env::temp_dir().join(format!("triage-pg-tls-{}", std::process::id()));
    let out =
        std::process::Command::new(&script).env("PG_SSL", "1").arg("start").arg(&dir).arg(std::process::id().to_string()).output().unwrap();
    assert!(out.status.success(), "a TLS cluster did not start: {}", String::from_utf8_lossy(&out.stderr));
    Some((String::from_utf8_lossy(&out.stdout).trim().to_owned(), dir.join("ca.pem")))
}

#[test]
fn tls_is_used_and_the_server_is_verified_when_the_url_asks_for_it() {
    let Some((url, ca)) = tls_cluster() else { return };
    let ssl_in_use = |store: &PgStore| -> bool {
        store.conn().unwrap().query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0)
    };
    let verified = PgStore::open(&format!("{url}?sslmode=verify-full&sslrootcert={}", ca.display())).unwrap();
    assert!(ssl_in_use(&verified), "verify-full with the CA: TLS");
    assert!(verified.hold_leadership("tls").unwrap(), "the connections outside the pool use TLS too");
    let preferred = PgStore::open(&format!("{url}?sslrootcert={}", ca.display())).unwrap();
    assert!(ssl_in_use(&preferred), "no sslmode is libpq's prefer: TLS when the server offers it");
    let refused = PgStore::open(&format!("{url}?sslmode=require")).unwrap_err().to_string();
    assert!(refused.contains("certificate") || refused.contains("UnknownIssuer"), "an unknown CA is refused: {refused}");
    let plain = PgStore::open(&format!("{url}?sslmode=disable")).unwrap();
    assert!(!ssl_in_use(&plain), "disable: no TLS");
    let missing = PgStore::open(&format!("{url}?sslmode=require&sslrootcert=/nonexistent/ca.pem")).unwrap_err().to_string();
    assert!(missing.contains("sslrootcert") && missing.contains("/nonexistent/ca.pem"), "{missing}");
}
