//! Contract tests for the webhook kinds (Zammad, ServiceNow, Jira): payloads written from each
//! system's public documentation (`tests/connectors/fixtures/<kind>/README.md` names the
//! source of each), and a local mock server that records the exact write-back calls.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use triage_connectors::config::{Connector, ConnectorSpec, Kind, validate};
use triage_connectors::http::{CallError, Http};
use triage_connectors::kinds::{Action, Headers, InboundEvent, System, WebhookError, system};
use triage_connectors::signature::{Algorithm, sign};

const SECRET: &str = "hook-s3cret";
const SN_ID: &str = "9d385017c611228701d22104cc95c371";

// ---- a mock HTTP/1.1 server --------------------------------------------------------------------

/// One request as the mock received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

impl Recorded {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} {} sent a body that is not JSON ({e}): {}", self.method, self.path, self.body))
    }
}

/// A canned answer for `method path` (the path with its query, exactly).
struct Route {
    method: &'static str,
    path: String,
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn route(method: &'static str, path: impl Into<String>, status: u16, body: impl Into<String>) -> Route {
    Route { method, path: path.into(), status, headers: Vec::new(), body: body.into() }
}

struct Mock {
    base: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl Mock {
    /// Binds 127.0.0.1:0 and answers from `routes` (404 otherwise), one request a connection.
    fn start(routes: Vec<Route>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let base = format!("http://{}", listener.local_addr().expect("local address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&mut stream) else { continue };
                let answer = routes.iter().find(|r| r.method == request.method && r.path == request.path);
                seen.lock().unwrap().push(request);
                let (status, headers, body) = match answer {
                    Some(r) => (r.status, r.headers.clone(), r.body.clone()),
                    None => (404, Vec::new(), r#"{"error":"no such route in the mock"}"#.to_owned()),
                };
                let mut head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                let _ = stream.write_all(format!("{head}\r\n{body}").as_bytes());
            }
        });
        Self { base, requests }
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    fn only_request(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "exactly one call expected: {all:#?}");
        all[0].clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Recorded> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len = headers.get("content-length").and_then(|l| l.parse::<usize>().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

// ---- connectors and fixtures -------------------------------------------------------------------

const KINDS: [Kind; 3] = [Kind::Zammad, Kind::Servicenow, Kind::Jira];

fn token(kind: Kind) -> &'static str {
    match kind {
        Kind::Zammad => "zammad-api-token",
        Kind::Servicenow => "triage.bot:pa55",
        _ => "bot@example.com:jira-api-token",
    }
}

/// The connector's own user as each system names it.
fn own_user(kind: Kind) -> &'static str {
    match kind {
        Kind::Zammad => "triage-bot",
        Kind::Servicenow => "triage.bot",
        _ => "5b10a2844c20165700ede21h",
    }
}

fn connector(kind: Kind, base: &str) -> Connector {
    let spec = ConnectorSpec {
        name: format!("desk-{}", kind.as_str()),
        kind,
        base_url: base.to_owned(),
        token_env: Some("TOKEN".into()),
        token_file: None,
        secret_env: Some("SECRET".into()),
        secret_file: None,
        user: Some(own_user(kind).into()),
        tenants: BTreeMap::new(),
        default_tenant: None,
        fields: BTreeMap::new(),
        write_back: BTreeMap::new(),
        note_template: None,
        note_fixes: 3,
        poll_interval_secs: 30,
        max_attempts: 8,
        retry_base_ms: 100,
        retry_max_ms: 1000,
        timeout_secs: 5,
        ca_file: None,
        retention_days: 30,
        incident_notes: true,
    };
    let env = |name: &str| match name {
        "TOKEN" => Some(token(kind).to_owned()),
        "SECRET" => Some(SECRET.to_owned()),
        _ => None,
    };
    validate(&[spec], &|_| true, &triage_connectors::HEADS, &env).expect("a valid connector").remove(0)
}

fn fixture(kind: Kind, name: &str) -> Vec<u8> {
    let path = format!("{}/../../tests/connectors/fixtures/{}/{name}", env!("CARGO_MANIFEST_DIR"), kind.as_str());
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_text(kind: Kind, name: &str) -> String {
    String::from_utf8(fixture(kind, name)).expect("fixtures are UTF-8")
}

/// The signature header each kind reads, and its algorithm.
fn signature_header(kind: Kind) -> (&'static str, Algorithm) {
    match kind {
        Kind::Zammad => ("x-hub-signature", Algorithm::Sha1),
        Kind::Servicenow => ("x-triage-signature", Algorithm::Sha256),
        _ => ("x-hub-signature", Algorithm::Sha256),
    }
}

/// The delivery id header each kind sends, if any.
fn delivery_header(kind: Kind) -> Option<(&'static str, &'static str)> {
    match kind {
        Kind::Zammad => Some(("x-zammad-delivery", "2f1c9a6e-5b1d-4c39-9f0e-7d1d0d3b6a11")),
        Kind::Jira => Some(("x-atlassian-webhook-identifier", "4c2f7d1a-1111-4d3c-9e6b-2a8f2d3c4b5e")),
        _ => None,
    }
}

fn created_fixture(kind: Kind) -> &'static str {
    match kind {
        Kind::Zammad => "webhook-ticket-created.json",
        Kind::Servicenow => "outbound-incident-new.json",
        _ => "webhook-issue-created.json",
    }
}

fn signed(kind: Kind, body: &[u8]) -> Headers {
    let (name, algorithm) = signature_header(kind);
    let mut headers = Headers::from([(name.to_owned(), sign(algorithm, SECRET, body))]);
    if let Some((k, v)) = delivery_header(kind) {
        headers.insert(k.to_owned(), v.to_owned());
    }
    headers
}

fn parse_one(kind: Kind, c: &Connector, body: &[u8]) -> InboundEvent {
    let mut events = system(kind).parse_webhook(c, &signed(kind, body), body).unwrap_or_else(|e| panic!("{}: {e}", kind.as_str()));
    assert_eq!(events.len(), 1);
    events.remove(0)
}

/// The ticket id each kind writes back to.
fn ticket_id(kind: Kind) -> &'static str {
    match kind {
        Kind::Zammad => "81",
        Kind::Servicenow => SN_ID,
        _ => "ITSD-42",
    }
}

fn expected_auth(kind: Kind) -> String {
    match kind {
        Kind::Zammad => format!("Token token={}", token(kind)),
        _ => format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(token(kind))),
    }
}

// ---- inbound -----------------------------------------------------------------------------------

#[test]
fn a_signed_zammad_trigger_payload_parses_into_its_ticket() {
    let c = connector(Kind::Zammad, "http://127.0.0.1:9");
    let e = parse_one(Kind::Zammad, &c, &fixture(Kind::Zammad, "webhook-ticket-created.json"));
    assert_eq!(e.event_key, "2f1c9a6e-5b1d-4c39-9f0e-7d1d0d3b6a11", "the delivery id");
    assert_eq!((e.external_id.as_str(), e.source.as_deref()), ("81", Some("Service Desk")));
    assert_eq!(e.title.as_deref(), Some("VPN drops every 10 minutes"));
    assert!(e.description.as_deref().is_some_and(|d| d.contains("drops every ten minutes")) && e.description_is_html);
    assert_eq!(e.author.as_deref(), Some("emily@example.com"));
    let fields: Vec<(&str, &str)> = e.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(fields, [("group", "Service Desk"), ("priority", "2 normal"), ("state", "new")], "nobody (`-`) is no owner");
    assert!(e.complete && e.resolution.is_none(), "the first article came with the payload");
}

#[test]
fn a_signed_servicenow_record_parses_into_its_incident() {
    let c = connector(Kind::Servicenow, "http://127.0.0.1:9");
    let e = parse_one(Kind::Servicenow, &c, &fixture(Kind::Servicenow, "outbound-incident-new.json"));
    assert_eq!(e.event_key, format!("{SN_ID}@2026-11-30 14:34:35"), "no delivery id: sys_id and sys_updated_on");
    assert_eq!((e.external_id.as_str(), e.source.as_deref()), (SN_ID, Some("ACME North America")));
    assert_eq!(e.title.as_deref(), Some("VPN drops every 10 minutes"));
    assert!(e.description.as_deref().is_some_and(|d| d.starts_with("Since Monday")) && !e.description_is_html);
    assert_eq!(e.author.as_deref(), Some("emily.adams"));
    let fields: Vec<(&str, &str)> = e.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(fields, [("assignment_group", "Service Desk"), ("category", "Network"), ("priority", "4 - Low"), ("state", "New")]);
    assert!(e.complete && e.resolution.is_none());
}

#[test]
fn a_signed_jira_webhook_parses_into_its_issue() {
    let c = connector(Kind::Jira, "http://127.0.0.1:9");
    let e = parse_one(Kind::Jira, &c, &fixture(Kind::Jira, "webhook-issue-created.json"));
    assert_eq!(e.event_key, "4c2f7d1a-1111-4d3c-9e6b-2a8f2d3c4b5e", "the webhook identifier");
    assert_eq!((e.external_id.as_str(), e.source.as_deref()), ("ITSD-42", Some("ITSD")));
    assert_eq!(e.title.as_deref(), Some("VPN drops every 10 minutes"));
    assert!(e.description.as_deref().is_some_and(|d| d.starts_with("Since Monday")));
    assert_eq!(e.author.as_deref(), Some("5b10ac8d82e05b22cc7d4ef5"));
    let fields: Vec<(&str, &str)> = e.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("components", "VPN"),
            ("customfield_10050", "Network"),
            ("issuetype", "[System] Incident"),
            ("priority", "Medium"),
            ("status", "Waiting for support")
        ]
    );
    assert!(e.complete && e.resolution.is_none());
    // the automation rule's header is accepted as well as the admin webhook's
    let body = fixture(Kind::Jira, "webhook-issue-created.json");
    let h = Headers::from([("x-triage-signature".to_owned(), sign(Algorithm::Sha256, SECRET, &body))]);
    assert!(system(Kind::Jira).parse_webhook(&c, &h, &body).is_ok());
}

