//! Model version names: the registry key and the bundle folder name under `<data_dir>/models`.

/// A checked model version name: 1 to [`ModelVersion::MAX_LEN`] ASCII letters, digits, `-`, `_`
/// or `.`, starting with a letter or a digit (so a name is never `.`, `..` or a hidden folder).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelVersion(String);

impl ModelVersion {
    /// Longest accepted name.
    pub const MAX_LEN: usize = 64;

    /// Parses a version name, or says what a valid one looks like.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let starts_well = raw.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        let charset_ok = raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !starts_well || !charset_ok || raw.len() > Self::MAX_LEN {
            return Err(format!(
                "version `{}` must be 1-{} letters, digits, `-`, `_` or `.`, starting with a letter or digit",
                raw.escape_debug(),
                Self::MAX_LEN
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ModelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_names_are_checked_with_a_reason_per_case() {
        let cases = [
            ("v2", true, "plain name"),
            ("m-20261130t101500z", true, "the default name form"),
            ("2026.11_rc-1", true, "digits first, dots and underscores"),
            ("", false, "empty"),
            (".", false, "the current folder"),
            ("..", false, "the parent folder"),
            (".hidden", false, "a hidden folder"),
            ("-v", false, "looks like a command-line flag"),
            ("a/b", false, "a path separator"),
            ("a\\b", false, "a windows path separator"),
            ("v 2", false, "a space"),
            ("vé", false, "non-ascii"),
        ];
        for (raw, ok, why) in cases {
            assert_eq!(ModelVersion::parse(raw).is_ok(), ok, "{why}: `{raw}`");
        }
        assert!(ModelVersion::parse(&"a".repeat(64)).is_ok(), "64 characters is the limit");
        assert!(ModelVersion::parse(&"a".repeat(65)).is_err(), "65 characters is over the limit");
    }

    proptest::proptest! {
        #[test]
        fn a_parsed_version_is_one_plain_path_component(raw in "\\PC{0,80}") {
            if let Ok(v) = ModelVersion::parse(&raw) {
                let mut parts = std::path::Path::new(v.as_str()).components();
                let first = parts.next();
                proptest::prop_assert!(matches!(first, Some(std::path::Component::Normal(_))), "{raw:?}");
                proptest::prop_assert!(parts.next().is_none(), "{raw:?}");
                proptest::prop_assert!(v.as_str().len() <= ModelVersion::MAX_LEN);
                proptest::prop_assert_eq!(v.as_str(), raw.as_str());
            }
        }

        #[test]
        fn names_of_the_allowed_form_are_accepted(raw in "[a-zA-Z0-9][a-zA-Z0-9._-]{0,63}") {
            proptest::prop_assert!(ModelVersion::parse(&raw).is_ok());
        }
    }
}
