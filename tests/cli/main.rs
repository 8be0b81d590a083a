//! Tests of the `triage` binary itself.

mod fix_model_eval;
mod import;
mod import_html;
mod incidents_eval;
mod noise_eval;
mod otlp;
mod redaction;
mod working_dir;
