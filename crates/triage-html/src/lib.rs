//! HTML ticket bodies to plain text (issue 16), shared by the API edge (`triage-server`) and
//! the connectors (`triage-connectors`: RT, Zammad and Jira send HTML bodies).
//!
//! The engine and core work on plain text only, so the conversion happens at the edges, before a
//! body becomes a `NewTicket` or a `ResolvedTicket`, and the HTML parser (`html2text` over
//! `html5ever`) stays out of the lower crates. The text keeps what the analysis and the e-mail
//! cleaner need:
//!
//! - paragraphs, `<div>`s, headings and `<br>` become line breaks; runs of blank lines are
//!   squeezed to one;
//! - list items become lines (`- item`, `1. item`);
//! - links become their text (the address is dropped);
//! - `<blockquote>` lines start with `> `, so quoted history is recognisable as in plain text;
//! - `<script>`, `<style>` and `<head>` are dropped; entities are decoded;
//! - control characters other than tab and new line become spaces (they would be refused later).

use html2text::render::TextDecorator;

/// Tags that, written in lower or upper case, mark a body as HTML when no format is given. Inline
/// tags (`<b>`, `<a>`) are left out on purpose: a plain-text ticket may quote one.
const HTML_MARKERS: [&str; 9] = ["<p>", "<p ", "<div", "<br>", "<br/>", "<br />", "<table", "<body", "<span"];

/// Whether a body is HTML: it starts (after white space) with `<html`, `<!doctype` or `<?xml`, or
/// contains one of a few block tags (`<p>`, `<div`, `<br>`, `<table`, `<body`, `<span`) and
/// a closing tag `</`. A plain-text ticket that mentions a tag in passing is not taken for HTML
/// unless it also closes one; send `description_format: "text"` to be sure.
pub fn looks_like_html(body: &str) -> bool {
    let head: String = body.trim_start().chars().take(16).collect::<String>().to_ascii_lowercase();
    if head.starts_with("<html") || head.starts_with("<!doctype") || head.starts_with("<?xml") {
        return true;
    }
    if !body.contains('<') {
        return false;
    }
    let lower = body.to_ascii_lowercase();
    lower.contains("</") && HTML_MARKERS.iter().any(|m| lower.contains(m))
}

/// Lines longer than this are wrapped by the renderer; wide enough that prose never is.
const RENDER_WIDTH: usize = 100_000;

/// Converts an HTML body to plain text (see the module docs for what is kept). Never fails: a
/// body the renderer cannot lay out falls back to its text with the tags stripped.
///
/// The renderer's cost grows with nesting (a 256 KB `<ol><li>` chain took seconds), so bodies
/// nested deeper than [`MAX_RENDER_DEPTH`] or longer than [`MAX_RENDER_BYTES`] are stripped of
/// their tags instead; a panic inside the renderer (it has had arithmetic overflows on hostile
/// `<ol start>`) also falls back to the stripped text.
pub fn html_to_text(html: &str) -> String {
    if html.len() > MAX_RENDER_BYTES || nesting_depth(html) > MAX_RENDER_DEPTH {
        return tidy(&strip_tags(html));
    }
    let render = || {
        html2text::config::with_decorator(TicketDecorator)
            .no_table_borders()
            .no_link_wrapping()
            .string_from_read(html.as_bytes(), RENDER_WIDTH)
            .ok()
    };
    let rendered = std::panic::catch_unwind(render).ok().flatten().unwrap_or_else(|| strip_tags(html));
    tidy(&rendered)
}

/// Deepest element nesting rendered; deeper bodies are only stripped of their tags.
pub const MAX_RENDER_DEPTH: usize = 64;
/// Longest body rendered (four times the longest description: markup included).
pub const MAX_RENDER_BYTES: usize = 4 * triage_core::ticket::TicketText::MAX_CHARS;

