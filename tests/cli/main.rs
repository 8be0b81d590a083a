//! Tests of the `triage` binary itself.

mod import;
mod noise_eval;
mod redaction;
mod working_dir;
