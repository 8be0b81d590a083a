use std::sync::Arc;

use triage_store::{SqliteStore, Store, TriageRecord};

use super::*;

const SURGE: [&str; 6] = [
    "outlook email cannot send",
    "outlook email stuck outbox",
    "cannot send email outlook error",
    "outlook email send stuck",
    "email outlook send fails",
    "outlook email outbox send",
];

fn terms(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn params() -> IncidentParams {
    IncidentParams { min_history: 0, ..IncidentParams::default() }
}

fn offer_surge(incidents: &Incidents, tenant: &str) {
    let now = Timestamp::now().unix_seconds();
    for (i, text) in SURGE.iter().enumerate() {
        incidents.offer(|| Observation {
            triage_id: format!("{tenant}-{i}"),
            tenant: Some(tenant.into()),
            at: now,
            terms: terms(text),
            title: (*text).into(),
            hint: None,
        });
    }
    incidents.flush();
}

#[test]
fn incidents_and_their_links_survive_a_restart_and_still_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.db");
    let id = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let incidents = Incidents::start(params(), store).unwrap();
        offer_surge(&incidents, "north");
        let list = incidents.list(None, None);
        assert_eq!(list.len(), 1, "the surge opened one incident");
        let confirmed = incidents.act(&list[0].id, None, &IncidentAction::Confirm(Some("Use webmail".into()))).unwrap();
        assert_eq!(confirmed.status, Status::Confirmed);
        list[0].id.clone()
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let incidents = Incidents::start(params(), store).unwrap();
    let back = incidents.get(&id, None).unwrap();
    assert_eq!(back.status, Status::Confirmed);
    assert_eq!(back.message.as_deref(), Some("Use webmail"));
    assert_eq!(back.count, SURGE.len());
    assert_eq!(back.members.unwrap().len(), SURGE.len());
    // the centroid came back from the members' stored terms
    let m = incidents.matching(&terms("outlook email send outbox"), Timestamp::now().unix_seconds()).expect("still matches");
    assert_eq!((m.id.as_str(), m.status), (id.as_str(), Status::Confirmed));
    assert_eq!(m.message.as_deref(), Some("Use webmail"));
    assert!(incidents.matching(&terms("printer toner jammed"), Timestamp::now().unix_seconds()).is_none());
}

#[test]
fn the_baseline_is_seeded_from_stored_triages_at_start() {
    let store = SqliteStore::open_in_memory().unwrap();
    let now = Timestamp::now().unix_seconds();
    let records: Vec<TriageRecord> = (0..30)
        .map(|i| TriageRecord {
            triage_id: format!("t{i}"),
            tenant: None,
            external_id: None,
            // one record too old for the 7-day baseline
            created_at: Timestamp::from_unix_seconds(now - if i == 0 { 8 * 86_400 } else { 3600 + i }).to_stored(),
            model_version: None,
            labels: serde_json::json!({}),
            suggestions: vec![],
            text: Some(format!("printer {i} jammed on floor")),
            no_good_fix: false,
        })
        .collect();
    store.record_triages(&records).unwrap();
    let incidents = Incidents::start(IncidentParams { min_history: 10, ..IncidentParams::default() }, Arc::new(store)).unwrap();
    assert_eq!(incidents.shared.lock().history_len(), 29);
}

#[test]
fn a_tenant_sees_only_incidents_it_is_part_of_and_only_its_members() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let incidents = Incidents::start(params(), store).unwrap();
    let now = Timestamp::now().unix_seconds();
    for (i, text) in SURGE.iter().enumerate() {
        let tenant = if i % 2 == 0 { "north" } else { "east" };
        incidents.offer(|| Observation {
            triage_id: format!("t{i}"),
            tenant: Some(tenant.into()),
            at: now,
            terms: terms(text),
            title: format!("{tenant} {text}"),
            hint: None,
        });
    }
    incidents.flush();
    let north = TenantId::parse("north").unwrap();
    let south = TenantId::parse("south").unwrap();
    let list = incidents.list(Some(&north), None);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].tenants, ["east", "north"]);
    assert!(list[0].title.starts_with("north "), "the title comes from the viewer's own ticket: {}", list[0].title);
    let detail = incidents.get(&list[0].id, Some(&north)).unwrap();
    assert!(detail.members.unwrap().iter().all(|m| m.tenant.as_deref() == Some("north")));
    assert!(incidents.list(Some(&south), None).is_empty());
    assert!(matches!(incidents.get(&list[0].id, Some(&south)), Err(EngineError::NotFound(Resource::Incident))));
    assert!(matches!(
        incidents.act(&list[0].id, Some(&south), &IncidentAction::Resolve(None)),
        Err(EngineError::NotFound(Resource::Incident))
    ));
}

#[test]
fn disabled_detection_matches_and_keeps_nothing() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let incidents = Incidents::start(IncidentParams { enabled: false, ..params() }, store).unwrap();
    offer_surge(&incidents, "north");
    assert!(!incidents.enabled());
    assert!(incidents.list(None, Some(&[Status::Suspected, Status::Confirmed, Status::Resolved, Status::Dismissed])).is_empty());
}

