//! A strict parser for the front matter of knowledge-base articles.
//!
//! The accepted form is a small, predictable subset of YAML, so every problem can be reported
//! with its line number and nothing is guessed:
//!
//! ```text
//! ---
//! key: scalar value            # optional double quotes are removed
//! list: [a, b, c]              # inline list
//! block:
//!   - item one                 # block list
//!   - "item two"
//! ---
//! body ...
//! ```
//! Blank lines and lines starting with `#` are ignored inside the front matter.

/// One problem found while parsing, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the source file where the problem was found.
    pub line: usize,
    /// What is wrong and how to fix it, in lower case.
    pub message: String,
}

impl Problem {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        Self { line, message: message.into() }
    }
}

/// A front-matter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A one-line text value (`key: text`).
    Scalar(String),
    /// A list (`key: [a, b]`), items trimmed.
    List(Vec<String>),
}

/// One `key: value` entry and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key before the colon.
    pub key: String,
    /// The value after the colon.
    pub value: Value,
    /// 1-based line the entry starts on.
    pub line: usize,
}

/// Parsed front matter and the body that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontMatter<'a> {
    /// The entries in the order they were written.
    pub entries: Vec<Entry>,
    /// Line number of the closing `---`.
    pub end_line: usize,
    /// Everything after the closing `---`, unparsed.
    pub body: &'a str,
    /// Line number of the first body line.
    pub body_line: usize,
}

/// Splits `source` into front matter entries and body. Returns every problem found, not just the
/// first, so `triage kb check` can report a whole file at once.
pub fn parse(source: &str) -> Result<FrontMatter<'_>, Vec<Problem>> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut lines = source.split_inclusive('\n').enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, first)) if first.trim_end() == "---" => {}
        _ => return Err(vec![Problem::new(1, "file must start with a `---` line that opens the front matter")]),
    }
    let mut problems = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut consumed = first_line_len(source);
    let mut end_line = None;
    for (number, raw) in lines.by_ref() {
        consumed += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim_end() == "---" {
            end_line = Some(number);
            break;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(item) = trimmed.strip_prefix("- ").or_else(|| (trimmed == "-").then_some("")) {
            if !line.starts_with([' ', '\t']) {
                problems.push(Problem::new(number, "list item must be indented under its key"));
                continue;
            }
            match entries.last_mut() {
                Some(Entry { value: Value::List(items), .. }) if entry_is_block(items) => {
                    let item = unquote(item.trim());
                    if item.is_empty() {
                        problems.push(Problem::new(number, "empty list item"));
                    } else {
                        items.push(item.to_owned());
                    }
                }
                _ => problems.push(Problem::new(number, "list item without a key; write `key:` on the line above")),
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            problems.push(Problem::new(number, "unexpected indentation; only list items (`  - text`) are indented"));
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            problems.push(Problem::new(number, format!("expected `key: value`, found `{}`", preview(trimmed))));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            problems.push(Problem::new(number, format!("invalid key `{}`; keys are lower-case letters and `_`", preview(key))));
            continue;
        }
        if let Some(previous) = entries.iter().find(|e| e.key == key) {
            problems.push(Problem::new(number, format!("duplicate key `{key}` (first on line {})", previous.line)));
            continue;
        }
        let value = value.trim();
        let value = if value.is_empty() {
            Value::List(Vec::new()) // a block list follows (or the value is empty)
        } else if let Some(inner) = value.strip_prefix('[') {
            match inner.strip_suffix(']') {
                Some(inner) => Value::List(split_inline_list(inner)),
                None => {
                    problems.push(Problem::new(number, format!("inline list for `{key}` is not closed with `]`")));
                    continue;
                }
            }
        } else {
            Value::Scalar(unquote(value).to_owned())
        };
        entries.push(Entry { key: key.to_owned(), value: mark_block(value), line: number });
    }
    let Some(end_line) = end_line else {
        problems.push(Problem::new(1, "front matter is not closed; add a `---` line after the last key"));
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    for e in &mut entries {
        unmark_block(&mut e.value);
    }
    Ok(FrontMatter { entries, end_line, body: &source[consumed.min(source.len())..], body_line: end_line + 1 })
}

// A block list is represented while parsing by a list whose first element is a marker, so that an
// inline list (`[a]`) never accepts `- item` lines after it.
const BLOCK_MARKER: &str = "\u{0}block";

fn mark_block(value: Value) -> Value {
    match value {
        Value::List(items) if items.is_empty() => Value::List(vec![BLOCK_MARKER.to_owned()]),
        other => other,
    }
}

fn entry_is_block(items: &[String]) -> bool {
    items.first().is_some_and(|f| f == BLOCK_MARKER)
}

fn unmark_block(value: &mut Value) {
    if let Value::List(items) = value
        && entry_is_block(items)
    {
        items.remove(0);
    }
}

fn first_line_len(source: &str) -> usize {
    source.find('\n').map_or(source.len(), |i| i + 1)
}

fn split_inline_list(inner: &str) -> Vec<String> {
    inner.split(',').map(|s| unquote(s.trim()).to_owned()).filter(|s| !s.is_empty()).collect()
}

fn unquote(value: &str) -> &str {
    value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value)
}

fn preview(text: &str) -> String {
    let mut p: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        p.push('…');
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scalars_inline_and_block_lists() {
        let src = "---\nid: a-1\ntags: [x, \"y\"]\nsymptoms:\n  - one\n  - \"two\"\nempty:\n---\nbody\n";
        let fm = parse(src).unwrap();
        assert_eq!(fm.entries[0], Entry { key: "id".into(), value: Value::Scalar("a-1".into()), line: 2 });
        assert_eq!(fm.entries[1].value, Value::List(vec!["x".into(), "y".into()]));
        assert_eq!(fm.entries[2].value, Value::List(vec!["one".into(), "two".into()]));
        assert_eq!(fm.entries[3].value, Value::List(vec![]));
        assert_eq!(fm.body, "body\n");
        assert_eq!(fm.body_line, 9);
    }

    #[test]
    fn reports_each_problem_with_its_line() {
        let src = "---\nid: a\nid: b\n  - stray\nnot a pair\nBad: x\ntags: [a, b\n---\n";
        let problems = parse(src).unwrap_err();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7], "{problems:?}");
        assert!(problems[0].message.contains("duplicate key `id`"));
    }

    #[test]
    fn list_items_after_an_inline_list_are_refused() {
        let problems = parse("---\ntags: [a]\n  - b\n---\n").unwrap_err();
        assert_eq!(problems[0].line, 3);
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_an_error() {
        assert_eq!(parse("id: x\n").unwrap_err()[0].line, 1);
        assert!(parse("---\nid: x\n").unwrap_err()[0].message.contains("not closed"));
        assert!(parse("").is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_input(src in "\\PC{0,300}") {
            let _ = parse(&src);
        }

        #[test]
        fn never_panics_on_front_matter_shaped_noise(lines in proptest::collection::vec("[ \\-a-z:\\[\\]\",#\"]{0,12}", 0..12)) {
            let src = format!("---\n{}\n---\nbody", lines.join("\n"));
            if let Err(problems) = parse(&src) {
                let total = src.lines().count();
                for p in problems { assert!(p.line >= 1 && p.line <= total, "line {} of {}", p.line, total); }
            }
        }
    }
}
