//! E-mail-born tickets: the triage answer says what was cleaned off, and the stored text is
//! the cleaned one.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

const PROBLEM: &str = "Since this morning Outlook keeps asking for my password and then shows error 0x80070005.";

fn email_body() -> String {
    format!(
        "{PROBLEM}\n\nKind regards\n\nJane Smith\nRevenues Officer | Finance Directorate\nNorthmoor District Council\nTel: 01632 960001\n\n\
         This e-mail and any attachments are confidential and intended solely for the addressee. If you have received this \
         e-mail in error please notify the sender immediately.\n\n\
         From: IT Service Desk <servicedesk@northmoor.gov.uk>\nSent: 03 March 2026 09:12\nTo: Jane Smith\nSubject: Outlook\n\n\
         Thank you for your e-mail. We aim to respond within 2 working days."
    )
}

#[tokio::test]
async fn a_triage_with_an_email_tail_names_what_was_removed_and_stores_the_cleaned_text() {
    let app = spawn_app().await;
    let r = app.post_triage(&json!({"tenant": "northmoor", "title": "RE: FW: Outlook password prompt", "description": email_body()})).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["cleaning"]["removed"], json!(["quote", "signature", "disclaimer", "auto_reply"]));
    assert_eq!(answer["cleaning"]["kept_chars"], PROBLEM.len());
    assert_eq!(answer["cleaning"]["removed_chars"], email_body().len() - PROBLEM.len());

    let id = answer["triage_id"].as_str().unwrap();
    let detail: Value = app.get(&format!("/v1/triage/{id}?tenant=northmoor")).await.json().await.unwrap();
    assert_eq!(detail["text"], format!("Outlook password prompt\n{PROBLEM}"), "the stored text is the cleaned one, title prefixes gone");
}

#[tokio::test]
async fn a_triage_with_nothing_to_clean_says_so() {
    let app = spawn_app().await;
    let r = app.post_triage(&json!({"title": "Printer jammed", "description": "Paper stuck in tray 2 on floor 3"})).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["cleaning"], json!({"removed": [], "kept_chars": "Paper stuck in tray 2 on floor 3".len(), "removed_chars": 0}));
}

#[tokio::test]
async fn a_councils_own_footer_is_learned_from_its_resolved_tickets_and_removed_at_triage() {
    let app = spawn_app().await;
    let footer = "Westwater Borough Council cannot accept liability for statements made in this e-mail by its officers.";
    let topics = [
        ("printing", "printer on floor two shows offline"),
        ("accounts", "locked out after too many password attempts"),
        ("network", "wifi in the depot keeps dropping"),
    ];
    let tickets: Vec<Value> = (0..90)
        .map(|i| {
            let (category, text) = topics[i % 3];
            let description = if i % 3 == i / 30 { format!("{text} ({i})\n\n{footer}") } else { format!("{text} ({i})") };
            json!({"tenant": "westwater", "external_id": format!("W{i}"), "title": text, "description": description,
                   "category": category, "resolution_notes": "fixed"})
        })
        .collect();
    let r = app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&json!({ "tickets": tickets })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let learned: Value = app.get("/v1/admin/boilerplate?tenant=westwater").await.json().await.unwrap();
    assert_eq!(learned["tickets"], 90);
    let phrases = learned["phrases"].as_array().unwrap();
    assert!(
        phrases.iter().any(|p| p["text"].as_str().unwrap().starts_with("westwater borough council cannot accept liability")),
        "{learned}"
    );

    let triage = |tenant: &'static str| {
        let body = json!({"tenant": tenant, "title": "printer offline", "description": format!("the printer on floor two is offline\n\n{footer}")});
        let app = &app;
        async move { app.post_triage(&body).await.json::<Value>().await.unwrap() }
    };
    let west = triage("westwater").await;
    assert!(west["cleaning"]["removed"].as_array().unwrap().contains(&json!("boilerplate")), "{}", west["cleaning"]);
    let north = triage("northmoor").await;
    assert!(!north["cleaning"]["removed"].as_array().unwrap().contains(&json!("boilerplate")), "learned for westwater only");
    let agent = app.client_for(Some("westwater"), "agent").await;
    let r = agent.get(format!("{}/v1/admin/boilerplate", app.address)).send().await.unwrap();
    assert_eq!(r.status(), 403, "agents do not read what the desk learned");
}
