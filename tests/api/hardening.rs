//! Hardening (issue 11): retries, credentials, readiness and limits at the edge.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn first_suggestion(app: &TestApp) -> (String, Value) {
    let r = app
        .post_triage(&json!({"title": "printer offline", "description": "the printer on floor two says offline", "tenant": "northmoor"}))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let s = &body["suggestions"][0];
    (body["triage_id"].as_str().unwrap().to_owned(), json!({"kind": s["kind"], "id": s["id"]}))
}

#[tokio::test]
async fn retried_feedback_is_stored_and_counted_once() {
    let app = spawn_app().await;
    let (triage_id, suggestion) = first_suggestion(&app).await;
    let feedback = json!({"suggestion": suggestion, "outcome": "helpful", "tenant": "northmoor"});
    for attempt in 0..3 {
        let r = app.client.post(format!("{}/v1/triage/{triage_id}/feedback", app.address)).json(&feedback).send().await.unwrap();
        assert_eq!(r.status(), 204, "attempt {attempt}: a retry answers as the first did");
    }
    let detail: Value = app.get(&format!("/v1/triage/{triage_id}?tenant=northmoor")).await.json().await.unwrap();
    assert_eq!(detail["feedback"].as_array().map(Vec::len), Some(1), "{detail}");
    let usage: Value = app.get("/v1/kb/articles?tenant=northmoor&from=2026-01-01").await.json().await.unwrap();
    let article = usage["articles"].as_array().unwrap().iter().find(|a| a["id"] == suggestion["id"]).expect("the article is listed");
    assert_eq!(article["helpful"], 1, "{article}");
}

#[tokio::test]
async fn credentials_are_one_bearer_header_in_any_letter_case() {
    let app = spawn_app().await;
    let key = app.create_key(Some("northmoor"), "agent").await;
    let plain = reqwest::Client::new();
    let url = format!("{}/v1/session", app.address);
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = plain.get(&url).header("authorization", format!("{scheme} {key}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "scheme {scheme}");
    }
    let other = app.create_key(Some("eastbrook"), "agent").await;
    let r = plain
        .get(&url)
        .header("authorization", format!("Bearer {key}"))
        .header("authorization", format!("Bearer {other}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "two Authorization headers");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "malformed_credentials");
}

#[tokio::test]
async fn readiness_reports_a_data_directory_it_cannot_write() {
    let app = spawn_app().await;
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!((ready["status"].as_str(), ready["ticket_index"].as_str()), (Some("ready"), Some("current")), "{ready}");
    // a replica on PostgreSQL follows the change feed; one process on its SQLite file does not
    let following = if crate::helpers::on_pg() { Some("following") } else { None };
    assert_eq!(ready["change_feed"].as_str(), following, "{ready}");
    // the volume goes away under the running service
    let dir = app._data_dir.path().to_path_buf();
    std::fs::remove_dir_all(&dir).unwrap();
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    let text = r.text().await.unwrap();
    assert!(text.contains("not_ready") && text.contains("data directory cannot be written"), "{text}");
    assert!(!text.contains(&*dir.to_string_lossy()), "no server path in the answer: {text}");
}

#[tokio::test]
async fn an_over_long_url_gets_a_problem_414() {
    let app = spawn_app().await;
    let q = "a".repeat(20_000);
    let r = app.get(&format!("/v1/kb/search?q={q}")).await;
    assert_eq!(r.status(), 414);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "uri_too_long");
}
