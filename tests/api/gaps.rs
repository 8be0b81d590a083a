//! `GET /v1/kb/gaps`: tickets the knowledge base could not fix, grouped per tenant, with drafts.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

#[tokio::test]
async fn tickets_answered_no_good_fix_become_a_gap_of_their_tenant_only() {
    let app = spawn_app().await;
    let odd = |tenant: &str, id: &str, extra: &str| {
        json!({"tenant": tenant, "external_id": id, "title": format!("zyxwv qwertz {extra}"),
               "description": "plugh xyzzy frobnicate"})
    };
    for (tenant, id, extra) in
        [("northmoor", "INC1", "quux"), ("northmoor", "INC2", "plugh"), ("northmoor", "INC3", ""), ("eastbrook", "E1", "")]
    {
        let body: Value = app.post_triage(&odd(tenant, id, extra)).await.json().await.unwrap();
        assert_eq!(body["no_good_fix"], true, "{body:#}");
    }
    let fine: Value =
        app.post_triage(&json!({"tenant": "northmoor", "title": "vpn will not connect from home"})).await.json().await.unwrap();
    assert_eq!(fine["no_good_fix"], false);
    let resolved = json!({"tickets": [{"tenant": "northmoor", "external_id": "INC1", "title": "zyxwv qwertz quux",
        "resolution_notes": "Power-cycled the plugh and re-seated its zyxwv cable", "resolved_at": "2026-11-20T10:00:00Z"}]});
    let r = app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&resolved).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let gaps: Value = app.get("/v1/kb/gaps?tenant=northmoor").await.json().await.unwrap();
    assert_eq!(gaps["gaps"].as_array().unwrap().len(), 1, "only the odd tickets: {gaps:#}");
    let gap = &gaps["gaps"][0];
    assert_eq!(gap["size"], 3, "{gap:#}");
    assert_eq!(gap["no_good_fix"], 3);
    let mut seen: Vec<&str> = gap["representatives"].as_array().unwrap().iter().map(|r| r["external_id"].as_str().unwrap()).collect();
    seen.sort_unstable();
    assert_eq!(seen, vec!["INC1", "INC2", "INC3"], "eastbrook's ticket is not northmoor's gap");
    assert_eq!(gap["resolution_notes"], json!(["Power-cycled the plugh and re-seated its zyxwv cable"]));
    let draft = gap["draft"].as_str().unwrap();
    assert!(draft.contains("\ndraft: true\n") && draft.contains("tenants: [northmoor]") && draft.contains("re-seated"), "{draft}");

    let east_admin = app.client_for(Some("eastbrook"), "admin").await;
    let own: Value = east_admin.get(format!("{}/v1/kb/gaps", app.address)).send().await.unwrap().json().await.unwrap();
    assert_eq!(own["tenant"], "eastbrook");
    assert_eq!(own["gaps"].as_array().unwrap().len(), 1);
    assert_eq!(own["gaps"][0]["size"], 1, "a tenant key sees only its tenant: {own:#}");
    let other = east_admin.get(format!("{}/v1/kb/gaps?tenant=northmoor", app.address)).send().await.unwrap();
    assert_eq!(other.status(), 403, "another tenant's gaps are not shown");
}

#[tokio::test]
async fn gaps_need_an_admin_or_operator_a_tenant_and_a_valid_window() {
    let app = spawn_app().await;
    let agent = app.client_for(Some("northmoor"), "agent").await;
    let r = agent.get(format!("{}/v1/kb/gaps", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 403, "agents may not read gaps");
    for (query, status, why) in [
        ("", 400, "an operator must name the tenant"),
        ("?tenant=northmoor&limit=0", 400, "limit out of range"),
        ("?tenant=northmoor&from=yesterday", 400, "a window bound that is not a day or time"),
        ("?tenant=nowhere", 422, "a tenant that is not configured"),
        ("?tenant=northmoor&from=2026-11-01&to=2026-12-01&limit=5", 200, "a valid window"),
    ] {
        assert_eq!(app.get(&format!("/v1/kb/gaps{query}")).await.status(), status, "{why}");
    }
    let empty: Value = app.get("/v1/kb/gaps?tenant=northmoor").await.json().await.unwrap();
    assert_eq!(empty, json!({"tenant": "northmoor", "candidates": 0, "gaps": []}));
}
