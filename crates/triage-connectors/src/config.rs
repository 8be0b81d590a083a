//! `[[connectors]]`: what a desk writes in its configuration, and the checks that turn it into a
//! [`Connector`] the workers can run. Anything wrong stops start-up with a message that names the
//! connector and the setting; secrets are read from an environment variable or a file, never
//! from the configuration itself, and never appear in a message or a log.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::note::NoteTemplate;

/// A connector as written in the configuration (no secrets: only where to read them).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    /// Name in URLs and the admin API (`a-z`, `0-9`, `-`; up to 40 characters).
    pub name: String,
    /// Which ticketing system.
    pub kind: Kind,
    /// The system's base URL (`https://`, or `http://` on a loopback address only). Every call
    /// goes to this host; redirects are refused.
    pub base_url: String,
    /// Environment variable holding the API credentials (a token, or `user:password`).
    #[serde(default)]
    pub token_env: Option<String>,
    /// File holding the API credentials (first line).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Environment variable holding the webhook signing secret (push kinds).
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the webhook signing secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// The connector's own user in the system: events it authored are ignored (no loops).
    #[serde(default)]
    pub user: Option<String>,
    /// Source queue / group / organisation -> tenant.
    #[serde(default)]
    pub tenants: BTreeMap<String, String>,
    /// Tenant for tickets whose source is not in `tenants`; without it they are ignored.
    #[serde(default)]
    pub default_tenant: Option<String>,
    /// Our head -> their field, with label -> value translations.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldMapSpec>,
    /// Our head -> when its field is set on the ticket (default `never`).
    #[serde(default)]
    pub write_back: BTreeMap<String, Policy>,
    /// The internal note; placeholders `{labels}`, `{fixes}`, `{first_contact}`, `{triage_id}`.
    #[serde(default)]
    pub note_template: Option<String>,
    /// Suggestions listed in the note.
    #[serde(default = "default_note_fixes")]
    pub note_fixes: usize,
    /// Seconds between polls (pull kinds).
    #[serde(default = "default_poll_interval")]
    pub poll_interval_secs: u64,
    /// Tries before an action becomes a dead letter.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// First retry delay in milliseconds (doubled each try, with jitter, up to `retry_max_ms`).
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest retry delay in milliseconds.
    #[serde(default = "default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// Timeout of each outbound call, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// PEM file of the certificate authorities to trust instead of the public ones (a council's
    /// own CA for an on-premises system).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Days processed events and delivered actions are kept (pending ones and dead letters stay
    /// until handled).
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// Major incidents (issue 14): a ticket of this connector that becomes a member of an
    /// incident gets an internal note when the incident opens (suspected) and when it is
    /// confirmed with the agent message, unless its own triage note already said so.
    #[serde(default = "default_incident_notes")]
    pub incident_notes: bool,
}

fn default_incident_notes() -> bool {
    true
}
fn default_note_fixes() -> usize {
    3
}
fn default_poll_interval() -> u64 {
    30
}
fn default_max_attempts() -> u32 {
    8
}
fn default_retry_base_ms() -> u64 {
    2_000
}
fn default_retry_max_ms() -> u64 {
    300_000
}
fn default_timeout() -> u64 {
    10
}
fn default_retention_days() -> u32 {
    30
}

/// The ticketing systems a connector can talk to.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Request Tracker 5, polled through REST2.
    Rt,
    /// Zammad, through trigger webhooks (`X-Hub-Signature`, HMAC-SHA1).
    Zammad,
    /// ServiceNow, through outbound REST messages signed with HMAC-SHA256.
    Servicenow,
    /// Jira Service Management, through webhooks signed with HMAC-SHA256.
    Jira,
}

impl Kind {
    /// Its name in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rt => "rt",
            Self::Zammad => "zammad",
            Self::Servicenow => "servicenow",
            Self::Jira => "jira",
        }
    }

    /// Whether tickets arrive by webhook (else they are polled).
    pub fn is_push(self) -> bool {
        !matches!(self, Self::Rt)
    }
}

/// One head's field in the source system.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FieldMapSpec {
    /// The field's name there (`Queue`, `group`, `assignment_group`, `priority` ...).
    pub field: String,
    /// Our label -> their value. When given, only labels listed are written; when empty, every
    /// label is sent as it is.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// When a head's field is written back.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Only when the decision is `auto` (confident enough to act).
    Auto,
    /// When the decision is `auto` or `suggest`.
    Suggest,
    /// Never: the note lists it, the field is left to the agent.
    Never,
}

