use super::*;

fn background(n: usize) -> Vec<BackgroundTicket> {
    (0..n).map(|i| background_ticket(&format!("ticket {i} about printer {}\nbody of ticket {i}", i % 7))).collect()
}

fn queries(articles: usize) -> Vec<FaqQuery> {
    (0..articles)
        .flat_map(|a| {
            (0..5).map(move |p| FaqQuery { query: format!("article {a} wording {p} of the fault"), article_id: format!("FAQ-{a:03}") })
        })
        .collect()
}

fn stream(params: &StreamParams) -> Stream {
    generate(params, &background(500), &queries(20)).unwrap()
}

fn hour_of(at: i64) -> i64 {
    (at - SIM_START).rem_euclid(DAY) / 3600
}

fn day_of(at: i64) -> u32 {
    ((at - SIM_START) / DAY) as u32
}

#[test]
fn the_hourly_profile_sums_to_one_with_85_percent_in_office_hours() {
    assert!((HOURLY_SHARE.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let office: f64 = HOURLY_SHARE[8..18].iter().sum();
    assert!((office - 0.85).abs() < 1e-9, "{office}");
    let mut hours: Vec<usize> = (0..24).collect();
    hours.sort_by(|a, b| HOURLY_SHARE[*b].total_cmp(&HOURLY_SHARE[*a]));
    assert_eq!(hours[..2], [9, 10], "the peak is 09:00-11:00");
}

#[test]
fn one_seed_gives_one_stream_and_another_seed_another() {
    let params = StreamParams { days: 9, warmup_days: 7, ..StreamParams::default() };
    assert_eq!(stream(&params), stream(&params));
    let other = stream(&StreamParams { seed: 2, ..params.clone() });
    assert_ne!(stream(&params).tickets, other.tickets);
}

#[test]
fn background_arrives_at_the_desk_rate_with_office_hours_and_quiet_weekends() {
    let params = StreamParams { surges: 0, ..StreamParams::default() };
    let s = stream(&params);
    assert!(s.tickets.windows(2).all(|w| w[0].at <= w[1].at), "in time order");
    let weekday: Vec<&StreamTicket> = s.tickets.iter().filter(|t| weekday(day_of(t.at))).collect();
    let weekend = s.tickets.len() - weekday.len();
    let per_weekday = weekday.len() as f64 / 10.0;
    assert!((per_weekday - 600.0).abs() < 30.0, "4 tenants x 150 a weekday: {per_weekday}");
    let weekend_ratio = weekend as f64 / 4.0 / per_weekday;
    assert!((0.07..0.13).contains(&weekend_ratio), "weekends ~10%: {weekend_ratio}");
    let office = weekday.iter().filter(|t| (8..18).contains(&hour_of(t.at))).count() as f64 / weekday.len() as f64;
    assert!((0.82..0.88).contains(&office), "office hours carry ~85%: {office}");
    let peak = weekday.iter().filter(|t| (9..11).contains(&hour_of(t.at))).count() as f64 / weekday.len() as f64;
    assert!((0.23..0.29).contains(&peak), "09:00-11:00 carry ~26%: {peak}");
    for tenant in 1..=4 {
        let n = s.tickets.iter().filter(|t| t.tenant.as_deref() == Some(&format!("tenant-{tenant}"))).count();
        assert!((n as f64 - s.tickets.len() as f64 / 4.0).abs() < 150.0, "tenants share the volume: {n}");
    }
}

#[test]
fn surges_stay_within_their_bounds_in_scored_office_hours() {
    for seed in 1..6 {
        let params = StreamParams { seed, days: 10, ..StreamParams::default() };
        let s = stream(&params);
        let mut surges: BTreeMap<&str, Vec<&StreamTicket>> = BTreeMap::new();
        for t in s.tickets.iter().filter(|t| t.incident.is_some()) {
            surges.entry(t.incident.as_deref().unwrap()).or_default().push(t);
        }
        assert_eq!(surges.len(), 10, "seed {seed}");
        let mut articles: Vec<&str> = surges.keys().map(|id| id.split_once('-').unwrap().1).collect();
        articles.dedup();
        assert_eq!(articles.len(), 10, "one article per surge");
        for (id, tickets) in &surges {
            assert!((8..=30).contains(&tickets.len()), "{id}: {} tickets", tickets.len());
            let minutes = (tickets.last().unwrap().at - tickets[0].at) as f64 / 60.0;
            assert!((10.0..=60.0).contains(&minutes), "{id}: {minutes} minutes");
            let (day, start, end) = (day_of(tickets[0].at), hour_of(tickets[0].at), tickets.last().unwrap().at - SIM_START);
            assert!(day >= 7 && weekday(day), "{id} on day {day}");
            assert!(start >= 8 && end <= i64::from(day) * DAY + 18 * 3600, "{id} within office hours");
            let mut tenants: Vec<&str> = tickets.iter().map(|t| t.tenant.as_deref().unwrap()).collect();
            tenants.sort_unstable();
            tenants.dedup();
            assert!((1..=4).contains(&tenants.len()));
            let first: Vec<&str> = tickets[..5].iter().map(|t| t.title.as_deref().unwrap()).collect();
            let mut distinct = first.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 5, "{id}: the first five are the distinct paraphrases: {first:?}");
            assert!(tickets[5..].iter().all(|t| !first.contains(&t.title.as_deref().unwrap())), "later ones are perturbed");
        }
    }
}

#[test]
fn a_replay_written_reads_back_the_same_stream() {
    let s = stream(&StreamParams { days: 9, ..StreamParams::default() });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.jsonl");
    write_replay(&s, &path).unwrap();
    let back = read_replay(&path, 7).unwrap();
    assert_eq!(back, s);
    let first = std::fs::read_to_string(&path).unwrap().lines().next().unwrap().to_owned();
    assert!(first.starts_with("{\"at\":\"2026-01-05T00:"), "{first}");
}

#[test]
fn a_replay_out_of_time_order_is_refused_naming_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(
        &path,
        "{\"at\":\"2026-01-05T09:00:00Z\",\"tenant\":\"a\",\"title\":\"x\",\"description\":null,\"incident\":null}\n\
         {\"at\":\"2026-01-05T08:00:00+00:00\",\"tenant\":\"a\",\"title\":\"y\",\"description\":null,\"incident\":null}\n",
    )
    .unwrap();
    let err = read_replay(&path, 0).unwrap_err().to_string();
    assert!(err.contains("line 2") && err.contains("time order"), "{err}");
}

#[test]
fn a_perturbed_paraphrase_gains_a_courtesy_or_loses_one_word() {
    let mut rng = SplitMix(3);
    let text = "cannot push to my github repository";
    for _ in 0..50 {
        let p = perturb(text, &mut rng);
        let prefixed = SURGE_PREFIXES.iter().any(|x| p == format!("{x} {text}"));
        let suffixed = SURGE_SUFFIXES.iter().any(|x| p == format!("{text} {x}"));
        let dropped = p.split_whitespace().count() == 5 && p.split_whitespace().all(|w| text.contains(w));
        assert!(prefixed || suffixed || dropped, "{p}");
    }
}

#[test]
fn a_background_source_names_a_file_and_its_columns() {
    let s = BackgroundSource::parse("data/a=b.csv=short_description,description").unwrap();
    assert_eq!((s.path, s.columns), (PathBuf::from("data/a=b.csv"), vec!["short_description".to_owned(), "description".to_owned()]));
    assert!(BackgroundSource::parse("tickets.csv").is_err());
    assert!(BackgroundSource::parse("tickets.csv=").is_err());
    let long = "x".repeat(600);
    assert_eq!(background_ticket(&long).title, None, "a first line too long for a title goes in the description");
}
