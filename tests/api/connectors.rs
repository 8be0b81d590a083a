//! Connectors through the API: the signed webhook endpoint (stored before the answer, retries
//! dropped, triaged off the request path, the note queued in the outbox), the admin views and
//! who may see them, and a configuration mistake stopping start-up.

use serde_json::Value;
use triage_connectors::signature::{Algorithm, sign};

use crate::helpers::{TestApp, spawn_app_with_config};

const SECRET: &str = "hook-secret-for-tests";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../../tests/connectors/fixtures/zammad/{name}", env!("CARGO_MANIFEST_DIR"))).expect("fixture")
}

/// A Zammad connector for northmoor whose write-back goes to a closed loopback port.
async fn app_with_zammad() -> TestApp {
    app_with_zammad_and("").await
}

/// The same, with more configuration appended.
async fn app_with_zammad_and(extra: &str) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    let token = dir.path().join("token");
    std::fs::write(&secret, SECRET).unwrap();
    std::fs::write(&token, "zammad-api-token").unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = spawn_app_with_config(&format!(
        r#"
[[connectors]]
name = "zammad"
kind = "zammad"
base_url = "http://127.0.0.1:{closed}"
token_file = "{}"
secret_file = "{}"
user = "triage@example.com"
tenants = {{ "Service Desk" = "northmoor" }}
retry_base_ms = 100
retry_max_ms = 200
max_attempts = 3
timeout_secs = 1
{extra}
"#,
        token.display(),
        secret.display()
    ))
    .await;
    std::mem::forget(dir); // the files are read at start only; the test process ends soon
    app
}

async fn deliver(app: &TestApp, body: &[u8], signature: Option<String>) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{}/v1/connectors/zammad/events", app.address))
        .header("content-type", "application/json")
        .header("x-zammad-delivery", "delivery-1")
        .body(body.to_vec());
    if let Some(s) = signature {
        req = req.header("x-hub-signature", s);
    }
    req.send().await.unwrap()
}

async fn status(app: &TestApp) -> Value {
    let v: Value = app.get("/v1/admin/connectors").await.json().await.unwrap();
    v["connectors"][0].clone()
}

