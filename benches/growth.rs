//! Growth: triage latency, on-disk size and memory as resolved tickets grow 10k -> 50k -> 200k,
//! with the engine as the service runs it (file-backed store and indexes under a data dir).
//!
//! ```sh
//! cargo bench -p triage-engine --bench growth          # TRIAGE_BENCH_SIZES=10000,50000 to pick
//! ```
//!
//! Each size runs in a fresh child process (so its peak RSS is its own): ingest the synthetic
//! tickets of one tenant in batches of 5,000 (store + index, as `POST /v1/tickets/resolved`),
//! reopen the engine as a restarted service would, warm up, then time 4,000 whole triages on one
//! thread. Prints a Markdown table and writes `benches/growth.svg`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use triage_core::ticket::{Channel, NewTicket};
use triage_engine::{EngineParams, TriageEngine};

const QUERIES: &[&str] = &[
    "locked out of my account after too many attempts this morning",
    "printer on floor 2 says offline and nothing prints",
    "vpn keeps dropping when working from home, teams calls cut out",
    "council tax screen frozen again in the revenues system",
    "outlook stuck loading profile since the update",
    "new starter needs a laptop and an account by monday",
    "planning portal upload fails with a timeout error",
];
const TRIAGES: usize = 4_000;

struct Row {
    tickets: usize,
    ingest_secs: f64,
    index_mb: f64,
    store_mb: f64,
    p50_us: f64,
    p99_us: f64,
    mean_us: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// `VmRSS` and `VmHWM` of this process, in MB (Linux).
fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn measure(n: usize) -> Row {
    let data = tempfile::tempdir().expect("temp dir");
    let params = EngineParams::new(root().join("knowledge-base"), data.path()).with_model(root().join("models/starter"));
    let started = Instant::now();
    {
        let (engine, _) = TriageEngine::open(&params).expect("engine opens");
        let tickets = triage_engine::synthetic::resolved_tickets("northmoor", n, 42);
        for (i, chunk) in tickets.chunks(5_000).enumerate() {
            engine.ingest_resolved(chunk).expect("ingest");
            eprint!("\r  {n}: ingested {}", ((i + 1) * 5_000).min(n));
        }
        eprintln!();
    }
    let ingest_secs = started.elapsed().as_secs_f64();
    let (engine, _) = TriageEngine::open(&params).expect("engine reopens");
    engine.load_ticket_scorer().expect("scorer loads");
    assert_eq!(engine.ticket_count(), n as u64);
    let tickets: Vec<NewTicket> =
        QUERIES.iter().map(|q| NewTicket::parse(Some(q), None, Some("northmoor"), Channel::Phone, None, None).unwrap()).collect();
    for t in tickets.iter().cycle().take(500) {
        std::hint::black_box(engine.triage(t).expect("triage"));
    }
    let mut micros = Vec::with_capacity(TRIAGES);
    for t in tickets.iter().cycle().take(TRIAGES) {
        let s = Instant::now();
        let out = engine.triage(t).expect("triage");
        micros.push(s.elapsed().as_secs_f64() * 1e6);
        assert!(!out.suggestions.is_empty());
    }
    micros.sort_by(f64::total_cmp);
    let (rss, peak) = rss_mb();
    let index_mb = dir_bytes(&params.ticket_index_dir()) as f64 / 1e6;
    let store_mb = (dir_bytes(data.path()) - dir_bytes(&data.path().join("index")) - dir_bytes(&params.models_dir())) as f64 / 1e6;
    Row {
        tickets: n,
        ingest_secs,
        index_mb,
        store_mb,
        p50_us: micros[micros.len() / 2],
        p99_us: micros[micros.len() * 99 / 100],
        mean_us: micros.iter().sum::<f64>() / micros.len() as f64,
        rss_mb: rss,
        peak_rss_mb: peak,
    }
}

fn to_line(r: &Row) -> String {
    format!(
        "{} {} {} {} {} {} {} {} {}",
        r.tickets, r.ingest_secs, r.index_mb, r.store_mb, r.p50_us, r.p99_us, r.mean_us, r.rss_mb, r.peak_rss_mb
    )
}

fn from_line(line: &str) -> Option<Row> {
    let v: Vec<f64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    (v.len() == 9).then(|| Row {
        tickets: v[0] as usize,
        ingest_secs: v[1],
        index_mb: v[2],
        store_mb: v[3],
        p50_us: v[4],
        p99_us: v[5],
        mean_us: v[6],
        rss_mb: v[7],
        peak_rss_mb: v[8],
    })
}

/// A two-panel line chart: latency (p50, p99) and size / memory against tickets indexed.
fn svg(rows: &[Row]) -> String {
    let (w, h, pad) = (420.0, 260.0, 48.0);
    let max_n = rows.iter().map(|r| r.tickets).max().unwrap_or(1) as f64;
    let panel = |x0: f64, title: &str, series: &[(&str, &str, Vec<f64>)], unit: &str| {
        let max_y = series.iter().flat_map(|s| s.2.iter().copied()).fold(1.0, f64::max) * 1.1;
        let px = |n: usize| x0 + pad + (n as f64 / max_n) * (w - pad - 16.0);
        let py = |v: f64| h - pad + 8.0 - (v / max_y) * (h - pad - 28.0);
        let mut out = format!(r##"<text x="{}" y="16" font-size="13" font-weight="bold">{title}</text>"##, x0 + pad);
        out += &format!(
            r##"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="#555"/><line x1="{0}" y1="{1}" x2="{0}" y2="24" stroke="#555"/>"##,
            x0 + pad,
            h - pad + 8.0,
            x0 + w - 16.0
        );
        for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let v = max_y * f;
            out += &format!(
                r##"<text x="{}" y="{}" font-size="10" text-anchor="end">{:.0}</text><line x1="{}" x2="{}" y1="{2}" y2="{2}" stroke="#eee"/>"##,
                x0 + pad - 4.0,
                py(v) + 3.0,
                v,
                x0 + pad,
                x0 + w - 16.0
            );
        }
        for r in rows {
            out += &format!(
                r##"<text x="{}" y="{}" font-size="10" text-anchor="middle">{}k</text>"##,
                px(r.tickets),
                h - pad + 22.0,
                r.tickets / 1000
            );
        }
        out += &format!(
            r##"<text x="{}" y="{}" font-size="10" text-anchor="middle">resolved tickets indexed ({unit})</text>"##,
            x0 + w / 2.0,
            h - 8.0
        );
        for (i, (name, color, values)) in series.iter().enumerate() {
            let points: Vec<String> = rows.iter().zip(values).map(|(r, v)| format!("{:.1},{:.1}", px(r.tickets), py(*v))).collect();
            out += &format!(r##"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"##, points.join(" "));
            for (r, v) in rows.iter().zip(values) {
                out += &format!(r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"##, px(r.tickets), py(*v));
            }
            out += &format!(
                r##"<rect x="{}" y="{}" width="10" height="10" fill="{color}"/><text x="{}" y="{}" font-size="11">{name}</text>"##,
                x0 + pad + 10.0,
                30.0 + i as f64 * 15.0,
                x0 + pad + 24.0,
                39.0 + i as f64 * 15.0
            );
        }
        out
    };
    let latency = panel(
        0.0,
        "Whole triage, one thread",
        &[("p50 µs", "#1f5fbf", rows.iter().map(|r| r.p50_us).collect()), ("p99 µs", "#c2410c", rows.iter().map(|r| r.p99_us).collect())],
        "µs",
    );
    let size = panel(
        w,
        "Disk and memory",
        &[
            ("ticket index MB", "#15803d", rows.iter().map(|r| r.index_mb).collect()),
            ("SQLite store MB", "#7e22ce", rows.iter().map(|r| r.store_mb).collect()),
            ("peak RSS MB", "#b45309", rows.iter().map(|r| r.peak_rss_mb).collect()),
        ],
        "MB",
    );
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {h}" width="{}" height="{h}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>{latency}{size}</svg>
"##,
        2.0 * w,
        2.0 * w
    )
}

fn main() {
    if let Ok(n) = std::env::var("TRIAGE_GROWTH_CHILD") {
        let row = measure(n.parse().expect("a size"));
        println!("{}", to_line(&row));
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / `--list`: nothing to list or test here
    }
    let sizes: Vec<usize> = std::env::var("TRIAGE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 200_000]);
    let exe = std::env::current_exe().expect("own path");
    let mut rows = Vec::new();
    for n in sizes {
        eprintln!("growth: {n} tickets");
        let out = Command::new(&exe).env("TRIAGE_GROWTH_CHILD", n.to_string()).output().expect("child runs");
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the {n}-ticket run failed");
        rows.push(from_line(String::from_utf8_lossy(&out.stdout).trim()).expect("the child printed a row"));
    }
    println!(
        "| resolved tickets | ingest (store + index) | ticket index | SQLite store | triage p50 | triage p99 | triage mean | RSS after | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {:.1} s | {:.1} MB | {:.1} MB | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} MB | {:.0} MB |",
            r.tickets, r.ingest_secs, r.index_mb, r.store_mb, r.p50_us, r.p99_us, r.mean_us, r.rss_mb, r.peak_rss_mb
        );
    }
    let path = root().join("benches/growth.svg");
    std::fs::write(&path, svg(&rows)).expect("writing the plot");
    eprintln!("plot written to {}", path.display());
}
