//! The internal note written on a source ticket: the predicted labels, the likely fixes and the
//! first-contact estimate, from a desk's template. Every note ends with a reference line that
//! carries the action's marker, so a delivery in doubt can be checked on the ticket itself.

use triage_engine::{Decision, TriageOutcome};

/// Placeholders a template may use.
pub const PLACEHOLDERS: [&str; 4] = ["labels", "fixes", "first_contact", "triage_id"];

const DEFAULT: &str = "Suggested by triage (internal note)\n\n{labels}\n\nLikely fixes:\n{fixes}\n\nFirst contact: {first_contact}";

/// Prefix of the reference line (followed by the marker).
pub const REF_PREFIX: &str = "triage-ref: ";

/// A checked note template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteTemplate(String);

impl NoteTemplate {
    /// Checks a template (`None`: the default); an unknown `{placeholder}` is refused.
    pub fn parse(template: Option<&str>) -> Result<Self, String> {
        let t = template.unwrap_or(DEFAULT);
        let mut rest = t;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let close = after.find('}').ok_or_else(|| "note_template has a `{` without its `}`".to_owned())?;
            let name = &after[..close];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!("note_template uses {{{name}}}; the placeholders are {PLACEHOLDERS:?}"));
            }
            rest = &after[close + 1..];
        }
        if t.trim().is_empty() {
            return Err("note_template is empty".into());
        }
        Ok(Self(t.to_owned()))
    }

    /// The note for one triage, ending with the reference line.
    pub fn render(&self, outcome: &TriageOutcome, fixes: usize, marker: &str) -> String {
        let labels = if outcome.labels.is_empty() {
            "Labels: none (no model loaded)".to_owned()
        } else {
            outcome
                .labels
                .iter()
                .map(|p| format!("- {}: {} ({:.0}%, {})", p.head.replace('_', " "), p.label, p.probability * 100.0, decision(p.decision)))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let fixes = if outcome.suggestions.is_empty() {
            "(none found)".to_owned()
        } else {
            outcome
                .suggestions
                .iter()
                .take(fixes)
                .enumerate()
                .map(|(i, s)| {
                    let kind = match s.kind {
                        triage_core::suggestion::SuggestionKind::Article => "article",
                        triage_core::suggestion::SuggestionKind::Ticket => "similar ticket",
                        triage_core::suggestion::SuggestionKind::Incident => "major incident",
                    };
                    let mut line = format!("{}. {} ({kind} {})", i + 1, s.title, s.id);
                    for step in s.steps.iter().take(3) {
                        line.push_str(&format!("\n   - {step}"));
                    }
                    line
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let fc = &outcome.first_contact;
        let first_contact = format!("{} ({:.0}%)", decision(fc.decision), fc.probability * 100.0);
        let body = self
            .0
            .replace("{labels}", &labels)
            .replace("{fixes}", &fixes)
            .replace("{first_contact}", &first_contact)
            .replace("{triage_id}", &outcome.triage_id.to_string());
        format!("{body}\n\n{REF_PREFIX}{marker}")
    }
}

fn decision(d: Decision) -> &'static str {
    match d {
        Decision::Auto => "auto",
        Decision::Suggest => "suggest",
        Decision::Abstain => "not sure",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_only_known_placeholders() {
        assert!(NoteTemplate::parse(None).is_ok());
        assert!(NoteTemplate::parse(Some("Fixes:\n{fixes}\n{triage_id}")).is_ok());
        assert!(NoteTemplate::parse(Some("{caller}")).unwrap_err().contains("{caller}"));
        assert!(NoteTemplate::parse(Some("{fixes")).unwrap_err().contains("without its"));
        assert!(NoteTemplate::parse(Some("  ")).is_err());
    }
}
