use serde_json::Value;

use crate::helpers::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert!(ready["articles"].as_u64().unwrap() >= 80);
    // a fresh data directory has no tickets to load: the scorer is ready at once (or within the
    // load thread's first moments)
    let mut state = ready["similar_tickets"].as_str().unwrap().to_owned();
    for _ in 0..100 {
        if state == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let again: Value = app.get("/readyz").await.json().await.unwrap();
        state = again["similar_tickets"].as_str().unwrap().to_owned();
    }
    assert_eq!(state, "ready");
}

#[tokio::test]
async fn readiness_fails_while_the_knowledge_base_is_broken() {
    let kb = tempfile::tempdir().unwrap();
    std::fs::write(kb.path().join("bad.md"), "---\nid: x\n---\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = vec![
        ("TRIAGE__SERVER__PORT".to_owned(), "0".to_owned()),
        ("TRIAGE__KNOWLEDGE_BASE__DIR".to_owned(), kb.path().display().to_string()),
        ("TRIAGE__MODEL__DIR".to_owned(), crate::helpers::bundled_model().display().to_string()),
    ];
    let overrides = triage_server::config::Overrides { port: None, data_dir: Some(data.path().to_path_buf()) };
    let app = triage_server::Application::build(triage_server::config::load(None, &overrides, env).unwrap()).unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let mut last = None;
    for _ in 0..200 {
        let r = client.get(format!("{address}/readyz")).send().await.unwrap();
        let body: Value = r.json().await.unwrap();
        if body["detail"].as_str().is_some_and(|d| d.contains("failed to load")) {
            last = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let body = last.expect("readyz reports the load failure");
    assert_eq!(body["code"], "not_ready");
    assert_eq!(client.get(format!("{address}/healthz")).send().await.unwrap().status(), 200, "the process stays up");
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint_and_the_docs_page_is_local() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    for path in ["/v1/triage", "/v1/kb/search", "/v1/kb/articles/{id}", "/healthz", "/readyz"] {
        assert!(spec["paths"].get(path).is_some(), "{path} missing from openapi.json");
    }
    assert!(spec["components"]["schemas"].get("Problem").is_some());
    let page = app.get("/docs").await.text().await.unwrap();
    assert!(page.contains("/openapi.json"));
    assert!(!page.contains("https://") && !page.contains("http://"), "the API page loads nothing from the internet");
}