#[test]
fn an_unsigned_or_wrongly_signed_delivery_is_unauthorized() {
    for kind in KINDS {
        let c = connector(kind, "http://127.0.0.1:9");
        let body = fixture(kind, created_fixture(kind));
        let (name, algorithm) = signature_header(kind);
        let other = if algorithm == Algorithm::Sha1 { Algorithm::Sha256 } else { Algorithm::Sha1 };
        let cases: Vec<(Headers, &[u8], &str)> = vec![
            (Headers::new(), &body, "no signature"),
            (Headers::from([(name.to_owned(), sign(algorithm, "not-the-secret", &body))]), &body, "another secret"),
            (Headers::from([(name.to_owned(), sign(algorithm, SECRET, b"{}"))]), &body, "another body"),
            (Headers::from([(name.to_owned(), sign(other, SECRET, &body))]), &body, "another algorithm"),
        ];
        for (headers, b, why) in cases {
            let got = system(kind).parse_webhook(&c, &headers, b);
            assert!(matches!(got, Err(WebhookError::Unauthorized(_))), "{}: {why} must be refused, got {got:?}", kind.as_str());
        }
    }
}

#[test]
fn a_replayed_delivery_has_the_same_event_key() {
    for kind in KINDS {
        let c = connector(kind, "http://127.0.0.1:9");
        let body = fixture(kind, created_fixture(kind));
        let first = parse_one(kind, &c, &body);
        let again = parse_one(kind, &c, &body);
        assert_eq!(first.event_key, again.event_key, "{}", kind.as_str());
        // without a delivery id, the key is the ticket and its change time (stable too)
        let (name, algorithm) = signature_header(kind);
        let bare = Headers::from([(name.to_owned(), sign(algorithm, SECRET, &body))]);
        let keys: Vec<String> = (0..2).map(|_| system(kind).parse_webhook(&c, &bare, &body).expect("parses").remove(0).event_key).collect();
        assert_eq!(keys[0], keys[1], "{}", kind.as_str());
        assert!(keys[0].contains('@'), "{}: {}", kind.as_str(), keys[0]);
    }
}

