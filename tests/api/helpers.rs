//! `spawn_app`: the real service on 127.0.0.1:0 with a temporary data directory.
//!
//! With `TRIAGE_API_ON_PG=1` every app runs on a PostgreSQL database of its own instead of the
//! SQLite file (on `TRIAGE_TEST_PG_URL`'s server, or a throwaway cluster started once per test
//! process by `tests/pg/pg-instance.sh`): the whole API suite on the second backend. Tests that
//! read or prepare the store directly use [`test_store`], which opens the same database.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use triage_server::Application;
use triage_server::config::{Overrides, load};

pub(crate) struct TestApp {
    pub address: String,
    /// Sends the operator key (written at first start) on every request.
    pub client: reqwest::Client,
    /// Kept alive for the test; removed on drop.
    pub _data_dir: tempfile::TempDir,
}

/// The knowledge base bundled with the repository.
pub(crate) fn bundled_kb() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../knowledge-base")
}

/// The starter model bundled with the repository.
pub(crate) fn bundled_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/starter")
}

/// Starts the service on the bundled knowledge base and waits until it is ready.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the service with extra `TRIAGE__...` settings.
pub(crate) async fn spawn_app_with(extra_env: &[(&str, &str)]) -> TestApp {
    spawn_app_in(tempfile::tempdir().expect("temp dir"), extra_env).await
}

/// Starts the service with a configuration file (written into its data directory).
pub(crate) async fn spawn_app_with_config(toml: &str) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let file = data_dir.path().join("triage.toml");
    std::fs::write(&file, toml).expect("config written");
    spawn_app_from(data_dir, Some(&file), &[]).await
}

/// Starts the service on a data directory prepared by the test.
pub(crate) async fn spawn_app_in(data_dir: tempfile::TempDir, extra_env: &[(&str, &str)]) -> TestApp {
    spawn_app_from(data_dir, None, extra_env).await
}

