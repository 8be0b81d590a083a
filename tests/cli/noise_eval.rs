//! `triage eval retrieval | classify --noise FILE`: clean and noisy figures side by side in one
//! run (issue 16), and a clear error for a bad template file.

use std::path::Path;
use std::process::{Command, Output};

fn triage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage")).args(args).env_remove("TRIAGE_CONFIG").output().unwrap()
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const TAILS: &str = "%% signature\nKind regards\n{name}\n{job_title}, {council}\nTel: {phone}\n%% mobile\nSent from my iPhone\n";

fn faq_files(dir: &Path) -> (String, String, String) {
    let articles = dir.join("articles.jsonl");
    let queries = dir.join("queries.jsonl");
    let tails = dir.join("tails.txt");
    std::fs::write(
        &articles,
        concat!(
            "{\"id\":\"A\",\"title\":\"Delete a Facebook account\",\"answers\":[\"Go to settings and choose delete\"]}\n",
            "{\"id\":\"B\",\"title\":\"Strikethrough in GitHub markdown\",\"answers\":[\"Use two tildes\"]}\n",
            "{\"id\":\"C\",\"title\":\"Gmail filters\",\"answers\":[\"Create a filter from the search box\"]}\n",
        ),
    )
    .unwrap();
    std::fs::write(
        &queries,
        "{\"query\":\"how to delete facebook\",\"article_id\":\"A\"}\n{\"query\":\"cross out text github\",\"article_id\":\"B\"}\n{\"query\":\"gmail filter\",\"article_id\":\"C\"}\n",
    )
    .unwrap();
    std::fs::write(&tails, TAILS).unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    (s(&articles), s(&queries), s(&tails))
}

#[test]
fn eval_retrieval_with_noise_reports_clean_noisy_and_delta_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let (articles, queries, tails) = faq_files(dir.path());
    let r = json_of(&triage(&["eval", "retrieval", "--articles", &articles, "--queries", &queries, "--noise", &tails, "--json"]));
    for key in ["p_at_1", "mrr", "hit_at_3", "hit_at_5"] {
        let (clean, noisy, delta) =
            (r["clean"][key].as_f64().unwrap(), r["noisy"][key].as_f64().unwrap(), r["delta"][key].as_f64().unwrap());
        assert!((delta - (noisy - clean)).abs() < 1e-9, "{key}: {r}");
    }
    assert_eq!(r["clean"]["p_at_1"], 1.0, "{r}");
    assert_eq!((r["noise"]["templates"].as_u64(), r["noise"]["texts"].as_u64(), r["noise"]["seed"].as_u64()), (Some(2), Some(3), Some(16)));
    assert!(r["noise"]["mean_added_chars"].as_f64().unwrap() > 15.0, "a tail was appended: {r}");
}

#[test]
fn eval_retrieval_without_noise_keeps_its_flat_json_for_the_quality_gates() {
    let dir = tempfile::tempdir().unwrap();
    let (articles, queries, _) = faq_files(dir.path());
    let r = json_of(&triage(&["eval", "retrieval", "--articles", &articles, "--queries", &queries, "--json"]));
    assert!(r["p_at_1"].is_f64() && r.get("clean").is_none(), "{r}");
}

#[test]
fn eval_classify_with_noise_scores_the_same_model_clean_and_noisy() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, tails) = faq_files(dir.path());
    let data = dir.path().join("tickets.csv");
    let mut csv = String::from("ticket_id,text,category\n");
    let access = ["password", "locked", "account", "login", "reset", "mfa"];
    let hardware = ["laptop", "screen", "keyboard", "printer", "dock", "battery"];
    for i in 0..60 {
        let (words, label) = if i % 2 == 0 { (access, "Access") } else { (hardware, "Hardware") };
        let text: Vec<&str> = (0..5).map(|k| words[(i * 7 + k * 3) % 6]).collect();
        csv.push_str(&format!("t{i},{},{label}\n", text.join(" ")));
    }
    std::fs::write(&data, csv).unwrap();
    let report = dir.path().join("report.md");
    let (data, report_path) = (data.to_str().unwrap(), report.to_str().unwrap());
    let r = json_of(&triage(&[
        "eval",
        "classify",
        "--train",
        data,
        "--test",
        data,
        "--text",
        "text",
        "--label",
        "category=category",
        "--id",
        "ticket_id",
        "--no-baseline",
        "--noise",
        &tails,
        "--noise-seed",
        "5",
        "--json",
        "--report",
        report_path,
    ]));
    for key in ["accuracy", "macro_f1", "auto_coverage"] {
        let (clean, noisy) =
            (r["clean"]["heads"]["category"][key].as_f64().unwrap(), r["noisy"]["heads"]["category"][key].as_f64().unwrap());
        assert!((r["delta"]["category"][key].as_f64().unwrap() - (noisy - clean)).abs() < 1e-9, "{key}: {r}");
    }
    assert_eq!((r["clean"]["test_rows"].as_u64(), r["noisy"]["test_rows"].as_u64()), (Some(60), Some(60)));
    assert_eq!((r["noise"]["seed"].as_u64(), r["noise"]["texts"].as_u64()), (Some(5), Some(60)));
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains("## E-mail noise: clean and noisy") && md.contains("| category | macro-F1 |"), "{md}");
}

#[test]
fn a_template_with_an_unknown_placeholder_fails_naming_it_and_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let (articles, queries, tails) = faq_files(dir.path());
    std::fs::write(&tails, "%% one\nThanks\n{first_name}\n%% two\nRegards {nmae}\n").unwrap();
    let out = triage(&["eval", "retrieval", "--articles", &articles, "--queries", &queries, "--noise", &tails]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("{nmae}") && err.contains("line 5") && err.contains("tails.txt"), "{err}");
}

#[test]
fn a_noise_seed_without_a_noise_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (articles, queries, _) = faq_files(dir.path());
    let out = triage(&["eval", "retrieval", "--articles", &articles, "--queries", &queries, "--noise-seed", "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--noise"));
}
