use proptest::prelude::*;

use super::*;

/// The template file shipped in `benches/noise/`.
const SHIPPED: &str = include_str!("../../../../../benches/noise/email-tails.txt");

fn noise(text: &str, seed: u64) -> Noise {
    Noise::new(NoiseTemplates::parse(text).unwrap(), seed)
}

#[test]
fn templates_are_separated_by_percent_lines_and_the_header_is_ignored() {
    let t = NoiseTemplates::parse("header {not a placeholder\n%% first\nA\n\n%%\nB\n%% third\nC\n").unwrap();
    assert_eq!(t.len(), 3);
    let tails: std::collections::BTreeSet<String> = (0..200).map(|i| noise("%% a\nA\n%%\nB\n%% c\nC\n", 1).tail(&i.to_string())).collect();
    assert_eq!(tails.into_iter().collect::<Vec<_>>(), ["A", "B", "C"], "every template is used and none carries its `%%` line");
}

#[test]
fn placeholders_are_filled_and_literal_braces_survive() {
    let n = noise("%%\n{name} <{email}>\n{council} {{not a slot}\n", 7);
    let tail = n.tail("row-1");
    let (name, rest) = tail.split_once(" <").unwrap();
    let first = name.split(' ').next().unwrap();
    assert!(FIRST_NAMES.contains(&first), "{tail}");
    assert!(rest.starts_with(&format!("{}.", first.to_ascii_lowercase())), "e-mail address agrees with the name: {tail}");
    assert!(COUNCILS.iter().any(|c| tail.contains(c.0)), "{tail}");
    assert!(tail.ends_with("{not a slot}"), "`{{{{` is a literal brace: {tail}");
}

#[test]
fn every_placeholder_is_filled_with_something_brace_free() {
    let all: String = Placeholder::ALL.iter().map(|(n, _)| format!("[{{{n}}}]\n")).collect();
    let n = noise(&format!("%%\n{all}"), 3);
    for key in ["a", "b", "c", "d"] {
        let tail = n.tail(key);
        assert!(!tail.contains('{') && !tail.contains('}'), "{tail}");
        assert!(!tail.contains("[]"), "no placeholder fills with nothing: {tail}");
        assert_eq!(tail.lines().count(), Placeholder::ALL.len(), "{tail}");
    }
}

#[test]
fn an_unknown_placeholder_is_an_error_naming_it_and_its_lines() {
    let err = NoiseTemplates::parse("header\n%% one\nfine {name}\n%% two\nok\nThanks {nmae}\n").unwrap_err();
    assert_eq!(err, NoiseError::UnknownPlaceholder { name: "nmae".into(), line: 6, template_line: 4 });
    let message = err.to_string();
    assert!(message.contains("{nmae}") && message.contains("line 6") && message.contains("line 4"), "{message}");
    assert!(message.contains("{first_name}"), "the message lists the known placeholders: {message}");
}

#[test]
fn malformed_files_are_refused_with_a_reason() {
    let cases = [
        ("no separator at all {name}", NoiseError::NoTemplates, "a file without `%%` lines has no templates"),
        ("", NoiseError::NoTemplates, "an empty file"),
        ("%%\nA\n%% blank\n  \n\n%%\nB", NoiseError::EmptyTemplate { template_line: 3 }, "a template of blank lines"),
        ("%%\nA {name\n", NoiseError::StrayBrace { line: 2, template_line: 1 }, "an unclosed placeholder"),
        ("%%\nA { name }\n", NoiseError::StrayBrace { line: 2, template_line: 1 }, "a brace that opens no placeholder"),
        ("%%\ntrailing {", NoiseError::StrayBrace { line: 2, template_line: 1 }, "a brace at the end of a line"),
    ];
    for (text, expected, why) in cases {
        assert_eq!(NoiseTemplates::parse(text).unwrap_err(), expected, "{why}");
    }
}

#[test]
fn the_same_key_and_seed_give_the_same_noisy_text() {
    let a = noise(SHIPPED, DEFAULT_NOISE_SEED);
    let b = noise(SHIPPED, DEFAULT_NOISE_SEED);
    for key in ["INC0001", "42", "", "ticket with spaces"] {
        assert_eq!(a.apply(key, "printer offline"), b.apply(key, "printer offline"), "key {key:?}");
    }
}

#[test]
fn another_seed_chooses_and_fills_differently() {
    let a = noise(SHIPPED, 1);
    let b = noise(SHIPPED, 2);
    let keys: Vec<String> = (0..50).map(|i| format!("row-{i}")).collect();
    let same_template = keys.iter().filter(|k| a.template_index(k) == b.template_index(k)).count();
    assert!(same_template < 15, "{same_template} of 50 keys got the same template under both seeds");
    assert!(keys.iter().any(|k| a.tail(k) != b.tail(k)));
}

#[test]
fn apply_appends_the_tail_after_a_blank_line_and_keeps_the_text() {
    let n = noise("%%\nSent from my iPhone\n", 0);
    assert_eq!(n.apply("k", "Outlook keeps crashing\n\n"), "Outlook keeps crashing\n\nSent from my iPhone");
}

#[test]
fn the_shipped_file_has_at_least_24_templates_and_fills_cleanly() {
    let templates = NoiseTemplates::parse(SHIPPED).expect("benches/noise/email-tails.txt parses");
    assert!(templates.len() >= 24, "{} templates", templates.len());
    let n = Noise::new(templates, DEFAULT_NOISE_SEED);
    let mut used = std::collections::BTreeSet::new();
    for i in 0..2_000 {
        let key = i.to_string();
        used.insert(n.template_index(&key));
        let tail = n.tail(&key);
        assert!(!tail.contains('{') && !tail.contains('}'), "template {} left a brace: {tail}", n.template_index(&key));
        assert!(!tail.trim().is_empty());
    }
    assert_eq!(used.len(), n.template_count(), "every template is chosen for some of 2,000 keys");
}

#[test]
fn the_shipped_file_covers_the_kinds_of_tail_the_issue_names() {
    for (needle, kind) in [
        ("Sent from my iPhone", "mobile footer"),
        ("Freedom of Information Act 2000", "FOI notice"),
        ("consider the environment", "environment footer"),
        ("Your call reference is {ticket_ref}", "the desk's auto-reply"),
        ("Sent: {date}", "Outlook header block"),
        ("> ", "quoted lines"),
        ("wrote:", "On ... wrote:"),
        ("Forwarded message", "forwarded block"),
        ("out of the office", "out-of-office reply"),
        ("Public Services Network", "PSN disclaimer"),
        ("\n-- \n", "signature delimiter"),
        ("privacy notice", "privacy notice"),
    ] {
        assert!(SHIPPED.contains(needle), "no {kind} template ({needle:?})");
    }
}

proptest! {
    #[test]
    fn parsing_never_panics_and_filling_a_parsed_file_leaves_no_placeholder(text in "(%%[ a-z]*\n|\\{[a-z_]{0,12}\\}?|\\{\\{|[A-Za-z >:\n-]{0,20}){0,30}") {
        if let Ok(t) = NoiseTemplates::parse(&text) {
            prop_assert!(!t.is_empty());
            let n = Noise::new(t, 9);
            for key in ["a", "b"] {
                let tail = n.tail(key);
                prop_assert_eq!(&tail, &n.tail(key));
                if !text.contains("{{") {
                    prop_assert!(!tail.contains('{'), "a brace without `{{{{` in the file: {}", tail);
                }
            }
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = NoiseTemplates::parse(&text);
    }
}
