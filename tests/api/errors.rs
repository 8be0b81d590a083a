use serde_json::{Value, json};

use crate::helpers::spawn_app;

/// Asserts a problem+json answer with the given status and code.
async fn assert_problem(r: reqwest::Response, status: u16, code: &str, why: &str) {
    assert_eq!(r.status().as_u16(), status, "{why}");
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(ct, "application/problem+json", "{why}");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["code"], code, "{why}: {p}");
    assert_eq!(p["status"], status, "{why}");
    assert!(!p["detail"].as_str().unwrap_or("").is_empty(), "{why}: detail says what to do");
}

#[tokio::test]
async fn each_bad_triage_request_gets_its_own_status_and_code_and_the_service_keeps_serving() {
    let app = spawn_app().await;
    let json_cases: Vec<(Value, u16, &str, &str)> = vec![
        (json!({"title": "", "description": "   "}), 422, "empty_ticket", "empty ticket"),
        (json!({}), 422, "empty_ticket", "no text fields at all"),
        (json!({"title": "x", "description": "a".repeat(20_001)}), 422, "text_too_long", "description over 20,000 characters"),
        (json!({"title": "b".repeat(501)}), 422, "text_too_long", "title over 500 characters"),
        (json!({"title": "printer", "priority": "high"}), 422, "unknown_field", "a field the API does not know"),
        (json!({"title": 42}), 422, "invalid_field", "title of the wrong type"),
        (json!({"title": "printer", "channel": "pigeon"}), 422, "invalid_field", "unknown channel"),
        (json!({"title": "printer", "tenant": "North Moor"}), 422, "invalid_tenant", "tenant id with capitals and a space"),
        (json!({"title": "printer\u{0000}jam"}), 422, "control_character", "NUL byte in the text"),
    ];
    for (body, status, code, why) in json_cases {
        assert_problem(app.post_triage(&body).await, status, code, why).await;
    }
    let raw_cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("application/json", b"{\"title\": ".to_vec(), 400, "invalid_json", "truncated JSON"),
        ("application/json", b"title=printer".to_vec(), 400, "invalid_json", "form data sent as JSON"),
        ("application/json", b"{\"title\": \"caf\xe9\"}".to_vec(), 400, "invalid_utf8", "Latin-1 byte"),
        ("text/plain", b"{\"title\": \"printer\"}".to_vec(), 415, "unsupported_media_type", "wrong content type"),
        ("application/json", vec![b' '; 300 * 1024], 413, "payload_too_large", "body over the 256 KiB limit"),
    ];
    for (ct, body, status, code, why) in raw_cases {
        assert_problem(app.post_triage_raw(ct, body).await, status, code, why).await;
    }
    let still: Value = app.post_triage(&json!({"title": "printer offline"})).await.json().await.unwrap();
    assert!(!still["suggestions"].as_array().unwrap().is_empty(), "the service still triages after bad input");
    // control characters other than NUL (mis-decoded e-mail, form feeds) do not refuse a ticket
    let resp = app.post_triage(&json!({"title": "printer\u{81} offline", "description": "page 1\u{c}page 2"})).await;
    assert_eq!(resp.status(), 200, "a C1 code or a form feed is a space, not an error");
}

#[tokio::test]
async fn bad_search_parameters_unknown_routes_and_wrong_methods_are_problems() {
    let app = spawn_app().await;
    assert_problem(app.get("/v1/kb/search?q=").await, 400, "invalid_query", "empty search text").await;
    assert_problem(app.get("/v1/kb/search?q=vpn&limit=0").await, 400, "invalid_query", "limit 0").await;
    assert_problem(app.get("/v1/kb/search?q=vpn&limit=abc").await, 400, "invalid_query", "limit not a number").await;
    assert_problem(app.get("/v1/kb/search?q=vpn&evil=1").await, 400, "invalid_query", "unknown parameter").await;
    assert_problem(app.get("/v1/kb/search?q=vpn&tenant=..%2F..").await, 422, "invalid_tenant", "path-like tenant").await;
    assert_problem(app.get("/v1/kb/articles/..%2F..%2Fetc%2Fpasswd").await, 404, "article_not_found", "path traversal in id").await;
    assert_problem(app.get("/v1/nope").await, 404, "route_not_found", "unknown route").await;
    assert_problem(app.get("/v1/triage").await, 405, "method_not_allowed", "GET on a POST endpoint").await;
}
