use super::*;

/// A deterministic background: tickets of 6 words drawn from 400, so any two rarely share more
/// than a word.
fn background(n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n).map(|_| (0..6).map(|_| format!("w{}", next() % 400)).collect()).collect()
}

fn terms(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn obs(id: &str, tenant: &str, at: i64, t: Vec<String>) -> Observation {
    Observation { triage_id: id.into(), tenant: Some(tenant.into()), at, terms: t, title: id.into(), hint: None }
}

fn params() -> IncidentParams {
    IncidentParams { min_history: 100, ..IncidentParams::default() }
}

/// A detector with `hours` of background history, 30 tickets an hour, and the clock at its end.
fn warmed(params: IncidentParams, hours: i64) -> (Detector, i64) {
    let mut d = Detector::new(params);
    let tickets = background((hours * 30) as usize, 7);
    for (i, t) in tickets.into_iter().enumerate() {
        d.observe(obs(&format!("bg{i}"), "a", i as i64 * 120, t));
    }
    (d, hours * 3600)
}

const SURGE: [&str; 8] = [
    "email outlook cannot send",
    "outlook email stuck outbox",
    "cannot send email outlook error",
    "outlook email send stuck",
    "email outlook send fails",
    "outlook email down",
    "mail outlook cannot send message",
    "outlook send email error",
];

#[test]
fn a_surge_of_one_fault_opens_an_incident_at_min_tickets_and_links_the_rest() {
    let (mut d, t0) = warmed(params(), 24);
    let mut opened_at = None;
    let mut linked = 0;
    for (i, text) in SURGE.iter().enumerate() {
        let tenant = ["a", "b", "c"][i % 3];
        let out = d.observe(obs(&format!("s{i}"), tenant, t0 + i as i64 * 120, terms(text)));
        if out.opened.is_some() && opened_at.is_none() {
            opened_at = Some(i + 1);
        }
        if out.linked.is_some() {
            linked += 1;
        }
    }
    let min = d.params().min_tickets;
    assert_eq!(opened_at, Some(min), "opens on the min_tickets-th similar ticket");
    let incident = &d.incidents()[0];
    assert_eq!(incident.status, Status::Suspected);
    assert_eq!(incident.members.len(), SURGE.len());
    assert_eq!(linked, SURGE.len() - (min - 1), "the opener and every later ticket say which incident they joined");
    assert_eq!(incident.tenants().into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert!(d.top_terms(incident).contains(&"outlook".to_owned()));
    assert!(incident.members.iter().all(|m| m.triage_id.starts_with('s')), "no background ticket linked");
}

#[test]
fn a_kind_of_ticket_at_its_normal_share_does_not_fire() {
    // history: every 5th ticket is a password reset (20% of traffic)
    let mut d = Detector::new(params());
    let bg = background(720, 11);
    for (i, t) in bg.into_iter().enumerate() {
        let t = if i % 5 == 0 { terms(&format!("password reset locked account w{}", i % 400)) } else { t };
        d.observe(obs(&format!("bg{i}"), "a", i as i64 * 120, t));
    }
    // a busy morning: 6 password resets among 30 tickets in an hour, as usual
    let t0 = 720 * 120;
    let more = background(24, 12);
    let mut k = 0;
    for i in 0..30 {
        let t = if i % 5 == 0 {
            terms("password reset locked account")
        } else {
            more[{
                k += 1;
                k - 1
            }]
            .clone()
        };
        let out = d.observe(obs(&format!("m{i}"), "a", t0 + i * 120, t));
        assert!(out.opened.is_none(), "ticket {i} opened an incident on normal traffic");
    }
    assert!(d.incidents().is_empty());
}

#[test]
fn nothing_opens_before_the_history_is_long_enough() {
    let (mut d, t0) = warmed(IncidentParams { min_history: 10_000, ..IncidentParams::default() }, 4);
    for (i, text) in SURGE.iter().enumerate() {
        assert!(d.observe(obs(&format!("s{i}"), "a", t0 + i as i64 * 60, terms(text))).opened.is_none());
    }
}

#[test]
fn dismissed_incidents_stop_linking_and_resolved_ones_stop_after_the_grace_period() {
    let (mut d, t0) = warmed(params(), 24);
    for (i, text) in SURGE[..5].iter().enumerate() {
        d.observe(obs(&format!("s{i}"), "a", t0 + i as i64 * 60, terms(text)));
    }
    let id = d.incidents()[0].id.clone();
    let now = t0 + 600;
    let inc = d.incident_mut(&id).unwrap();
    inc.status = Status::Resolved;
    inc.status_at = now;
    let within = d.observe(obs("late1", "b", now + 30 * 60, terms(SURGE[5])));
    assert_eq!(within.linked.map(|l| l.0), Some(id.clone()), "a resolved incident links during its grace period");
    let after = d.observe(obs("late2", "b", now + 61 * 60, terms(SURGE[6])));
    assert!(after.linked.as_ref().is_none_or(|l| l.0 != id));
    let inc = d.incident_mut(&id).unwrap();
    inc.status = Status::Dismissed;
    inc.status_at = now + 62 * 60;
    let dismissed = d.observe(obs("late3", "b", now + 63 * 60, terms(SURGE[7])));
    assert!(dismissed.linked.as_ref().is_none_or(|l| l.0 != id));
}

#[test]
fn a_quiet_suspected_incident_resolves_itself() {
    let (mut d, t0) = warmed(IncidentParams { quiet_hours: 2, ..params() }, 24);
    for (i, text) in SURGE[..5].iter().enumerate() {
        d.observe(obs(&format!("s{i}"), "a", t0 + i as i64 * 60, terms(text)));
    }
    let id = d.incidents()[0].id.clone();
    let out = d.observe(obs("later", "a", t0 + 3 * 3600, terms("printer toner")));
    assert_eq!(out.quieted, vec![id.clone()]);
    assert_eq!(d.incident(&id).unwrap().status, Status::Resolved);
}

#[test]
fn slow_arrivals_of_one_kind_never_fill_the_window() {
    // the same fault, once every 25 minutes: never min_tickets (4) in one 60-minute window
    let (mut d, t0) = warmed(params(), 24);
    for i in 0..8 {
        let out = d.observe(obs(&format!("s{i}"), "a", t0 + i * 25 * 60, terms(SURGE[i as usize])));
        assert!(out.opened.is_none());
    }
}

#[test]
fn arrivals_are_binned_per_ten_minutes() {
    let (mut d, t0) = warmed(params(), 24);
    for (i, text) in SURGE.iter().enumerate() {
        d.observe(obs(&format!("s{i}"), "a", t0 + i as i64 * 240, terms(text)));
    }
    let inc = &d.incidents()[0];
    // arrivals at 0, 4, 8, ..., 28 minutes
    assert_eq!(inc.arrivals_per_10_min(|_| true), vec![3, 2, 3]);
    assert_eq!(inc.arrivals_per_10_min(|m| m.triage_id == "s0"), vec![1, 0, 0]);
}

#[test]
fn poisson_tail_matches_known_values() {
    assert!((poisson_tail(0, 3.0) - 1.0).abs() < 1e-12);
    // P(X >= 5 | 1) = 1 - e^-1 (1 + 1 + 1/2 + 1/6 + 1/24)
    let expected = 1.0 - (-1.0f64).exp() * (1.0 + 1.0 + 0.5 + 1.0 / 6.0 + 1.0 / 24.0);
    assert!((poisson_tail(5, 1.0) - expected).abs() < 1e-12);
    assert!(poisson_tail(5, 0.01) < 1e-11);
    assert!(poisson_tail(3, 50.0) > 0.999_999);
}

#[test]
fn params_are_validated_with_the_setting_named() {
    assert!(IncidentParams::default().validate().is_ok());
    let bad = IncidentParams { similarity: 1.5, ..IncidentParams::default() };
    assert!(bad.validate().unwrap_err().contains("incidents.similarity"));
    let bad = IncidentParams { min_tickets: 1, ..IncidentParams::default() };
    assert!(bad.validate().unwrap_err().contains("incidents.min_tickets"));
}

#[test]
fn memory_follows_the_window_and_history_not_every_ticket_ever_seen() {
    // a flood of tickets of words never seen again, plus two common words, for a long time
    let mut d = Detector::new(IncidentParams { max_history_tickets: 500, max_window_tickets: 200, ..params() });
    let footprint = |d: &Detector| d.footprint();
    let mut after_warm_up = (0, 0, 0);
    for i in 0..20_000i64 {
        let mut t: Vec<String> = (0..6).map(|k| format!("u{i}x{k}")).collect();
        t.extend(["please".to_owned(), "help".to_owned()]);
        d.observe(obs(&format!("t{i}"), "a", i, t));
        if i == 2_000 {
            after_warm_up = footprint(&d);
        }
    }
    let (terms, window_postings, history_postings) = footprint(&d);
    let (t0, w0, h0) = after_warm_up;
    assert!(terms <= 2 * t0 + 70_000, "the vocabulary grew with every ticket: {t0} -> {terms}");
    assert!(window_postings <= 2 * w0, "window postings grew with every ticket: {w0} -> {window_postings}");
    assert!(history_postings <= 2 * h0, "history postings grew with every ticket: {h0} -> {history_postings}");
}

/// What one observation did: linked (incident, cosine), opened.
type Outcome = (Option<(String, f32)>, Option<String>);

#[test]
fn forgetting_unused_terms_changes_no_detection() {
    // words seen once, then a desk's background, then a surge: with the vocabulary compacted
    // often, and never, every ticket is linked, opened and scored alike
    let mut stream: Vec<Vec<String>> = (0..3_000).map(|i| (0..6).map(|k| format!("u{i}x{k}")).collect()).collect();
    stream.extend(background(1_500, 11));
    stream.extend(SURGE.iter().map(|s| terms(s)));
    stream.extend(background(300, 12));
    stream.extend(SURGE.iter().map(|s| terms(s)));
    let run = |slack: usize| {
        let mut d = Detector::new(IncidentParams { max_history_tickets: 1_000, max_window_tickets: 300, ..params() });
        d.vocab_slack = slack;
        let outcomes: Vec<Outcome> = stream
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let out = d.observe(obs(&format!("t{i}"), "a", i as i64 * 60, t.clone()));
                (out.linked, out.opened)
            })
            .collect();
        let incidents: Vec<(String, usize, Vec<String>)> =
            d.incidents().iter().map(|i| (i.id.clone(), i.members.len(), d.top_terms(i))).collect();
        (outcomes, incidents, d.footprint().0)
    };
    let (compacted, compacted_incidents, compacted_terms) = run(500);
    let (kept, kept_incidents, kept_terms) = run(usize::MAX / 4);
    assert!(compacted_terms < kept_terms, "compaction ran: {compacted_terms} terms kept of {kept_terms}");
    assert!(!kept_incidents.is_empty(), "the surge opened an incident");
    assert_eq!(compacted_incidents, kept_incidents);
    for (i, (a, b)) in compacted.iter().zip(&kept).enumerate() {
        assert_eq!(a.1, b.1, "ticket {i} opened");
        assert_eq!(a.0.as_ref().map(|l| &l.0), b.0.as_ref().map(|l| &l.0), "ticket {i} linked");
        let (x, y) = (a.0.as_ref().map_or(0.0, |l| l.1), b.0.as_ref().map_or(0.0, |l| l.1));
        assert!((x - y).abs() < 1e-5, "ticket {i}: similarity {x} and {y}");
    }
}

