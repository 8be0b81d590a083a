//! `triage keys create|list|revoke`: manage API keys from the host (run with the service
//! stopped, or use the admin endpoints while it runs).

use std::process::ExitCode;

use clap::Subcommand;
use triage_core::auth::Role;
use triage_core::tenant::TenantId;
use triage_engine::TriageEngine;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key; it is printed once and cannot be shown again.
    Create {
        /// integration, agent, admin or operator.
        #[arg(long)]
        role: String,
        /// Tenant of the key (not for operator keys).
        #[arg(long)]
        tenant: Option<String>,
        /// What the key is for.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys (ids, roles, tenants, labels; never the keys).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

pub(crate) fn run(command: KeysCommand, engine: &TriageEngine) -> anyhow::Result<ExitCode> {
    match command {
        KeysCommand::Create { role, tenant, label } => {
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("--role must be integration, agent, admin or operator"))?;
            let tenant = tenant.as_deref().map(TenantId::parse).transpose()?;
            let key = engine.create_key(tenant.as_ref(), role, &label)?;
            engine.audit(None, tenant.as_ref(), "key.create", &key.id, "created from the command line");
            println!("{}", key.secret);
            eprintln!(
                "key {} ({}, {}) created; store it now, it is not shown again",
                key.id,
                role.as_str(),
                tenant.map_or("all tenants".into(), String::from)
            );
        }
        KeysCommand::List { tenant } => {
            let tenant = tenant.as_deref().map(TenantId::parse).transpose()?;
            for k in engine.list_keys(tenant.as_ref())? {
                let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    k.id,
                    k.role.as_str(),
                    k.tenant.map_or("-".into(), String::from),
                    state,
                    k.created_at,
                    k.label
                );
            }
        }
        KeysCommand::Revoke { id } => {
            engine.revoke_key(None, &id)?;
            engine.audit(None, None, "key.revoke", &id, "revoked from the command line");
            eprintln!("key {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}