impl Policy {
    /// Whether a label with this decision is written back to the ticket's field.
    pub fn allows(self, decision: triage_engine::Decision) -> bool {
        use triage_engine::Decision;
        match self {
            Policy::Auto => decision == Decision::Auto,
            Policy::Suggest => matches!(decision, Decision::Auto | Decision::Suggest),
            Policy::Never => false,
        }
    }
}

/// A secret read from the environment or a file. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret itself (for the one place that sends or checks it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A secret from a value (tests).
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A checked connector, ready to run.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The configuration as written (secrets are not in it).
    pub spec: ConnectorSpec,
    /// Base URL without a trailing `/`.
    pub base_url: String,
    /// API credentials.
    pub token: Secret,
    /// Webhook signing secret (push kinds).
    pub secret: Option<Secret>,
    /// The parsed note template.
    pub template: NoteTemplate,
    /// DER certificates from `ca_file` (empty: the public roots).
    pub ca_certs: Vec<Vec<u8>>,
}

impl Connector {
    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The tenant a ticket from `source` belongs to, if any.
    pub fn tenant_for(&self, source: Option<&str>) -> Option<&str> {
        source.and_then(|s| self.spec.tenants.get(s)).or(self.spec.default_tenant.as_ref()).map(String::as_str)
    }

    /// Their value for our `label` of `head`, and the field it goes in. With a `values` table,
    /// only labels listed there are written (the rest have no place in their system); without
    /// one, labels go as they are.
    pub fn field_value(&self, head: &str, label: &str) -> Option<(&str, String)> {
        let map = self.spec.fields.get(head)?;
        let value = if map.values.is_empty() { label.to_owned() } else { map.values.get(label)?.clone() };
        Some((map.field.as_str(), value))
    }

    /// Our label of `head` for their field value (the mapping read backwards).
    pub fn label_for(&self, head: &str, value: &str) -> Option<String> {
        let map = self.spec.fields.get(head)?;
        Some(map.values.iter().find(|(_, v)| v.as_str() == value).map_or_else(|| value.to_owned(), |(label, _)| label.clone()))
    }

    /// Timeout of one outbound call.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.spec.timeout_secs)
    }

    /// How long a claimed outbox action is held by the worker delivering it, so that another
    /// replica's outbox thread does not deliver it at the same time: room for the delivery's
    /// calls (an in-doubt note is looked for, then posted; fields may take a lookup and a write)
    /// at `timeout_secs` each, plus 10 s. A worker that dies mid-delivery leaves the action to be
    /// claimed again, in doubt, when this is over (50 s with the default 10 s timeout).
    pub fn claim_lease_ms(&self) -> i64 {
        (self.spec.timeout_secs.saturating_mul(4).saturating_add(10)).saturating_mul(1000).min(i64::MAX as u64) as i64
    }
}

/// Why a connector's configuration is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("connector `{connector}`: {problem}")]
pub struct ConfigError {
    /// The connector's name (or its position when the name itself is wrong).
    pub connector: String,
    /// What is wrong and what to do.
    pub problem: String,
}

/// Checks every connector: names unique, URLs, secrets present, tenants and heads known,
/// template placeholders known. `tenant_known` says whether a tenant is configured; `heads` are
/// the label heads a field can be mapped for.
pub fn validate(
    specs: &[ConnectorSpec],
    tenant_known: &dyn Fn(&str) -> bool,
    heads: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Connector>, ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let fail = |problem: String| ConfigError {
                connector: if spec.name.is_empty() { format!("#{}", i + 1) } else { spec.name.clone() },
                problem,
            };
            let name_ok = !spec.name.is_empty()
                && spec.name.len() <= 40
                && spec.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !name_ok {
                return Err(fail("the name must be 1-40 characters of a-z, 0-9 and -".into()));
            }
            if !seen.insert(spec.name.as_str()) {
                return Err(fail("two connectors have this name; names must be unique".into()));
            }
            let base_url = check_base_url(&spec.base_url).map_err(fail)?;
            let token = read_secret("token", spec.token_env.as_deref(), spec.token_file.as_ref(), env)
                .map_err(fail)?
                .ok_or_else(|| fail("set token_env or token_file: the API credentials for polling and write-back".into()))?;
            let secret = read_secret("secret", spec.secret_env.as_deref(), spec.secret_file.as_ref(), env).map_err(fail)?;
            if spec.kind.is_push() && secret.is_none() {
                return Err(fail(format!(
                    "a {} connector receives signed webhooks: set secret_env or secret_file to the shared signing secret",
                    spec.kind.as_str()
                )));
            }
            for (source, tenant) in &spec.tenants {
                if !tenant_known(tenant) {
                    return Err(fail(format!("tenants.{source:?} maps to tenant `{tenant}`, which is not configured in [[tenants]]")));
                }
            }
            if let Some(t) = &spec.default_tenant
                && !tenant_known(t)
            {
                return Err(fail(format!("default_tenant `{t}` is not configured in [[tenants]]")));
            }
            for head in spec.fields.keys().chain(spec.write_back.keys()) {
                if !heads.contains(&head.as_str()) {
                    return Err(fail(format!("`{head}` is not a label head; use one of {heads:?}")));
                }
            }
            for (head, policy) in &spec.write_back {
                if *policy != Policy::Never && !spec.fields.contains_key(head) {
                    return Err(fail(format!("write_back.{head} is `{policy:?}` but fields.{head} does not say which field to set")));
                }
            }
            if spec.poll_interval_secs == 0 || spec.max_attempts == 0 || spec.timeout_secs == 0 || spec.retry_base_ms == 0 {
                return Err(fail("poll_interval_secs, max_attempts, timeout_secs and retry_base_ms must be above 0".into()));
            }
            if !(1..=3650).contains(&spec.retention_days) {
                return Err(fail("retention_days must be 1..=3650".into()));
            }
            if spec.retry_max_ms < spec.retry_base_ms {
                return Err(fail("retry_max_ms must be at least retry_base_ms".into()));
            }
            let template = NoteTemplate::parse(spec.note_template.as_deref()).map_err(fail)?;
            let ca_certs = match &spec.ca_file {
                Some(path) => read_ca_file(path).map_err(fail)?,
                None => Vec::new(),
            };
            Ok(Connector { spec: spec.clone(), base_url, token, secret, template, ca_certs })
        })
        .collect()
}

