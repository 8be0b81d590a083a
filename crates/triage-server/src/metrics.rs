//! Prometheus metrics, kept in a few mutex-guarded maps (request rates here are thousands per
//! second, not millions; a lock per request costs well under a microsecond).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `triage_http_requests_total` | counter | `route`, `status` |
//! | `triage_http_request_duration_seconds` | histogram | `route` |
//! | `triage_decisions_total` | counter | `head`, `decision` |
//! | `triage_model_info` | gauge (1) | `version` |
//! | `triage_jobs` | gauge | `state` (jobs in the store, every replica's, kept across restarts) |
//! | `triage_articles`, `triage_resolved_tickets_indexed` | gauge | |
//! | `triage_incidents_active` | gauge | `status` (`suspected`, `confirmed`) |
//! | `triage_incident_tickets_dropped_total` | counter | (tickets left out of detection: over `incidents.max_per_second`, or the queue full) |
//! | `triage_change_feed_applied_seq`, `triage_change_feed_applied_total`, `triage_change_feed_failing` | gauge, counter, gauge (0/1) | (replicas following the change feed only; compare `applied_seq` across replicas for their lag) |

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Major incidents open now, and tickets left out of detection; where this replica is in the
/// change feed (when it follows one).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IncidentGauges {
    pub suspected: usize,
    pub confirmed: usize,
    pub dropped: u64,
    /// (last sequence applied, changes applied since the start, whether the last read failed)
    pub follow: Option<(u64, u64, bool)>,
}

#[derive(Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    decisions: Mutex<BTreeMap<(String, &'static str), u64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    pub(crate) fn record_request(&self, route: &str, status: u16, seconds: f64) {
        *lock(&self.requests).entry((route.to_owned(), status)).or_insert(0) += 1;
        let mut latency = lock(&self.latency);
        let h = latency.entry(route.to_owned()).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub(crate) fn record_decision(&self, head: &str, decision: &'static str) {
        *lock(&self.decisions).entry((head.to_owned(), decision)).or_insert(0) += 1;
    }

    /// Prometheus text exposition, with the gauges passed in.
    pub(crate) fn render(
        &self,
        model_version: Option<&str>,
        jobs: &[(&str, usize)],
        articles: usize,
        tickets: u64,
        incidents: &IncidentGauges,
    ) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(out, "# TYPE triage_http_requests_total counter");
        for ((route, status), n) in lock(&self.requests).iter() {
            let _ = writeln!(out, "triage_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        let _ = writeln!(out, "# TYPE triage_http_request_duration_seconds histogram");
        for (route, h) in lock(&self.latency).iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "triage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "triage_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "triage_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "triage_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.count);
        }
        let _ = writeln!(out, "# TYPE triage_decisions_total counter");
        for ((head, decision), n) in lock(&self.decisions).iter() {
            let _ = writeln!(out, "triage_decisions_total{{head=\"{head}\",decision=\"{decision}\"}} {n}");
        }
        let _ = writeln!(out, "# TYPE triage_model_info gauge");
        if let Some(v) = model_version {
            let _ = writeln!(out, "triage_model_info{{version=\"{}\"}} 1", v.replace(['"', '\\', '\n'], "_"));
        }
        let _ = writeln!(out, "# TYPE triage_jobs gauge");
        for (state, n) in jobs {
            let _ = writeln!(out, "triage_jobs{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(out, "# TYPE triage_articles gauge\ntriage_articles {articles}");
        let _ = writeln!(out, "# TYPE triage_resolved_tickets_indexed gauge\ntriage_resolved_tickets_indexed {tickets}");
        let _ = writeln!(out, "# TYPE triage_incidents_active gauge");
        let _ = writeln!(out, "triage_incidents_active{{status=\"suspected\"}} {}", incidents.suspected);
        let _ = writeln!(out, "triage_incidents_active{{status=\"confirmed\"}} {}", incidents.confirmed);
        let _ = writeln!(
            out,
            "# TYPE triage_incident_tickets_dropped_total counter\ntriage_incident_tickets_dropped_total {}",
            incidents.dropped
        );
        if let Some((seq, total, failing)) = incidents.follow {
            let _ = writeln!(out, "# TYPE triage_change_feed_applied_seq gauge\ntriage_change_feed_applied_seq {seq}");
            let _ = writeln!(out, "# TYPE triage_change_feed_applied_total counter\ntriage_change_feed_applied_total {total}");
            let _ = writeln!(out, "# TYPE triage_change_feed_failing gauge\ntriage_change_feed_failing {}", u8::from(failing));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_text_is_prometheus() {
        let m = Metrics::default();
        m.record_request("/v1/triage", 200, 0.0007);
        m.record_request("/v1/triage", 200, 0.003);
        m.record_decision("category", "auto");
        let text = m.render(
            Some("v1"),
            &[("running", 1)],
            91,
            10,
            &IncidentGauges { suspected: 2, confirmed: 1, dropped: 0, follow: Some((7, 12, false)) },
        );
        assert!(text.contains("triage_http_requests_total{route=\"/v1/triage\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.0005\"} 0") && text.contains("le=\"0.001\"} 1") && text.contains("le=\"0.005\"} 2"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("triage_decisions_total{head=\"category\",decision=\"auto\"} 1"));
        assert!(text.contains("triage_model_info{version=\"v1\"} 1"));
        assert!(text.contains("triage_change_feed_applied_seq 7") && text.contains("triage_change_feed_failing 0"));
        assert!(text.contains("triage_incidents_active{status=\"suspected\"} 2"));
        assert!(text.contains("triage_incidents_active{status=\"confirmed\"} 1"));
    }
}
