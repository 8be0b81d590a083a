//! Integration tests over real HTTP: one binary, modules by area.

mod console;
mod degraded;
mod errors;
mod helpers;
mod kb;
mod learning;
mod operations;
mod security;
mod triage;