#[tokio::test]
async fn a_signed_webhook_is_stored_once_triaged_and_its_note_queued() {
    let app = app_with_zammad().await;
    let body = fixture("webhook-ticket-created.json");

    for (signature, why) in [(None, "unsigned"), (Some(sign(Algorithm::Sha1, "wrong", &body)), "signed with another secret")] {
        let r = deliver(&app, &body, signature).await;
        assert_eq!(r.status(), 401, "{why}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_signature", "{why}");
    }
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let r = deliver(&app, &tampered, Some(sign(Algorithm::Sha1, SECRET, &body))).await;
    assert_eq!(r.status(), 401, "a body changed after signing");

    let r = deliver(&app, &body, Some(sign(Algorithm::Sha1, SECRET, &body))).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({"accepted": 1, "duplicates": 0}));
    let r = deliver(&app, &body, Some(sign(Algorithm::Sha1, SECRET, &body))).await;
    assert_eq!(r.json::<Value>().await.unwrap(), serde_json::json!({"accepted": 0, "duplicates": 1}), "a retried delivery");

    // triaged off the request path: the event is processed and its note waits in the outbox
    // (the write-back host is a closed port, so it fails and retries)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let s = loop {
        let s = status(&app).await;
        if s["events_pending"] == 0
            && (s["outbox_pending"].as_u64().unwrap() + s["outbox_dead"].as_u64().unwrap()) >= 1
            && !s["last_error"].is_null()
        {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "the event was not processed: {s}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(s["events_received"], 1, "{s}");
    assert_eq!(s["inbound"], "push");
    assert!(s["last_error"].as_str().unwrap().contains("cannot connect"), "{s}");
    let outbox: Value = app.get("/v1/admin/connectors/zammad/outbox").await.json().await.unwrap();
    let note = outbox["actions"].as_array().unwrap().iter().find(|a| a["action"] == "note").expect("a note queued");
    assert_eq!(note["external_id"], "81");
    let text = note["payload"]["text"].as_str().unwrap();
    assert!(text.contains("Likely fixes:") && text.contains("triage-ref: zammad:"), "{text}");
    let stats: Value = app.get("/v1/stats?tenant=northmoor").await.json().await.unwrap();
    assert_eq!(stats["triages"], 1, "the ticket was triaged for the mapped tenant: {stats}");

    // after the configured tries the note is a dead letter; an admin can put it back
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let dead = loop {
        let o: Value = app.get("/v1/admin/connectors/zammad/outbox?state=dead").await.json().await.unwrap();
        if let Some(a) = o["actions"].as_array().unwrap().first() {
            break a.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no dead letter after 3 tries");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(dead["attempts"], 3);
    let r = app.client.post(format!("{}/v1/admin/connectors/zammad/outbox/{}/retry", app.address, dead["id"])).send().await.unwrap();
    assert_eq!(r.status(), 202);
    let r = app.client.post(format!("{}/v1/admin/connectors/zammad/outbox/{}/retry", app.address, dead["id"])).send().await.unwrap();
    assert_eq!(r.status(), 404, "no longer a dead letter");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "action_not_found");
    let audit: Value = app.get("/v1/admin/audit").await.json().await.unwrap();
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(actions.contains(&"connector.dead_letter") && actions.contains(&"connector.retry"), "{actions:?}");
    assert!(actions.contains(&"connector.added"), "a new connector is an audit entry: {actions:?}");
    assert!(!audit.to_string().contains("zammad-api-token") && !audit.to_string().contains(SECRET), "no secret in the audit log");
}

#[tokio::test]
async fn connectors_are_shown_to_operators_and_to_the_admins_of_their_only_tenant() {
    let app = app_with_zammad().await;
    let own_admin = crate::helpers::client_with_key(&app.create_key(Some("northmoor"), "admin").await);
    let other_admin = crate::helpers::client_with_key(&app.create_key(Some("eastbrook"), "admin").await);
    let agent = crate::helpers::client_with_key(&app.create_key(Some("northmoor"), "agent").await);
    let get = |c: &reqwest::Client, path: &str| c.get(format!("{}{path}", app.address)).send();

    let v: Value = get(&own_admin, "/v1/admin/connectors").await.unwrap().json().await.unwrap();
    assert_eq!(v["connectors"][0]["name"], "zammad");
    let v: Value = get(&other_admin, "/v1/admin/connectors").await.unwrap().json().await.unwrap();
    assert_eq!(v["connectors"], serde_json::json!([]), "another tenant's connector is not listed");
    let r = get(&other_admin, "/v1/admin/connectors/zammad/outbox").await.unwrap();
    assert_eq!(r.status(), 404, "nor its outbox, which answers as a missing one");
    assert_eq!(get(&agent, "/v1/admin/connectors").await.unwrap().status(), 403);
    let r = app.get("/v1/admin/connectors/nope/outbox").await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "connector_not_found");
    let r = app.get("/v1/admin/connectors/zammad/outbox?state=lost").await;
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_query");
    let r = reqwest::Client::new().post(format!("{}/v1/connectors/nope/events", app.address)).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn a_connector_mistake_stops_start_up_with_its_name_and_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("triage.toml");
    std::fs::write(
        &file,
        r#"
[[connectors]]
name = "desk-rt"
kind = "rt"
base_url = "http://rt.example.org"
token_env = "TRIAGE_TEST_UNSET_TOKEN"
"#,
    )
    .unwrap();
    let overrides = triage_server::config::Overrides::default();
    let kb = format!("{}/../../knowledge-base", env!("CARGO_MANIFEST_DIR"));
    let err =
        triage_server::config::load(Some(&file), &overrides, [("TRIAGE__KNOWLEDGE_BASE__DIR".to_owned(), kb)]).unwrap_err().to_string();
    assert!(err.contains("connector `desk-rt`") && err.contains("must use https"), "{err}");
}

