//! Reading and decoding JSON bodies with precise errors: size, content type, UTF-8, syntax,
//! unknown fields and types each get their own code.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut, Payload};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, ErrorCode};

/// Reads the whole body, refusing it as soon as it passes `limit` bytes.
pub(crate) async fn read_limited(req: &HttpRequest, mut payload: Payload, limit: usize) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is over {limit} bytes; send a smaller request"));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(ErrorCode::InvalidJson, format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks the content type is JSON (`application/json` or any `+json` type).
pub(crate) fn require_json(req: &HttpRequest) -> Result<(), ApiError> {
    match body_kind(req) {
        Some(BodyKind::Json) => Ok(()),
        _ => Err(unsupported(req, "`Content-Type: application/json`")),
    }
}

/// What a body that may be JSON or a raw e-mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/json` or any `+json` type.
    Json,
    /// `message/rfc822`: a whole e-mail, headers first.
    Email,
}

/// Checks the content type is JSON or `message/rfc822`, and says which.
pub(crate) fn require_json_or_email(req: &HttpRequest) -> Result<BodyKind, ApiError> {
    body_kind(req).ok_or_else(|| unsupported(req, "`Content-Type: application/json` or `Content-Type: message/rfc822`"))
}

fn body_kind(req: &HttpRequest) -> Option<BodyKind> {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json")) {
        Some(BodyKind::Json)
    } else if mime == "message/rfc822" {
        Some(BodyKind::Email)
    } else {
        None
    }
}

fn unsupported(req: &HttpRequest, wanted: &str) -> ApiError {
    let ct = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let shown = if ct.is_empty() { "none".to_owned() } else { ct.chars().take(60).collect() };
    ApiError::new(ErrorCode::UnsupportedMediaType, format!("Content-Type was {shown}; send {wanted}"))
}

/// Decodes a JSON body into `T`, classifying the failure.
pub(crate) fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::new(ErrorCode::InvalidUtf8, format!("byte {} is not valid UTF-8; encode the body as UTF-8", e.valid_up_to()))
    })?;
    serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        let msg = e.to_string();
        match e.classify() {
            Category::Data if msg.starts_with("unknown field") => ApiError::new(ErrorCode::UnknownField, msg),
            Category::Data => ApiError::new(ErrorCode::InvalidField, msg),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::new(ErrorCode::InvalidJson, format!("{msg}; send one JSON object"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        a: String,
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = decode_json::<crate::wire::TriageRequest>(&bytes);
            let _ = decode_json::<crate::wire_loop::ResolvedBatch>(&bytes);
        }

        #[test]
        fn decoding_json_shaped_noise_never_panics(text in "[\\{\\}\\[\\]\":,a-z0-9 \\\\\\u{0}-\\u{1f}é]{0,200}") {
            let _ = decode_json::<crate::wire::TriageRequest>(text.as_bytes());
        }
    }

    #[test]
    fn decoding_failures_get_their_own_codes() {
        let code = |b: &[u8]| decode_json::<T>(b).unwrap_err().code;
        assert_eq!(code(b"{\"a\":"), ErrorCode::InvalidJson);
        assert_eq!(code(b"{\"a\":\"\xff\"}"), ErrorCode::InvalidUtf8);
        assert_eq!(code(b"{\"a\":\"x\",\"b\":1}"), ErrorCode::UnknownField);
        assert_eq!(code(b"{\"a\":1}"), ErrorCode::InvalidField);
        assert_eq!(code(b"[]"), ErrorCode::InvalidField);
        assert!(decode_json::<T>(b"{\"a\":\"x\"}").is_ok());
    }
}