async fn spawn_app_from(data_dir: tempfile::TempDir, file: Option<&std::path::Path>, extra_env: &[(&str, &str)]) -> TestApp {
    let mut env = vec![
        ("TRIAGE__SERVER__PORT".to_owned(), "0".to_owned()),
        ("TRIAGE__SERVER__WORKERS".to_owned(), "2".to_owned()),
        ("TRIAGE__KNOWLEDGE_BASE__DIR".to_owned(), bundled_kb().display().to_string()),
        ("TRIAGE__MODEL__DIR".to_owned(), bundled_model().display().to_string()),
    ];
    env.extend(extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    if let Some(url) = pg_database(data_dir.path())
        && !env.iter().any(|(k, _)| k == "TRIAGE__STORE__URL")
    {
        env.push(("TRIAGE__STORE__URL".to_owned(), url));
    }
    let overrides = Overrides { port: None, data_dir: Some(data_dir.path().to_path_buf()) };
    let settings = load(file, &overrides, env).expect("test settings are valid");
    let app = Application::build(settings).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    wait_until_ready(&address).await;
    let operator_key =
        std::fs::read_to_string(data_dir.path().join("operator.key")).expect("operator.key written at first start").trim().to_owned();
    TestApp { address, client: client_with_key(&operator_key), _data_dir: data_dir }
}

/// Whether the suite runs on PostgreSQL (`TRIAGE_API_ON_PG=1`).
pub(crate) fn on_pg() -> bool {
    std::env::var("TRIAGE_API_ON_PG").is_ok_and(|v| v == "1")
}

/// The PostgreSQL server for the suite: `TRIAGE_TEST_PG_URL`, or a throwaway cluster.
fn pg_server() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TRIAGE_TEST_PG_URL")
            && !url.trim().is_empty()
        {
            return url.trim().to_owned();
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg/pg-instance.sh");
        let installed = std::process::Command::new(&script).arg("install").output().expect("pg-instance.sh runs");
        assert!(installed.status.success(), "installing PostgreSQL failed: {}", String::from_utf8_lossy(&installed.stderr));
        let dir = std::env::temp_dir().join(format!("triage-pg-api-{}", std::process::id()));
        let out = std::process::Command::new(&script)
            .arg("start")
            .arg(&dir)
            .arg(std::process::id().to_string())
            .output()
            .expect("pg-instance.sh runs");
        assert!(out.status.success(), "starting a throwaway cluster failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    })
}

/// On PostgreSQL, the database of the app whose data directory is `data` (created on first
/// use, its URL kept in the folder); `None` on SQLite.
pub(crate) fn pg_database(data: &std::path::Path) -> Option<String> {
    if !on_pg() {
        return None;
    }
    let file = data.join(".test-pg-url");
    if let Ok(url) = std::fs::read_to_string(&file) {
        return Some(url);
    }
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!("triage_api_{}_{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let server = pg_server().to_owned();
    // the sync client runs its own runtime: never inside the test's
    let create = name.clone();
    std::thread::spawn(move || {
        let mut admin = postgres::Client::connect(&server, postgres::NoTls).expect("connect to the PostgreSQL server");
        admin.batch_execute(&format!("CREATE DATABASE {create}")).expect("create a test database");
    })
    .join()
    .unwrap();
    let (base, _) = pg_server().rsplit_once('/').expect("a database in the server URL");
    let url = format!("{base}/{name}");
    std::fs::create_dir_all(data).unwrap();
    std::fs::write(&file, &url).unwrap();
    Some(url)
}

/// Runs `f` on the store of the app whose data directory is `data`, as the app opens it (the
/// SQLite file, or its PostgreSQL database); usable before the app starts, to prepare it. On a
/// thread of its own: the PostgreSQL client blocks, which a test's async runtime forbids.
pub(crate) fn with_test_store<T: Send>(data: &std::path::Path, f: impl FnOnce(&dyn triage_store::Store) -> T + Send) -> T {
    let url = pg_database(data);
    std::thread::scope(|scope| {
        scope
            .spawn(move || match url {
                Some(url) => f(&triage_store::PgStore::open(&url).expect("open the test database")),
                None => f(&triage_store::SqliteStore::open(&data.join("triage.db")).unwrap()),
            })
            .join()
            .unwrap()
    })
}

/// A client that sends `key` as its bearer credential.
pub(crate) fn client_with_key(key: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {key}").parse().unwrap());
    reqwest::Client::builder().default_headers(headers).build().unwrap()
}

async fn wait_until_ready(address: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{address}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "service did not become ready in 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    /// Creates a key with `role` for `tenant` (operator when `None`) and returns a client using it.
    pub(crate) async fn client_for(&self, tenant: Option<&str>, role: &str) -> reqwest::Client {
        client_with_key(&self.create_key(tenant, role).await)
    }

    /// Creates a key and returns the secret.
    pub(crate) async fn create_key(&self, tenant: Option<&str>, role: &str) -> String {
        self.create_key_with_id(tenant, role).await.1
    }

    /// Creates a key and returns (id, secret).
    pub(crate) async fn create_key_with_id(&self, tenant: Option<&str>, role: &str) -> (String, String) {
        let r = self
            .client
            .post(format!("{}/v1/admin/keys", self.address))
            .json(&serde_json::json!({"tenant": tenant, "role": role, "label": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "creating a {role} key");
        let body: Value = r.json().await.unwrap();
        (body["id"].as_str().unwrap().to_owned(), body["key"].as_str().unwrap().to_owned())
    }
    /// POSTs a JSON value to `/v1/triage`.
    pub(crate) async fn post_triage(&self, body: &Value) -> reqwest::Response {
        self.client.post(format!("{}/v1/triage", self.address)).json(body).send().await.expect("request sent")
    }

    /// POSTs raw bytes with a content type to `/v1/triage`.
    pub(crate) async fn post_triage_raw(&self, content_type: &str, body: Vec<u8>) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/triage", self.address))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Polls a job until it leaves `queued` / `running` (at most 30 s) and returns its status.
    pub(crate) async fn wait_for_job(&self, id: &str) -> Value {
        for _ in 0..600 {
            let job: Value = self.get(&format!("/v1/admin/jobs/{id}")).await.json().await.unwrap();
            if job["state"] != "running" && job["state"] != "queued" {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("job {id} did not finish in 30 s");
    }

    pub(crate) async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.address, path_and_query)).send().await.expect("request sent")
    }
}

/// Ids of the suggestions in a triage or search answer.
pub(crate) fn ids(body: &Value, key: &str) -> Vec<String> {
    body[key].as_array().expect("a list").iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}
