//! Tests of the `triage` binary itself.

mod import;
mod redaction;
mod working_dir;
