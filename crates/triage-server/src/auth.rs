//! Authentication (`Authorization: Bearer <key>`), authorisation by role, tenant scoping and the
//! per-key rate limit. Every `/v1` route takes an [`Auth`]; health, readiness, metrics, the
//! OpenAPI document and the API page stay open.

use std::future::{Ready, ready};
use std::num::NonZeroU32;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use triage_core::auth::{Action, Principal, Role};
use triage_core::tenant::TenantId;

use crate::problem::{ApiError, ErrorCode};
use crate::state::AppState;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub(crate) struct Auth(pub Principal);

/// Per-key rate limiter.
pub(crate) struct KeyRateLimiter {
    limiter: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl KeyRateLimiter {
    pub(crate) fn new(per_second: u32, burst: u32) -> Self {
        let quota = Quota::per_second(NonZeroU32::new(per_second.max(1)).expect("at least 1"))
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("at least 1"));
        Self { limiter: RateLimiter::keyed(quota), clock: DefaultClock::default() }
    }

    /// `Err(seconds to wait)` when `key_id` is over its quota.
    pub(crate) fn check(&self, key_id: &str) -> Result<(), u64> {
        self.limiter.check_key(&key_id.to_owned()).map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::new(ErrorCode::Internal, "application state missing"))?;
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Err(ApiError::new(
            ErrorCode::MissingCredentials,
            "send `Authorization: Bearer <API key>`; see the README for how to get a key",
        ));
    };
    if values.next().is_some() {
        // which one a proxy or a framework would pick differs: refuse rather than guess
        return Err(ApiError::new(ErrorCode::MalformedCredentials, "send one Authorization header, not several"));
    }
    let value = value.to_str().map_err(|_| ApiError::new(ErrorCode::MalformedCredentials, "the Authorization header is not ASCII"))?;
    let Some(secret) = bearer_token(value) else {
        return Err(ApiError::new(ErrorCode::MalformedCredentials, "the Authorization header must be `Bearer <API key>`"));
    };
    let principal = state.engine()?.authenticate(secret).ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidCredentials, "the API key is not valid or has been revoked; ask an admin for a new one")
    })?;
    if let Err(wait) = state.rate_limiter.check(&principal.key_id) {
        return Err(ApiError::new(ErrorCode::RateLimited, format!("this key sent too many requests; retry in {wait} s")).retry_after(wait));
    }
    Ok(principal)
}

/// The token of a `Bearer` credential; the scheme name is case-insensitive (RFC 9110 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).map(Auth))
    }
}

impl Auth {
    /// Refuses the request unless the role may perform `action`.
    pub(crate) fn require(&self, action: Action) -> Result<&Self, ApiError> {
        if self.0.role.allows(action) {
            Ok(self)
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("{} key may not do this; use a key with the right role", triage_core::auth::with_article(self.0.role.as_str())),
            ))
        }
    }

    /// Refuses the request unless the caller is an operator.
    pub(crate) fn require_operator(&self) -> Result<&Self, ApiError> {
        if self.0.role == Role::Operator { Ok(self) } else { Err(ApiError::new(ErrorCode::Forbidden, "only an operator key may do this")) }
    }

    /// The tenant the request acts for: the key's own tenant, or for operators the tenant they
    /// name (or none). A tenant key naming another tenant is refused.
    pub(crate) fn tenant(&self, requested: Option<&str>, state: &AppState) -> Result<Option<TenantId>, ApiError> {
        let requested = requested.map(TenantId::parse).transpose()?;
        let tenant = match (&self.0.tenant, requested) {
            (Some(own), Some(asked)) if *own != asked => {
                return Err(ApiError::new(ErrorCode::Forbidden, format!("this key belongs to tenant {own}; it cannot act for {asked}")));
            }
            (Some(own), _) => Some(own.clone()),
            (None, asked) => asked,
        };
        if let Some(t) = &tenant
            && !state.settings.tenants.iter().any(|c| c.id == t.as_str())
        {
            return Err(ApiError::new(ErrorCode::InvalidTenant, format!("tenant `{t}` is not configured; add it under [[tenants]]")));
        }
        Ok(tenant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limiter_allows_the_burst_then_asks_to_wait() {
        let rl = KeyRateLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(rl.check("k").is_ok());
        }
        assert!(rl.check("k").unwrap_err() >= 1);
        assert!(rl.check("other").is_ok(), "keys are limited separately");
    }
}
