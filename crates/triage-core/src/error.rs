//! Errors of the domain layer. Every variant is a user mistake that the caller can fix.

/// Result type of the domain layer.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;

/// Why a value was refused at the edge of the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// A required text was empty after trimming.
    #[error("{field} is empty; send some text that describes the problem")]
    EmptyText {
        /// Name of the empty field, as the caller knows it (`title`, `description`, ...).
        field: &'static str,
    },
    /// A text was longer than its limit.
    #[error("{field} has {chars} characters, more than the limit of {max}; shorten it")]
    TextTooLong {
        /// Name of the field that was too long.
        field: &'static str,
        /// Length of the text sent, in characters.
        chars: usize,
        /// The field's limit, in characters.
        max: usize,
    },
    /// A text held a NUL, which is never part of a ticket (other control characters become
    /// spaces).
    #[error("{field} contains a NUL character (binary data, not text); remove it")]
    ControlCharacter {
        /// Name of the field that held the character.
        field: &'static str,
    },
    /// A tenant id did not have the form `a-z0-9-`.
    #[error("tenant id `{0}` is not valid; use 1-64 lower-case letters, digits or hyphens")]
    InvalidTenant(String),
    /// An identifier (article id, external id, ...) did not have the expected form.
    #[error("{field} `{value}` is not valid; {expected}")]
    InvalidId {
        /// Name of the field that held the identifier.
        field: &'static str,
        /// The value sent, cut to its first 40 characters.
        value: String,
        /// What a valid value looks like, phrased as advice (`use 1-200 printable characters`).
        expected: &'static str,
    },
    /// A time was malformed or impossible (month 99, February 30, hour 25).
    #[error("{field} `{value}` is not a valid time: {reason}; {expected}", expected = crate::time::EXPECTED_TIME)]
    InvalidTime {
        /// Name of the field that held the time.
        field: &'static str,
        /// The value sent, cut to its first 40 characters.
        value: String,
        /// Why it was refused, in lower case (from [`crate::time::TimeError`]).
        reason: String,
    },
}
