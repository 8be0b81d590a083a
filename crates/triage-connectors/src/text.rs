//! Text from a ticketing system's HTML (Zammad articles, Jira's rendered fields): tags out,
//! block ends as new lines, the common entities decoded. Deliberately small: the server's
//! `html` module (html2text) handles arbitrary HTML at the API edge; connector payloads are the
//! systems' own simple markup.

/// Plain text from simple HTML.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let raw_tag = &rest[open + 1..open + close];
        let closing = raw_tag.starts_with('/');
        let tag = raw_tag.trim_start_matches('/').to_ascii_lowercase();
        let name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
        if matches!(name, "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "blockquote" | "pre") {
            out.push('\n');
        }
        rest = &rest[open + close + 1..];
        // drop scripts and styles whole
        if matches!(name, "script" | "style") && !closing {
            let end = format!("</{name}");
            rest = rest.to_ascii_lowercase().find(&end).map_or("", |i| &rest[i..]);
        }
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let lines: Vec<&str> = decoded.lines().map(str::trim).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_go_blocks_break_and_entities_decode() {
        assert_eq!(html_to_text("<p>VPN drops</p><p>Error&nbsp;809 &amp; 812</p>"), "VPN drops\n\nError 809 & 812");
        assert_eq!(html_to_text("a<br>b<script>x()</script>c"), "a\nbc");
        assert_eq!(html_to_text("no tags"), "no tags");
        assert_eq!(html_to_text("broken <b"), "broken");
    }
}
