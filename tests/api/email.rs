//! `POST /v1/triage` with `Content-Type: message/rfc822` (raw e-mail) and with HTML
//! descriptions (issue 16). Fixtures in `fixtures/email/` are written as Outlook and Gmail send
//! them; they are stored with `\n` line ends and sent with `\r\n`, as on the wire.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/api/fixtures/email").join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    crlf(&text)
}

fn crlf(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + text.len() / 20);
    for &b in text {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

async fn post_email(app: &TestApp, query: &str, raw: Vec<u8>) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/triage{query}", app.address))
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .expect("request sent")
}

/// The stored (redacted) text of a triage.
async fn stored_text(app: &TestApp, answer: &Value) -> String {
    let id = answer["triage_id"].as_str().expect("a triage id");
    let tenant = answer["tenant"].as_str().map(|t| format!("?tenant={t}")).unwrap_or_default();
    let detail: Value = app.get(&format!("/v1/triage/{id}{tenant}")).await.json().await.unwrap();
    detail["text"].as_str().expect("stored text").to_owned()
}

#[tokio::test]
async fn an_outlook_email_is_triaged_from_its_plain_part_with_fields_from_the_query() {
    let app = spawn_app().await;
    let r = post_email(&app, "?tenant=northmoor&external_id=INC900", fixture("outlook_alternative.eml")).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["tenant"], "northmoor");
    assert_eq!(answer["external_id"], "INC900");
    assert_eq!(answer["email"]["body_part"], "text/plain", "Outlook's us-ascii plain part is preferred to its HTML");
    assert_eq!(answer["email"]["attachments"], json!([]));
    assert!(!answer["suggestions"].as_array().unwrap().is_empty());
    let text = stored_text(&app, &answer).await;
    assert!(text.contains("Outlook keeps asking for my password"), "the subject is the title: {text}");
    assert!(text.contains("0x800CCC0E") && text.contains("2. Removing the account"), "error codes and steps kept: {text}");
    assert!(text.contains("since this morning's update"), "quoted-printable soft breaks are joined: {text}");
    assert!(!text.contains("HTML-PART-MARKER"), "only one alternative is read: {text}");
}

#[tokio::test]
async fn a_gmail_email_with_only_html_is_converted_to_text_and_its_quoted_thread_cleaned_off() {
    let app = spawn_app().await;
    let r = post_email(&app, "?tenant=eastbrook", fixture("gmail_html_only.eml")).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["email"]["body_part"], "text/html");
    let text = stored_text(&app, &answer).await;
    for want in ["Scanner cannot save to folder", "\"Scan to folder failed\"", "1. Press Scan", "2. Choose My Folder"] {
        assert!(text.contains(want), "{want:?} missing from {text}");
    }
    // the blockquote became `> ` lines, which the cleaner then takes off as quoted history
    assert!(answer["cleaning"]["removed"].as_array().unwrap().contains(&serde_json::json!("quote")), "{}", answer["cleaning"]);
    for gone in ["<div", "<br", "file://", "gmail_quote", "&quot;", "We received your request"] {
        assert!(!text.contains(gone), "{gone:?} left in {text}");
    }
}