/// `https://host[:port][/path]`, or `http://` on a loopback host; no credentials, query or
/// fragment. Returned without a trailing `/`.
fn check_base_url(url: &str) -> Result<String, String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| format!("base_url `{url}` is not an http(s) URL"))?;
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = host_port.rsplit_once(':').filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit())).map_or(host_port, |(h, _)| h);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    if host.is_empty() || rest.contains(['@', '?', '#', ' ']) {
        return Err(format!("base_url `{url}` must be scheme://host[:port][/path], without user, query or fragment"));
    }
    match scheme {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(format!("base_url `{url}` must use https (plain http only on a loopback address)")),
        _ => return Err(format!("base_url `{url}` is not an http(s) URL")),
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// Every certificate in a PEM file, as DER; a file without one is refused.
fn read_ca_file(path: &PathBuf) -> Result<Vec<Vec<u8>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("ca_file {} cannot be read: {e}", path.display()))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c.der().to_vec()),
            Ok(_) => {}
            Err(e) => return Err(format!("ca_file {} is not valid PEM: {e}", path.display())),
        }
    }
    if certs.is_empty() {
        return Err(format!("ca_file {} holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)", path.display()));
    }
    Ok(certs)
}

fn read_secret(
    what: &str,
    env_name: Option<&str>,
    file: Option<&PathBuf>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Secret>, String> {
    let value = match (env_name, file) {
        (Some(_), Some(_)) => return Err(format!("set {what}_env or {what}_file, not both")),
        (Some(var), None) => Some(env(var).ok_or_else(|| format!("{what}_env names `{var}`, which is not set in the environment"))?),
        (None, Some(path)) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("{what}_file {} cannot be read: {e}", path.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        (None, None) => None,
    };
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.is_empty() => Err(format!("the {what} is empty")),
        Some(v) => Ok(Some(Secret(v))),
        None => Ok(None),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn each_policy_writes_back_exactly_the_decisions_it_names() {
        use triage_engine::Decision::{Abstain, Auto, Suggest};
        let allowed = |p: Policy| [Auto, Suggest, Abstain].map(|d| p.allows(d));
        assert_eq!(allowed(Policy::Auto), [true, false, false], "auto only: a suggestion is left to the agent");
        assert_eq!(allowed(Policy::Suggest), [true, true, false], "suggest too, never a label the model is unsure of");
        assert_eq!(allowed(Policy::Never), [false, false, false]);
    }

    pub(crate) fn spec(toml_kind: Kind) -> ConnectorSpec {
        ConnectorSpec {
            name: "desk-rt".into(),
            kind: toml_kind,
            base_url: "https://rt.example.org/".into(),
            token_env: Some("RT_TOKEN".into()),
            token_file: None,
            secret_env: Some("HOOK_SECRET".into()),
            secret_file: None,
            user: Some("triage-bot".into()),
            tenants: BTreeMap::from([("Service Desk".into(), "northmoor".into())]),
            default_tenant: None,
            fields: BTreeMap::from([("assignment_group".into(), FieldMapSpec { field: "Queue".into(), values: BTreeMap::new() })]),
            write_back: BTreeMap::from([("assignment_group".into(), Policy::Auto)]),
            note_template: None,
            note_fixes: 3,
            poll_interval_secs: 30,
            max_attempts: 8,
            retry_base_ms: 2000,
            retry_max_ms: 300_000,
            timeout_secs: 10,
            ca_file: None,
            retention_days: 30,
            incident_notes: true,
        }
    }

    pub(crate) fn env(name: &str) -> Option<String> {
        match name {
            "RT_TOKEN" => Some("1-2-abcdef".into()),
            "HOOK_SECRET" => Some("s3cret".into()),
            _ => None,
        }
    }

    fn check(specs: &[ConnectorSpec]) -> Result<Vec<Connector>, ConfigError> {
        validate(specs, &|t| t == "northmoor", &["category", "priority", "assignment_group"], &env)
    }

    #[test]
    fn a_good_connector_is_accepted_with_its_secrets_and_never_prints_them() {
        let c = check(&[spec(Kind::Zammad)]).unwrap().remove(0);
        assert_eq!(c.base_url, "https://rt.example.org");
        assert_eq!(c.token.expose(), "1-2-abcdef");
        assert!(!format!("{c:?}").contains("abcdef") && !format!("{c:?}").contains("s3cret"), "{c:?}");
        assert_eq!(c.tenant_for(Some("Service Desk")), Some("northmoor"));
        assert_eq!(c.tenant_for(Some("Elsewhere")), None, "unmapped and no default tenant");
    }

    #[test]
    fn each_mistake_is_named() {
        type Change = Box<dyn Fn(&mut ConnectorSpec)>;
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|s| s.name = "Desk RT".into()), "1-40 characters"),
            (Box::new(|s| s.base_url = "http://rt.example.org".into()), "must use https"),
            (Box::new(|s| s.base_url = "https://user:pw@rt.example.org".into()), "without user"),
            (Box::new(|s| s.token_env = Some("MISSING".into())), "`MISSING`, which is not set"),
            (Box::new(|s| s.token_env = None), "set token_env or token_file"),
            (Box::new(|s| s.secret_env = None), "signed webhooks"),
            (Box::new(|s| s.tenants = BTreeMap::from([("Q".into(), "southvale".into())])), "tenant `southvale`"),
            (Box::new(|s| s.fields = BTreeMap::new()), "does not say which field"),
            (Box::new(|s| s.write_back = BTreeMap::from([("urgency".into(), Policy::Auto)])), "`urgency` is not a label head"),
            (Box::new(|s| s.note_template = Some("{fixes} {nonsense}".into())), "{nonsense}"),
            (Box::new(|s| s.max_attempts = 0), "above 0"),
            (Box::new(|s| s.retention_days = 0), "retention_days"),
            (Box::new(|s| s.ca_file = Some("/nonexistent/ca.pem".into())), "ca_file /nonexistent/ca.pem cannot be read"),
            (Box::new(|s| s.ca_file = Some("Cargo.toml".into())), "holds no certificate"),
        ];
        for (change, says) in cases {
            let mut s = spec(Kind::Zammad);
            change(&mut s);
            let err = check(&[s]).unwrap_err();
            assert!(err.to_string().contains(says), "{err} should say {says}");
            assert!(!err.to_string().contains("abcdef"), "a secret in an error: {err}");
        }
        let err = check(&[spec(Kind::Rt), spec(Kind::Rt)]).unwrap_err();
        assert!(err.problem.contains("unique"), "{err}");
    }

    #[test]
    fn plain_http_is_allowed_on_loopback_only_and_rt_needs_no_webhook_secret() {
        let mut s = spec(Kind::Rt);
        s.base_url = "http://127.0.0.1:8080".into();
        s.secret_env = None;
        assert!(check(&[s]).is_ok());
    }

    #[test]
    fn field_values_translate_both_ways() {
        let mut s = spec(Kind::Rt);
        s.fields.insert(
            "priority".into(),
            FieldMapSpec { field: "Priority".into(), values: BTreeMap::from([("P1".into(), "90".into()), ("P3".into(), "30".into())]) },
        );
        let c = check(&[s]).unwrap().remove(0);
        assert_eq!(c.field_value("priority", "P1"), Some(("Priority", "90".to_owned())));
        assert_eq!(c.field_value("assignment_group", "Network"), Some(("Queue", "Network".to_owned())), "no table: labels as they are");
        assert_eq!(c.field_value("priority", "P2"), None, "with a table, an unlisted label is not written");
        assert_eq!(c.label_for("priority", "30").as_deref(), Some("P3"));
        assert_eq!(c.field_value("category", "x"), None, "no field mapped");
    }
}
