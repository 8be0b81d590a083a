//! Tenants: the organisations that share one deployment.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CoreError, Result};

/// The id of a tenant, such as `northmoor`: 1-64 characters of `a-z0-9-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantId(String);

impl TenantId {
    /// Longest accepted tenant id.
    pub const MAX_LEN: usize = 64;

    /// Parses a tenant id, refusing anything but `a-z0-9-`.
    pub fn parse(raw: &str) -> Result<Self> {
        let valid = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !raw.starts_with('-');
        if valid { Ok(Self(raw.to_owned())) } else { Err(CoreError::InvalidTenant(raw.chars().take(80).collect())) }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TenantId {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self> {
        Self::parse(&value)
    }
}

impl From<TenantId> for String {
    fn from(value: TenantId) -> Self {
        value.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who may see a knowledge-base article: every tenant, or a named few.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Shared with every tenant.
    All,
    /// Visible only to these tenants.
    Tenants(Vec<TenantId>),
}

impl Audience {
    /// The marker stored in the index for articles shared with every tenant.
    pub const ALL_MARKER: &'static str = "all";

    /// Whether a request made for `tenant` (or for no tenant) may see the article.
    /// A request without a tenant sees only shared articles.
    pub fn admits(&self, tenant: Option<&TenantId>) -> bool {
        match (self, tenant) {
            (Audience::All, _) => true,
            (Audience::Tenants(list), Some(t)) => list.contains(t),
            (Audience::Tenants(_), None) => false,
        }
    }

    /// The values indexed for this audience: `all`, or each tenant id.
    pub fn index_terms(&self) -> Vec<&str> {
        match self {
            Audience::All => vec![Self::ALL_MARKER],
            Audience::Tenants(list) => list.iter().map(TenantId::as_str).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_ids_accept_lower_case_letters_digits_and_hyphens_only() {
        assert!(TenantId::parse("north-moor2").is_ok());
        for bad in ["", "North", "a b", "a/b", "-lead", "x".repeat(65).as_str(), "é"] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_request_without_tenant_sees_only_shared_articles() {
        let t = TenantId::parse("northmoor").unwrap();
        let scoped = Audience::Tenants(vec![t.clone()]);
        assert!(Audience::All.admits(None));
        assert!(!scoped.admits(None));
        assert!(scoped.admits(Some(&t)));
        assert!(!scoped.admits(Some(&TenantId::parse("eastbrook").unwrap())));
    }
}
