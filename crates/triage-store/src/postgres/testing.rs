//! PostgreSQL for the conformance tests: every test gets a database of its own on one server.
//!
//! The server is `TRIAGE_TEST_PG_URL` when set (any database URL whose user may create
//! databases); else, with `TRIAGE_REQUIRE_PG=1`, a throwaway cluster started once per test
//! process by `tests/pg/pg-instance.sh` (installed first when missing) and removed when the
//! process exits. Without either, PostgreSQL tests skip and say so; with `TRIAGE_REQUIRE_PG=1`
//! anything that keeps them from running fails them instead.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::PgStore;

fn required() -> bool {
    std::env::var("TRIAGE_REQUIRE_PG").is_ok_and(|v| v == "1")
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg/pg-instance.sh")
}

/// The server's URL, or why there is none.
fn server_url() -> &'static Result<String, String> {
    static URL: OnceLock<Result<String, String>> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TRIAGE_TEST_PG_URL")
            && !url.trim().is_empty()
        {
            return Ok(url.trim().to_owned());
        }
        if !required() {
            return Err("set TRIAGE_TEST_PG_URL to a server, or TRIAGE_REQUIRE_PG=1 to start a throwaway cluster".into());
        }
        start_cluster()
    })
}

fn start_cluster() -> Result<String, String> {
    let run = |args: &[&str]| {
        std::process::Command::new(script()).args(args).output().map_err(|e| format!("cannot run {}: {e}", script().display()))
    };
    let installed = run(&["install"])?;
    if !installed.status.success() {
        return Err(format!("installing PostgreSQL failed: {}", String::from_utf8_lossy(&installed.stderr)));
    }
    let dir = std::env::temp_dir().join(format!("triage-pg-{}-{}", std::process::id(), random_suffix()));
    let pid = std::process::id().to_string();
    let started = run(&["start", &dir.to_string_lossy(), &pid])?;
    if !started.status.success() {
        return Err(format!("starting a throwaway cluster failed: {}", String::from_utf8_lossy(&started.stderr)));
    }
    let url = String::from_utf8_lossy(&started.stdout).trim().to_owned();
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("postgresql store tests: throwaway cluster at {url}\n").as_bytes());
    Ok(url)
}

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    format!("{:012x}", h.finish() & 0xffff_ffff_ffff)
}

/// Says once per test process that PostgreSQL tests skip, and why. Written to the real stderr
/// (not `eprintln!`, which the test harness captures from passing tests).
fn say_skipped(test: &str, why: &str) {
    use std::io::Write;
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(std::io::stderr(), "\npostgresql store tests skipped (first: {test}): {why}\n");
    });
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A store on a fresh database, dropped with it.
pub(crate) struct TestPg {
    store: Option<PgStore>,
    admin_url: String,
    pub(crate) url: String,
    name: String,
}

impl std::ops::Deref for TestPg {
    type Target = PgStore;
    fn deref(&self) -> &PgStore {
        self.store.as_ref().expect("open until dropped")
    }
}

impl Drop for TestPg {
    fn drop(&mut self) {
        drop(self.store.take());
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name));
        }
    }
}

/// An empty database for `test` (not yet opened as a store).
pub(crate) fn database(test: &str) -> Option<(String, String, String)> {
    let admin_url = match server_url() {
        Ok(url) => url.clone(),
        Err(why) => {
            assert!(!required(), "TRIAGE_REQUIRE_PG=1 but PostgreSQL is not available: {why}");
            say_skipped(test, why);
            return None;
        }
    };
    let name = format!("triage_test_{}", random_suffix());
    // an ICU en-US default collation where the server has one (PostgreSQL 15+ built with ICU):
    // it orders `a` before `B`, so a query that forgets the store's byte-wise `C` collation fails
    let created = postgres::Client::connect(&admin_url, postgres::NoTls).and_then(|mut admin| {
        let icu = format!(
            "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        );
        admin
            .batch_execute(&icu)
            .or_else(|_| admin.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")))
    });
    if let Err(e) = created {
        let why = format!("cannot create a database on {}: {e}", super::StoreUrl::redact(&admin_url));
        assert!(!required(), "TRIAGE_REQUIRE_PG=1 but {why}");
        say_skipped(test, &why);
        return None;
    }
    let url = with_database(&admin_url, &name);
    Some((admin_url, url, name))
}

/// A migrated store on a database of its own, or `None` (the test skips) when no server is
/// available and none is required.
pub(crate) fn store(test: &str) -> Option<TestPg> {
    let (admin_url, url, name) = database(test)?;
    let store = PgStore::open(&url).unwrap_or_else(|e| panic!("opening the test database failed: {e}"));
    Some(TestPg { store: Some(store), admin_url, url, name })
}

#[test]
fn a_database_name_replaces_the_one_in_the_url() {
    assert_eq!(with_database("postgres://u@h:1/postgres", "t1"), "postgres://u@h:1/t1");
    assert_eq!(with_database("postgres://u@h:1", "t1"), "postgres://u@h:1/t1");
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t1"), "postgres://u:p@h/t1?sslmode=disable");
}
