//! Knowledge-base articles: parsed from Markdown with front matter, checked field by field.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::front_matter::{self, Entry, Problem, Value};
use crate::tenant::{Audience, TenantId};

/// The keys an article's front matter must carry, in the documented order.
pub const ARTICLE_KEYS: [&str; 9] = ["id", "title", "summary", "category", "tags", "tenants", "symptoms", "escalation_group", "updated"];

/// An optional key: `draft: true` marks an article as a draft. `triage kb check` checks it like
/// any article, the loader counts it and the service does not serve it (knowledge-base gap
/// drafts are written this way for an admin to review).
pub const DRAFT_KEY: &str = "draft";

/// Fewest symptoms an article may list.
pub const MIN_SYMPTOMS: usize = 3;

/// A checked knowledge-base article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// Slug that names the article: 3-80 lower-case letters, digits or hyphens. Unique across the knowledge base.
    pub id: String,
    /// One-line headline shown in search results and suggestions.
    pub title: String,
    /// One or two sentences on what the article fixes, shown under the title.
    pub summary: String,
    /// Slug of the ticket category the article belongs to (2-64 lower-case letters, digits or hyphens).
    pub category: String,
    /// Free-form search tags; may be empty.
    pub tags: Vec<String>,
    /// Which tenants may see the article: everyone (`[all]`) or the listed tenants.
    pub audience: Audience,
    /// How users describe the problem, in their words; at least [`MIN_SYMPTOMS`] of them.
    pub symptoms: Vec<String>,
    /// Slug of the team to pass the ticket to when the steps do not fix it.
    pub escalation_group: String,
    /// `YYYY-MM-DD` of the last review.
    pub updated: String,
    /// Markdown body, as written.
    pub body: String,
    /// The numbered steps of the `## Resolution` section.
    pub steps: Vec<String>,
    /// Hex SHA-256 of the source file, used to re-index only what changed.
    pub content_hash: String,
    /// `draft: true` in the front matter: checked, never served.
    #[serde(default)]
    pub draft: bool,
}

impl Article {
    /// Parses and checks one article. All problems are returned, each with its line.
    pub fn parse(source: &str) -> Result<Self, Vec<Problem>> {
        let fm = front_matter::parse(source)?;
        let mut problems = Vec::new();
        for entry in &fm.entries {
            if !ARTICLE_KEYS.contains(&entry.key.as_str()) && entry.key != DRAFT_KEY {
                problems
                    .push(Problem::new(entry.line, format!("unknown key `{}`; allowed keys are {}", entry.key, ARTICLE_KEYS.join(", "))));
            }
        }
        let mut fields = Fields { fm: &fm, problems: &mut problems };
        let id = fields.scalar("id").filter(|v| fields.check_slug("id", v, 3, 80));
        let title = fields.scalar("title");
        let summary = fields.scalar("summary");
        let category = fields.scalar("category").filter(|v| fields.check_slug("category", v, 2, 64));
        let tags = fields.list("tags");
        let tenants = fields.list("tenants").and_then(|t| fields.audience(t));
        let symptoms = fields.list("symptoms").filter(|s| fields.check_min_items("symptoms", s, MIN_SYMPTOMS));
        let escalation_group = fields.scalar("escalation_group").filter(|v| fields.check_slug("escalation_group", v, 2, 64));
        let updated = fields.scalar("updated").filter(|v| fields.check_date("updated", v));
        let draft = fields.draft();
        let steps = resolution_steps(fm.body);
        if steps.is_empty() {
            problems.push(Problem::new(fm.body_line, "body needs a `## Resolution` section with numbered steps (`1. ...`)"));
        }
        match (id, title, summary, category, tags, tenants, symptoms, escalation_group, updated) {
            (
                Some(id),
                Some(title),
                Some(summary),
                Some(category),
                Some(tags),
                Some(audience),
                Some(symptoms),
                Some(escalation_group),
                Some(updated),
            ) if problems.is_empty() => Ok(Article {
                id,
                title,
                summary,
                category,
                tags,
                audience,
                symptoms,
                escalation_group,
                updated,
                body: fm.body.trim().to_owned(),
                steps,
                content_hash: content_hash(source.as_bytes()),
                draft,
            }),
            _ => Err(problems),
        }
    }