#[tokio::test]
async fn charsets_transfer_encodings_and_encoded_subjects_are_decoded() {
    let app = spawn_app().await;
    let cases = [
        (
            "windows1252_qp.eml",
            vec!["café’s till printer", "£5.00", "“?5.00”", "Till printer shows wrong symbol"],
            "quoted-printable Windows-1252",
        ),
        (
            "base64_utf8.eml",
            vec!["« Erreur 0x80070005 »", "accès refusé", "C:\\Users\\Public\\rapport.docx", "Accès refusé à l’imprimante"],
            "base64 UTF-8 with an RFC 2047 B subject",
        ),
        (
            "attachment.eml",
            vec!["Payslip will not open – £ missing", "The file is damaged"],
            "RFC 2047 Q subject in ISO-8859-1 (0x96 read as Windows-1252)",
        ),
    ];
    for (file, wants, why) in cases {
        let r = post_email(&app, "?tenant=westwater", fixture(file)).await;
        assert_eq!(r.status(), 200, "{why}");
        let answer: Value = r.json().await.unwrap();
        let text = stored_text(&app, &answer).await;
        for want in wants {
            assert!(text.contains(want), "{why}: {want:?} missing from {text}");
        }
        assert!(!text.contains('\u{fffd}') && !text.contains("=E9") && !text.contains('\r'), "{why}: {text}");
    }
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test]
async fn an_attachment_is_named_in_the_answer_and_never_stored() {
    let app = spawn_app().await;
    let r = post_email(&app, "?tenant=northmoor&external_id=INC901", fixture("attachment.eml")).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["email"]["attachments"], json!([{"name": "payslip-march.pdf", "content_type": "application/pdf", "bytes": 312}]));
    assert_eq!(answer["email"]["body_part"], "text/plain");
    let text = stored_text(&app, &answer).await;
    assert!(text.contains("Adobe Reader"), "{text}");
    assert!(!text.contains("ATTACHMENT-SECRET") && !text.contains("%PDF"), "{text}");
    // the record is committed (the detail read flushed it); nothing of the attachment is on disk
    let needles: [&[u8]; 3] = [b"ATTACHMENT-SECRET-7f3a9c", b"QVRUQUNITUVOVC1TRUNSRVQ", b"payroll data"];
    for file in files_under(app._data_dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in needles {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds attachment bytes", file.display());
        }
    }
}

#[tokio::test]
async fn malformed_emails_are_refused_with_invalid_email_saying_what_is_wrong() {
    let app = spawn_app().await;
    let truncated = {
        let mut raw = fixture("attachment.eml");
        raw.truncate(raw.len() - 200);
        raw
    };
    let only_attachment = crlf(
        b"From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: image/png; name=\"x.png\"\nContent-Disposition: attachment; filename=\"x.png\"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b1--\n",
    );
    let unknown_charset =
        crlf(b"Subject: x\nContent-Type: text/plain; charset=\"x-klingon\"\nContent-Transfer-Encoding: 8bit\n\n\xff\xfe\xfa garbled\n");
    let cases: [(Vec<u8>, &str, &str); 5] = [
        (b"Hello desk, my printer is broken again.\r\n".to_vec(), "header block", "no headers at all"),
        (b"".to_vec(), "header block", "an empty body"),
        (truncated, "closing boundary", "a multipart cut short"),
        (only_attachment, "no subject and no text", "neither subject nor text, only an attachment"),
        (unknown_charset, "x-klingon", "a charset that cannot be decoded"),
    ];
    for (raw, says, why) in cases {
        let r = post_email(&app, "?tenant=northmoor", raw).await;
        assert_eq!(r.status(), 422, "{why}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{why}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_email", "{why}");
        assert!(problem["detail"].as_str().unwrap().contains(says), "{why}: {}", problem["detail"]);
    }
}

#[tokio::test]
async fn an_email_over_the_body_limit_is_refused_and_query_mistakes_are_named() {
    let app = spawn_app_with(&[("TRIAGE__SERVER__MAX_BODY_BYTES", "4096")]).await;
    let mut big = fixture("base64_utf8.eml");
    big.extend(std::iter::repeat_n(b'A', 5000));
    let r = post_email(&app, "?tenant=northmoor", big).await;
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "payload_too_large");

    let r = post_email(&app, "?tenant=northmoor&priority=high", fixture("base64_utf8.eml")).await;
    assert_eq!(r.status(), 400, "an unknown query parameter");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_query");

    // a JSON triage carries its fields in the body: a tenant in the query would be ignored
    let r = app
        .client
        .post(format!("{}/v1/triage?tenant=northmoor", app.address))
        .json(&serde_json::json!({"title": "VPN drops", "description": "every ten minutes"}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(r.status(), 400, "a query string on a JSON triage");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "invalid_query");
    assert!(problem["detail"].as_str().unwrap().contains("in the body"), "{}", problem["detail"]);

    let r = app.post_triage_raw("text/plain", fixture("base64_utf8.eml")).await;
    assert_eq!(r.status(), 415);
    let problem: Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("message/rfc822"), "{}", problem["detail"]);
}

