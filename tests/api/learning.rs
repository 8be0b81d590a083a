//! The learning loop over HTTP: ingestion, similar tickets, feedback, stats, retraining,
//! promotion under load, rollback.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn ticket(tenant: &str, id: &str, title: &str, category: &str, fcr: bool) -> Value {
    json!({
        "tenant": tenant, "external_id": id, "title": title,
        "description": format!("{title}. Caller on 07700 900123 says it started this morning."),
        "category": category, "priority": "p3", "assignment_group": format!("{category}-team"),
        "resolution_notes": format!("Fixed: {title} - followed the standard steps"),
        "resolved_at_first_contact": fcr, "resolved_at": "2026-11-20T10:00:00Z"
    })
}

/// A labelled history: three categories, two tenants.
fn history(tenant: &str, n: usize) -> Vec<Value> {
    let themes = [
        (
            "printing",
            [
                "printer jammed paper stuck in tray",
                "toner empty on the office printer",
                "printer offline nothing prints",
                "scanner will not send to email",
            ],
        ),
        (
            "accounts",
            [
                "locked out of my account password",
                "password expired cannot log in",
                "mfa prompt not arriving on phone",
                "reset my password please",
            ],
        ),
        (
            "remote-access",
            ["vpn will not connect from home", "vpn keeps dropping every hour", "remote desktop gateway error", "vpn certificate expired"],
        ),
    ];
    (0..n)
        .map(|i| {
            let (cat, titles) = &themes[i % 3];
            ticket(tenant, &format!("{tenant}-{i}"), &format!("{} case {i}", titles[(i / 3) % 4]), cat, i % 2 == 0)
        })
        .collect()
}

async fn ingest(app: &TestApp, tickets: &[Value]) -> reqwest::Response {
    app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&json!({ "tickets": tickets })).send().await.unwrap()
}

/// Starts a training job (optionally naming the version) and waits for its end.
async fn train(app: &TestApp, version: Option<&str>) -> Value {
    let body = version.map_or(json!({}), |v| json!({ "version": v }));
    let started: Value =
        app.client.post(format!("{}/v1/admin/models/train", app.address)).json(&body).send().await.unwrap().json().await.unwrap();
    app.wait_for_job(started["job_id"].as_str().unwrap()).await
}

#[tokio::test]
async fn resending_a_batch_updates_and_never_duplicates() {
    let app = spawn_app().await;
    let batch = history("northmoor", 12);
    let first: Value = ingest(&app, &batch).await.json().await.unwrap();
    assert_eq!((first["inserted"].as_u64(), first["updated"].as_u64()), (Some(12), Some(0)));
    let again: Value = ingest(&app, &batch).await.json().await.unwrap();
    assert_eq!((again["inserted"].as_u64(), again["updated"].as_u64()), (Some(0), Some(12)));
    let stats: Value = app.get("/v1/stats?tenant=northmoor").await.json().await.unwrap();
    assert_eq!(stats["resolved"], 12);
}

#[tokio::test]
async fn a_bad_ticket_refuses_the_whole_batch_and_names_it() {
    let app = spawn_app().await;
    let mut batch = history("northmoor", 3);
    batch[1]["tenant"] = json!("North Moor");
    let r = ingest(&app, &batch).await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().starts_with("tickets[1]"), "{p}");
    let stats: Value = app.get("/v1/stats").await.json().await.unwrap();
    assert_eq!(stats["resolved"], 0, "nothing was stored");
    let big: Vec<Value> = history("northmoor", 1001);
    assert_eq!(ingest(&app, &big).await.status(), 413, "over ingest.max_batch");
}

