//! How an API caller says a description is written (`description_format`), and the conversion
//! of HTML bodies to text through [`triage_html`] (issue 16). Whether a body is HTML is said by
//! the caller or, when it is not said, guessed by [`looks_like_html`].

pub use triage_html::{html_to_text, looks_like_html};

/// How a description is written: `text`, `html`, or not said (`auto`: guessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionFormat {
    /// Guess with [`looks_like_html`] (the default when the field is absent).
    #[default]
    Auto,
    /// Plain text: taken as it is, even if it contains tags.
    Text,
    /// HTML: converted to text with [`html_to_text`].
    Html,
}

impl DescriptionFormat {
    /// The description as plain text: converted when it is (or looks like) HTML, else as sent.
    pub fn to_text(self, description: &str) -> std::borrow::Cow<'_, str> {
        let html = match self {
            DescriptionFormat::Auto => looks_like_html(description),
            DescriptionFormat::Text => false,
            DescriptionFormat::Html => true,
        };
        if html { html_to_text(description).into() } else { description.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explicit_format_wins_over_the_guess() {
        let body = "<p>Printer <b>jams</b></p>";
        assert_eq!(DescriptionFormat::Text.to_text(body), body, "text is taken as it is");
        assert_eq!(DescriptionFormat::Html.to_text("a &amp; b"), "a & b", "html is converted even without tags");
        assert_eq!(DescriptionFormat::Auto.to_text(body), "Printer jams", "auto converts what looks like HTML");
        assert_eq!(DescriptionFormat::Auto.to_text("a &amp; b"), "a &amp; b", "auto leaves plain text alone");
    }
}
