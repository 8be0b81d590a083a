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
