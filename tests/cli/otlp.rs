//! Trace export over OTLP (issue 15): `triage serve` with `log.otlp_endpoint` sends its spans to
//! a collector; here a small HTTP server on loopback stands in for one (it answers as the
//! OpenTelemetry Collector's OTLP/HTTP receiver does, 200 with an empty JSON object) and keeps
//! what it received. The request's id, sent as `X-Request-Id`, arrives as a span attribute.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the collector received: (path, content type, body) of each post.
type Received = Arc<Mutex<Vec<(String, String, String)>>>;

/// Accepts OTLP/HTTP posts and keeps them.
fn collector() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let (mut length, mut content_type) = (0usize, String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap_or((line, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap(),
                    "content-type" => content_type = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
            keep.lock().unwrap().push((path, content_type, String::from_utf8_lossy(&body).into_owned()));
            let _ =
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
        }
    });
    (port, received)
}

#[test]
fn serve_exports_its_spans_with_the_request_id_to_an_otlp_collector() {
    let (collector_port, received) = collector();
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_triage"))
        .args(["serve", "--port", &port.to_string(), "--data-dir"])
        .arg(data.path())
        .current_dir(&repo)
        .env_remove("TRIAGE_CONFIG")
        .env("TRIAGE__LOG__OTLP_ENDPOINT", format!("http://127.0.0.1:{collector_port}"))
        .env("TRIAGE__LOG__OTLP_SERVICE_NAME", "triage-otlp-test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let started = Instant::now();
    let ready = loop {
        let status = agent.get(format!("http://127.0.0.1:{port}/readyz")).call().map(|r| r.status().as_u16()).unwrap_or(0);
        if status == 200 || started.elapsed() > Duration::from_secs(60) {
            break status == 200;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(ready, "triage serve did not become ready");
    let status = agent.get(format!("http://127.0.0.1:{port}/healthz")).header("X-Request-Id", "otlp-test-4711").call().unwrap().status();
    assert_eq!(status, 200);
    // the SDK sends a batch every few seconds; the request's span is in one of them
    let started = Instant::now();
    let found = loop {
        let hit = received.lock().unwrap().iter().find(|(_, _, body)| body.contains("otlp-test-4711")).cloned();
        if hit.is_some() || started.elapsed() > Duration::from_secs(30) {
            break hit;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let (path, content_type, body) = found.expect("the request's span reached the collector");
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).expect("an OTLP JSON body");
    let resource = &json["resourceSpans"][0]["resource"]["attributes"];
    assert!(
        resource.as_array().unwrap().iter().any(|a| a["key"] == "service.name" && a["value"]["stringValue"] == "triage-otlp-test"),
        "{resource}"
    );
    let spans = json["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap();
    let root = spans
        .iter()
        .find(|s| {
            s["attributes"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["key"] == "request_id" && a["value"]["stringValue"] == "otlp-test-4711"))
        })
        .expect("the request's root span carries its request_id");
    assert_eq!(root["traceId"].as_str().map(str::len), Some(32), "a W3C trace id: {root}");
}
