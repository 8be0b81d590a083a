//! TLS to PostgreSQL: rustls (the `ring` provider the connectors' HTTP client already uses),
//! verifying the server's certificate chain and host name against the Mozilla roots plus the
//! URL's `sslrootcert` file (libpq's name for a private CA, e.g. a managed database's own).
//!
//! The URL's `sslmode` decides whether TLS is used: `disable` never, `prefer` (the default, as
//! in libpq) when the server offers it, `require` always. `verify-ca` and `verify-full` are
//! taken as `require`: this client always verifies the chain *and* the host name, so every mode
//! that uses TLS is at least as strict as libpq's `verify-full`.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::{Result, StoreError};

/// The TLS connector for every connection of one store: the pool's, the listener's and the
/// leadership's.
pub(super) type Tls = MakeRustlsConnect;

/// A connector trusting the Mozilla roots and the certificates in `root_cert` (PEM), if given.
pub(super) fn connector(root_cert: Option<&Path>) -> Result<Tls> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = root_cert {
        let bad = |reason: String| StoreError::InvalidUrl(format!("sslrootcert `{}`: {reason}", path.display()));
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))? {
            roots.add(cert.map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no PEM certificate in the file".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::InvalidUrl(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}
