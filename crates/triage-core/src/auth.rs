//! API keys and roles: who may do what, within which tenant.
//!
//! | role | may |
//! |---|---|
//! | `integration` | triage, send resolved tickets (its tenant) |
//! | `agent` | triage, search the knowledge base, send feedback (its tenant) |
//! | `admin` | everything of its tenant: the above, stats, models, keys, audit |
//! | `operator` | everything, for every tenant (service-wide) |

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tenant::TenantId;

/// What an API key may do; see the table in the module docs. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A ticketing system: triages and sends resolved tickets, for its tenant.
    Integration,
    /// A service-desk agent: triages, searches the knowledge base and sends feedback, for its tenant.
    Agent,
    /// A tenant administrator: every action, within its tenant.
    Admin,
    /// A service operator: every action, for every tenant. The only role without a tenant.
    Operator,
}

impl Role {
    /// The lower-case name used in configuration, the store and the API (`"agent"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Integration => "integration",
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }

    /// The role named `s` (exact, lower-case, as [`Role::as_str`] writes it); `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "integration" => Some(Role::Integration),
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            "operator" => Some(Role::Operator),
            _ => None,
        }
    }
}

/// What a request wants to do; each route names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Triage a new ticket.
    Triage,
    /// Search the knowledge base.
    SearchKb,
    /// Send feedback on a triage decision.
    Feedback,
    /// Send resolved tickets to learn from.
    IngestResolved,
    /// Read statistics.
    ReadStats,
    /// Train, list, promote and roll back models.
    ManageModels,
    /// Create, list and revoke API keys.
    ManageKeys,
    /// Read the audit log.
    ReadAudit,
    /// See connectors, their outbox and dead letters, and retry them.
    ManageConnectors,
    /// See the major incidents that touch the tenant (agents, for the banner and the answer).
    ReadIncidents,
    /// Confirm, dismiss and resolve major incidents, and write their agent message.
    ManageIncidents,
}

impl Role {
    /// Whether this role may perform `action` (within its tenant, for tenant roles).
    pub fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Operator | Role::Admin => true,
            Role::Agent => matches!(action, Triage | SearchKb | Feedback | ReadIncidents),
            Role::Integration => matches!(action, Triage | IngestResolved),
        }
    }
}

/// The caller behind a valid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Public id of the key (never the key itself), as shown in key listings and the audit log.
    pub key_id: String,
    /// `None` only for operators.
    pub tenant: Option<TenantId>,
    /// What the key may do.
    pub role: Role,
}

/// Prefix of every key, so leaked keys are easy to find in logs and repositories.
pub const KEY_PREFIX: &str = "trg_";

/// SHA-256 of a key, hex: the only form stored. Keys carry 256 random bits, so a fast hash is
/// enough (no dictionary to attack).
pub fn hash_key(key: &str) -> String {
    crate::article::to_hex(&Sha256::digest(key.as_bytes()))
}

/// Whether `key` has the shape of a triage key (prefix and 64 hex digits).
pub fn looks_like_key(key: &str) -> bool {
    key.strip_prefix(KEY_PREFIX).is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `name` with its indefinite article, for messages: "an agent", "an integration", "a operator" no more.
pub fn with_article(name: &str) -> String {
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_take_the_right_article() {
        assert_eq!(
            [with_article("agent"), with_article("integration"), with_article("admin"), with_article("operator")],
            ["an agent", "an integration", "an admin", "an operator"]
        );
    }

    #[test]
    fn roles_allow_what_the_table_says() {
        assert!(Role::Integration.allows(Action::IngestResolved) && !Role::Integration.allows(Action::Feedback));
        assert!(Role::Agent.allows(Action::Feedback) && !Role::Agent.allows(Action::ManageModels));
        assert!(!Role::Agent.allows(Action::IngestResolved) && !Role::Integration.allows(Action::ReadStats));
        assert!(Role::Admin.allows(Action::ManageKeys) && Role::Operator.allows(Action::ReadAudit));
        for r in [Role::Integration, Role::Agent, Role::Admin, Role::Operator] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn keys_are_recognised_and_hashed() {
        let key = format!("{KEY_PREFIX}{}", "ab".repeat(32));
        assert!(looks_like_key(&key));
        assert!(!looks_like_key("trg_short") && !looks_like_key(&key.replace("trg_", "xyz_")));
        assert_eq!(hash_key(&key).len(), 64);
        assert_eq!(hash_key("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 test vector");
        assert_ne!(hash_key(&key), hash_key(&format!("{key}0")));
    }
}