#[test]
fn another_tenant_sees_only_terms_two_tenants_wrote_or_its_own() {
    let (mut d, t0) = warmed(params(), 24);
    // tenant a's callers all name their own server; tenant b's never do
    let texts = [
        ("a", "outlook email cannot send srv0042"),
        ("b", "outlook email stuck outbox send"),
        ("a", "outlook email send fails srv0042"),
        ("b", "outlook email send error outbox"),
        ("a", "outlook cannot send email srv0042"),
        ("b", "outlook email outbox cannot send"),
    ];
    for (i, (tenant, text)) in texts.iter().enumerate() {
        d.observe(obs(&format!("s{i}"), tenant, t0 + i as i64 * 60, terms(text)));
    }
    let incident = d.incidents().first().expect("an incident");
    assert!(d.top_terms(incident).iter().any(|t| t == "srv0042"), "the server is among the heaviest terms");
    let anyone = d.top_terms_for(incident, |_| false);
    assert!(!anyone.iter().any(|t| t == "srv0042"), "never shown outside tenant a: {anyone:?}");
    assert!(anyone.iter().any(|t| t == "outlook"), "words both tenants wrote are: {anyone:?}");
    let a = d.top_terms_for(incident, |m| m.tenant.as_deref() == Some("a"));
    assert!(a.iter().any(|t| t == "srv0042"), "tenant a sees its own words: {a:?}");
}
