//! `triage eval retrieval --fit-fix` and `--fix-model FILE`: the model one run fits scores
//! another run the same way (cross-fitting the two halves of a set), and a bad file is a clear
//! error.

use std::process::{Command, Output};

fn triage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triage")).args(args).env_remove("TRIAGE_CONFIG").output().unwrap()
}

fn json_of(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

const ARTICLES: &str = concat!(
    "{\"id\":\"A\",\"title\":\"Delete a Facebook account\",\"answers\":[\"Go to settings and choose delete\"]}\n",
    "{\"id\":\"B\",\"title\":\"Strikethrough in GitHub markdown\",\"answers\":[\"Use two tildes\"]}\n",
    "{\"id\":\"C\",\"title\":\"Gmail filters\",\"answers\":[\"Create a filter from the search box\"]}\n",
    "{\"id\":\"D\",\"title\":\"Change the Twitter password\",\"answers\":[\"Settings, then password\"]}\n",
);

const QUERIES: &str = concat!(
    "{\"query\":\"how to delete facebook\",\"article_id\":\"A\"}\n",
    "{\"query\":\"cross out text github\",\"article_id\":\"B\"}\n",
    "{\"query\":\"gmail filter from search\",\"article_id\":\"C\"}\n",
    "{\"query\":\"new twitter password\",\"article_id\":\"D\"}\n",
    "{\"query\":\"remove facebook account settings\",\"article_id\":\"A\"}\n",
    "{\"query\":\"tildes in markdown\",\"article_id\":\"B\"}\n",
);

#[test]
fn a_fitted_model_saved_from_one_run_scores_another_exactly_as_it_scored_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (articles, queries, model) = (dir.path().join("a.jsonl"), dir.path().join("q.jsonl"), dir.path().join("model.json"));
    std::fs::write(&articles, ARTICLES).unwrap();
    std::fs::write(&queries, QUERIES).unwrap();
    let (a, q, m) = (articles.to_str().unwrap(), queries.to_str().unwrap(), model.to_str().unwrap());
    let base = ["eval", "retrieval", "--articles", a, "--queries", q, "--drop-articles", "1", "--json"];
    let fitted = json_of(&triage(&[&base[..], &["--fit-fix"]].concat()));
    let weights = fitted["fitted_fix_model"]["weights"].as_array().expect("the fitted model is printed");
    assert_eq!(weights.len(), triage_engine::fix::FEATURES);
    std::fs::write(&model, fitted["fitted_fix_model"].to_string()).unwrap();
    let scored = json_of(&triage(&[&base[..], &["--fix-model", m]].concat()));
    assert!(scored.get("fitted_fix_model").is_none(), "nothing fitted: {scored}");
    for key in ["ece", "top_fix_probability_mean"] {
        assert!((scored[key].as_f64().unwrap() - fitted[key].as_f64().unwrap()).abs() < 1e-9, "{key}: {scored} / {fitted}");
    }
    assert_eq!(scored["no_good_fix"], fitted["no_good_fix"]);
    let default = json_of(&triage(&base));
    assert_ne!(default["top_fix_probability_mean"], scored["top_fix_probability_mean"], "the file's model, not the default, scored");

    std::fs::write(&model, "{\"bias\": 1.0}").unwrap();
    let out = triage(&[&base[..], &["--fix-model", m]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("--fix-model") && err.contains("weights"), "{err}");
}
