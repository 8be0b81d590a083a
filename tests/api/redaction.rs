//! Personal data never reaches the store, the indexes or a model: built-in patterns (phone
//! numbers in every common spelling) and a desk's own `redaction.extra_patterns`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

/// A housing-benefit claim number pattern. Extra patterns are installed once per process, so
/// every test in this binary that sets one uses this same setting.
const HB_PATTERN: (&str, &str) = ("TRIAGE__REDACTION__EXTRA_PATTERNS__HB", r"(?i)\bHB-\d{6}\b");
const CLAIM: &str = "123456";

fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(p);
            }
        }
    }
    found
}

#[tokio::test]
async fn a_desk_pattern_is_redacted_in_the_triage_record_the_resolved_tickets_the_index_and_a_trained_model() {
    let app = spawn_app_with(&[HB_PATTERN]).await;
    let themes =
        [("printing", "printer jammed paper stuck"), ("accounts", "locked out of my account"), ("remote-access", "vpn will not connect")];
    let tickets: Vec<Value> = (0..30)
        .map(|i| {
            let (cat, title) = themes[i % 3];
            json!({
                "tenant": "northmoor", "external_id": format!("HBT-{i}"), "category": cat,
                "title": format!("{title} for claim HB-{CLAIM} case {i}"),
                "description": format!("housing benefit claim hb-{CLAIM}: {title}"),
                "resolution_notes": format!("Fixed {title}; noted on HB-{CLAIM}"),
            })
        })
        .collect();
    let r = app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&json!({ "tickets": tickets })).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let answer: Value = app
        .post_triage(&json!({"title": "printer jammed paper stuck", "description": format!("my claim HB-{CLAIM}"), "tenant": "northmoor"}))
        .await
        .json()
        .await
        .unwrap();
    let similar: Vec<&Value> = answer["suggestions"].as_array().unwrap().iter().filter(|s| s["kind"] == "ticket").collect();
    assert!(!similar.is_empty(), "similar resolved tickets are offered: {answer}");
    assert!(!answer.to_string().contains(CLAIM), "no similar-ticket title or snippet shows the claim number: {answer}");
    assert!(similar.iter().any(|s| s.to_string().contains("[piihb]")), "{similar:?}");
    let id = answer["triage_id"].as_str().unwrap();
    let record: Value = app.get(&format!("/v1/triage/{id}?tenant=northmoor")).await.json().await.unwrap();
    let text = record["text"].as_str().unwrap();
    assert!(text.contains("[piihb]") && !text.contains(CLAIM), "the triage record keeps the redacted text only: {text}");

    let started: Value =
        app.client.post(format!("{}/v1/admin/models/train", app.address)).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let job = app.wait_for_job(started["job_id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let data = app._data_dir.path();
    let on_disk: Vec<PathBuf> = files_containing(data, CLAIM).into_iter().filter(|p| !p.starts_with(data.join("index"))).collect();
    assert!(on_disk.is_empty(), "the store and the trained bundle never hold the claim number: {on_disk:?}");
}

#[tokio::test]
async fn phone_numbers_written_with_dots_or_dashes_are_redacted_before_storage() {
    let app = spawn_app().await;
    let description = "ring me on 07700.900.125 or the office 0161.496.0000, abroad +44-7700-900126, desk +44 (0)161-496-0000";
    let answer: Value = app
        .post_triage(&json!({"title": "printer offline", "description": description, "tenant": "northmoor"}))
        .await
        .json()
        .await
        .unwrap();
    let id = answer["triage_id"].as_str().unwrap();
    let record: Value = app.get(&format!("/v1/triage/{id}?tenant=northmoor")).await.json().await.unwrap();
    let text = record["text"].as_str().unwrap();
    assert_eq!(text.matches("[piiphone]").count(), 4, "{text}");
    for raw in ["900.125", "496.0000", "900126", "496-0000"] {
        assert!(!text.contains(raw), "{raw} is stored: {text}");
    }
}

#[tokio::test]
async fn external_ids_outside_the_documented_charset_are_refused_with_invalid_field() {
    let app = spawn_app().await;
    let long = "9".repeat(65);
    for (id, why) in [
        ("jane doe 07700 900123", "free text with a phone number"),
        ("jane@northmoor.gov.uk", "an e-mail address"),
        (long.as_str(), "65 characters"),
    ] {
        let r = app.post_triage(&json!({"title": "printer offline", "external_id": id})).await;
        assert_eq!(r.status(), 422, "{why}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "invalid_field", "{why}: {p}");
        assert!(p["detail"].as_str().unwrap().contains("1-64 characters of A-Z a-z 0-9 . _ : / # -"), "the rule is named: {p}");
        let ticket = json!({"tenant": "northmoor", "external_id": id, "title": "printer offline"});
        let r = app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&json!({ "tickets": [ticket] })).send().await.unwrap();
        assert_eq!(r.status(), 422, "resolved ticket: {why}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_field", "resolved ticket: {why}");
    }
    for id in ["INC0012345", "PROJ-123", "9d385017c611228701d22104cc95c371", "4711"] {
        assert_eq!(app.post_triage(&json!({"title": "printer offline", "external_id": id})).await.status(), 200, "{id}");
    }
}

#[tokio::test]
async fn corrections_name_known_heads_only_and_their_labels_are_bounded_and_redacted() {
    let app = spawn_app().await;
    let answer: Value = app.post_triage(&json!({"title": "printer offline", "tenant": "northmoor"})).await.json().await.unwrap();
    let id = answer["triage_id"].as_str().unwrap();
    let url = format!("{}/v1/triage/{id}/feedback", app.address);
    let send = |labels: Value| {
        app.client.post(&url).json(&json!({"tenant": "northmoor", "outcome": "corrected", "corrected_labels": labels})).send()
    };
    let long = "x".repeat(65);
    let refused = [
        (json!({"mood": "grumpy"}), "`mood`", "a head no model has"),
        (json!({"category": long}), "1-64 characters", "a label over 64 characters"),
        (json!({"category": " "}), "1-64 characters", "an empty label"),
        (json!({"category": "acc\u{7}ounts"}), "control characters", "a control character"),
    ];
    for (labels, says, why) in refused {
        let r = send(labels).await.unwrap();
        assert_eq!(r.status(), 422, "{why}");
        let p: Value = r.json().await.unwrap();
        let detail = p["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{why}: {p}");
    }
    let unknown: Value = send(json!({"mood": "grumpy"})).await.unwrap().json().await.unwrap();
    assert!(unknown["detail"].as_str().unwrap().contains("category, priority, assignment_group"), "the known heads are listed: {unknown}");
    assert_eq!(send(json!({"category": "printing", "priority": "ring 07700.900.125"})).await.unwrap().status(), 204);
    let record: Value = app.get(&format!("/v1/triage/{id}?tenant=northmoor")).await.json().await.unwrap();
    let stored = record["feedback"].to_string();
    assert!(stored.contains("[piiphone]") && !stored.contains("900.125"), "the label is stored redacted: {stored}");
}
