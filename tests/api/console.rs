//! What the web console relies on: the console's own files and headers, `GET /v1/session`,
//! `GET /v1/triage/{id}`, `GET /v1/kb/articles` with usage, and label-only corrections.

use serde_json::{Value, json};

use crate::helpers::{client_with_key, spawn_app};

/// Triage `body` with `client`'s key; the answer.
async fn triage_as(client: &reqwest::Client, address: &str, body: Value) -> Value {
    let r = client.post(format!("{address}/v1/triage")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_console_is_served_from_the_binary_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let page = reqwest::get(format!("{}/console", app.address)).await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/console/console.js") && html.contains("/console/console.css"));
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing is fetched from elsewhere");

    let js = reqwest::get(format!("{}/console/console.js", app.address)).await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(js.headers()["x-content-type-options"], "nosniff");
    let js = js.text().await.unwrap();
    assert!(js.contains("sessionStorage") && !js.contains("localStorage"), "the key stays in the tab's session storage");

    let missing = reqwest::get(format!("{}/console/secrets.txt", app.address)).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "route_not_found");
}

#[tokio::test]
async fn the_session_says_who_the_key_is_and_what_it_may_do() {
    let app = spawn_app().await;
    let operator: Value = app.get("/v1/session").await.json().await.unwrap();
    assert_eq!(operator["role"], "operator");
    assert_eq!(operator["tenant"], Value::Null);
    assert_eq!(operator["tenants"].as_array().unwrap().len(), 4, "operators act for every configured tenant");
    assert!(operator["can"].as_array().unwrap().contains(&json!("manage_models")));
    assert_eq!(operator["model_version"], "starter");

    let agent = app.client_for(Some("eastbrook"), "agent").await;
    let session: Value = agent.get(format!("{}/v1/session", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(session["role"], "agent");
    assert_eq!(session["tenant"], "eastbrook");
    assert_eq!(session["tenants"], json!([{"id": "eastbrook", "name": "Eastbrook Borough Council"}]));
    let can: Vec<&str> = session["can"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(can, vec!["triage", "search_kb", "feedback", "read_incidents"]);

    let anonymous = reqwest::get(format!("{}/v1/session", app.address)).await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = client_with_key(&format!("trg_{}", "0".repeat(64))).get(format!("{}/v1/session", app.address)).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.json::<Value>().await.unwrap()["code"], "invalid_credentials");
}

#[tokio::test]
async fn a_triage_can_be_opened_by_id_with_its_feedback_by_its_tenant_only() {
    let app = spawn_app().await;
    let agent = app.client_for(Some("northmoor"), "agent").await;
    let answer: Value = triage_as(
        &agent,
        &app.address,
        json!({"title": "Locked out", "description": "account locked, call me on 07700 900123", "external_id": "INC77"}),
    )
    .await;
    let id = answer["triage_id"].as_str().unwrap();
    let first = answer["suggestions"][0]["id"].as_str().unwrap();
    let sent = agent
        .post(format!("{}/v1/triage/{id}/feedback", app.address))
        .json(&json!({"suggestion": {"kind": "article", "id": first}, "outcome": "helpful"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 204);

    let detail: Value = agent.get(format!("{}/v1/triage/{id}", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["triage_id"], id);
    assert_eq!(detail["external_id"], "INC77");
    assert_eq!(detail["suggestions"][0], format!("article:{first}"));
    assert_eq!(detail["labels"]["category"]["label"], answer["labels"]["category"]["label"]);
    assert!(detail["text"].as_str().unwrap().contains("[piiphone]"), "only the redacted text is kept: {}", detail["text"]);
    assert_eq!(detail["feedback"][0]["outcome"], "helpful");

    let other = app.client_for(Some("eastbrook"), "agent").await;
    let hidden = other.get(format!("{}/v1/triage/{id}", app.address)).send().await.unwrap();
    assert_eq!(hidden.status(), 404, "another tenant's triage does not exist for it");
    assert_eq!(hidden.json::<Value>().await.unwrap()["code"], "triage_not_found");
    let by_operator = app.get(&format!("/v1/triage/{id}?tenant=northmoor")).await;
    assert_eq!(by_operator.status(), 200);
}

#[tokio::test]
async fn article_usage_counts_offers_and_feedback_for_the_tenant_and_needs_an_admin() {
    let app = spawn_app().await;
    let agent = app.client_for(Some("northmoor"), "agent").await;
    for _ in 0..2 {
        let answer: Value =
            triage_as(&agent, &app.address, json!({"title": "Locked out", "description": "typed my password wrong, account locked"})).await;
        let id = answer["triage_id"].as_str().unwrap();
        let r = agent
            .post(format!("{}/v1/triage/{id}/feedback", app.address))
            .json(&json!({"suggestion": {"kind": "article", "id": "account-locked-out"}, "outcome": "resolved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let forbidden = agent.get(format!("{}/v1/kb/articles", app.address)).send().await.unwrap();
    assert_eq!(forbidden.status(), 403, "usage figures are for admins");

    let admin = app.client_for(Some("northmoor"), "admin").await;
    let body: Value = admin.get(format!("{}/v1/kb/articles", app.address)).send().await.unwrap().json().await.unwrap();
    let articles = body["articles"].as_array().unwrap();
    assert_eq!(articles[0]["id"], "account-locked-out", "most offered first");
    assert_eq!(articles[0]["offered"], 2);
    assert_eq!(articles[0]["offered_first"], 2);
    assert_eq!(articles[0]["resolved"], 2);
    assert_eq!(articles[0]["helpful_rate"], 1.0);
    assert!(
        articles.iter().all(|a| {
            let scope = a["tenants"].as_array().unwrap();
            scope.is_empty() || scope.contains(&json!("northmoor"))
        }),
        "only articles it may see"
    );
    assert!(articles.iter().any(|a| !a["tenants"].as_array().unwrap().is_empty()), "its own scoped articles are listed");

    let east = app.client_for(Some("eastbrook"), "admin").await;
    let body: Value = east.get(format!("{}/v1/kb/articles", app.address)).send().await.unwrap().json().await.unwrap();
    let locked = body["articles"].as_array().unwrap().iter().find(|a| a["id"] == "account-locked-out").unwrap().clone();
    assert_eq!((locked["offered"].clone(), locked["resolved"].clone()), (json!(0), json!(0)), "northmoor's use is not eastbrook's");

    for bad in ["yesterday", "2026-11-01garbage", "2026-11-0%C3%A9"] {
        let r = admin.get(format!("{}/v1/kb/articles?from={bad}", app.address)).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let r = admin.get(format!("{}/v1/stats?from={bad}", app.address)).send().await.unwrap();
        assert_eq!(r.status(), 400, "a multi-byte character where the day ends is refused, not a panic: {bad}");
    }
    let later: Value = admin.get(format!("{}/v1/kb/articles?from=2999-01-01", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(later["articles"][0]["offered"], 0, "the window excludes today's triages");
}

#[tokio::test]
async fn a_label_correction_alone_is_feedback_that_trains_but_is_not_acceptance() {
    let app = spawn_app().await;
    let agent = app.client_for(Some("westwater"), "agent").await;
    let answer: Value =
        triage_as(&agent, &app.address, json!({"title": "Bin not collected", "description": "my green bin was missed on Tuesday"})).await;
    let id = answer["triage_id"].as_str().unwrap();
    let url = format!("{}/v1/triage/{id}/feedback", app.address);
    let empty = agent.post(&url).json(&json!({"outcome": "corrected"})).send().await.unwrap();
    assert_eq!(empty.status(), 422, "a correction must correct something");
    let with_suggestion = agent
        .post(&url)
        .json(&json!({"outcome": "corrected", "corrected_labels": {"category": "waste"}, "suggestion": {"kind": "article", "id": answer["suggestions"][0]["id"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(with_suggestion.status(), 422);
    let ok = agent.post(&url).json(&json!({"outcome": "corrected", "corrected_labels": {"category": "waste"}})).send().await.unwrap();
    assert_eq!(ok.status(), 204);

    let stats: Value = app.get("/v1/stats?tenant=westwater").await.json().await.unwrap();
    assert_eq!(stats["feedback_rate"], 1.0);
    assert_eq!(stats["acceptance_rate"], 0.0, "a correction does not say a fix worked");
}