/// The deepest nesting of elements, counted cheaply: an opening tag adds one, a closing tag
/// takes one, void and self-closing tags neither (unclosed tags count as open: an overestimate).
fn nesting_depth(html: &str) -> usize {
    const VOID: [&str; 14] =
        ["br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source", "track", "embed", "param"];
    let bytes = html.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut i = 0;
    while let Some(at) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + at + 1;
        let end = bytes[start..].iter().position(|&b| b == b'>').map_or(bytes.len(), |e| start + e);
        let tag = &html[start..end];
        if tag.starts_with('/') {
            depth = depth.saturating_sub(1);
        } else if tag.starts_with(|c: char| c.is_ascii_alphabetic()) && !tag.ends_with('/') {
            let name: String = tag.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
            if !VOID.contains(&name.as_str()) {
                depth += 1;
                max = max.max(depth);
            }
        }
        i = end.min(bytes.len());
        if i >= bytes.len() {
            break;
        }
    }
    max
}

/// Last resort: drops everything between `<` and `>`.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Trailing spaces off every line, control characters to spaces, no blank line twice, no blank
/// lines at either end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        let line: String = line.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
        let line = line.trim_end();
        if line.is_empty() || line == ">" {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        out.push_str(line);
        blank_run = 0;
    }
    out
}

/// Plain text with just the marks the cleaner and the reader need: `> ` for quotes, `- ` and
/// `N. ` for list items; nothing for emphasis, links or headings.
#[derive(Debug, Clone, Copy)]
struct TicketDecorator;

impl TextDecorator for TicketDecorator {
    type Annotation = ();

    fn decorate_link_start(&mut self, _url: &str) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_link_end(&mut self) -> String {
        String::new()
    }
    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_em_end(&self) -> String {
        String::new()
    }
    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strong_end(&self) -> String {
        String::new()
    }
    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }
    fn decorate_code_start(&self) -> (String, ()) {
        (String::new(), ())
    }
    fn decorate_code_end(&self) -> String {
        String::new()
    }
    fn decorate_preformat_first(&self) {}
    fn decorate_preformat_cont(&self) {}
    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        (title.to_owned(), ())
    }
    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }
    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }
    fn unordered_item_prefix(&self) -> String {
        "- ".to_owned()
    }
    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }
    fn make_subblock_decorator(&self) -> Self {
        TicketDecorator
    }
}

#[cfg(test)]
mod depth_tests {
    use super::*;