#[test]
fn at_most_max_per_second_tickets_a_second_reach_the_detector() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let incidents = Incidents::start(IncidentParams { max_per_second: 3, ..params() }, store).unwrap();
    let mut made = 0;
    for i in 0..10 {
        incidents.offer(|| {
            made += 1;
            Observation { triage_id: format!("t{i}"), tenant: None, at: 0, terms: terms("vpn down"), title: String::new(), hint: None }
        });
    }
    // ten offers span at most two one-second windows: 3 to 6 taken, the rest counted and never built
    assert!((3..=6).contains(&made), "{made} taken");
    assert_eq!(incidents.dropped(), 10 - made as u64);
}

#[test]
fn a_blank_message_on_confirm_or_resolve_is_no_message() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let incidents = Incidents::start(params(), store).unwrap();
    offer_surge(&incidents, "north");
    let id = incidents.list(None, None)[0].id.clone();
    // a blank message would raise first contact to 0.9 with nothing to tell the caller
    let confirmed = incidents.act(&id, None, &IncidentAction::Confirm(Some(" \n\t ".into()))).unwrap();
    assert_eq!(confirmed.message, None);
    let m = incidents.matching(&terms("outlook email send outbox"), Timestamp::now().unix_seconds()).unwrap();
    assert_eq!(m.message, None);
    // a blank final message keeps the one agents were given
    incidents.act(&id, None, &IncidentAction::Message("Use webmail".into())).unwrap();
    let resolved = incidents.act(&id, None, &IncidentAction::Resolve(Some("   ".into()))).unwrap();
    assert_eq!(resolved.message.as_deref(), Some("Use webmail"));
}

#[test]
fn an_admin_action_while_the_detector_writes_a_link_is_what_the_store_keeps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.db");
    let id = {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let incidents = Incidents::start(params(), store).unwrap();
        offer_surge(&incidents, "north");
        let id = incidents.list(None, None)[0].id.clone();
        // the detector links one more ticket and stops just before writing it
        let (reached_tx, reached) = std::sync::mpsc::channel();
        let (go, go_rx) = std::sync::mpsc::channel();
        *incidents.shared.before_write.lock().unwrap() = Some((reached_tx, go_rx));
        incidents.offer(|| Observation {
            triage_id: "north-late".into(),
            tenant: Some("north".into()),
            at: Timestamp::now().unix_seconds(),
            terms: terms("outlook email send stuck outbox"),
            title: "late".into(),
            hint: None,
        });
        reached.recv_timeout(Duration::from_secs(10)).expect("the late ticket was linked");
        let confirmed = std::thread::scope(|s| {
            let act = s.spawn(|| incidents.act(&id, None, &IncidentAction::Confirm(Some("Use webmail".into()))).unwrap());
            std::thread::sleep(Duration::from_millis(50));
            go.send(()).unwrap();
            act.join().unwrap()
        });
        assert_eq!(confirmed.status, Status::Confirmed);
        incidents.flush();
        assert_eq!(incidents.get(&id, None).unwrap().count, SURGE.len() + 1);
        id
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let back = Incidents::start(params(), store).unwrap().get(&id, None).unwrap();
    assert_eq!((back.status, back.message.as_deref()), (Status::Confirmed, Some("Use webmail")), "the store kept a stale row");
    assert_eq!(back.count, SURGE.len() + 1);
}

#[test]
fn the_leaders_feed_never_waits_and_keeps_the_rate_bound_after_taking_over() {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
    let record = |i: usize, at: i64| TriageRecord {
        triage_id: format!("t{i}"),
        tenant: Some(triage_core::tenant::TenantId::parse("north").unwrap()),
        external_id: None,
        created_at: Timestamp::from_unix_seconds(at).to_stored(),
        model_version: None,
        labels: serde_json::json!({}),
        suggestions: vec![],
        text: Some(format!("printer {i} jammed on floor")),
        no_good_fix: false,
    };
    let now = Timestamp::now().unix_seconds();
    // the last window, read whole on taking the lead (up to the queue's bound)
    store.record_triages(&(0..150).map(|i| record(i, now - 600)).collect::<Vec<_>>()).unwrap();
    let incidents = Incidents::start(IncidentParams { max_per_second: 100, ..params() }, store.clone()).unwrap();
    let mut feed = StoreFeed::default();
    assert_eq!(incidents.feed_from_store(&mut feed, true).unwrap(), 150, "the window is replayed whole");
    // then a flood: at most max_per_second a second go in and the rest is counted as dropped
    // (a feed that waited for the detector would have delivered all 300)
    store.record_triages(&(150..450).map(|i| record(i, Timestamp::now().unix_seconds())).collect::<Vec<_>>()).unwrap();
    let offered = incidents.feed_from_store(&mut feed, true).unwrap();
    assert!(offered <= 100, "{offered} taken in one second");
    assert!(incidents.dropped() >= 200, "the rest counted as dropped: {}", incidents.dropped());
    incidents.flush();
}
