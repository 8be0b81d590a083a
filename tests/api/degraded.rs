//! A model bundle that cannot be loaded degrades the service instead of taking it down:
//! suggestions and search keep working, labels come from a fallback or are omitted with a
//! flag, `/readyz` says why, and no answer names a server path.

use std::path::Path;

use serde_json::{Value, json};
use triage_store::{ModelRecord, ModelStatus};

use crate::helpers::{TestApp, bundled_model, spawn_app_in};

/// Copies the starter bundle to `<data>/models/<version>` with its weights cut short, and
/// registers it (live when `live`).
fn plant_corrupt_bundle(data: &Path, version: &str, live: bool) {
    let dir = data.join("models").join(version);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(bundled_model().join("manifest.json"), dir.join("manifest.json")).unwrap();
    let weights = std::fs::read(bundled_model().join("weights.bin")).unwrap();
    std::fs::write(dir.join("weights.bin"), &weights[..weights.len() / 2]).unwrap();
    crate::helpers::with_test_store(data, |store| {
        let record = ModelRecord {
            version: version.into(),
            path: format!("models/{version}"),
            created_at: "2026-11-30T10:00:00Z".into(),
            status: ModelStatus::Candidate,
            report: json!({}),
        };
        store.register_model(&record).unwrap();
        if live {
            store.set_live(version, "promote").unwrap();
        }
    });
}

async fn body(r: reqwest::Response, data: &Path, what: &str) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert!(!text.contains(data.to_str().unwrap()) && !text.contains("/models/"), "{what} names a server path: {text}");
    (status, serde_json::from_str(&text).unwrap())
}

async fn corrupt_live_app(model_dir: &str) -> (TestApp, std::path::PathBuf) {
    let data = tempfile::tempdir().unwrap();
    plant_corrupt_bundle(data.path(), "v-broken", true);
    plant_corrupt_bundle(data.path(), "v-also-broken", false);
    let path = data.path().to_path_buf();
    (spawn_app_in(data, &[("TRIAGE__MODEL__DIR", model_dir)]).await, path)
}

#[tokio::test]
async fn a_corrupt_live_model_without_fallback_leaves_search_and_suggestions_working_without_labels() {
    let (app, data) = corrupt_live_app("").await;
    let (status, ready) = body(app.get("/readyz").await, &data, "readyz").await;
    assert_eq!(status, 200, "suggestions work, so the service is ready: {ready}");
    assert_eq!(ready["model"], "degraded", "{ready}");
    assert!(ready["model_reason"].as_str().unwrap().contains("v-broken"), "{ready}");

    let (status, search) = body(app.get("/v1/kb/search?q=printer%20offline").await, &data, "search").await;
    assert_eq!(status, 200, "{search}");
    assert!(!search["results"].as_array().unwrap().is_empty(), "{search}");

    let (status, triage) = body(app.post_triage(&json!({"title": "printer offline"})).await, &data, "triage").await;
    assert_eq!(status, 200, "{triage}");
    assert!(!triage["suggestions"].as_array().unwrap().is_empty(), "{triage}");
    assert_eq!(triage["labels"], json!({}), "{triage}");
    assert!(triage["model_version"].is_null(), "{triage}");
    assert!(triage["labels_unavailable"].as_str().unwrap().contains("v-broken"), "flagged: {triage}");

    let (status, models) = body(app.get("/v1/admin/models").await, &data, "models").await;
    assert_eq!(status, 200, "{models}");
}

#[tokio::test]
async fn a_corrupt_live_model_falls_back_to_the_starter_model_and_a_corrupt_candidate_is_not_promoted() {
    let (app, data) = corrupt_live_app(bundled_model().to_str().unwrap()).await;
    let (_, ready) = body(app.get("/readyz").await, &data, "readyz").await;
    assert_eq!(ready["model"], "degraded", "{ready}");
    assert!(ready["model_reason"].as_str().unwrap().contains("`starter`"), "says what is served: {ready}");
    let (status, triage) = body(app.post_triage(&json!({"title": "printer offline"})).await, &data, "triage").await;
    assert_eq!((status, triage["model_version"].as_str()), (200, Some("starter")), "{triage}");
    assert!(triage.get("labels_unavailable").is_none(), "labels are served by the fallback: {triage}");

    let url = format!("{}/v1/admin/models/v-also-broken/promote?force=true", app.address);
    let (status, problem) = body(app.client.post(url).send().await.unwrap(), &data, "promote").await;
    assert_eq!(status, 422, "a bundle that cannot load is the request's problem, not a 500: {problem}");
    assert_eq!(problem["code"], "model_unloadable", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("does not match the hash"), "{problem}");
    let (_, triage) = body(app.post_triage(&json!({"title": "printer offline"})).await, &data, "triage").await;
    assert_eq!(triage["model_version"], "starter", "the served model is unchanged");
}
