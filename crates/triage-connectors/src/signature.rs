//! Webhook signatures: HMAC over the raw body with the connector's shared secret, compared in
//! constant time (`hmac`'s `verify_slice`).
//!
//! - Zammad: `X-Hub-Signature: sha1=<hex>` (HMAC-SHA1), as Zammad's trigger webhooks send it.
//! - ServiceNow and Jira: `X-Triage-Signature: sha256=<hex>` (HMAC-SHA256), which the outbound
//!   REST message (ServiceNow) or the webhook's automation rule (Jira) computes with the same
//!   secret; see the README for the one-line script on each side. Jira Cloud's own webhooks send
//!   `X-Hub-Signature: sha256=<hex>`, which is accepted too.

use hmac::{Hmac, Mac};

use crate::kinds::{Headers, WebhookError};

/// Which HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// HMAC-SHA1 (`sha1=`).
    Sha1,
    /// HMAC-SHA256 (`sha256=`).
    Sha256,
}

/// Checks `header` (`algo=hex`) against the body; 401 material when missing or wrong.
pub fn verify(headers: &Headers, names: &[&str], algorithm: Algorithm, secret: &str, body: &[u8]) -> Result<(), WebhookError> {
    let value = names
        .iter()
        .find_map(|n| headers.get(*n))
        .ok_or_else(|| WebhookError::Unauthorized(format!("the delivery is not signed: expected a {} header", names.join(" or "))))?;
    let (prefix, hex) = value.trim().split_once('=').unwrap_or(("", value.trim()));
    let expected_prefix = match algorithm {
        Algorithm::Sha1 => "sha1",
        Algorithm::Sha256 => "sha256",
    };
    if !prefix.is_empty() && !prefix.eq_ignore_ascii_case(expected_prefix) {
        return Err(WebhookError::Unauthorized(format!("the signature must be {expected_prefix}=<hex>")));
    }
    let signature = decode_hex(hex).ok_or_else(|| WebhookError::Unauthorized("the signature is not hexadecimal".into()))?;
    let ok = match algorithm {
        Algorithm::Sha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            mac.verify_slice(&signature).is_ok()
        }
        Algorithm::Sha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            mac.verify_slice(&signature).is_ok()
        }
    };
    if ok { Ok(()) } else { Err(WebhookError::Unauthorized("the signature does not match the body and the shared secret".into())) }
}

/// `algo=hex` for a body (tests, and documentation examples).
pub fn sign(algorithm: Algorithm, secret: &str, body: &[u8]) -> String {
    let (prefix, bytes) = match algorithm {
        Algorithm::Sha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            ("sha1", mac.finalize().into_bytes().to_vec())
        }
        Algorithm::Sha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
            mac.update(body);
            ("sha256", mac.finalize().into_bytes().to_vec())
        }
    };
    format!("{prefix}={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 128 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &str, value: &str) -> Headers {
        Headers::from([(name.to_owned(), value.to_owned())])
    }

    #[test]
    fn a_signature_is_checked_against_body_and_secret() {
        let body = br#"{"ticket":{"id":1}}"#;
        for algo in [Algorithm::Sha1, Algorithm::Sha256] {
            let good = sign(algo, "s3cret", body);
            assert!(verify(&headers("x-hub-signature", &good), &["x-hub-signature"], algo, "s3cret", body).is_ok());
            let cases = [
                (headers("x-hub-signature", &good), "s3cret", &br#"{"ticket":{"id":2}}"#[..], "another body"),
                (headers("x-hub-signature", &good), "other", &body[..], "another secret"),
                (headers("x-other", &good), "s3cret", &body[..], "no signature header"),
                (headers("x-hub-signature", "sha1=zz"), "s3cret", &body[..], "not hex"),
                (headers("x-hub-signature", "md5=00"), "s3cret", &body[..], "another algorithm"),
            ];
            for (h, secret, b, why) in cases {
                assert!(
                    matches!(verify(&h, &["x-hub-signature"], algo, secret, b), Err(WebhookError::Unauthorized(_))),
                    "{why} must be refused"
                );
            }
        }
        // a known vector: HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog")
        assert_eq!(
            sign(Algorithm::Sha1, "key", b"The quick brown fox jumps over the lazy dog"),
            "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
    }
}