#[test]
fn a_malformed_payload_is_invalid_and_says_why() {
    for kind in KINDS {
        let c = connector(kind, "http://127.0.0.1:9");
        let cases: [(&[u8], &str); 3] = [(b"not json", "not JSON"), (b"[1, 2]", "no"), (br#"{"ticket": {}, "issue": {}}"#, "no")];
        for (body, says) in cases {
            match system(kind).parse_webhook(&c, &signed(kind, body), body) {
                Err(WebhookError::Invalid(m)) => assert!(m.contains(says) && m.contains(system_name(kind)), "{}: {m}", kind.as_str()),
                other => panic!("{}: {:?} must be invalid, got {other:?}", kind.as_str(), String::from_utf8_lossy(body)),
            }
        }
    }
}

fn system_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Zammad => "Zammad",
        Kind::Servicenow => "ServiceNow",
        _ => "Jira",
    }
}

// ---- write-back --------------------------------------------------------------------------------

const NOTE: &str = "Suggested by triage (internal note)\n\ntriage-ref: desk:8f14e45f:note";

#[test]
fn a_note_is_sent_as_each_systems_internal_note() {
    for kind in KINDS {
        let (method, path, body) = match kind {
            Kind::Zammad => (
                "POST",
                "/api/v1/ticket_articles".to_owned(),
                serde_json::json!({"ticket_id": 81, "body": NOTE, "content_type": "text/plain", "type": "note", "internal": true}),
            ),
            Kind::Servicenow => ("PATCH", format!("/api/now/table/incident/{SN_ID}"), serde_json::json!({"work_notes": NOTE})),
            _ => ("POST", "/rest/servicedeskapi/request/ITSD-42/comment".to_owned(), serde_json::json!({"body": NOTE, "public": false})),
        };
        let mock = Mock::start(vec![route(method, path.clone(), if method == "POST" { 201 } else { 200 }, "{}")]);
        let c = connector(kind, &mock.base);
        system(kind).deliver(&Http::new(&c), ticket_id(kind), &Action::Note { text: NOTE.into() }).expect("delivered");
        let r = mock.only_request();
        assert_eq!((r.method.as_str(), r.path.as_str()), (method, path.as_str()), "{}", kind.as_str());
        assert_eq!(r.headers.get("authorization"), Some(&expected_auth(kind)), "{}", kind.as_str());
        assert_eq!(r.headers.get("content-type").map(String::as_str), Some("application/json"));
        assert_eq!(r.json(), body, "{}", kind.as_str());
    }
}

