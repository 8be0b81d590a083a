//! Reading a knowledge-base folder: every `*.md` file below it except `README.md`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use triage_core::article::Article;

use crate::{KbError, Result};

/// A problem in one file, printed as `file:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file the problem is in.
    pub path: PathBuf,
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong and how to fix it, in lower case.
    pub message: String,
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// The articles of a folder and the problems found in it.
#[derive(Debug, Default)]
pub struct LoadedKb {
    /// Valid articles to serve, sorted by id (drafts are not among them).
    pub articles: Vec<Article>,
    /// Valid articles marked `draft: true`: checked, counted, never served.
    pub drafts: usize,
    /// Problems, sorted by file and line. Files with problems contribute no article.
    pub problems: Vec<FileProblem>,
    /// Files read.
    pub files: usize,
}

impl LoadedKb {
    /// The articles, or an error when any file had a problem.
    pub fn into_valid(self) -> Result<Vec<Article>> {
        if self.problems.is_empty() { Ok(self.articles) } else { Err(KbError::Invalid { count: self.problems.len() }) }
    }
}

/// Reads and checks every article below `dir`. Duplicate ids are reported on every file after
/// the first that uses them.
pub fn load_dir(dir: &Path) -> Result<LoadedKb> {
    let mut paths = Vec::new();
    collect_markdown(dir, &mut paths)?;
    paths.sort();
    let mut loaded = LoadedKb { files: paths.len(), ..LoadedKb::default() };
    let mut first_use: HashMap<String, PathBuf> = HashMap::new();
    for path in paths {
        let bytes = std::fs::read(&path).map_err(|source| KbError::Read { path: path.clone(), source })?;
        let Ok(source) = String::from_utf8(bytes) else {
            loaded.problems.push(FileProblem { path, line: 1, message: "file is not valid UTF-8; save it as UTF-8".into() });
            continue;
        };
        match Article::parse(&source) {
            Ok(article) => match first_use.get(&article.id) {
                Some(first) => loaded.problems.push(FileProblem {
                    path: path.clone(),
                    line: 2,
                    message: format!("duplicate id `{}` (also used by {})", article.id, first.display()),
                }),
                None => {
                    first_use.insert(article.id.clone(), path);
                    if article.draft {
                        loaded.drafts += 1;
                    } else {
                        loaded.articles.push(article);
                    }
                }
            },
            Err(problems) => {
                loaded.problems.extend(problems.into_iter().map(|p| FileProblem { path: path.clone(), line: p.line, message: p.message }))
            }
        }
    }
    loaded.articles.sort_by(|a, b| a.id.cmp(&b.id));
    loaded.problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Ok(loaded)
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| KbError::Read { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| KbError::Read { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|source| KbError::Read { path: path.clone(), source })?;
        if file_type.is_dir() {
            collect_markdown(&path, out)?;
        } else if file_type.is_file()
            && path.extension().is_some_and(|e| e == "md")
            && !path.file_name().is_some_and(|n| n.eq_ignore_ascii_case("README.md"))
        {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "---\nid: ID\ntitle: T\nsummary: S\ncategory: accounts\ntags: []\ntenants: [all]\nsymptoms:\n  - a\n  - b\n  - c\nescalation_group: service-desk\nupdated: 2026-11-01\n---\n## Resolution\n1. Do it.\n";

    #[test]
    fn duplicate_ids_and_bad_files_are_reported_as_file_line_message() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.md"), ARTICLE.replace("ID", "same-id")).unwrap();
        std::fs::write(dir.path().join("sub/b.md"), ARTICLE.replace("ID", "same-id")).unwrap();
        std::fs::write(dir.path().join("c.md"), ARTICLE.replace("ID", "other").replace("tags: []", "tags: []\nextra: 1")).unwrap();
        std::fs::write(dir.path().join("README.md"), "not an article").unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.files, 3);
        assert_eq!(loaded.articles.len(), 1);
        let lines: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].ends_with("c.md:7: unknown key `extra`; allowed keys are id, title, summary, category, tags, tenants, symptoms, escalation_group, updated"), "{lines:?}");
        assert!(lines[1].contains("b.md:2: duplicate id `same-id`"), "{lines:?}");
        assert!(matches!(loaded.into_valid(), Err(KbError::Invalid { count: 2 })));
    }

    #[test]
    fn drafts_pass_the_check_and_are_not_loaded() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.md"), ARTICLE.replace("ID", "served")).unwrap();
        std::fs::write(dir.path().join("b.md"), ARTICLE.replace("ID", "a-draft").replace("tags: []", "tags: []\ndraft: true")).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        assert_eq!((loaded.files, loaded.drafts), (2, 1));
        assert_eq!(loaded.articles.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), vec!["served"]);
    }

    #[test]
    fn a_missing_folder_is_a_clear_error() {
        let err = load_dir(Path::new("/nonexistent/kb")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/kb"));
    }
}
