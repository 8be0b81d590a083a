//! `X-Request-Id`: every answer carries one, the client's own when valid, else a new UUID.

use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::helpers::spawn_app;

/// The `X-Request-Id` of a response, which must be there.
fn request_id_of(response: &reqwest::Response) -> String {
    let value = response.headers().get("x-request-id").expect("the response has an X-Request-Id");
    value.to_str().expect("the id is visible ASCII").to_owned()
}

fn assert_is_uuid(id: &str, why: &str) {
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{why}: `{id}` is not a UUID");
}

#[tokio::test]
async fn every_answer_carries_a_new_request_id_when_the_client_sent_none() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for path in ["/healthz", "/readyz", "/v1/session", "/openapi.json", "/no-such-route"] {
        let response = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        let id = request_id_of(&response);
        assert_is_uuid(&id, path);
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "each request has its own id: {seen:?}");
}

#[tokio::test]
async fn a_valid_request_id_sent_by_the_client_is_echoed() {
    let app = spawn_app().await;
    let longest = "a".repeat(128);
    let cases = [
        ("3f1c2a9e-client-42", "an ordinary id"),
        ("!#$%&'*+-.^_`|~:/?@[]{}<>=\"\\,;()0aZ", "any visible ASCII character"),
        (longest.as_str(), "128 characters, the longest taken"),
        ("x", "one character"),
    ];
    for (sent, why) in cases {
        let response = app.client.get(format!("{}/healthz", app.address)).header("x-request-id", sent).send().await.unwrap();
        assert_eq!(response.status(), 200, "{why}");
        assert_eq!(request_id_of(&response), sent, "{why}");
    }
}

#[tokio::test]
async fn an_invalid_request_id_is_replaced_by_a_new_uuid() {
    let app = spawn_app().await;
    let too_long = "a".repeat(129);
    let cases: [(HeaderValue, &str); 5] = [
        (HeaderValue::from_static(""), "empty"),
        (HeaderValue::from_str(&too_long).unwrap(), "129 characters"),
        (HeaderValue::from_static("two words"), "a space"),
        (HeaderValue::from_static("tab\there"), "a tab"),
        (HeaderValue::from_bytes("caf\u{e9}".as_bytes()).unwrap(), "not ASCII"),
    ];
    for (sent, why) in cases {
        let response = app.client.get(format!("{}/healthz", app.address)).header("x-request-id", sent.clone()).send().await.unwrap();
        assert_eq!(response.status(), 200, "{why}");
        let id = request_id_of(&response);
        assert_ne!(id.as_bytes(), sent.as_bytes(), "{why}");
        assert_is_uuid(&id, why);
    }
}

#[tokio::test]
async fn a_problem_names_the_request_id_in_its_body_as_in_its_header() {
    let app = spawn_app().await;
    let long_url = format!("{}/v1/kb/search?q={}", app.address, "x".repeat(9000));
    let cases = [
        (app.client.get(format!("{}/no-such-route", app.address)), 404, "a handler's problem"),
        (reqwest::Client::new().post(format!("{}/v1/triage", app.address)).body("{}"), 401, "refused before the handler"),
        (app.client.get(long_url), 414, "answered by a middleware"),
    ];
    for (request, status, why) in cases {
        for sent in [Some("report-7781"), None] {
            let request = request.try_clone().unwrap();
            let request = match sent {
                Some(id) => request.header("x-request-id", id),
                None => request,
            };
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status, "{why}");
            assert_eq!(response.headers()["content-type"], "application/problem+json", "{why}");
            let id = request_id_of(&response);
            if let Some(sent) = sent {
                assert_eq!(id, sent, "{why}");
            }
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["request_id"], id.as_str(), "{why}: {body}");
        }
    }
}