#[test]
fn fields_are_sent_in_each_systems_form() {
    for kind in KINDS {
        let (fields, method, path, body): (&[(&str, &str)], _, String, _) = match kind {
            Kind::Zammad => (
                &[("group", "2nd Level"), ("priority", "3 high")],
                "PUT",
                "/api/v1/tickets/81".to_owned(),
                serde_json::json!({"group": "2nd Level", "priority": "3 high"}),
            ),
            Kind::Servicenow => (
                &[("assignment_group", "Network"), ("category", "network")],
                "PATCH",
                format!("/api/now/table/incident/{SN_ID}?sysparm_input_display_value=true"),
                serde_json::json!({"assignment_group": "Network", "category": "network"}),
            ),
            _ => (
                &[
                    ("priority", "High"),
                    ("components", "VPN, Network"),
                    ("customfield_10050", "Network"),
                    ("assignee", "5b10a2844c20165700ede21g"),
                ],
                "PUT",
                "/rest/api/3/issue/ITSD-42".to_owned(),
                serde_json::json!({"fields": {
                    "priority": {"name": "High"},
                    "components": [{"name": "VPN"}, {"name": "Network"}],
                    "customfield_10050": {"value": "Network"},
                    "assignee": {"accountId": "5b10a2844c20165700ede21g"}
                }}),
            ),
        };
        let mock = Mock::start(vec![route(method, path.clone(), if kind == Kind::Jira { 204 } else { 200 }, "")]);
        let c = connector(kind, &mock.base);
        let fields = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        system(kind).deliver(&Http::new(&c), ticket_id(kind), &Action::Fields { fields }).expect("delivered");
        let r = mock.only_request();
        assert_eq!((r.method.as_str(), r.path.as_str()), (method, path.as_str()), "{}", kind.as_str());
        assert_eq!(r.headers.get("authorization"), Some(&expected_auth(kind)), "{}", kind.as_str());
        assert_eq!(r.json(), body, "{}", kind.as_str());
    }
}

#[test]
fn jira_refuses_to_edit_the_status_field() {
    let mock = Mock::start(Vec::new());
    let c = connector(Kind::Jira, &mock.base);
    let fields = BTreeMap::from([("status".to_owned(), "Resolved".to_owned())]);
    let got = system(Kind::Jira).deliver(&Http::new(&c), "ITSD-42", &Action::Fields { fields });
    assert!(matches!(got, Err(CallError::Permanent(ref m)) if m.contains("transitions")), "{got:?}");
    assert!(mock.requests().is_empty(), "nothing is sent");
}

