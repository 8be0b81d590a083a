//! `triage eval incidents`: a small stream generated from inline fixtures, its JSON, and the
//! replay file written and read back.

use std::path::Path;
use std::process::{Command, Output};

fn triage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage")).args(args).env_remove("TRIAGE_CONFIG").output().unwrap()
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const SUBJECTS: [&str; 8] = [
    "printer on floor two",
    "laptop battery",
    "vpn client",
    "shared drive",
    "teams calls",
    "badge reader",
    "payroll form",
    "monitor cable",
];
const FAULTS: [&str; 5] = ["stopped working", "is very slow", "shows an error", "needs replacing", "cannot be found"];

/// 40 background tickets (`title,body`) and three articles of five paraphrases each.
fn fixtures(dir: &Path) -> (String, String) {
    let mut csv = String::from("ticket_id,title,body\n");
    for (i, subject) in SUBJECTS.iter().enumerate() {
        for (k, fault) in FAULTS.iter().enumerate() {
            csv.push_str(&format!("T{i}{k},{subject} {fault},\"Hello, my {subject} {fault} since this morning.\nThanks\"\n"));
        }
    }
    let articles = [
        [
            "Strikethrough text in github markdown",
            "Cross out words on github",
            "github markdown strike through",
            "How to strike text in a github readme",
            "github crossed out font",
        ],
        [
            "Delete my facebook account for good",
            "Remove facebook account permanently",
            "facebook account deletion",
            "How do I close my facebook profile",
            "facebook delete account page",
        ],
        [
            "Gmail filter by date received",
            "Search gmail for mail from one day",
            "gmail date search operator",
            "Find gmail messages on a given date",
            "gmail filter messages by day",
        ],
    ];
    let mut queries = String::new();
    for (a, list) in articles.iter().enumerate() {
        for q in list {
            queries.push_str(&format!("{{\"query\":\"{q}\",\"article_id\":\"FAQ-{a}\"}}\n"));
        }
    }
    let (background, surge_queries) = (dir.join("background.csv"), dir.join("queries.jsonl"));
    std::fs::write(&background, csv).unwrap();
    std::fs::write(&surge_queries, queries).unwrap();
    (format!("{}=title,body", background.display()), surge_queries.display().to_string())
}

const SMALL: [&str; 12] =
    ["--tenants", "2", "--days", "3", "--warmup-days", "1", "--surges", "2", "--surge-min", "6", "--min-history", "100"];

fn unit(v: &serde_json::Value, what: &str) {
    let x = v.as_f64().unwrap_or_else(|| panic!("{what} is a number: {v}"));
    assert!((0.0..=1.0).contains(&x), "{what} in 0..=1: {x}");
}

#[test]
fn eval_incidents_reports_every_figure_per_seed_with_mean_worst_and_targets() {
    let dir = tempfile::tempdir().unwrap();
    let (background, queries) = fixtures(dir.path());
    let mut args = vec!["eval", "incidents", "--background", &background, "--surge-queries", &queries, "--seeds", "2", "--json"];
    args.extend(SMALL);
    let r = json_of(&triage(&args));
    let runs = r["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{r}");
    for run in runs {
        assert_eq!(run["surges"], 2, "{run}");
        let tickets = run["tickets"].as_u64().unwrap();
        assert!((300..1500).contains(&tickets), "2 tenants x 150 a weekday over 3 days: {tickets}");
        assert_eq!(run["background_tickets"].as_u64().unwrap() + run["surge_tickets"].as_u64().unwrap(), tickets);
        unit(&run["recall"], "recall");
        for key in ["precision", "linking_precision", "linking_recall"] {
            if !run[key].is_null() {
                unit(&run[key], key);
            }
        }
        if let Some(t) = run["median_tickets_to_detect"].as_f64() {
            assert!((1.0..=12.0).contains(&t), "{run}");
        }
        assert!(run["false_alarms_per_week"].as_f64().unwrap() >= 0.0);
        assert!((run["scored_days"].as_f64().unwrap() - 2.0).abs() < 1e-9);
        assert!(run["observe_mean_micros"].as_f64().unwrap() > 0.0);
        for surge in run["per_surge"].as_array().unwrap() {
            assert!((6..=30).contains(&surge["tickets"].as_u64().unwrap()), "{surge}");
        }
    }
    assert_eq!((runs[0]["seed"].as_u64(), runs[1]["seed"].as_u64()), (Some(1), Some(2)));
    let summary = &r["summary"];
    assert_eq!(summary["runs"], 2);
    for key in ["recall", "precision", "median_tickets_to_detect", "median_minutes_to_detect", "false_alarms_per_week", "linking_precision"]
    {
        assert!(summary[key].get("mean").is_some() && summary[key].get("worst").is_some(), "{key}: {summary}");
    }
    let metrics: Vec<&str> = r["targets"].as_array().unwrap().iter().map(|t| t["metric"].as_str().unwrap()).collect();
    assert_eq!(metrics, ["recall", "median_tickets_to_detect", "false_alarms_per_week", "linking_precision"]);
    assert_eq!(r["detector"]["min_history"], 100);
    assert_eq!(r["stream"]["tenants"], 2);
}

#[test]
fn a_written_replay_scores_the_same_when_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (background, queries) = fixtures(dir.path());
    let replay = dir.path().join("stream.jsonl");
    let replay = replay.to_str().unwrap();
    let mut args = vec!["eval", "incidents", "--background", &background, "--surge-queries", &queries, "--seed", "7", "--json"];
    args.extend(SMALL);
    let generated = json_of(&triage(&[args.as_slice(), &["--write-replay", replay]].concat()));
    let replayed = json_of(&triage(&["eval", "incidents", "--replay", replay, "--warmup-days", "1", "--min-history", "100", "--json"]));
    let (a, b) = (&generated["runs"][0], &replayed["runs"][0]);
    for key in ["tickets", "surges", "detected", "incidents_opened", "false_alarms", "recall", "precision", "linking_precision"] {
        assert_eq!(a[key], b[key], "{key}: {a} / {b}");
    }
    assert!(replayed["stream"].is_null() && b["seed"].is_null(), "{replayed}");
    let first = std::fs::read_to_string(replay).unwrap();
    let line: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    for key in ["at", "tenant", "title", "description", "incident"] {
        assert!(line.get(key).is_some(), "{key} in {line}");
    }
}

#[test]
fn a_replay_with_seeds_is_refused() {
    let out = triage(&["eval", "incidents", "--replay", "x.jsonl", "--seeds", "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--seeds"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn an_out_of_range_detector_parameter_names_its_flag() {
    let out = triage(&["eval", "incidents", "--similarity", "1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--similarity"), "{}", String::from_utf8_lossy(&out.stderr));
}