    #[test]
    fn deeply_nested_or_huge_html_is_stripped_quickly_not_rendered() {
        let cases = [
            ("<ol><li>".repeat(32_000), "a 256 KB chain of unclosed list items"),
            ("<div>".repeat(52_000), "52,000 nested divs"),
            (format!("<p>{}</p>", "x".repeat(MAX_RENDER_BYTES)), "a body over the render limit"),
        ];
        for (html, why) in cases {
            let started = std::time::Instant::now();
            let _ = html_to_text(&html);
            // generous even for a debug build on a busy machine: rendering took seconds
            assert!(started.elapsed() < std::time::Duration::from_millis(500), "{why}: {:?}", started.elapsed());
        }
        assert_eq!(nesting_depth("<p>a<br>b<img src=x/></p><div><span>c</span></div>"), 2);
        assert!(html_to_text("<ol start=\"9223372036854775807\"><li>a</li><li>b</li></ol>").contains('a'), "no panic on overflow");
        assert_eq!(html_to_text("<p>Printer <b>offline</b></p>"), "Printer offline", "ordinary bodies are rendered as before");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_with_its_structure_kept() {
        let cases = [
            (
                "<p>First paragraph.</p><p>Second paragraph.</p>",
                "First paragraph.\n\nSecond paragraph.",
                "paragraphs are separated by a blank line",
            ),
            ("<div>line one<br>line two<br/>line three</div>", "line one\nline two\nline three", "br is a line break"),
            ("<ul><li>Open Outlook</li><li>Click Send</li></ul>", "- Open Outlook\n- Click Send", "unordered list items are lines"),
            ("<ol><li>Open SAP</li><li>Run ME21N</li></ol>", "1. Open SAP\n2. Run ME21N", "numbered steps keep their numbers"),
            (
                "<p>See <a href=\"https://intranet.example/vpn\">the VPN guide</a> please</p>",
                "See the VPN guide please",
                "a link is its text, not its address",
            ),
            (
                "<p>Error &lt;0x80070005&gt; &amp; &quot;denied&quot; &#163;5 &nbsp;ok</p>",
                "Error <0x80070005> & \"denied\" £5 \u{a0}ok",
                "entities are decoded",
            ),
            ("<p>Printer jams</p><script>alert('x')</script><style>p{color:red}</style>", "Printer jams", "scripts and styles are dropped"),
            (
                "<html><head><title>Mail</title><style>.MsoNormal{margin:0}</style></head><body><p class=MsoNormal>VPN drops<o:p></o:p></p></body></html>",
                "VPN drops",
                "Outlook's head and office tags leave nothing behind",
            ),
            (
                "<p>It fails again</p><blockquote><p>On Monday you wrote:</p><p>Please restart</p></blockquote>",
                "It fails again\n\n> On Monday you wrote:\n> \n> Please restart",
                "blockquote lines start with > for the cleaner",
            ),
            (
                "<p><b>Bold</b> and <i>italic</i> and <code>C:\\Temp\\x.log</code></p>",
                "Bold and italic and C:\\Temp\\x.log",
                "emphasis leaves no marks; paths stay whole",
            ),
            ("<p>a</p>\n\n\n<p></p><p></p><p>b</p>", "a\n\nb", "empty paragraphs do not pile up blank lines"),
            ("<table><tr><td>Asset</td><td>LT-0042</td></tr></table>", "Asset", "table cells keep their text"),
        ];
        for (html, want, why) in cases {
            let got = html_to_text(html);
            if why.starts_with("table") {
                assert!(got.contains("Asset") && got.contains("LT-0042"), "{why}: {got:?}");
            } else if why.starts_with("blockquote") {
                assert!(got.starts_with("It fails again\n"), "{why}: {got:?}");
                assert!(got.lines().skip(1).filter(|l| !l.is_empty()).all(|l| l.starts_with('>')), "{why}: {got:?}");
                assert!(got.contains("> On Monday you wrote:") && got.contains("> Please restart"), "{why}: {got:?}");
            } else {
                assert_eq!(got, want, "{why}");
            }
        }
    }

    #[test]
    fn html_is_recognised_by_its_start_or_its_block_tags_and_plain_text_is_not() {
        let cases = [
            ("<!DOCTYPE html><html><body>x</body></html>", true, "a doctype starts a document"),
            ("  <html><body>x</body></html>", true, "an html element after white space"),
            ("<p>My screen flickers</p>", true, "a paragraph with its closing tag"),
            ("Line one<br>Line two<div>x</div>", true, "a br and a closing div"),
            ("My screen flickers since Monday", false, "plain prose"),
            ("The page shows <p> literally in the title", false, "a tag mentioned in passing, never closed"),
            ("if a < b then b > a", false, "angle brackets in text"),
            ("<b>urgent</b> printer down", false, "inline tags alone are not taken for HTML"),
        ];
        for (body, want, why) in cases {
            assert_eq!(looks_like_html(body), want, "{why}");
        }
    }

    #[test]
    fn deeply_nested_html_does_not_overflow_the_stack() {
        let html = format!("{}deep{}", "<div><blockquote>".repeat(2000), "</blockquote></div>".repeat(2000));
        let text = html_to_text(&html);
        assert!(text.contains("deep"), "{}", text.chars().take(200).collect::<String>());
    }

    proptest::proptest! {
        #[test]
        fn converting_any_string_never_panics_and_leaves_no_control_characters(s in "\\PC{0,300}") {
            let t = html_to_text(&s);
            proptest::prop_assert!(!t.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
        }

        #[test]
        fn converting_tag_soup_never_panics(s in "(<(/?)(p|div|br|ul|ol|li|blockquote|a href=x|table|tr|td|script|style|pre)>|[a-z &;#<>\"]{1,8}|\n){0,60}") {
            let t = html_to_text(&s);
            proptest::prop_assert!(!t.starts_with('\n') && !t.ends_with('\n'));
        }
    }
}