#[test]
fn has_marker_finds_our_note_and_misses_another() {
    for kind in KINDS {
        let (path, answer, marker) = match kind {
            Kind::Zammad => (
                "/api/v1/ticket_articles/by_ticket/81".to_owned(),
                fixture_text(kind, "articles-by-ticket.json"),
                "desk-zammad:8f14e45f:note",
            ),
            Kind::Servicenow => (
                format!(
                    "/api/now/table/sys_journal_field?sysparm_query=element_id%3D{SN_ID}%5Eelement%3Dwork_notes%5EvalueLIKEdesk-snow%3A8f14e45f%3Anote&sysparm_fields=value&sysparm_limit=10"
                ),
                fixture_text(kind, "journal-work-notes.json"),
                "desk-snow:8f14e45f:note",
            ),
            _ => (
                "/rest/servicedeskapi/request/ITSD-42/comment?internal=true".to_owned(),
                fixture_text(kind, "request-comments.json"),
                "desk-jira:8f14e45f:note",
            ),
        };
        let mock = Mock::start(vec![route("GET", path.clone(), 200, answer.clone())]);
        let c = connector(kind, &mock.base);
        let http = Http::new(&c);
        assert!(system(kind).has_marker(&http, ticket_id(kind), marker).expect("asked"), "{}: the note is there", kind.as_str());
        let r = mock.only_request();
        assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", path.as_str()), "{}", kind.as_str());
        assert_eq!(r.headers.get("authorization"), Some(&expected_auth(kind)));
        // another marker: ServiceNow's query asks for it (and the empty answer says no), the
        // others read the same notes and do not find it
        let other = "desk:00000000:note";
        let mock = Mock::start(vec![
            route("GET", path, 200, answer),
            route(
                "GET",
                format!(
                    "/api/now/table/sys_journal_field?sysparm_query=element_id%3D{SN_ID}%5Eelement%3Dwork_notes%5EvalueLIKEdesk%3A00000000%3Anote&sysparm_fields=value&sysparm_limit=10"
                ),
                200,
                r#"{"result": []}"#,
            ),
        ]);
        let c = connector(kind, &mock.base);
        assert!(!system(kind).has_marker(&Http::new(&c), ticket_id(kind), other).expect("asked"), "{}: not our note", kind.as_str());
    }
}

