//! Tests of the `triage` binary itself.

mod import;
mod import_html;
mod redaction;
mod working_dir;
