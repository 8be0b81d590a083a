//! Hostile requests, each with its expected status and code, and tenant isolation by key.

use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with_key, spawn_app};

async fn problem(r: reqwest::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, body["code"].as_str().unwrap_or("").to_owned())
}

async fn triage_as(app: &TestApp, client: &reqwest::Client, body: Value) -> reqwest::Response {
    client.post(format!("{}/v1/triage", app.address)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn hostile_requests_get_their_status_and_code() {
    let app = spawn_app().await;
    let url = |p: &str| format!("{}{p}", app.address);
    let plain = reqwest::Client::new();
    let ticket = json!({"title": "printer offline"});
    let north_agent_client = app.client_for(Some("northmoor"), "agent").await;
    let north_integration = app.client_for(Some("northmoor"), "integration").await;
    let east_agent = app.client_for(Some("eastbrook"), "agent").await;
    let (revoked_key_id, revoked) = app.create_key_with_id(Some("northmoor"), "agent").await;
    assert_eq!(app.client.delete(url(&format!("/v1/admin/keys/{revoked_key_id}"))).send().await.unwrap().status(), 204);

    // a triage of northmoor, to probe cross-tenant access
    let north_triage: Value =
        triage_as(&app, &north_agent_client, json!({"title": "locked out of my account"})).await.json().await.unwrap();
    let north_triage_id = north_triage["triage_id"].as_str().unwrap().to_owned();
    assert_eq!(north_triage["tenant"], "northmoor", "the key's tenant is applied");
    app.client
        .post(url("/v1/tickets/resolved"))
        .json(&json!({"tickets": [{"tenant": "northmoor", "external_id": "N-1", "title": "printer jam", "category": "printing"}]}))
        .send()
        .await
        .unwrap();

    let cases: Vec<(reqwest::RequestBuilder, u16, &str, &str)> = vec![
        (plain.post(url("/v1/triage")).json(&ticket), 401, "missing_credentials", "no key"),
        (
            plain.post(url("/v1/triage")).header("Authorization", "Basic dXNlcjpwYXNz").json(&ticket),
            401,
            "malformed_credentials",
            "basic auth instead of bearer",
        ),
        (
            plain.post(url("/v1/triage")).header("Authorization", "Bearer").json(&ticket),
            401,
            "malformed_credentials",
            "bearer without a key",
        ),
        (
            plain.post(url("/v1/triage")).header("Authorization", format!("Bearer trg_{}", "0".repeat(64))).json(&ticket),
            401,
            "invalid_credentials",
            "wrong key",
        ),
        (
            plain.post(url("/v1/triage")).header("Authorization", "Bearer ' OR 1=1 --").json(&ticket),
            401,
            "malformed_credentials",
            "injection in the header",
        ),
        (client_with_key(&revoked).post(url("/v1/triage")).json(&ticket), 401, "invalid_credentials", "revoked key"),
        (north_integration.get(url("/v1/kb/search?q=vpn")), 403, "forbidden", "integration key searching the knowledge base"),
        (
            north_agent_client.post(url("/v1/tickets/resolved")).json(&json!({"tickets": []})),
            403,
            "forbidden",
            "agent key sending resolved tickets",
        ),
        (north_agent_client.get(url("/v1/stats")), 403, "forbidden", "agent key reading stats"),
        (north_agent_client.post(url("/v1/admin/models/train")), 403, "forbidden", "agent key starting training"),
        (
            north_agent_client.post(url("/v1/triage")).json(&json!({"title": "x", "tenant": "eastbrook"})),
            403,
            "forbidden",
            "acting for another tenant",
        ),
        (
            east_agent.post(url(&format!("/v1/triage/{north_triage_id}/feedback"))).json(&json!({"outcome": "helpful"})),
            404,
            "triage_not_found",
            "feedback on another tenant's triage",
        ),
        (
            east_agent.get(url("/v1/kb/articles/remote-desktop-to-office-pc-northmoor")),
            404,
            "article_not_found",
            "another tenant's article",
        ),
        (app.client.delete(url("/v1/tickets/resolved/N-1?tenant=eastbrook")), 404, "ticket_not_found", "erasing another tenant's ticket"),
        (app.client.delete(url(&format!("/v1/admin/keys/{revoked_key_id}"))), 404, "key_not_found", "revoking twice"),
        (
            app.client.post(url("/v1/triage")).header("content-type", "application/json").body(vec![b'{'; 300 * 1024]),
            413,
            "payload_too_large",
            "oversized body",
        ),
        (
            app.client
                .post(url("/v1/tickets/resolved"))
                .json(&json!({"tickets": vec![json!({"tenant": "northmoor", "external_id": "x", "title": "t"}); 1001]})),
            413,
            "batch_too_large",
            "huge batch",
        ),
        (
            app.client.post(url("/v1/triage")).header("content-type", "application/json").body(format!(
                "{{\"title\": {}{}}}",
                "[".repeat(5000),
                "]".repeat(5000)
            )),
            422,
            "invalid_field",
            "deeply nested JSON (refused at the first bracket, never recursed)",
        ),
        (
            app.client.post(url("/v1/triage")).header("content-type", "application/json").body(b"{\"title\":\"\xc3\x28\"}".to_vec()),
            400,
            "invalid_utf8",
            "invalid UTF-8",
        ),
        (app.client.post(url("/v1/triage")).json(&json!({"title": "printer\u{0000}"})), 422, "control_character", "NUL byte"),
        (app.client.get(url("/v1/kb/search?q=title%3A*%20OR%20body%3A%5B*%20TO%20*%5D")), 200, "", "query syntax is just words"),
        (app.client.get(url("/v1/kb/articles/..%2F..%2Fetc%2Fpasswd")), 404, "article_not_found", "path traversal in an article id"),
        (app.client.get(url("/v1/kb/articles/%2e%2e%2fCargo.toml")), 404, "article_not_found", "encoded dot segments"),
        (
            app.client.post(url("/v1/triage")).json(&json!({"title": "x", "tenant": "nowhere"})),
            422,
            "invalid_tenant",
            "a tenant that is not configured",
        ),
    ];
    for (request, status, code, why) in cases {
        let (got_status, got_code) = problem(request.send().await.unwrap()).await;
        assert_eq!((got_status, got_code.as_str()), (status, code), "{why}");
    }
    let r = plain.post(url("/v1/triage")).json(&ticket).send().await.unwrap();
    assert_eq!(r.headers().get("www-authenticate").unwrap(), "Bearer");
    assert_eq!(app.get("/healthz").await.status(), 200, "health stays open");
    assert_eq!(plain.get(url("/metrics")).send().await.unwrap().status(), 200, "metrics stay open");
}

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let app = crate::helpers::spawn_app_with(&[("TRIAGE__LIMITS__REQUESTS_PER_SECOND", "1"), ("TRIAGE__LIMITS__BURST", "3")]).await;
    let agent = app.client_for(Some("northmoor"), "agent").await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let r = agent.get(format!("{}/v1/kb/search?q=vpn", app.address)).send().await.unwrap();
        if r.status() == 429 {
            assert!(r.headers().get("retry-after").unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
        }
        statuses.push(r.status().as_u16());
    }
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    assert_eq!(statuses[4], 429, "{statuses:?}");
}

#[tokio::test]
async fn tenant_admins_manage_only_their_own_keys_and_see_only_their_audit() {
    let app = spawn_app().await;
    let north_admin = app.client_for(Some("northmoor"), "admin").await;
    let url = |p: &str| format!("{}{p}", app.address);
    let r = north_admin.post(url("/v1/admin/keys")).json(&json!({"role": "agent", "label": "desk"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["tenant"], "northmoor");
    assert!(created["key"].as_str().unwrap().starts_with("trg_"));
    let op = north_admin.post(url("/v1/admin/keys")).json(&json!({"role": "operator"})).send().await.unwrap();
    assert_eq!(op.status(), 403, "a tenant admin cannot mint operator keys");
    let other = north_admin.post(url("/v1/admin/keys")).json(&json!({"role": "agent", "tenant": "eastbrook"})).send().await.unwrap();
    assert_eq!(other.status(), 403);
    let east_key = app.create_key(Some("eastbrook"), "agent").await;
    let east_list: Value = app.client.get(url("/v1/admin/keys")).send().await.unwrap().json().await.unwrap();
    let east_id =
        east_list["keys"].as_array().unwrap().iter().find(|k| k["tenant"] == "eastbrook").unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(
        north_admin.delete(url(&format!("/v1/admin/keys/{east_id}"))).send().await.unwrap().status(),
        404,
        "another tenant's key is not found"
    );
    assert_eq!(client_with_key(&east_key).get(url("/v1/kb/search?q=vpn")).send().await.unwrap().status(), 200, "and still works");
    let own: Value = north_admin.get(url("/v1/admin/keys")).send().await.unwrap().json().await.unwrap();
    assert!(own["keys"].as_array().unwrap().iter().all(|k| k["tenant"] == "northmoor"));
    assert!(!own.to_string().contains("hash"), "hashes are never listed");
    let audit: Value = north_admin.get(url("/v1/admin/audit")).send().await.unwrap().json().await.unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "key.create"));
    assert!(entries.iter().all(|e| e["tenant"] == "northmoor"), "{audit}");
    let all: Value = app.client.get(url("/v1/admin/audit")).send().await.unwrap().json().await.unwrap();
    assert!(all["entries"].as_array().unwrap().iter().any(|e| e["tenant"] == "eastbrook"));
}

#[tokio::test]
async fn erasing_a_resolved_ticket_removes_it_from_suggestions_and_stats() {
    let app = spawn_app().await;
    let url = |p: &str| format!("{}{p}", app.address);
    let integration = app.client_for(Some("northmoor"), "integration").await;
    let ticket = json!({"tickets": [{"tenant": "northmoor", "external_id": "ERASE-1", "title": "plotter error 79 in the planning office", "category": "printing", "resolution_notes": "reseated the drum"}]});
    assert_eq!(integration.post(url("/v1/tickets/resolved")).json(&ticket).send().await.unwrap().status(), 200);
    let suggested = |body: Value| body["suggestions"].as_array().unwrap().iter().any(|s| s["id"] == "ERASE-1");
    let before: Value = triage_as(&app, &integration, json!({"title": "plotter error 79 planning office"})).await.json().await.unwrap();
    assert!(suggested(before));
    assert_eq!(integration.delete(url("/v1/tickets/resolved/ERASE-1")).send().await.unwrap().status(), 204);
    let after: Value = triage_as(&app, &integration, json!({"title": "plotter error 79 planning office"})).await.json().await.unwrap();
    assert!(!suggested(after), "gone from the index");
    let stats: Value = app.client.get(url("/v1/stats?tenant=northmoor")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["resolved"], 0, "gone from the store");
    let audit: Value = app.client.get(url("/v1/admin/audit")).send().await.unwrap().json().await.unwrap();
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "ticket.erase" && e["target"] == "ERASE-1"));
}

#[tokio::test]
async fn cors_admits_only_the_console_origin() {
    let app = crate::helpers::spawn_app_with(&[("TRIAGE__SERVER__CORS_ALLOWED_ORIGIN", "https://console.example.org")]).await;
    let preflight = |origin: &'static str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, format!("{}/v1/triage", app.address))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let ok = preflight("https://console.example.org").await.unwrap();
    assert_eq!(ok.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap()), Some("https://console.example.org"));
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none(), "another origin is not allowed");
}
