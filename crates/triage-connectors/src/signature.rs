//! Webhook signatures: HMAC over the raw body with the connector's shared secret, compared in
//! constant time (`hmac`'s `verify_slice`).
//!
//! - Zammad: `X-Hub-Signature: sha1=<hex>` (HMAC-SHA1), as Zammad's trigger webhooks send it.
//! - ServiceNow and Jira: `X-Triage-Signature: sha256=<hex or base64>` (HMAC-SHA256), which the
//!   outbound REST message (ServiceNow) or the webhook's automation rule (Jira) computes with the
//!   same secret; see the README for the one-line script on each side. ServiceNow's own HMAC
//!   (`GlideCertificateEncryption.generateMac`) answers in base64, hence both encodings (told
//!   apart by length: a digest in hex is twice its size in bytes). Jira Cloud's own webhooks
//!   send `X-Hub-Signature: sha256=<hex>`, which is accepted too.

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

/// Checks `header` (`algo=hex` or `algo=base64`) against the body; 401 material when missing
/// or wrong.
pub fn verify(headers: &Headers, names: &[&str], algorithm: Algorithm, secret: &str, body: &[u8]) -> Result<(), WebhookError> {
    let value = names
        .iter()
        .find_map(|n| headers.get(*n))
        .ok_or_else(|| WebhookError::Unauthorized(format!("the delivery is not signed: expected a {} header", names.join(" or "))))?;
    // `algo=` is optional; base64 padding (`=` at the end) is not a prefix
    let (prefix, hex) = match value.trim().split_once('=') {
        Some((p, rest)) if p.len() <= 10 && p.chars().all(|c| c.is_ascii_alphanumeric()) => (p, rest),
        _ => ("", value.trim()),
    };
    let expected_prefix = match algorithm {
        Algorithm::Sha1 => "sha1",
        Algorithm::Sha256 => "sha256",
    };
    if !prefix.is_empty() && !prefix.eq_ignore_ascii_case(expected_prefix) {
        return Err(WebhookError::Unauthorized(format!("the signature must be {expected_prefix}=<hex or base64>")));
    }
    let digest_len = match algorithm {
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
    };
    let signature = decode_signature(hex, digest_len)
        .ok_or_else(|| WebhookError::Unauthorized("the signature is neither hexadecimal nor base64 of the digest".into()))?;
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

/// Hex when the text is twice the digest's length, else standard base64 (with or without padding).
fn decode_signature(s: &str, digest_len: usize) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if s.len() == 2 * digest_len {
        return decode_hex(s);
    }
    if s.len() > 128 {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(s).or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s)).ok()
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
        // ServiceNow's generateMac answers in base64: the same digest, so the same verdict
        use base64::Engine as _;
        let b64 = |s: &str| {
            let hex = s.split_once('=').unwrap().1;
            let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
            base64::engine::general_purpose::STANDARD.encode(bytes)
        };
        let good = b64(&sign(Algorithm::Sha256, "s3cret", body));
        assert_eq!(good.len(), 44);
        let h = |v: String| headers("x-triage-signature", &v);
        assert!(verify(&h(format!("sha256={good}")), &["x-triage-signature"], Algorithm::Sha256, "s3cret", body).is_ok());
        assert!(verify(&h(good.clone()), &["x-triage-signature"], Algorithm::Sha256, "s3cret", body).is_ok(), "prefix optional");
        let wrong = b64(&sign(Algorithm::Sha256, "other", body));
        assert!(verify(&h(format!("sha256={wrong}")), &["x-triage-signature"], Algorithm::Sha256, "s3cret", body).is_err());
        assert!(verify(&h("sha256=!!!!".into()), &["x-triage-signature"], Algorithm::Sha256, "s3cret", body).is_err(), "not base64");
        // a known vector: HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog")
        assert_eq!(
            sign(Algorithm::Sha1, "key", b"The quick brown fox jumps over the lazy dog"),
            "sha1=de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
    }
}