#[tokio::test]
async fn similar_resolved_tickets_are_suggested_only_within_their_tenant() {
    let app = spawn_app().await;
    ingest(&app, &[ticket("northmoor", "N-77", "plotter in planning office shows error 79 after firmware", "printing", true)]).await;
    let triage = |tenant: &'static str| {
        let app = &app;
        async move {
            let body: Value =
                app.post_triage(&json!({"title": "plotter error 79 in the planning office", "tenant": tenant})).await.json().await.unwrap();
            body["suggestions"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["kind"] == "ticket")
                .map(|s| s["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(triage("northmoor").await, vec!["N-77"]);
    assert!(triage("eastbrook").await.is_empty());
    let own: Value =
        app.post_triage(&json!({"title": "plotter error 79 in the planning office", "tenant": "northmoor"})).await.json().await.unwrap();
    let t = own["suggestions"].as_array().unwrap().iter().find(|s| s["kind"] == "ticket").unwrap();
    assert!(t["snippet"].as_str().unwrap().starts_with("Fixed:"), "resolution notes come with the ticket: {t}");
    assert!(!own.to_string().contains("07700"), "personal data is redacted before storage");
}

#[tokio::test]
async fn feedback_is_checked_against_its_triage_and_shows_in_stats() {
    let app = spawn_app().await;
    let body: Value = app.post_triage(&json!({"title": "locked out of my account", "tenant": "northmoor"})).await.json().await.unwrap();
    let id = body["triage_id"].as_str().unwrap();
    let article = body["suggestions"][0]["id"].as_str().unwrap();
    let url = format!("{}/v1/triage/{id}/feedback", app.address);
    let send = |b: Value| app.client.post(&url).json(&b).send();
    let ok = send(json!({"tenant": "northmoor", "suggestion": {"kind": "article", "id": article}, "outcome": "resolved", "corrected_labels": {"category": "accounts"}})).await.unwrap();
    assert_eq!(ok.status(), 204);
    let other = send(json!({"tenant": "eastbrook", "outcome": "helpful"})).await.unwrap();
    assert_eq!(other.status(), 404, "another tenant's triage is not found");
    let not_offered = send(json!({"tenant": "northmoor", "suggestion": {"kind": "article", "id": "leaver-process"}, "outcome": "helpful"}))
        .await
        .unwrap();
    assert_eq!(not_offered.status(), 422);
    let bad_outcome = send(json!({"tenant": "northmoor", "outcome": "great"})).await.unwrap();
    assert_eq!(bad_outcome.status(), 422);
    let stats: Value = app.get("/v1/stats?tenant=northmoor").await.json().await.unwrap();
    assert_eq!(stats["triages"], 1);
    assert_eq!(stats["feedback_rate"], 1.0);
    assert_eq!(stats["acceptance_rate"], 1.0);
    let eastbrook: Value = app.get("/v1/stats?tenant=eastbrook").await.json().await.unwrap();
    assert_eq!(eastbrook["triages"], 0, "stats are per tenant");
}

#[tokio::test]
async fn a_training_job_that_cannot_train_says_why_and_the_live_model_keeps_serving() {
    let app = spawn_app().await;
    let only_printing: Vec<Value> = (0..20).map(|i| ticket("northmoor", &format!("P{i}"), "printer jammed", "printing", true)).collect();
    ingest(&app, &only_printing).await;
    let job = train(&app, None).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().contains("at least two labels"), "{job}");
    let body: Value = app.post_triage(&json!({"title": "printer jammed"})).await.json().await.unwrap();
    assert_eq!(body["model_version"], "starter");
}

#[tokio::test]
async fn promotion_and_rollback_under_load_lose_no_request() {
    // the load is the point here, not the per-key rate limit (tested in security.rs)
    let app = spawn_app_with(&[("TRIAGE__LIMITS__REQUESTS_PER_SECOND", "1000000"), ("TRIAGE__LIMITS__BURST", "1000000")]).await;
    let mut all = history("northmoor", 150);
    all.extend(history("eastbrook", 150));
    for chunk in all.chunks(100) {
        assert_eq!(ingest(&app, chunk).await.status(), 200);
    }
    let job = train(&app, Some("v2")).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let models: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    assert_eq!(models["live"], "starter");
    let v2 = models["models"].as_array().unwrap().iter().find(|m| m["version"] == "v2").unwrap().clone();
    assert!(v2["report"]["heads"]["category"]["candidate"]["macro_f1"].as_f64().unwrap() > 0.5, "{v2}");
    assert!(v2["report"]["heads"].get("first_contact").is_some(), "first-contact head trained from the flags");

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (client, address, stop) = (app.client.clone(), app.address.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut versions) = (0u32, 0u32, std::collections::BTreeSet::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let r = client
                    .post(format!("{address}/v1/triage"))
                    .json(&json!({"title": format!("vpn will not connect {c}"), "tenant": "northmoor"}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => {
                        let b: Value = r.json().await.unwrap();
                        versions.insert(b["model_version"].as_str().unwrap().to_owned());
                        ok += 1;
                    }
                    _ => failed += 1,
                }
            }
            (ok, failed, versions)
        }));
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    let promote = app.client.post(format!("{}/v1/admin/models/v2/promote?force=true", app.address)).send().await.unwrap();
    assert_eq!(promote.status(), 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let rollback = app.client.post(format!("{}/v1/admin/models/rollback", app.address)).send().await.unwrap();
    assert_eq!(rollback.status(), 200);
    tokio::time::sleep(Duration::from_millis(150)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed, mut versions) = (0, 0, std::collections::BTreeSet::new());
    for c in clients {
        let (o, f, v) = c.await.unwrap();
        ok += o;
        failed += f;
        versions.extend(v);
    }
    assert_eq!(failed, 0, "requests failed during promotion and rollback");
    assert!(ok > 20, "the clients kept sending ({ok})");
    assert!(versions.contains("v2") && versions.contains("starter"), "both models served: {versions:?}");
    let models: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    assert_eq!(models["live"], "starter", "rolled back");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("triage_http_requests_total{route=\"/v1/triage\",status=\"200\"}"), "{metrics}");
    assert!(metrics.contains("triage_model_info{version=\"starter\"} 1"));
    assert!(metrics.contains("triage_jobs{state=\"succeeded\"} 1"));
}