#[tokio::test]
async fn an_html_description_is_converted_when_said_or_when_it_looks_like_html() {
    let app = spawn_app().await;
    let html = "<html><body><p>VPN drops every <b>10 minutes</b></p><script>track()</script><ul><li>Error 809</li></ul></body></html>";
    let cases = [
        (json!({"title": "VPN", "description": html}), true, "detected by its <html> start"),
        (json!({"title": "VPN", "description": "a &amp; b <i>x</i>", "description_format": "html"}), true, "explicit html wins"),
        (json!({"title": "VPN", "description": html, "description_format": "text"}), false, "explicit text is kept as sent"),
    ];
    for (body, converted, why) in cases {
        let r = app.post_triage(&json!({"tenant": "northmoor", "title": body["title"], "description": body["description"], "description_format": body.get("description_format")})).await;
        assert_eq!(r.status(), 200, "{why}");
        let answer: Value = r.json().await.unwrap();
        assert!(answer.get("email").is_none(), "{why}: a JSON ticket has no email section");
        let text = stored_text(&app, &answer).await;
        assert_eq!(!text.contains('<'), converted, "{why}: {text}");
        assert!(!text.contains("track()") || !converted, "{why}: scripts dropped: {text}");
    }
    let r = app.post_triage(&json!({"title": "x", "description_format": "markdown"})).await;
    assert_eq!(r.status(), 422, "an unknown format");
}

#[tokio::test]
async fn the_openapi_document_describes_the_raw_email_body() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let content = &spec["paths"]["/v1/triage"]["post"]["requestBody"]["content"];
    assert!(content.get("message/rfc822").is_some() && content.get("application/json").is_some(), "{content}");
    assert!(spec["components"]["schemas"].get("EmailView").is_some());
}

#[tokio::test]
async fn a_resolved_ticket_with_an_html_description_is_stored_as_text() {
    let app = spawn_app().await;
    let html = "<div>Caller could not print to <b>PRN-204</b>.<br>Error: &quot;spooler stopped&quot;</div><style>div{}</style>";
    let tickets = json!({"tickets": [
        {"tenant": "northmoor", "external_id": "INC1", "title": "Printing fails", "description": html},
        {"tenant": "northmoor", "external_id": "INC2", "title": "Kept as sent", "description": "<p>literal</p>", "description_format": "text"},
    ]});
    let r = app.client.post(format!("{}/v1/tickets/resolved", app.address)).json(&tickets).send().await.unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let stored = crate::helpers::with_test_store(app._data_dir.path(), |store| {
        let mut stored = std::collections::BTreeMap::new();
        store.for_each_resolved(&mut |t| drop(stored.insert(t.external_id.to_string(), t.description.clone()))).unwrap();
        stored
    });
    assert_eq!(stored["INC1"], "Caller could not print to PRN-204.\nError: \"spooler stopped\"", "HTML recognised and converted");
    assert_eq!(stored["INC2"], "<p>literal</p>", "description_format text is kept as sent");
}

#[tokio::test]
async fn a_long_quoted_thread_is_cleaned_off_before_the_cut_so_the_problem_is_kept() {
    let app = spawn_app_with(&[("TRIAGE__SERVER__MAX_BODY_BYTES", "262144")]).await;
    let quoted: String = (0..1500).map(|i| format!("> earlier message line {i} about something else entirely\r\n")).collect();
    let raw = format!(
        "From: Jane Smith <jane.smith@northmoor.gov.uk>\r\nTo: servicedesk@northmoor.gov.uk\r\nSubject: Outlook keeps asking for my password\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Since this morning Outlook prompts for my password every few minutes.\r\n\r\n\
         On Mon, 2 Mar 2026 at 09:12, IT Service Desk <servicedesk@northmoor.gov.uk> wrote:\r\n{quoted}"
    );
    assert!(raw.len() > 60_000, "the thread alone is over the 20,000-character description limit");
    let r = post_email(&app, "?tenant=northmoor", raw.into_bytes()).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["email"]["truncated"], false, "nothing of the caller's text was cut: {}", answer["email"]);
    let text = stored_text(&app, &answer).await;
    assert!(text.contains("prompts for my password every few minutes") && !text.contains("earlier message line"), "{text}");
}
