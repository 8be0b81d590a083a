//! Reading resolved tickets from CSV or JSON Lines with a column mapping, because every service
//! desk exports differently. Bad rows are reported with their line and skipped; duplicates and
//! empty texts are dropped and counted.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::train::TrainingRow;
use crate::{ModelError, Result};

/// Which columns hold what.
#[derive(Debug, Clone, Default)]
pub struct ColumnMapping {
    /// Columns joined (with new lines) into the ticket text.
    pub text: Vec<String>,
    /// Head name -> column.
    pub labels: Vec<(String, String)>,
    /// Column with the ticket id (line number when absent).
    pub id: Option<String>,
}

impl ColumnMapping {
    /// Parses `HEAD=COL` label specs.
    pub fn parse_label(spec: &str) -> Result<(String, String)> {
        match spec.split_once('=') {
            Some((h, c)) if !h.trim().is_empty() && !c.trim().is_empty() => Ok((h.trim().to_owned(), c.trim().to_owned())),
            _ => Err(ModelError::InvalidParams(format!("label `{spec}` must be HEAD=COLUMN, e.g. category=topic_group"))),
        }
    }

    /// The head names, in the order the labels were given.
    pub fn heads(&self) -> Vec<String> {
        self.labels.iter().map(|(h, _)| h.clone()).collect()
    }
}

/// What reading one or more files produced.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Rows kept: deduplicated (training sets only), with non-empty text.
    pub rows: Vec<TrainingRow>,
    /// Records read, kept or not.
    pub read: usize,
    /// Rows dropped because an earlier row had the same text and labels.
    pub duplicates: usize,
    /// Rows dropped because their text was empty.
    pub empty: usize,
    /// `file:line: message` of every skipped bad row.
    pub bad_rows: Vec<String>,
}

/// Reads every file (CSV, or JSON Lines for `.jsonl` / `.ndjson`) into one report, dropping
/// duplicates (same text and labels) and empty texts: the form training wants.
pub fn load_files(paths: &[impl AsRef<Path>], mapping: &ColumnMapping) -> Result<LoadReport> {
    load(paths, mapping, true)
}

/// Reads a test set: every row is kept, duplicates included, so figures compare with scores
/// computed on the whole file; only empty texts are dropped.
pub fn load_test_files(paths: &[impl AsRef<Path>], mapping: &ColumnMapping) -> Result<LoadReport> {
    load(paths, mapping, false)
}

