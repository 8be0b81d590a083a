//! Tests of the `triage` binary itself.

mod import;
mod import_html;
mod noise_eval;
mod redaction;
mod working_dir;
