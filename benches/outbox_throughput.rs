//! Outbox throughput on our side: how many write-back actions one connector delivers per second
//! when the ticketing system answers at once (a local HTTP/1.1 server that accepts everything),
//! so the figure is the ceiling set by the store (claim, record) and the HTTP client, not by a
//! remote system. Run: `cargo bench -p triage-connectors --bench outbox_throughput`.
//! Env: OUTBOX_ACTIONS (default 3000).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use triage_connectors::config::{ConnectorSpec, Kind, validate};
use triage_engine::TriageEngine;
use triage_engine::connector_store::{ConnectorTicket, NewOutboxAction};

/// Answers every request `201 []`, keeping connections alive.
fn mock_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let reply = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]";
                    if writer.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn main() {
    let n: usize = std::env::var("OUTBOX_ACTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let port = mock_server();
    let spec: ConnectorSpec = serde_json::from_value(serde_json::json!({
        "name": "bench", "kind": "rt", "base_url": format!("http://127.0.0.1:{port}"), "token_env": "T",
        "poll_interval_secs": 3600
    }))
    .unwrap();
    assert_eq!(spec.kind, Kind::Rt);
    let connector = validate(&[spec], &|_| true, &triage_connectors::HEADS, &|_| Some("token".into())).unwrap().remove(0);
    let engine = Arc::new(TriageEngine::in_memory(Vec::new(), 5).unwrap());
    let store = engine.store();
    let started = Instant::now();
    for chunk in 0..n.div_ceil(100) {
        let actions: Vec<NewOutboxAction> = (chunk * 100..((chunk + 1) * 100).min(n))
            .map(|i| NewOutboxAction {
                connector: "bench".into(),
                external_id: (1000 + i).to_string(),
                action: if i % 2 == 0 { "note" } else { "fields" }.into(),
                payload: if i % 2 == 0 {
                    serde_json::json!({"action": "note", "text": format!("Likely fixes:\n1. Reset the VPN profile\n\ntriage-ref: bench:{i}")})
                } else {
                    serde_json::json!({"action": "fields", "fields": {"Queue": "Network"}})
                },
                marker: format!("bench:{i}"),
            })
            .collect();
        let ticket = ConnectorTicket {
            connector: "bench".into(),
            external_id: chunk.to_string(),
            tenant: None,
            text_hash: String::new(),
            triage_id: None,
            state: serde_json::json!({}),
            resolved: false,
        };
        store.connector_apply(&ticket, &actions, None).unwrap();
    }
    let queued = started.elapsed();
    let source_engine = engine.clone();
    let started = Instant::now();
    let connectors = triage_connectors::Connectors::start(vec![connector], Arc::new(move || Some(source_engine.clone()))).unwrap();
    loop {
        let c = store.connector_counts("bench").unwrap();
        if c.outbox_delivered as usize >= n {
            break;
        }
        assert!(c.outbox_dead == 0, "dead letters: {c:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    connectors.stop();
    println!(
        "outbox: {n} actions queued in {:.0} ms ({:.0}/s); delivered in {:.2} s: {:.0} actions/s on one connector (mock system answering at once)",
        queued.as_secs_f64() * 1000.0,
        n as f64 / queued.as_secs_f64(),
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
}