    /// The body as plain text for indexing and snippets: Markdown heading marks and emphasis removed.
    pub fn plain_body(&self) -> String {
        let mut out = String::with_capacity(self.body.len());
        for line in self.body.lines() {
            let line = line.trim_start_matches('#').trim();
            if line.is_empty() {
                continue;
            }
            out.push_str(&line.replace("**", "").replace('`', ""));
            out.push('\n');
        }
        out
    }
}

/// Hex SHA-256 of `bytes`.
pub fn content_hash(bytes: &[u8]) -> String {
    to_hex(&Sha256::digest(bytes))
}

/// Lower-case hex of `bytes`, in one allocation.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        hex.push(DIGITS[usize::from(b >> 4)] as char);
        hex.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    hex
}

/// The numbered items of the `## Resolution` section; indented continuation lines join their step.
pub fn resolution_steps(body: &str) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    let mut inside = false;
    for line in body.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            inside = heading.trim().eq_ignore_ascii_case("resolution");
            continue;
        }
        if !inside || trimmed.is_empty() {
            continue;
        }
        let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &trimmed[digits..];
        if digits > 0 && (rest.starts_with(". ") || rest.starts_with(") ")) {
            steps.push(rest[2..].trim().to_owned());
        } else if let Some(last) = steps.last_mut()
            && line.starts_with([' ', '\t'])
        {
            last.push(' ');
            last.push_str(trimmed);
        }
    }
    steps
}

struct Fields<'a, 'b> {
    fm: &'a front_matter::FrontMatter<'b>,
    problems: &'a mut Vec<Problem>,
}

impl Fields<'_, '_> {
    fn entry(&mut self, key: &str) -> Option<(&Value, usize)> {
        match self.fm.entries.iter().find(|e| e.key == key) {
            Some(e) => Some((&e.value, e.line)),
            None => {
                self.problems.push(Problem::new(self.fm.end_line, format!("missing required key `{key}`")));
                None
            }
        }
    }

    fn scalar(&mut self, key: &str) -> Option<String> {
        match self.entry(key)? {
            (Value::Scalar(s), _) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            (_, line) => {
                self.problems.push(Problem::new(line, format!("`{key}` must be a one-line text value")));
                None
            }
        }
    }

    fn list(&mut self, key: &str) -> Option<Vec<String>> {
        match self.entry(key)? {
            (Value::List(items), _) => Some(items.clone()),
            (Value::Scalar(_), line) => {
                self.problems.push(Problem::new(line, format!("`{key}` must be a list, such as `[a, b]`")));
                None
            }
        }
    }

    /// The optional `draft` key: absent or `false` is a served article, `true` a draft.
    fn draft(&mut self) -> bool {
        match self.fm.entries.iter().find(|e| e.key == DRAFT_KEY) {
            None => false,
            Some(Entry { value: Value::Scalar(v), .. }) if v == "true" || v == "false" => v == "true",
            Some(e) => {
                self.problems.push(Problem::new(e.line, format!("`{DRAFT_KEY}` must be `true` or `false`")));
                false
            }
        }
    }

    fn line_of(&self, key: &str) -> usize {
        self.fm.entries.iter().find(|e| e.key == key).map_or(1, |e| e.line)
    }

    fn check_slug(&mut self, key: &str, value: &str, min: usize, max: usize) -> bool {
        let ok = (min..=max).contains(&value.len())
            && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !value.starts_with('-')
            && !value.ends_with('-');
        if !ok {
            let line = self.line_of(key);
            self.problems
                .push(Problem::new(line, format!("`{key}` must be {min}-{max} lower-case letters, digits or hyphens, found `{value}`")));
        }
        ok
    }

    fn check_min_items(&mut self, key: &str, items: &[String], min: usize) -> bool {
        let ok = items.len() >= min;
        if !ok {
            let line = self.line_of(key);
            self.problems.push(Problem::new(line, format!("`{key}` needs at least {min} items, found {}", items.len())));
        }
        ok
    }

    fn check_date(&mut self, key: &str, value: &str) -> bool {
        let b = value.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let shape = b.len() == 10 && b[4] == b'-' && b[7] == b'-' && digits(0..4) && digits(5..7) && digits(8..10);
        let ok = shape && {
            let month: u32 = value[5..7].parse().unwrap_or(0);
            let day: u32 = value[8..10].parse().unwrap_or(0);
            (1..=12).contains(&month) && (1..=31).contains(&day)
        };
        if !ok {
            let line = self.line_of(key);
            self.problems.push(Problem::new(line, format!("`{key}` must be a date `YYYY-MM-DD`, found `{value}`")));
        }
        ok
    }

