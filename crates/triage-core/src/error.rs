//! Errors of the domain layer. Every variant is a user mistake that the caller can fix.

/// Result type of the domain layer.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Why a value was refused at the edge of the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A required text was empty after trimming.
    #[error("{field} is empty; send some text that describes the problem")]
    EmptyText { field: &'static str },
    /// A text was longer than its limit.
    #[error("{field} has {chars} characters, more than the limit of {max}; shorten it")]
    TextTooLong { field: &'static str, chars: usize, max: usize },
    /// A text held a NUL or another control character that is never part of a ticket.
    #[error("{field} contains a control character (such as NUL); remove it")]
    ControlCharacter { field: &'static str },
    /// A tenant id did not have the form `a-z0-9-`.
    #[error("tenant id `{0}` is not valid; use 1-64 lower-case letters, digits or hyphens")]
    InvalidTenant(String),
    /// An identifier (article id, external id, ...) did not have the expected form.
    #[error("{field} `{value}` is not valid; {expected}")]
    InvalidId { field: &'static str, value: String, expected: &'static str },
    /// A time was malformed or impossible (month 99, February 30, hour 25).
    #[error("{field} `{value}` is not a valid time: {reason}; {expected}", expected = crate::time::EXPECTED_TIME)]
    InvalidTime { field: &'static str, value: String, reason: String },
}
