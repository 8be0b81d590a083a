use triage_core::article::Article;
use triage_core::tenant::TenantId;
use triage_store::GapCandidate;

use super::{GapParams, find_gaps};

fn candidate(id: &str, at: &str, text: &str, notes: Option<&str>) -> GapCandidate {
    GapCandidate {
        triage_id: id.into(),
        external_id: Some(format!("INC-{id}")),
        created_at: at.into(),
        text: text.into(),
        no_good_fix: true,
        not_helpful: false,
        category: Some("printing".into()),
        assignment_group: Some("print-services".into()),
        resolution_notes: notes.map(str::to_owned),
    }
}

fn sample() -> Vec<GapCandidate> {
    vec![
        candidate("a1", "2026-11-20T09:00:00Z", "Plotter in planning prints blank sheets\nThe large plotter prints blank pages", None),
        candidate(
            "b1",
            "2026-11-20T09:30:00Z",
            "Parking permit portal rejects renewals\nresidents cannot renew parking permits online",
            None,
        ),
        candidate(
            "a2",
            "2026-11-20T10:00:00Z",
            "plotter printing blank pages again\nplanning plotter gives blank sheets",
            Some("Replaced the plotter ink head\nand ran a calibration"),
        ),
        candidate("a3", "2026-11-21T08:00:00Z", "blank prints from the planning plotter", Some("cleaned the plotter print head")),
        candidate("b2", "2026-11-21T09:00:00Z", "parking permits renewal fails on portal", None),
        candidate("c1", "2026-11-21T10:00:00Z", "[piiemail] asked about zyxwv plugh frobnicate", None),
    ]
}

#[test]
fn paraphrases_group_together_and_unrelated_tickets_apart_largest_first() {
    let tenant = TenantId::parse("northmoor").unwrap();
    let gaps = find_gaps(&sample(), &tenant, &GapParams::default(), "2026-11-30");
    let members: Vec<Vec<&str>> = gaps.iter().map(|g| g.representatives.iter().map(|r| r.triage_id.as_str()).collect()).collect();
    assert_eq!(gaps.len(), 3, "{members:?}");
    assert_eq!(gaps.iter().map(|g| g.size).collect::<Vec<_>>(), vec![3, 2, 1], "{members:?}");
    let mut plotter = members[0].clone();
    plotter.sort_unstable();
    assert_eq!(plotter, vec!["a1", "a2", "a3"]);
    assert!(gaps[0].top_terms.iter().any(|t| t == "plotter"), "{:?}", gaps[0].top_terms);
    assert_eq!((gaps[0].first_seen.as_str(), gaps[0].last_seen.as_str()), ("2026-11-20T09:00:00Z", "2026-11-21T08:00:00Z"));
    assert_eq!(gaps[0].resolution_notes, vec!["cleaned the plotter print head", "Replaced the plotter ink head and ran a calibration"]);
    assert_eq!(gaps[0].category.as_deref(), Some("printing"));
    let mut parking = members[1].clone();
    parking.sort_unstable();
    assert_eq!(parking, vec!["b1", "b2"]);
}

#[test]
fn gaps_are_deterministic_and_their_ids_stable_across_input_order() {
    let tenant = TenantId::parse("northmoor").unwrap();
    let once = find_gaps(&sample(), &tenant, &GapParams::default(), "2026-11-30");
    let mut reversed = sample();
    reversed.reverse();
    assert_eq!(once, find_gaps(&reversed, &tenant, &GapParams::default(), "2026-11-30"));
    assert!(once.iter().all(|g| g.id.starts_with("gap-") && g.id.len() == 16), "{:?}", once.iter().map(|g| &g.id).collect::<Vec<_>>());
    let limited = find_gaps(&sample(), &tenant, &GapParams { limit: 1, ..GapParams::default() }, "2026-11-30");
    assert_eq!(limited.len(), 1);
    assert!(find_gaps(&[], &tenant, &GapParams::default(), "2026-11-30").is_empty());
}

#[test]
fn every_draft_passes_the_kb_check_as_a_draft_and_is_not_served() {
    let tenant = TenantId::parse("northmoor").unwrap();
    let gaps = find_gaps(&sample(), &tenant, &GapParams::default(), "2026-11-30");
    let dir = tempfile::tempdir().unwrap();
    for gap in &gaps {
        let article = Article::parse(&gap.draft).unwrap_or_else(|p| panic!("{p:?}\n{}", gap.draft));
        assert!(article.draft);
        assert_eq!(article.id, gap.draft_id);
        assert_eq!(article.audience.index_terms(), vec!["northmoor"], "scoped to the tenant");
        std::fs::write(dir.path().join(format!("{}.md", gap.draft_id)), &gap.draft).unwrap();
    }
    let plotter = Article::parse(&gaps[0].draft).unwrap();
    assert_eq!(plotter.category, "printing");
    assert_eq!(plotter.escalation_group, "print-services");
    assert_eq!(plotter.steps.len(), 2, "one step per resolution note");
    assert!(gaps[0].draft.contains("## Symptoms"));
    // `triage kb check` runs exactly this
    let loaded = triage_kb::loader::load_dir(dir.path()).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!((loaded.drafts, loaded.articles.len()), (gaps.len(), 0));
}