    fn audience(&mut self, tenants: Vec<String>) -> Option<Audience> {
        let line = self.line_of("tenants");
        if tenants.is_empty() {
            self.problems.push(Problem::new(line, "`tenants` must be `[all]` or a list of tenant ids"));
            return None;
        }
        if tenants.iter().any(|t| t == Audience::ALL_MARKER) {
            if tenants.len() > 1 {
                self.problems.push(Problem::new(line, "`tenants` lists `all` with other tenants; use `[all]` alone"));
                return None;
            }
            return Some(Audience::All);
        }
        let mut ids = Vec::with_capacity(tenants.len());
        for t in tenants {
            match TenantId::parse(&t) {
                Ok(id) => ids.push(id),
                Err(e) => {
                    self.problems.push(Problem::new(line, e.to_string()));
                    return None;
                }
            }
        }
        Some(Audience::Tenants(ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = "---
id: account-locked-out
title: Account locked out
summary: Unlock an account.
category: accounts
tags: [password, lockout]
tenants: [all]
symptoms:
  - my account is locked
  - cant log in
  - too many attempts
escalation_group: identity-access
updated: 2026-11-20
---

## Cause

Too many wrong passwords.

## Resolution

1. Check the caller's identity.
2. Unlock the account
   in the directory.
3) Ask the caller to sign in.

## Escalation

Pass to identity-access.
";

    #[test]
    fn a_valid_article_parses_with_its_steps() {
        let a = Article::parse(SAMPLE).unwrap();
        assert_eq!(a.id, "account-locked-out");
        assert_eq!(a.audience, Audience::All);
        assert_eq!(a.symptoms.len(), 3);
        assert_eq!(a.steps, vec!["Check the caller's identity.", "Unlock the account in the directory.", "Ask the caller to sign in."]);
        assert_eq!(a.content_hash.len(), 64);
        assert!(!a.plain_body().contains('#'));
    }

    #[test]
    fn unknown_and_missing_keys_are_reported_with_lines() {
        let src = SAMPLE.replace("summary: Unlock an account.\n", "").replace("updated: 2026-11-20", "updated: 2026-11-20\nowner: bob");
        let problems = Article::parse(&src).unwrap_err();
        let text: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.line, p.message)).collect();
        assert!(text.iter().any(|t| t.starts_with("13: unknown key `owner`")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("missing required key `summary`")), "{text:?}");
    }

    #[test]
    fn field_forms_are_checked() {
        for (from, to, why) in [
            ("id: account-locked-out", "id: Account Locked", "id with capitals and spaces"),
            ("tenants: [all]", "tenants: [all, northmoor]", "all mixed with tenants"),
            ("tenants: [all]", "tenants: [North]", "invalid tenant id"),
            ("updated: 2026-11-20", "updated: 20/11/2026", "date in the wrong form"),
            ("  - too many attempts\n", "", "fewer than three symptoms"),
            ("tags: [password, lockout]", "tags: password", "tags not a list"),
            ("1. Check", "- Check", "resolution without numbered steps (first)"),
        ] {
            let mut src = SAMPLE.replace(from, to);
            if why.starts_with("resolution") {
                src = src.replace("2. Unlock", "- Unlock").replace("3) Ask", "- Ask");
            }
            assert!(Article::parse(&src).is_err(), "{why}");
        }
    }

    #[test]
    fn a_draft_key_marks_a_draft_and_takes_only_true_or_false() {
        assert!(!Article::parse(SAMPLE).unwrap().draft, "no key: served");
        let draft = Article::parse(&SAMPLE.replace("updated: 2026-11-20", "updated: 2026-11-20\ndraft: true")).unwrap();
        assert!(draft.draft);
        assert!(!Article::parse(&SAMPLE.replace("tags:", "draft: false\ntags:")).unwrap().draft);
        assert!(Article::parse(&SAMPLE.replace("tags:", "draft: yes\ntags:")).is_err(), "only true or false");
    }

    #[test]
    fn tenant_scoped_articles_list_their_tenants() {
        let a = Article::parse(&SAMPLE.replace("tenants: [all]", "tenants: [northmoor, eastbrook]")).unwrap();
        assert_eq!(a.audience.index_terms(), vec!["northmoor", "eastbrook"]);
    }
}
