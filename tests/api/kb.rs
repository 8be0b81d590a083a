use serde_json::Value;

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn search_filters_by_category_and_limits_results() {
    let app = spawn_app().await;
    let r = app.get("/v1/kb/search?q=password%20reset&category=accounts&limit=3").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let results = body["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 3);
    assert!(results.iter().all(|h| h["category"] == "accounts"), "{body:#}");
}

#[tokio::test]
async fn tenant_scoped_articles_are_found_only_by_their_tenant() {
    let app = spawn_app().await;
    let q = "/v1/kb/search?q=remote%20desktop%20gateway&limit=20";
    let own: Value = app.get(&format!("{q}&tenant=northmoor")).await.json().await.unwrap();
    let other: Value = app.get(&format!("{q}&tenant=westwater")).await.json().await.unwrap();
    let scoped = "remote-desktop-to-office-pc-northmoor".to_owned();
    assert!(ids(&own, "results").contains(&scoped));
    assert!(!ids(&other, "results").contains(&scoped));
}

#[tokio::test]
async fn an_article_is_served_to_its_tenants_and_hidden_from_others() {
    let app = spawn_app().await;
    let r = app.get("/v1/kb/articles/account-locked-out").await;
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["id"], "account-locked-out");
    assert_eq!(a["tenants"], serde_json::json!(["all"]));
    assert!(!a["steps"].as_array().unwrap().is_empty());

    let path = "/v1/kb/articles/remote-desktop-to-office-pc-northmoor";
    assert_eq!(app.get(&format!("{path}?tenant=northmoor")).await.status(), 200);
    for (query, why) in [("?tenant=eastbrook", "another tenant"), ("", "no tenant")] {
        let r = app.get(&format!("{path}{query}")).await;
        assert_eq!(r.status(), 404, "{why}");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["code"], "article_not_found", "{why}");
    }
}
