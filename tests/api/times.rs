//! Times over HTTP: garbled or impossible times are refused (never a reset connection), and
//! statistics count days in the desk's time zone.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

/// Byte 19 of this time is the first byte of a two-byte character: slicing there used to panic.
const GARBLED: &str = "2026-11-25T09:00:0\u{e9}Z";

fn ticket(id: &str, times: Value) -> Value {
    let mut t = json!({"tenant": "northmoor", "external_id": id, "title": "printer jam", "category": "printing"});
    t.as_object_mut().unwrap().extend(times.as_object().unwrap().clone());
    t
}

/// Percent-encodes a query value (`+` too, which would otherwise arrive as a space).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b"-_.:".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

async fn ingest(app: &TestApp, tickets: Vec<Value>) -> reqwest::Response {
    app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&json!({ "tickets": tickets })).send().await.unwrap()
}

#[tokio::test]
async fn a_garbled_or_impossible_ticket_time_answers_422_naming_the_field() {
    let app = spawn_app().await;
    let cases = [
        (GARBLED, "not ASCII", "a multi-byte character at byte 19"),
        ("2026-99-99T99:99:99Z", "month 99", "impossible month and clock"),
        ("2026-02-30T09:00:00Z", "no day 30", "february 30"),
        ("2026-11-25T25:00:00+01:00", "hour 25", "hour 25"),
    ];
    for (bad, reason, why) in cases {
        for field in ["resolved_at", "opened_at"] {
            let r = ingest(&app, vec![ticket("OK", json!({})), ticket("BAD", json!({ field: bad }))]).await;
            assert_eq!(r.status(), 422, "{why} in {field}");
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["code"], "invalid_field", "{why} in {field}: {p}");
            let detail = p["detail"].as_str().unwrap();
            assert!(detail.starts_with(&format!("tickets[1]: {field} ")), "{why}: {detail}");
            assert!(detail.contains(reason) && detail.contains("2026-11-25T09:30:00Z"), "{why}: {detail}");
        }
    }
    let stats: Value = app.get("/v1/stats").await.json().await.unwrap();
    assert_eq!(stats["resolved"], 0, "nothing of a refused batch is stored");
}

#[tokio::test]
async fn a_garbled_or_impossible_window_bound_answers_400_on_stats_and_article_usage() {
    let app = spawn_app().await;
    for path in ["/v1/stats", "/v1/kb/articles"] {
        for (name, bad, why) in [
            ("from", GARBLED, "a multi-byte character at byte 19"),
            ("from", "2026-11-0\u{e9}", "a multi-byte character in a day"),
            ("from", "2026-02-30", "no such day"),
            ("from", "2026-11-25T24:00:00Z", "hour 24"),
            ("to", GARBLED, "a multi-byte character at byte 19 of `to`"),
        ] {
            if path == "/v1/kb/articles" && name == "to" {
                continue; // article usage takes only `from`
            }
            let r = app.get(&format!("{path}?{name}={}", encode(bad))).await;
            assert_eq!(r.status(), 400, "{path} {name}={bad}: {why}");
            let p: Value = r.json().await.unwrap();
            assert_eq!(p["code"], "invalid_query", "{path}: {why}");
            assert!(p["detail"].as_str().unwrap().starts_with(&format!("`{name}` is not a valid day or time")), "{p}");
        }
    }
    for ok in ["2026-11-01", "2026-11-01T09:30:00+01:00"] {
        let r = app.get(&format!("/v1/kb/articles?from={}", encode(ok))).await;
        assert_eq!(r.status(), 200, "{ok}");
    }
}

#[tokio::test]
async fn stats_count_a_ticket_resolved_at_00_30_bst_on_its_uk_day() {
    let app = spawn_app().await;
    let r = ingest(
        &app,
        vec![
            ticket("SUMMER", json!({"resolved_at": "2026-07-01T00:30:00+01:00"})),
            ticket("NEW-YORK", json!({"resolved_at": "2026-06-30T19:30:00-04:00"})),
            ticket("WINTER", json!({"resolved_at": "2026-01-15T00:30:00Z"})),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let stats: Value = app.get("/v1/stats?tenant=northmoor").await.json().await.unwrap();
    let days: Vec<(&str, u64)> =
        stats["per_day"].as_array().unwrap().iter().map(|d| (d["day"].as_str().unwrap(), d["resolved"].as_u64().unwrap())).collect();
    assert_eq!(days, vec![("2026-01-15", 1), ("2026-07-01", 2)], "00:30 BST, however it was written, is 1 July in the UK");
    // a day bound is that day in the desk's zone; `to` is exclusive
    let july: Value = app.get("/v1/stats?tenant=northmoor&from=2026-07-01&to=2026-07-02").await.json().await.unwrap();
    assert_eq!(july["resolved"], 2);
    let june: Value = app.get("/v1/stats?tenant=northmoor&from=2026-06-01&to=2026-07-01").await.json().await.unwrap();
    assert_eq!(june["resolved"], 0, "neither ticket is in June in the UK");
}
