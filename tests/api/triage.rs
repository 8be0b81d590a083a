use serde_json::{Value, json};

use crate::helpers::{ids, spawn_app};

#[tokio::test]
async fn a_locked_out_account_gets_the_lock_out_article_first() {
    let app = spawn_app().await;
    let r = app
        .post_triage(&json!({
            "title": "Locked out",
            "description": "I typed my password wrong a few times and now it says my account is locked, can't log in to my PC",
            "tenant": "northmoor",
            "channel": "phone",
            "external_id": "INC0001"
        }))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(ids(&body, "suggestions")[0], "account-locked-out", "{body:#}");
    let first = &body["suggestions"][0];
    assert_eq!(first["kind"], "article");
    assert!(first["steps"].as_array().unwrap().len() >= 3, "steps come with the article");
    assert!(first["snippet"].as_str().unwrap().contains("<b>"), "snippet highlights matches: {first}");
    assert_eq!(body["external_id"], "INC0001");
    assert_eq!(body["triage_id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn a_printer_ticket_gets_a_printer_article_first() {
    let app = spawn_app().await;
    let r = app.post_triage(&json!({"title": "printer on floor 2 says offline, nothing prints"})).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["suggestions"][0]["category"], "printing", "{body:#}");
}

#[tokio::test]
async fn suggestions_are_ranked_best_first_and_each_triage_gets_its_own_id() {
    let app = spawn_app().await;
    let ticket = json!({"title": "VPN will not connect from home", "description": "the vpn client says connection failed"});
    let a: Value = app.post_triage(&ticket).await.json().await.unwrap();
    let b: Value = app.post_triage(&ticket).await.json().await.unwrap();
    assert_ne!(a["triage_id"], b["triage_id"]);
    let suggestions = a["suggestions"].as_array().unwrap();
    assert!(!suggestions.is_empty());
    let ranks: Vec<u64> = suggestions.iter().map(|s| s["rank"].as_u64().unwrap()).collect();
    assert_eq!(ranks, (1..=suggestions.len() as u64).collect::<Vec<_>>(), "ranks are 1, 2, ...");
    for s in suggestions {
        let p = s["fix_probability"].as_f64().expect("every triage suggestion has a fix probability");
        assert!((0.0..=1.0).contains(&p), "{s}");
        assert!(s.get("score").is_none(), "the fusion number is not part of a triage answer: {s}");
    }
    assert!(suggestions[0]["fix_probability"].as_f64().unwrap() > 0.5, "a clear VPN ticket has a likely fix: {a:#}");
    assert_eq!(a["no_good_fix"], false);
    // without a trained first-contact head, first contact follows the best fix
    assert_eq!(a["first_contact"]["source"], "fix_probability");
    let best = suggestions.iter().map(|s| s["fix_probability"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!((a["first_contact"]["probability"].as_f64().unwrap() - best).abs() < 1e-3, "{a:#}");
    assert_eq!(a["suggestions"][0]["category"], "remote-access", "{a:#}");

    // words the knowledge base never uses: nothing is likely to fix it
    let odd: Value =
        app.post_triage(&json!({"title": "zyxwv qwertz", "description": "plugh xyzzy frobnicate"})).await.json().await.unwrap();
    assert_eq!(odd["no_good_fix"], true, "{odd:#}");
}

#[tokio::test]
async fn a_tenant_scoped_article_is_invisible_to_another_tenant() {
    let app = spawn_app().await;
    let ticket = |tenant: &str| json!({"title": "remote desktop gateway to my office pc not working", "tenant": tenant});
    let own: Value = app.post_triage(&ticket("northmoor")).await.json().await.unwrap();
    let other: Value = app.post_triage(&ticket("eastbrook")).await.json().await.unwrap();
    let scoped = "remote-desktop-to-office-pc-northmoor".to_owned();
    assert!(ids(&own, "suggestions").contains(&scoped), "{own:#}");
    assert!(!ids(&other, "suggestions").contains(&scoped), "{other:#}");
    let no_tenant: Value = app.post_triage(&json!({"title": "remote desktop gateway to my office pc"})).await.json().await.unwrap();
    assert!(!ids(&no_tenant, "suggestions").contains(&scoped));
}

#[tokio::test]
async fn a_ticket_gets_labels_per_head_with_probabilities_decisions_and_reasons() {
    let app = spawn_app().await;
    let body: Value = app
        .post_triage(
            &json!({"title": "printer on floor 2 is offline", "description": "nothing prints from the office printer, print queue stuck"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["model_version"], "starter");
    let category = &body["labels"]["category"];
    assert_eq!(category["label"], "printing", "{body:#}");
    let p = category["probability"].as_f64().unwrap();
    assert!(p > 0.0 && p <= 1.0);
    assert!(["auto", "suggest"].contains(&category["decision"].as_str().unwrap()), "{category}");
    let alternatives = category["alternatives"].as_array().unwrap();
    assert_eq!(alternatives.len(), 3);
    assert_eq!(alternatives[0]["label"], "printing");
    let total: f64 = alternatives.iter().map(|a| a["probability"].as_f64().unwrap()).sum();
    assert!(total <= 1.0 + 1e-6);
    assert!(category["explanation"].as_array().unwrap().iter().any(|t| t["term"].as_str().unwrap().contains("print")), "{category}");
    assert!(body["labels"]["assignment_group"]["label"].is_string());
}

#[tokio::test]
async fn gibberish_gets_an_honest_abstain() {
    let app = spawn_app().await;
    let body: Value =
        app.post_triage(&json!({"title": "qwxz plorb zzvk", "description": "fnord wibble gzornt"})).await.json().await.unwrap();
    for head in ["category", "assignment_group"] {
        assert_eq!(body["labels"][head]["decision"], "abstain", "{head}: {body:#}");
    }
}