#[test]
fn a_rate_limit_surfaces_as_transient_with_its_retry_after() {
    for kind in KINDS {
        let path = match kind {
            Kind::Zammad => "/api/v1/ticket_articles".to_owned(),
            Kind::Servicenow => format!("/api/now/table/incident/{SN_ID}"),
            _ => "/rest/servicedeskapi/request/ITSD-42/comment".to_owned(),
        };
        let method = if kind == Kind::Servicenow { "PATCH" } else { "POST" };
        let mut limited = route(method, path, 429, r#"{"error":"too many requests"}"#);
        limited.headers.push(("Retry-After", "7"));
        let mock = Mock::start(vec![limited]);
        let c = connector(kind, &mock.base);
        let got = system(kind).deliver(&Http::new(&c), ticket_id(kind), &Action::Note { text: NOTE.into() });
        match got {
            Err(CallError::Transient { retry_after, in_doubt, .. }) => {
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{}", kind.as_str());
                assert!(!in_doubt, "a 429 was not applied");
            }
            other => panic!("{}: expected a transient error, got {other:?}", kind.as_str()),
        }
    }
}

// ---- resolution and first contact --------------------------------------------------------------

#[test]
fn a_closed_zammad_ticket_is_completed_from_its_articles_and_history() {
    for (history, first_contact) in [("ticket-history-first-contact.json", true), ("ticket-history-reopened.json", false)] {
        let mock = Mock::start(vec![
            route("GET", "/api/v1/ticket_articles/by_ticket/81?expand=true", 200, fixture_text(Kind::Zammad, "articles-by-ticket.json")),
            route("GET", "/api/v1/ticket_history/81", 200, fixture_text(Kind::Zammad, history)),
        ]);
        let c = connector(Kind::Zammad, &mock.base);
        let mut e = parse_one(Kind::Zammad, &c, &fixture(Kind::Zammad, "webhook-ticket-closed.json"));
        assert!(!e.complete && e.description.is_none(), "the payload's article is the last, not the first");
        system(Kind::Zammad).complete(&Http::new(&c), &c, &mut e).expect("completed");
        assert!(e.complete);
        assert!(e.description.as_deref().is_some_and(|d| d.contains("drops every ten minutes")), "the first article");
        let r = e.resolution.expect("closed is resolved");
        assert_eq!(
            r.notes.trim(),
            "Updated the VPN client to 5.2; the tunnel has held for an hour. Closing.",
            "the agent's reply, not our note"
        );
        assert_eq!(r.first_contact, Some(first_contact), "{history}");
        assert_eq!(r.opened_at.as_deref(), Some("2026-11-30T14:34:35.282Z"));
        assert_eq!(r.resolved_at.as_deref(), Some("2026-11-30T16:02:11.090Z"));
    }
}

#[test]
fn a_resolved_servicenow_incident_carries_its_counters_rule() {
    let c = connector(Kind::Servicenow, "http://127.0.0.1:9");
    for (name, first_contact, resolved_at) in [
        ("outbound-incident-resolved.json", true, "2026-11-30T16:02:11Z"),
        ("outbound-incident-closed-reassigned.json", false, "2026-11-30T16:02:11Z"),
    ] {
        let e = parse_one(Kind::Servicenow, &c, &fixture(Kind::Servicenow, name));
        assert!(e.complete, "ServiceNow sends the whole record");
        let r = e.resolution.unwrap_or_else(|| panic!("{name} is resolved"));
        assert_eq!(r.first_contact, Some(first_contact), "{name}");
        assert_eq!(r.notes, "Updated the VPN client to 5.2; the tunnel has held for an hour.");
        assert_eq!((r.opened_at.as_deref(), r.resolved_at.as_deref()), (Some("2026-11-30T14:34:35Z"), Some(resolved_at)), "{name}");
    }
    // the counters count our own routing too: one move is left for the worker to judge
    let mut record: serde_json::Value = serde_json::from_slice(&fixture(Kind::Servicenow, "outbound-incident-resolved.json")).unwrap();
    if record.get("result").is_some() {
        record = record["result"].take();
    }
    record["reassignment_count"] = serde_json::json!({"display_value": "1", "value": "1"});
    let r = parse_one(Kind::Servicenow, &c, &serde_json::to_vec(&record).unwrap()).resolution.unwrap();
    assert_eq!((r.first_contact, r.group_moves), (Some(true), Some(1)), "one move, perhaps ours");
    // an outbound message without the counters says nothing about first contact
    record.as_object_mut().unwrap().remove("reassignment_count");
    let r = parse_one(Kind::Servicenow, &c, &serde_json::to_vec(&record).unwrap()).resolution.unwrap();
    assert_eq!(r.first_contact, None, "unknown, not first contact");
}

#[test]
fn a_resolved_jira_issue_is_completed_from_its_changelog_and_comments() {
    for (changelog, first_contact) in [("issue-changelog-first-contact.json", true), ("issue-changelog-reopened.json", false)] {
        let mock = Mock::start(vec![
            route("GET", "/rest/api/3/issue/ITSD-42?expand=changelog", 200, fixture_text(Kind::Jira, changelog)),
            route(
                "GET",
                "/rest/servicedeskapi/request/ITSD-42/comment?internal=true",
                200,
                fixture_text(Kind::Jira, "request-comments.json"),
            ),
        ]);
        let c = connector(Kind::Jira, &mock.base);
        let mut e = parse_one(Kind::Jira, &c, &fixture(Kind::Jira, "webhook-issue-resolved.json"));
        assert!(!e.complete, "the first-contact rule needs the changelog");
        system(Kind::Jira).complete(&Http::new(&c), &c, &mut e).expect("completed");
        let r = e.resolution.expect("statusCategory done is resolved");
        assert_eq!(r.first_contact, Some(first_contact), "{changelog}");
        assert_eq!(r.notes, "Updated the VPN client to 5.2; the tunnel has held for an hour.", "the last comment that is not ours");
        assert_eq!(r.opened_at.as_deref(), Some("2026-11-30T15:34:35.282+01:00"));
        assert_eq!(r.resolved_at.as_deref(), Some("2026-11-30T17:02:11.090+01:00"));
        let paths: Vec<String> = mock.requests().into_iter().map(|r| format!("{} {}", r.method, r.path)).collect();
        assert_eq!(
            paths,
            ["GET /rest/api/3/issue/ITSD-42?expand=changelog", "GET /rest/servicedeskapi/request/ITSD-42/comment?internal=true"]
        );
    }
}

#[test]
fn every_kind_has_a_system() {
    fn assert_send_sync<T: Send + Sync + ?Sized>(_: &T) {}
    for kind in KINDS {
        let s: Box<dyn System> = system(kind);
        assert_send_sync(s.as_ref());
    }
}
