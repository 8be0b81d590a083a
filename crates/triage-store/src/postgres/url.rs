//! `store.url`: parsing a `postgres://` URL, and showing it without its password.

use std::time::Duration;

use crate::{Result, StoreError};

/// Whether `url` names a PostgreSQL store (`postgres://` or `postgresql://`).
pub(super) fn is_postgres_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

/// Takes libpq's TLS parameters the driver does not know out of the URL's query: `sslrootcert`
/// (returned), and `sslmode=verify-ca` / `verify-full` (become `require`; see `tls`).
fn take_tls_params(url: &str) -> (String, Option<std::path::PathBuf>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut root_cert = None;
    let kept: Vec<String> = query
        .split('&')
        .filter_map(|pair| match pair.split_once('=') {
            Some(("sslrootcert", path)) => {
                root_cert = Some(std::path::PathBuf::from(path));
                None
            }
            Some(("sslmode", "verify-ca" | "verify-full")) => Some("sslmode=require".to_owned()),
            _ => Some(pair.to_owned()),
        })
        .collect();
    let url = if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) };
    (url, root_cert)
}

/// Parses a `postgres://` URL; the error never contains the password.
pub(super) fn parse_url(url: &str) -> Result<postgres::Config> {
    parse_url_tls(url).map(|(config, _)| config)
}

/// As [`parse_url`], with the URL's `sslrootcert` file, if any.
pub(super) fn parse_url_tls(url: &str) -> Result<(postgres::Config, Option<std::path::PathBuf>)> {
    if !is_postgres_url(url) {
        return Err(StoreError::InvalidUrl(
            "it must start with postgres:// or postgresql:// (or be empty for the SQLite file in the data directory)".into(),
        ));
    }
    let (url, root_cert) = take_tls_params(url);
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e: postgres::Error| StoreError::InvalidUrl(format!("{e}; the form is postgres://user:password@host:port/database")))?;
    if config.get_hosts().is_empty() {
        return Err(StoreError::InvalidUrl("it names no host; the form is postgres://user:password@host:port/database".into()));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("triage");
    Ok((config, root_cert))
}

/// `user@host:port/database` of a configuration: what logs and errors may show.
pub(super) fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(path) => path.display().to_string(),
            };
            let port = config.get_ports().get(i).or(config.get_ports().first()).copied().unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    format!("{user}{}/{}", hosts.join(","), config.get_dbname().unwrap_or(""))
}

/// `url` without its password, as `postgres://user@host:port/database`, for logs and messages; a
/// URL that does not parse is shown as its scheme only.
pub(super) fn redact_store_url(url: &str) -> String {
    match parse_url(url) {
        Ok(config) => format!("postgres://{}", describe(&config)),
        Err(_) => url.split_once("://").map_or_else(|| "(not a url)".to_owned(), |(scheme, _)| format!("{scheme}://...")),
    }
}

/// A checked `postgres://` store URL (`store.url`). It holds the password, so it is shown, in
/// `Debug` and `Display` alike, as `postgres://user@host:port/database`.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// Checks `url` is a usable `postgres://` URL (without connecting).
    pub fn parse(url: &str) -> Result<Self> {
        parse_url(url.trim())?;
        Ok(Self(url.trim().to_owned()))
    }

    /// `url` as logs and messages may show it: `postgres://user@host:port/database`.
    pub fn redact(url: &str) -> String {
        redact_store_url(url)
    }

    /// The URL itself, password included: only for connecting.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({})", redact_store_url(&self.0))
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_store_url(&self.0))
    }
}
