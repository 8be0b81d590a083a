//! API keys: creation (shown once), authentication against hashes kept in memory, revocation,
//! the operator key written at first start, and the audit log of administrative actions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use triage_core::auth::{KEY_PREFIX, Principal, Role, hash_key, looks_like_key};
use triage_core::tenant::TenantId;
use triage_store::{ApiKeyRecord, AuditEntry};

use crate::{EngineError, Result, TriageEngine};

/// A key just created: the secret is returned this once and never stored.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Public key id (`key_` and 12 hex digits), as shown in listings and the audit log.
    pub id: String,
    /// The key itself (`trg_` and 64 hex digits). Shown to the caller once; only its hash is stored.
    pub secret: String,
    /// The stored record of the key.
    pub record: ApiKeyRecord,
}

fn now() -> String {
    triage_core::time::rfc3339_utc(std::time::SystemTime::now())
}

/// `N` bytes from the operating system's generator, as lower-case hex (`2 * N` characters).
fn random_hex<const N: usize>() -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(format!("the operating system's random generator failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Loads every active key's hash -> principal.
pub(crate) fn load_keys(store: &dyn triage_store::Store) -> Result<HashMap<String, Principal>> {
    Ok(store
        .keys(None)?
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .map(|k| (k.hash.clone(), Principal { key_id: k.id, tenant: k.tenant, role: k.role }))
        .collect())
}

impl TriageEngine {
    /// The principal behind a bearer key, if the key is valid and not revoked.
    pub fn authenticate(&self, secret: &str) -> Option<Principal> {
        if !looks_like_key(secret) {
            return None;
        }
        self.keys.read().unwrap_or_else(|p| p.into_inner()).get(&hash_key(secret)).cloned()
    }

    /// Creates a key. Tenant roles need a tenant; operators have none.
    pub fn create_key(&self, tenant: Option<&TenantId>, role: Role, label: &str) -> Result<NewKey> {
        match (role, tenant) {
            (Role::Operator, Some(_)) => {
                return Err(EngineError::Invalid("an operator key is service-wide; do not give it a tenant".into()));
            }
            (r, None) if r != Role::Operator => {
                return Err(EngineError::Invalid(format!(
                    "{} key belongs to one tenant; name it",
                    triage_core::auth::with_article(r.as_str())
                )));
            }
            _ => {}
        }
        let label = label.trim();
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(EngineError::Invalid("label must be at most 100 printable characters".into()));
        }
        // 256 random bits, as the documentation promises
        let secret = format!("{KEY_PREFIX}{}", random_hex::<32>()?);
        let id = format!("key_{}", random_hex::<6>()?);
        let record = ApiKeyRecord {
            id: id.clone(),
            hash: hash_key(&secret),
            tenant: tenant.cloned(),
            role,
            label: label.to_owned(),
            created_at: now(),
            revoked_at: None,
        };
        self.store.create_key(&record)?;
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(record.hash.clone(), Principal { key_id: id.clone(), tenant: tenant.cloned(), role });
        Ok(NewKey { id, secret, record })
    }

    /// Keys of a tenant (all for `None`).
    pub fn list_keys(&self, tenant: Option<&TenantId>) -> Result<Vec<ApiKeyRecord>> {
        Ok(self.store.keys(tenant)?)
    }

    /// Revokes a key of `tenant` (any for `None`). Another tenant's key is `NotFound`.
    pub fn revoke_key(&self, tenant: Option<&TenantId>, id: &str) -> Result<()> {
        if !self.store.revoke_key(tenant, id)? {
            return Err(EngineError::NotFound(crate::Resource::Key));
        }
        self.keys.write().unwrap_or_else(|p| p.into_inner()).retain(|_, p| p.key_id != id);
        Ok(())
    }

    /// Records an administrative action. Failing to write the audit log is logged, not fatal.
    pub fn audit(&self, by: Option<&Principal>, tenant: Option<&TenantId>, action: &str, target: &str, outcome: &str) {
        let entry = AuditEntry {
            at: now(),
            key_id: by.map(|p| p.key_id.clone()),
            tenant: tenant.cloned().or_else(|| by.and_then(|p| p.tenant.clone())),
            action: action.to_owned(),
            target: target.to_owned(),
            outcome: outcome.to_owned(),
        };
        if let Err(e) = self.store.audit(&entry) {
            tracing::error!(error = %e, action, "could not write the audit log");
        }
    }

    /// The audit log, newest first.
    pub fn audit_log(&self, tenant: Option<&TenantId>, limit: usize) -> Result<Vec<AuditEntry>> {
        Ok(self.store.audit_log(tenant, limit.clamp(1, 1000))?)
    }

    /// At first start (no key at all), creates an operator key and writes it to
    /// `<data_dir>/operator.key`, readable by the owner only. Returns the path when it did.
    pub fn ensure_operator_key(&self) -> Result<Option<PathBuf>> {
        if !self.store.keys(None)?.is_empty() {
            return Ok(None);
        }
        let key = self.create_key(None, Role::Operator, "first-start operator key")?;
        let path = self.params.data_dir.join("operator.key");
        write_secret(&path, &key.secret)?;
        self.audit(None, None, "key.create", &key.id, "operator key written at first start");
        Ok(Some(path))
    }
}

fn write_secret(path: &Path, secret: &str) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_secrets_carry_256_random_bits_from_the_operating_system() {
        let engine = TriageEngine::in_memory(Vec::new(), 5).unwrap();
        let secrets: Vec<String> = (0..200)
            .map(|i| engine.create_key(Some(&TenantId::parse("northmoor").unwrap()), Role::Agent, &format!("k{i}")).unwrap().secret)
            .collect();
        let hex: Vec<&str> = secrets.iter().map(|s| s.strip_prefix(KEY_PREFIX).unwrap()).collect();
        assert!(hex.iter().all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())));
        // two UUID v4 side by side always show their fixed version (`4` at 12) and variant (8-b at
        // 16) nibbles, 6 fixed bits each: 244 random bits. OS bytes show both by chance, 1 in 4096
        let uuid_like = |h: &str| [0, 32].iter().all(|&o| h.as_bytes()[o + 12] == b'4' && b"89ab".contains(&h.as_bytes()[o + 16]));
        let structured = hex.iter().filter(|h| uuid_like(h)).count();
        assert!(structured < 5, "{structured} of 200 secrets have the structure of two UUID v4");
        let distinct: std::collections::HashSet<&&str> = hex.iter().collect();
        assert_eq!(distinct.len(), 200);
    }
}