#[tokio::test]
async fn tickets_of_a_suspected_major_incident_get_an_internal_note_once() {
    // no baseline needed, so six similar tickets are a surge
    let app = app_with_zammad_and("\n[incidents]\nmin_history = 0").await;
    let template: Value = serde_json::from_slice(&fixture("webhook-ticket-created.json")).unwrap();
    let titles = [
        "Outlook cannot send email, stuck in outbox",
        "Emails stuck in the Outlook outbox",
        "Outlook outbox not sending emails",
        "Cannot send email from Outlook, outbox full",
        "Outlook email will not send, sits in outbox",
        "Outlook outbox emails not sending",
    ];
    for (i, title) in titles.iter().enumerate() {
        let mut event = template.clone();
        let id = 200 + i;
        event["ticket"]["id"] = id.into();
        event["ticket"]["number"] = format!("10{id}").into();
        event["ticket"]["title"] = (*title).into();
        event["article"]["ticket_id"] = id.into();
        event["article"]["body"] = format!("<div>{title}. Started this morning.</div>").into();
        let body = serde_json::to_vec(&event).unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/v1/connectors/zammad/events", app.address))
            .header("content-type", "application/json")
            .header("x-zammad-delivery", format!("delivery-{id}"))
            .header("x-hub-signature", sign(Algorithm::Sha1, SECRET, &body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let notes = loop {
        let o: Value = app.get("/v1/admin/connectors/zammad/outbox?limit=200").await.json().await.unwrap();
        let notes: Vec<Value> = o["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["payload"]["text"].as_str().is_some_and(|t| t.starts_with("Suspected major incident")))
            .cloned()
            .collect();
        if notes.len() >= 5 {
            break notes;
        }
        assert!(std::time::Instant::now() < deadline, "no incident notes queued: {o:#}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let incidents: Value = app.get("/v1/incidents").await.json().await.unwrap();
    let id = incidents["incidents"][0]["id"].as_str().expect("an incident").to_owned();
    let mut tickets: Vec<&str> = notes.iter().map(|n| n["external_id"].as_str().unwrap()).collect();
    tickets.sort_unstable();
    tickets.dedup();
    assert_eq!(tickets.len(), notes.len(), "one note per ticket, however often the connector looks: {notes:#?}");
    for n in &notes {
        let text = n["payload"]["text"].as_str().unwrap();
        assert!(text.contains(&id) && text.contains(&format!("triage-ref: zammad:{id}:suspected:")), "{text}");
    }
}

#[tokio::test]
async fn an_incident_note_goes_only_to_a_ticket_of_the_members_own_tenant() {
    let app = app_with_zammad_and("\n[incidents]\nmin_history = 0").await;
    let template: Value = serde_json::from_slice(&fixture("webhook-ticket-created.json")).unwrap();
    let deliver_ticket = |id: usize, title: &str| {
        let mut event = template.clone();
        event["ticket"]["id"] = id.into();
        event["ticket"]["number"] = format!("10{id}").into();
        event["ticket"]["title"] = title.into();
        event["article"]["ticket_id"] = id.into();
        event["article"]["body"] = format!("<div>{title}.</div>").into();
        let body = serde_json::to_vec(&event).unwrap();
        reqwest::Client::new()
            .post(format!("{}/v1/connectors/zammad/events", app.address))
            .header("content-type", "application/json")
            .header("x-zammad-delivery", format!("delivery-{id}"))
            .header("x-hub-signature", sign(Algorithm::Sha1, SECRET, &body))
            .body(body)
            .send()
    };
    let outbox = || async {
        let o: Value = app.get("/v1/admin/connectors/zammad/outbox?limit=200").await.json().await.unwrap();
        o["actions"].as_array().unwrap().clone()
    };
    // northmoor's ticket 300, about something else, triaged through the connector
    assert_eq!(deliver_ticket(300, "The printer on floor 2 is jammed").await.unwrap().status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !outbox().await.iter().any(|a| a["external_id"] == "300") {
        assert!(std::time::Instant::now() < deadline, "ticket 300 was not triaged");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // another tenant's integration names its own tickets like the connector's ticket 300
    let east = app.client_for(Some("eastbrook"), "integration").await;
    for title in ["Outlook cannot send email, stuck in outbox", "Emails stuck in the Outlook outbox"] {
        let r = east
            .post(format!("{}/v1/triage", app.address))
            .json(&serde_json::json!({"tenant": "eastbrook", "external_id": "zammad:300", "title": title}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let titles = [
        "Outlook outbox not sending emails",
        "Cannot send email from Outlook, outbox full",
        "Outlook email will not send, sits in outbox",
        "Outlook outbox emails not sending",
    ];
    for (i, title) in titles.iter().enumerate() {
        assert_eq!(deliver_ticket(200 + i, title).await.unwrap().status(), 202);
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let incident_notes = || async {
        outbox()
            .await
            .into_iter()
            .filter(|a| a["payload"]["text"].as_str().is_some_and(|t| t.starts_with("Suspected major incident")))
            .collect::<Vec<Value>>()
    };
    while incident_notes().await.len() < titles.len() {
        assert!(std::time::Instant::now() < deadline, "no incident notes queued");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // the connector looks again; nothing more may come
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let notes = incident_notes().await;
    assert!(notes.iter().all(|n| n["external_id"] != "300"), "eastbrook's tickets put a note on northmoor's ticket 300: {notes:#?}");
}
