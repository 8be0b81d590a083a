//! The draft article of a knowledge-base gap: Markdown with the front matter of
//! `knowledge-base/README.md` and `draft: true`, so `triage kb check` checks it and the service
//! does not serve it until an admin reviews it and removes the key.

use std::fmt::Write;

use triage_core::article::MIN_SYMPTOMS;
use triage_core::tenant::TenantId;

use crate::gaps::{Gap, one_line};

/// Category when the model predicted none (an admin picks one before publishing).
const FALLBACK_CATEGORY: &str = "software-and-access";
/// Escalation group when the model predicted none.
const FALLBACK_ESCALATION: &str = "service-desk";
const TITLE_CHARS: usize = 100;

/// A front-matter scalar: one line, quoted so a leading `[` or `"` is never read as a list.
fn scalar(text: &str) -> String {
    format!("\"{}\"", one_line(text))
}

fn is_slug(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// A representative ticket's title, at most [`TITLE_CHARS`] characters, never empty.
fn title_of(title: &str) -> String {
    let t: String = title.chars().take(TITLE_CHARS).collect();
    let t = t.trim();
    if t.is_empty() { "Untitled knowledge-base gap".to_owned() } else { t.to_owned() }
}

/// Renders the draft of `gap` for `tenant`; `escalation` is the most common predicted
/// assignment group, `today` the `updated` date.
pub(crate) fn draft_article(gap: &Gap, tenant: &TenantId, escalation: Option<&str>, today: &str) -> String {
    let title = gap.representatives.first().map_or_else(|| "Untitled knowledge-base gap".to_owned(), |r| title_of(&r.title));
    let category = gap.category.as_deref().filter(|c| is_slug(c)).unwrap_or(FALLBACK_CATEGORY);
    let escalation = escalation.filter(|g| is_slug(g)).unwrap_or(FALLBACK_ESCALATION);
    let tags: Vec<&str> =
        gap.top_terms.iter().map(String::as_str).filter(|t| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '-')).collect();
    let mut symptoms: Vec<String> = Vec::new();
    for r in &gap.representatives {
        let s = title_of(&r.title);
        if !symptoms.contains(&s) {
            symptoms.push(s);
        }
    }
    // an article needs MIN_SYMPTOMS phrases: fill from the top terms for the admin to rewrite
    let mut fill = gap.top_terms.iter();
    while symptoms.len() < MIN_SYMPTOMS {
        let phrase = match fill.next() {
            Some(t) if !symptoms.contains(t) => t.clone(),
            Some(_) => continue,
            None => format!("(symptom {} to write)", symptoms.len() + 1),
        };
        symptoms.push(phrase);
    }

    let mut out = String::new();
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "# draft from knowledge-base gap {} ({} tickets, {} to {})", gap.id, gap.size, gap.first_seen, gap.last_seen);
    let _ = writeln!(out, "# review every field, then remove `draft: true` to publish");
    let _ = writeln!(out, "id: {}", gap.draft_id);
    let _ = writeln!(out, "title: {}", scalar(&title));
    let _ = writeln!(out, "summary: {}", scalar(&format!("What fixed {} tickets the knowledge base had no good fix for.", gap.size)));
    let _ = writeln!(out, "category: {category}");
    let _ = writeln!(out, "tags: [{}]", tags.join(", "));
    let _ = writeln!(out, "tenants: [{tenant}]");
    let _ = writeln!(out, "symptoms:");
    for s in &symptoms {
        let _ = writeln!(out, "  - {}", scalar(s));
    }
    let _ = writeln!(out, "escalation_group: {escalation}");
    let _ = writeln!(out, "updated: {today}");
    let _ = writeln!(out, "draft: true");
    let _ = writeln!(out, "---");
    let _ = writeln!(out, "\n## Symptoms\n");
    for r in &gap.representatives {
        let _ = writeln!(out, "- {} ({})", r.snippet, r.external_id.as_deref().unwrap_or(&r.triage_id));
    }
    let _ = writeln!(out, "\n## Resolution\n");
    if gap.resolution_notes.is_empty() {
        let _ = writeln!(out, "1. No ticket of this gap is resolved with notes yet: write the steps agents used.");
    }
    for (i, note) in gap.resolution_notes.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, one_line(note));
    }
    let _ = writeln!(out, "\n## Escalation\n\nPass to {escalation} with the ticket's details if these steps do not fix it.");
    out
}
