//! Integration tests over real HTTP: one binary, modules by area.

mod console;
mod errors;
mod helpers;
mod kb;
mod learning;
mod operations;
mod security;
mod times;
mod triage;