#[tokio::test]
async fn a_candidate_much_worse_than_the_live_model_is_refused_unless_forced() {
    let app = spawn_app().await;
    for chunk in history("northmoor", 90).chunks(100) {
        ingest(&app, chunk).await;
    }
    assert_eq!(train(&app, Some("good")).await["state"], "succeeded");
    assert_eq!(app.client.post(format!("{}/v1/admin/models/good/promote?force=true", app.address)).send().await.unwrap().status(), 200);
    // scramble the categories: the next candidate learns noise
    let mut noisy = history("northmoor", 90);
    for (i, t) in noisy.iter_mut().enumerate() {
        t["category"] = json!(["printing", "accounts", "remote-access"][(i * 7 / 3) % 3]);
    }
    ingest(&app, &noisy).await;
    assert_eq!(train(&app, Some("noisy")).await["state"], "succeeded");
    let refused = app.client.post(format!("{}/v1/admin/models/noisy/promote", app.address)).send().await.unwrap();
    assert_eq!(refused.status(), 409);
    let p: Value = refused.json().await.unwrap();
    assert!(p["detail"].as_str().unwrap().contains("macro-F1"), "{p}");
    assert_eq!(app.get("/v1/admin/models").await.json::<Value>().await.unwrap()["live"], "good");
    let unknown = app.client.post(format!("{}/v1/admin/models/nope/promote", app.address)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn agents_label_corrections_become_training_data() {
    let app = spawn_app().await;
    let cases = [
        ("printer jammed on floor two", "printing"),
        ("vpn will not connect from home", "remote-access"),
        ("locked out of my account", "accounts"),
    ];
    for i in 0..30 {
        let (title, category) = cases[i % 3];
        let body: Value = app.post_triage(&json!({"title": format!("{title} {i}"), "tenant": "westwater"})).await.json().await.unwrap();
        let url = format!("{}/v1/triage/{}/feedback", app.address, body["triage_id"].as_str().unwrap());
        let r = app
            .client
            .post(url)
            .json(&json!({"tenant": "westwater", "outcome": "helpful", "corrected_labels": {"category": category}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let job = train(&app, Some("from-feedback")).await;
    assert_eq!(job["state"], "succeeded", "no resolved tickets, only corrections: {job}");
    let models: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    let m = models["models"].as_array().unwrap().iter().find(|m| m["version"] == "from-feedback").unwrap();
    assert_eq!(m["report"]["train_rows"], 30, "{m}");
}

#[tokio::test]
async fn training_under_a_used_version_name_is_refused_before_it_starts_and_replaces_nothing() {
    let app = spawn_app().await;
    for chunk in history("northmoor", 60).chunks(100) {
        ingest(&app, chunk).await;
    }
    let job = train(&app, Some("v2")).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(job["total"].as_u64().unwrap() >= 1 && job["done"] == job["total"], "a finished job reports complete progress: {job}");
    let before: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    let cases = [("starter", "the live starter model of a default install"), ("v2", "a candidate trained a moment ago")];
    for (version, why) in cases {
        let r =
            app.client.post(format!("{}/v1/admin/models/train", app.address)).json(&json!({ "version": version })).send().await.unwrap();
        assert_eq!(r.status(), 409, "{why}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "version_exists", "{why}: {p}");
        assert!(p["detail"].as_str().unwrap().contains(version), "{why}: {p}");
    }
    for (version, why) in [("..", "the parent folder"), ("a/b", "a path"), ("", "empty")] {
        let r =
            app.client.post(format!("{}/v1/admin/models/train", app.address)).json(&json!({ "version": version })).send().await.unwrap();
        assert_eq!(r.status(), 422, "{why}");
    }
    let after: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    assert_eq!(before, after, "nothing was replaced or added");
}

#[tokio::test]
async fn a_candidate_in_shadow_mode_answers_beside_the_live_model_and_is_scored_when_labels_arrive() {
    let app = spawn_app().await;
    let mut all = history("northmoor", 120);
    all.extend(history("eastbrook", 60));
    for chunk in all.chunks(100) {
        assert_eq!(ingest(&app, chunk).await.status(), 200);
    }
    assert_eq!(train(&app, Some("cand")).await["state"], "succeeded");
    let post = |path: String| app.client.post(format!("{}{path}", app.address)).send();

    let r = post("/v1/admin/models/starter/shadow".into()).await.unwrap();
    assert_eq!(r.status(), 409, "the live model cannot shadow itself");
    let r = post("/v1/admin/models/nope/shadow".into()).await.unwrap();
    assert_eq!(r.status(), 404);
    let r = post("/v1/admin/models/cand/shadow".into()).await.unwrap();
    assert_eq!(r.status(), 200);
    let models: Value = r.json().await.unwrap();
    assert_eq!(models["shadow"]["version"], "cand");
    assert_eq!(models["live"], "starter", "shadowing changes nothing live");

    // new tickets are triaged by the live model, and answered by the candidate off the path
    for i in 0..12 {
        let title = ["printer jammed paper stuck in tray", "locked out of my account password", "vpn keeps dropping every hour"][i % 3];
        let t = json!({"title": title, "description": "since this morning", "tenant": "northmoor", "external_id": format!("NEW-{i}")});
        let answer: Value = app.post_triage(&t).await.json().await.unwrap();
        assert!(answer["model_version"] == "starter", "{answer}");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let shadow = loop {
        let m: Value = app.get("/v1/admin/models").await.json().await.unwrap();
        if m["shadow"]["triages"].as_u64() == Some(12) {
            break m["shadow"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "the shadow did not answer: {m}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let category = &shadow["heads"]["category"];
    assert_eq!(category["compared"], 12, "{shadow}");
    let agreement = category["agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agreement), "{shadow}");
    assert!(shadow["live_first_contact"].as_f64().is_some() && shadow["candidate_first_contact"].as_f64().is_some(), "{shadow}");

    // the truth arrives: the tickets are resolved with their labels; both models are scored
    let resolved: Vec<Value> = (0..12)
        .map(|i| {
            let cat = ["printing", "accounts", "remote-access"][i % 3];
            let mut t = ticket("northmoor", &format!("NEW-{i}"), "resolved", cat, true);
            t["title"] = json!(["printer jammed", "locked out", "vpn dropping"][i % 3]);
            t
        })
        .collect();
    assert_eq!(ingest(&app, &resolved).await.status(), 200);
    let m: Value = app.get("/v1/admin/models").await.json().await.unwrap();
    let category = &m["shadow"]["heads"]["category"];
    assert_eq!(category["labelled"], 12, "{m}");
    let cand = category["candidate_accuracy"].as_f64().unwrap();
    assert!(cand > 0.9, "the candidate, trained on this desk's words, labels them right: {m}");
    assert!(category["live_accuracy"].as_f64().is_some());

    let r = app.client.delete(format!("{}/v1/admin/models/shadow", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.json::<Value>().await.unwrap()["shadow"].is_null());
    let r = app.client.delete(format!("{}/v1/admin/models/shadow", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 404, "nothing left to stop");
}
