//! Major incidents over HTTP: a surge opens one, triage answers name it, tenants see only their
//! part, admins confirm / dismiss / resolve it, and it is audited and counted in the metrics.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

/// Detection with no baseline needed, so a handful of tickets is a surge.
const NO_BASELINE: [(&str, &str); 1] = [("TRIAGE__INCIDENTS__MIN_HISTORY", "0")];

const SURGE: [(&str, &str); 6] = [
    ("northmoor", "Outlook cannot send email, messages stuck in the outbox"),
    ("eastbrook", "Email stuck in Outlook outbox, will not send"),
    ("northmoor", "Outlook outbox: emails not sending since this morning"),
    ("eastbrook", "Cannot send emails from Outlook, they sit in the outbox"),
    ("northmoor", "Outlook email stuck in outbox and not sending"),
    ("eastbrook", "Outlook outbox emails will not send"),
];

async fn send_surge(app: &TestApp) {
    for (i, (tenant, title)) in SURGE.iter().enumerate() {
        let r = app.post_triage(&json!({"tenant": tenant, "external_id": format!("S{i}"), "title": title})).await;
        assert_eq!(r.status(), 200);
    }
}

/// Polls the operator's list until an incident is there (detection runs behind the answers).
async fn wait_for_incident(app: &TestApp) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list: Value = app.get("/v1/incidents").await.json().await.unwrap();
        if let Some(first) = list["incidents"].as_array().and_then(|l| l.first()) {
            return first.clone();
        }
        assert!(Instant::now() < deadline, "no incident opened in 20 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn send(client: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = client.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_surge_across_tenants_opens_an_incident_that_later_answers_name_and_tenants_see_only_their_part() {
    let app = spawn_app_with(&NO_BASELINE).await;
    send_surge(&app).await;
    let incident = wait_for_incident(&app).await;
    let id = incident["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("inc-") && id.len() == 16, "{id}");
    assert_eq!(incident["status"], "suspected");
    assert_eq!(incident["tenants"], json!(["eastbrook", "northmoor"]));
    assert!(incident["count"].as_u64().unwrap() >= 5, "{incident:#}");
    assert!(incident["top_terms"].as_array().unwrap().iter().any(|t| t == "outbox" || t == "outlook"), "{incident:#}");
    assert!(incident["members"].is_null(), "the list leaves members out");

    // the operator sees every member; a tenant's agent only its own, and the same incident
    let detail: Value = app.get(&format!("/v1/incidents/{id}")).await.json().await.unwrap();
    let tenants: Vec<&str> = detail["members"].as_array().unwrap().iter().map(|m| m["tenant"].as_str().unwrap()).collect();
    assert!(tenants.contains(&"northmoor") && tenants.contains(&"eastbrook"), "{detail:#}");
    let north_agent = app.client_for(Some("northmoor"), "agent").await;
    let (status, own) = send(&north_agent, reqwest::Method::GET, format!("{}/v1/incidents/{id}", app.address), None).await;
    assert_eq!(status, 200);
    let members = own["members"].as_array().unwrap();
    assert!(!members.is_empty() && members.iter().all(|m| m["tenant"] == "northmoor"), "{own:#}");
    assert!(own["title"].as_str().unwrap().to_lowercase().contains("outlook"), "title from the tenant's own ticket: {own:#}");

    // a tenant with no member ticket sees nothing, not even that it exists
    let south_agent = app.client_for(Some("southvale"), "agent").await;
    let (_, list) = send(&south_agent, reqwest::Method::GET, format!("{}/v1/incidents", app.address), None).await;
    assert_eq!(list["incidents"], json!([]));
    let (status, problem) = send(&south_agent, reqwest::Method::GET, format!("{}/v1/incidents/{id}", app.address), None).await;
    assert_eq!((status, problem["code"].as_str()), (404, Some("incident_not_found")));

    // the next caller with the fault is told at once, from any tenant
    let next: Value = app
        .post_triage(&json!({"tenant": "southvale", "title": "Outlook: email stuck in outbox, cannot send"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["incident"]["id"], id.as_str(), "{next:#}");
    assert_eq!(next["incident"]["status"], "suspected");
    assert_eq!(next["suggestions"][0]["kind"], "incident");
    assert_eq!(next["suggestions"][0]["id"], id.as_str());
    assert_eq!(next["suggestions"][0]["rank"], 1);
    // an unrelated ticket is not drawn in
    let other: Value =
        app.post_triage(&json!({"tenant": "northmoor", "title": "printer on floor 2 is jammed"})).await.json().await.unwrap();
    assert!(other.get("incident").is_none(), "{other:#}");
    assert_ne!(other["suggestions"][0]["kind"], "incident");
}

#[tokio::test]
async fn admins_confirm_with_a_message_agents_then_see_and_dismissed_incidents_stop_matching() {
    let app = spawn_app_with(&NO_BASELINE).await;
    send_surge(&app).await;
    let id = wait_for_incident(&app).await["id"].as_str().unwrap().to_owned();
    let url = |action: &str| format!("{}/v1/incidents/{id}/{action}", app.address);

    let agent = app.client_for(Some("northmoor"), "agent").await;
    let (status, problem) = send(&agent, reqwest::Method::POST, url("confirm"), Some(json!({}))).await;
    assert_eq!((status, problem["code"].as_str()), (403, Some("forbidden")), "agents read incidents, never change them");
    let south_admin = app.client_for(Some("southvale"), "admin").await;
    let (status, _) = send(&south_admin, reqwest::Method::POST, url("confirm"), Some(json!({}))).await;
    assert_eq!(status, 404, "an admin of a tenant the incident does not touch cannot act on it");

    let admin = app.client_for(Some("northmoor"), "admin").await;
    let message = "Known fault with the mail relay. Workaround: use Outlook on the web. Next update 11:00.";
    let (status, confirmed) = send(&admin, reqwest::Method::POST, url("confirm"), Some(json!({"message": message}))).await;
    assert_eq!(status, 200, "{confirmed:#}");
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["message"], message);
    let (status, problem) = send(&admin, reqwest::Method::POST, url("confirm"), Some(json!({"message": "x".repeat(4001)}))).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("invalid_request")), "an over-long message is refused");

    let answer: Value = app
        .post_triage(&json!({"tenant": "westwater", "title": "emails will not send, stuck in Outlook outbox"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["incident"]["status"], "confirmed", "{answer:#}");
    let first = &answer["suggestions"][0];
    assert_eq!(first["kind"], "incident");
    assert_eq!(first["steps"], json!([message]));
    assert!(first["title"].as_str().unwrap().starts_with("Known major incident: Known fault with the mail relay"), "{first:#}");
    assert_eq!(answer["first_contact"]["source"], "incident", "the desk has the answer: {answer:#}");
    assert!(answer["first_contact"]["probability"].as_f64().unwrap() >= 0.9);

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("triage_incidents_active{status=\"confirmed\"} 1"), "{metrics}");

    let (status, dismissed) = send(&app.client, reqwest::Method::POST, url("dismiss"), Some(json!({"reason": "test surge"}))).await;
    assert_eq!((status, dismissed["status"].as_str()), (200, Some("dismissed")));
    let (status, problem) = send(&admin, reqwest::Method::POST, url("confirm"), None).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("incident_transition")), "a dismissed incident stays dismissed");
    let (status, _) = send(&admin, reqwest::Method::PUT, url("message"), Some(json!({"message": "late"}))).await;
    assert_eq!(status, 409);
    // publishing is synchronous with the action: the very next answer no longer names it
    let after: Value =
        app.post_triage(&json!({"tenant": "northmoor", "title": "Outlook outbox emails will not send again"})).await.json().await.unwrap();
    assert!(after.get("incident").is_none_or(|i| i["id"] != id.as_str()), "{after:#}");
    let list: Value = app.get("/v1/incidents?status=dismissed").await.json().await.unwrap();
    assert_eq!(list["incidents"][0]["id"], id.as_str());
    let (status, problem) = send(&app.client, reqwest::Method::GET, format!("{}/v1/incidents?status=maybe", app.address), None).await;
    assert_eq!((status, problem["code"].as_str()), (400, Some("invalid_query")));

    let audit: Value = app.get("/v1/admin/audit").await.json().await.unwrap();
    let actions: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == id.as_str())
        .map(|e| (e["action"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert!(actions.contains(&("incident.confirm", "confirmed")), "{actions:?}");
    assert!(actions.contains(&("incident.dismiss", "dismissed: test surge")), "{actions:?}");
    assert!(actions.iter().any(|(a, o)| *a == "incident.confirm" && o.starts_with("refused")), "{actions:?}");
}

#[tokio::test]
async fn without_enough_history_nothing_opens_and_detection_can_be_turned_off() {
    // the default baseline (min_history 500) on a fresh desk: the surge is not judged yet
    let app = spawn_app_with(&[]).await;
    send_surge(&app).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let list: Value = app.get("/v1/incidents?status=all").await.json().await.unwrap();
    assert_eq!(list["incidents"], json!([]));
    let off = spawn_app_with(&[("TRIAGE__INCIDENTS__MIN_HISTORY", "0"), ("TRIAGE__INCIDENTS__ENABLED", "false")]).await;
    send_surge(&off).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let list: Value = off.get("/v1/incidents?status=all").await.json().await.unwrap();
    assert_eq!(list["incidents"], json!([]));
}

#[tokio::test]
async fn an_admin_of_a_tenant_the_incident_does_not_touch_gets_404_whatever_the_body_and_no_audit_entry() {
    let app = spawn_app_with(&NO_BASELINE).await;
    send_surge(&app).await;
    let id = wait_for_incident(&app).await["id"].as_str().unwrap().to_owned();
    let south_admin = app.client_for(Some("southvale"), "admin").await;
    let url = |id: &str, action: &str| format!("{}/v1/incidents/{id}/{action}", app.address);
    let bodies = [(json!({"message": "x".repeat(4001)}), "an over-long message"), (json!({"message": "bell\u{7}"}), "a control character")];
    for (body, why) in bodies {
        for target in [id.as_str(), "inc-000000000000"] {
            let (status, problem) = send(&south_admin, reqwest::Method::POST, url(target, "confirm"), Some(body.clone())).await;
            assert_eq!((status, problem["code"].as_str()), (404, Some("incident_not_found")), "{why} on {target}");
        }
    }
    let (status, _) = send(&south_admin, reqwest::Method::PUT, url(&id, "message"), Some(json!({"message": " "}))).await;
    assert_eq!(status, 404, "a blank message to an incident it may not see");
    let audit: Value = app.get("/v1/admin/audit").await.json().await.unwrap();
    let entries: Vec<&Value> = audit["entries"].as_array().unwrap().iter().filter(|e| e["target"] == id.as_str()).collect();
    assert!(entries.is_empty(), "audited only when the caller may see the incident: {entries:?}");

    // an affected tenant's admin: the same bodies are refused as invalid, and audited as refused
    let admin = app.client_for(Some("northmoor"), "admin").await;
    let (status, problem) = send(&admin, reqwest::Method::POST, url(&id, "confirm"), Some(json!({"message": "bell\u{7}"}))).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("invalid_request")));
    // a blank message confirms without one: first contact is not raised by an empty workaround
    let (status, confirmed) = send(&admin, reqwest::Method::POST, url(&id, "confirm"), Some(json!({"message": "  \n "}))).await;
    assert_eq!((status, &confirmed["message"]), (200, &Value::Null), "{confirmed:#}");
    let answer: Value =
        app.post_triage(&json!({"tenant": "westwater", "title": "Outlook outbox emails will not send"})).await.json().await.unwrap();
    assert_eq!(answer["incident"]["id"], id.as_str(), "{answer:#}");
    assert_ne!(answer["first_contact"]["source"], "incident", "{answer:#}");
    assert_eq!(answer["suggestions"][0]["steps"], json!([]), "{answer:#}");
}

#[tokio::test]
async fn a_blank_dismiss_reason_is_audited_as_no_reason() {
    let app = spawn_app_with(&NO_BASELINE).await;
    send_surge(&app).await;
    let id = wait_for_incident(&app).await["id"].as_str().unwrap().to_owned();
    let admin = app.client_for(Some("eastbrook"), "admin").await;
    let url = format!("{}/v1/incidents/{id}/dismiss", app.address);
    let (status, _) = send(&admin, reqwest::Method::POST, url, Some(json!({"reason": " \n "}))).await;
    assert_eq!(status, 200);
    let audit: Value = app.get("/v1/admin/audit").await.json().await.unwrap();
    let outcomes: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == id.as_str() && e["action"] == "incident.dismiss")
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["dismissed"]);
}
