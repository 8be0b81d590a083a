//! Integration tests over real HTTP: one binary, modules by area.

mod cleaning;
mod connectors;
mod console;
mod degraded;
mod email;
mod errors;
mod gaps;
mod hardening;
mod helpers;
mod incidents;
mod kb;
mod learning;
mod operations;
mod redaction;
mod request_id;
mod security;
mod times;
mod triage;