fn load(paths: &[impl AsRef<Path>], mapping: &ColumnMapping, dedupe: bool) -> Result<LoadReport> {
    let mut report = LoadReport::default();
    let mut seen: HashSet<(String, Vec<(String, String)>)> = HashSet::new();
    for path in paths {
        let path = path.as_ref();
        let is_jsonl = path.extension().is_some_and(|e| e == "jsonl" || e == "ndjson");
        let records = if is_jsonl { read_jsonl(path, mapping)? } else { read_csv(path, mapping)? };
        for rec in records {
            report.read += 1;
            match rec {
                Err(msg) => report.bad_rows.push(msg),
                Ok(row) if row.text.trim().is_empty() => report.empty += 1,
                Ok(row) => {
                    let key = (normalise(&row.text), row.labels.iter().map(|(a, b)| (a.clone(), b.clone())).collect());
                    if !dedupe || seen.insert(key) {
                        report.rows.push(row);
                    } else {
                        report.duplicates += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn data_err(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Data { path: path.to_path_buf(), message: message.into() }
}

type Records = Vec<std::result::Result<TrainingRow, String>>;

fn read_csv(path: &Path, mapping: &ColumnMapping) -> Result<Records> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_path(path).map_err(|e| data_err(path, e.to_string()))?;
    let headers = reader.headers().map_err(|e| data_err(path, e.to_string()))?.clone();
    let col = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| data_err(path, format!("no column `{name}`; the header has: {}", headers.iter().collect::<Vec<_>>().join(", "))))
    };
    let text_cols: Vec<usize> = mapping.text.iter().map(|c| col(c)).collect::<Result<_>>()?;
    let label_cols: Vec<(String, usize)> = mapping.labels.iter().map(|(h, c)| Ok((h.clone(), col(c)?))).collect::<Result<_>>()?;
    let id_col = mapping.id.as_deref().map(col).transpose()?;
    let mut out = Vec::new();
    for (n, rec) in reader.records().enumerate() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n as u64 + 2, |p| p.line());
                out.push(Err(format!("{}:{line}: {e}", path.display())));
                continue;
            }
        };
        let line = rec.position().map_or(n as u64 + 2, |p| p.line());
        let text = text_cols.iter().map(|&i| rec.get(i).unwrap_or("").trim()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n");
        let labels: BTreeMap<String, String> = label_cols
            .iter()
            .filter_map(|(h, i)| rec.get(*i).map(str::trim).filter(|v| !v.is_empty()).map(|v| (h.clone(), v.to_owned())))
            .collect();
        let id = id_col.and_then(|i| rec.get(i)).map(str::to_owned).unwrap_or_else(|| format!("{}:{line}", path.display()));
        out.push(Ok(TrainingRow { id, text, labels }));
    }
    Ok(out)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn read_jsonl(path: &Path, mapping: &ColumnMapping) -> Result<Records> {
    let text = std::fs::read_to_string(path).map_err(|e| data_err(path, e.to_string()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let n = i + 1;
        let obj: Value = match serde_json::from_str(line) {
            Ok(Value::Object(o)) => Value::Object(o),
            Ok(_) => {
                out.push(Err(format!("{}:{n}: not a JSON object", path.display())));
                continue;
            }
            Err(e) => {
                out.push(Err(format!("{}:{n}: {e}", path.display())));
                continue;
            }
        };
        let text =
            mapping.text.iter().filter_map(|c| obj.get(c).and_then(value_text)).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("\n");
        let labels = mapping
            .labels
            .iter()
            .filter_map(|(h, c)| obj.get(c).and_then(value_text).filter(|v| !v.is_empty()).map(|v| (h.clone(), v)))
            .collect();
        let id = mapping.id.as_deref().and_then(|c| obj.get(c)).and_then(value_text).unwrap_or_else(|| format!("{}:{n}", path.display()));
        out.push(Ok(TrainingRow { id, text, labels }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> ColumnMapping {
        ColumnMapping { text: vec!["title".into(), "body".into()], labels: vec![("category".into(), "cat".into())], id: Some("id".into()) }
    }

    #[test]
    fn csv_rows_are_read_deduplicated_and_bad_rows_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "id,title,body,cat\n1,Printer,\"jammed,\nagain\",printing\n2,Printer,\"jammed,\nagain\",printing\n3,,,accounts\n4,only,three\n5,VPN,down,remote\n").unwrap();
        let r = load_files(&[&p], &mapping()).unwrap();
        assert_eq!(r.read, 5);
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[0].text, "Printer\njammed,\nagain");
        assert_eq!(r.rows[1].labels["category"], "remote");
        assert_eq!((r.duplicates, r.empty), (1, 1));
        assert_eq!(r.bad_rows.len(), 1);
        assert!(r.bad_rows[0].contains("t.csv:7:"), "the quoted new lines count: {:?}", r.bad_rows);
    }

    #[test]
    fn test_sets_keep_their_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "id,title,body,cat\n1,a,b,x\n2,a,b,x\n").unwrap();
        assert_eq!(load_test_files(&[&p], &mapping()).unwrap().rows.len(), 2);
        assert_eq!(load_files(&[&p], &mapping()).unwrap().rows.len(), 1);
    }

    #[test]
    fn jsonl_rows_are_read_and_bad_lines_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        std::fs::write(&p, "{\"id\":1,\"title\":\"vpn\",\"cat\":\"remote\"}\nnot json\n[1]\n{\"id\":2,\"body\":\"printer\",\"cat\":3}\n")
            .unwrap();
        let r = load_files(&[&p], &mapping()).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert_eq!(r.rows[1].labels["category"], "3");
        assert_eq!(r.rows[0].id, "1");
        assert_eq!(r.bad_rows.len(), 2);
        assert!(r.bad_rows[0].contains("t.jsonl:2:"));
    }

    #[test]
    fn a_missing_column_names_the_columns_that_exist() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "id,text\n1,x\n").unwrap();
        let err = load_files(&[&p], &mapping()).unwrap_err().to_string();
        assert!(err.contains("no column `title`") && err.contains("id, text"), "{err}");
    }

    #[test]
    fn label_specs_are_head_equals_column() {
        assert_eq!(ColumnMapping::parse_label("category=topic_group").unwrap(), ("category".into(), "topic_group".into()));
        assert!(ColumnMapping::parse_label("category").is_err());
    }
}
