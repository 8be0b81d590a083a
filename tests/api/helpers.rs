//! `spawn_app`: the real service on 127.0.0.1:0 with a temporary data directory.

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
