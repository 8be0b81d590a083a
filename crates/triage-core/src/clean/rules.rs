//! The recognisers: where the quoted thread starts, which paragraphs are disclaimers,
//! auto-replies or boilerplate, and where a signature block begins.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::{Boilerplate, RemovedKind, RemovedKinds};

/// Phrases that make a paragraph a confidentiality notice or footer. Strong phrases only: a
/// caller's own sentence that mentions "confidential" or "PSN" stays.
static DISCLAIMER: LazyLock<Regex> = LazyLock::new(|| {
    words_regex(&[
        r"received this (?:e-?mail|message|communication|transmission) in error",
        r"not the (?:intended|named) (?:recipient|addressee)",
        r"intended (?:solely |only )?for the (?:sole )?(?:use of the )?(?:named )?(?:addressee|recipient|individual|person)",
        r"this (?:e-?mail|message),? (?:and|including|together with) any (?:files|attachments)",
        r"(?:e-?mail|message) (?:and any attachments )?(?:is|are|may be) (?:strictly )?(?:confidential|privileged)",
        r"consider the environment",
        r"(?:think )?before (?:you )?print(?:ing)? this",
        r"think before you print",
        r"do you (?:really )?need to print this",
        r"join on your computer,? mobile app or room device",
        r"click here to join the meeting",
        r"join (?:the )?zoom meeting",
        r"may be monitored (?:and|or|and/or) recorded",
        r"(?:gcsx|gsi|gsx|cjsm|psn) (?:network|e-?mail)s? (?:may|are|is)",
        r"(?:scanned|checked) (?:by|for|with) [a-z0-9\s.-]{0,40}(?:virus|viruses|malware|mimecast|symantec|sophos|forcepoint|messagelabs)",
        r"this (?:e-?mail|message) has been (?:scanned|checked)",
        r"sent from my (?:iphone|ipad|android|samsung|galaxy|blackberry|mobile|huawei|phone)",
        r"(?:get|sent from) outlook for (?:ios|android|windows)",
        r"views (?:or opinions )?expressed (?:in this|are|herein)",
        r"subject to (?:disclosure|the freedom of information)",
        r"(?:see|read) our privacy (?:notice|policy)",
        r"originated from outside (?:of )?(?:the|your|our) organi[sz]ation",
        r"do not click (?:on )?links or open attachments",
        r"any unauthori[sz]ed (?:use|review|disclosure|copying|dissemination)",
        r"intended for the above[- ]?named",
        r"(?:come|reached|been sent) to you in error",
    ])
});

/// Phrases of out-of-office and acknowledgement auto-replies.
static AUTO_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    words_regex(&[
        r"thank you for (?:your|contacting)[\s\S]{0,120}?\b(?:we|i|the team|someone) (?:aim|will|shall|endeavour) (?:to )?(?:respond|reply|get back|deal with)",
        r"(?:out of (?:the )?office|on (?:annual )?leave|away from (?:the|my) (?:office|desk))[^.]{0,200}(?:access to (?:my )?e-?mails?|respond|reply|response|responding)",
        r"this is an automat(?:ed|ic) (?:reply|response|acknowledg(?:e)?ment)",
        r"automatic reply:",
        r"auto-?reply:",
        r"your (?:call|request|e-?mail|ticket) has been (?:logged|received)[^.]{0,80}reference",
    ])
});

/// A line pointing at answers written into the quoted thread ("Please see my comments below in
/// blue"): with the thread gone it points at nothing.
static INLINE_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    words_regex(&[r"^(?:please )?(?:see|find) (?:my )?(?:comments|answers|replies|responses|notes) (?:below|inline|in (?:blue|red|green))"])
});

/// One regex from alternative lower-case phrases, a space in a phrase matching any white space
/// (so a phrase wrapped over two lines still matches). It runs on ASCII-lower-cased text: a
/// case-insensitive regex over twenty phrases would have no usable literal prefilter and cost
/// several µs per 2 KB.
fn words_regex(phrases: &[&str]) -> Regex {
    let alternation = phrases.iter().map(|p| p.replace(' ', r"\s+")).collect::<Vec<_>>().join("|");
    Regex::new(&format!("(?:{alternation})")).expect("cleaning regex compiles")
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn ends_with_ci(s: &str, suffix: &str) -> bool {
    s.len() >= suffix.len() && s.as_bytes()[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn has_alnum(s: &str) -> bool {
    s.chars().any(char::is_alphanumeric)
}

/// A line with markdown-ish emphasis (`*From:*`) and outer white space removed.
fn bare(line: &str) -> &str {
    line.trim().trim_start_matches(['*', '_'])
}

const HEADER_FIELDS: [&str; 8] = ["sent:", "date:", "to:", "cc:", "bcc:", "subject:", "importance:", "reply-to:"];

/// Whether the value of a `From:` header reads as a sender: an address, a `<...>` form, or a short
/// name ("From: field is missing when I compose" is a sentence, not a header).
fn looks_like_sender(value: &str) -> bool {
    let v = value.trim();
    v.contains('@')
        || v.contains('<')
        || (!v.is_empty()
            && v.split_whitespace().count() <= 4
            && v.split_whitespace().all(|w| w.starts_with(|c: char| c.is_uppercase() || !c.is_alphabetic())))
}

/// Length in lines of an Outlook header block starting at a `From:` line at `i`: at least two
/// more header fields within the next eight lines, contiguous (a wrapped recipient list aside).
fn header_block_len<'t>(line: &impl Fn(usize) -> &'t str, n: usize, i: usize) -> Option<usize> {
    let (mut fields, mut last) = (0, i);
    for j in i + 1..n.min(i + 9) {
        let t = bare(line(j));
        if t.is_empty() {
            break;
        }
        if HEADER_FIELDS.iter().any(|f| starts_with_ci(t, f)) {
            fields += 1;
            last = j;
        } else if !(t.contains('@') || t.contains(';') || line(j).trim_start().starts_with('>')) {
            // header fields are contiguous; only a wrapped recipient list sits between them
            break;
        }
    }
    (fields >= 2).then_some(last - i + 1)
}

/// Whether line `i` starts a tail (quoted history or a `-- ` signature), and how many lines the
/// marker itself spans.
fn tail_marker<'t>(line: &impl Fn(usize) -> &'t str, n: usize, i: usize) -> Option<(RemovedKind, usize)> {
    let raw = line(i);
    // the RFC 3676 delimiter is `-- ` with its space; a bare `--` also separates the context
    // groups of pasted `grep` output, so it is not taken for one
    if raw == "-- " || raw == "--\u{a0}" {
        return Some((RemovedKind::Signature, 1));
    }
    let t = bare(raw);
    let first = *t.as_bytes().first()?;
    match first.to_ascii_lowercase() {
        b'-' | b'_' | b'=' => {
            let lower = t.to_ascii_lowercase();
            (lower.contains("original message") || lower.contains("original appointment") || lower.contains("forwarded message"))
                .then_some((RemovedKind::Quote, 1))
        }
        b'b' if starts_with_ci(t, "begin forwarded message") => Some((RemovedKind::Quote, 1)),
        b'f' if starts_with_ci(t, "from:") && looks_like_sender(&t[5..]) => {
            header_block_len(line, n, i).map(|len| (RemovedKind::Quote, len))
        }
        b'o' if starts_with_ci(t, "on ") && t.len() <= 300 => {
            // a reply marker carries a date or an address: "On Mon, 2 Mar 2026 ... wrote:", not
            // "On my new laptop the prompt never arrives. My colleague wrote:"
            let dated = |l: &str| l.bytes().any(|b| b.is_ascii_digit() || b == b'@' || b == b'<');
            if ends_with_ci(t, "wrote:") && dated(t) {
                Some((RemovedKind::Quote, 1))
            } else if i + 1 < n
                && line(i + 1).len() <= 200
                && ends_with_ci(line(i + 1).trim_end(), "wrote:")
                && (dated(t) || dated(line(i + 1)))
            {
                Some((RemovedKind::Quote, 2))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Marks `>` lines and finds where the quoted tail (or a `-- ` signature) starts; returns that
/// line index (`lines.len()` when there is none). A header or marker with no content above it
/// (a forwarded message that is the whole body) is dropped alone, and its body kept.
pub(super) fn find_quote_tail(text: &str, lower: &str, lines: &[(usize, usize)], keep: &mut [bool], removed: &mut RemovedKinds) -> usize {
    let line = |i: usize| &text[lines[i].0..lines[i].1];
    let n = lines.len();
    let mut content_above = false;
    let mut i = 0;
    while i < n {
        let t = line(i).trim_start();
        // `> 100 staff cannot log in` is a comparison the caller wrote, not a quoted line
        let quoted = t.starts_with('>') && !t[1..].trim_start().starts_with(|c: char| c.is_ascii_digit());
        if quoted {
            keep[i] = false;
            removed.insert(RemovedKind::Quote);
            i += 1;
            continue;
        }
        if let Some((kind, len)) = tail_marker(&line, n, i) {
            if kind == RemovedKind::Quote && !content_above {
                keep[i..i + len].iter_mut().for_each(|k| *k = false);
                removed.insert(kind);
                i += len;
                continue;
            }
            removed.insert(kind);
            if kind == RemovedKind::Quote {
                let tail = &lower[lines[i].0..];
                if AUTO_REPLY.is_match(tail) {
                    removed.insert(RemovedKind::AutoReply);
                }
                if DISCLAIMER.is_match(tail) {
                    removed.insert(RemovedKind::Disclaimer);
                }
            }
            // separator lines (`____`) and blanks just above belong to the block
            let mut cut = i;
            while cut > 0 && !has_alnum(line(cut - 1)) {
                cut -= 1;
            }
            return cut;
        }
        content_above |= has_alnum(t);
        i += 1;
    }
    n
}

/// Drops paragraphs (runs of non-blank lines) that hold an auto-reply or disclaimer phrase or
/// are all boilerplate sentences, then single lines that are all boilerplate sentences.
pub(super) fn drop_paragraphs(
    text: &str,
    lower: &str,
    lines: &[(usize, usize)],
    keep: &mut [bool],
    removed: &mut RemovedKinds,
    bp: &Boilerplate,
) {
    let Some(&(_, head_end)) = lines.last() else { return };
    let head = &lower[..head_end];
    let (any_auto, any_disclaimer) = (AUTO_REPLY.is_match(head), DISCLAIMER.is_match(head));
    let line = |i: usize| &text[lines[i].0..lines[i].1];
    let blank = |i: usize| line(i).trim().is_empty();
    let mut i = 0;
    while i < lines.len() {
        if !keep[i] || blank(i) {
            i += 1;
            continue;
        }
        // removed lines inside a paragraph are skipped over, not separators, so a second
        // cleaning sees the same paragraphs
        let (mut j, mut contiguous) = (i, true);
        while j < lines.len() && (!keep[j] || !blank(j)) {
            contiguous &= keep[j];
            j += 1;
        }
        let (paragraph, paragraph_lower): (Cow<'_, str>, Cow<'_, str>) = if contiguous {
            (Cow::Borrowed(&text[lines[i].0..lines[j - 1].1]), Cow::Borrowed(&lower[lines[i].0..lines[j - 1].1]))
        } else {
            let joined = (i..j).filter(|&k| keep[k]).map(line).collect::<Vec<_>>().join("\n");
            let joined_lower = joined.to_ascii_lowercase();
            (Cow::Owned(joined), Cow::Owned(joined_lower))
        };
        let kind = if any_auto && AUTO_REPLY.is_match(&paragraph_lower) {
            Some(RemovedKind::AutoReply)
        } else if is_inline_reply_pointer(&paragraph, &paragraph_lower) {
            Some(RemovedKind::Quote)
        } else if any_disclaimer && DISCLAIMER.is_match(&paragraph_lower) {
            Some(RemovedKind::Disclaimer)
        } else if bp.covers(&paragraph) {
            Some(RemovedKind::Boilerplate)
        } else {
            None
        };
        match kind {
            Some(kind) => {
                keep[i..j].iter_mut().for_each(|k| *k = false);
                removed.insert(kind);
            }
            None if !bp.is_empty() => {
                for (k, kept) in keep.iter_mut().enumerate().take(j).skip(i) {
                    if *kept && bp.covers(line(k)) {
                        *kept = false;
                        removed.insert(RemovedKind::Boilerplate);
                    }
                }
            }
            None => {}
        }
        i = j;
    }
}

/// A paragraph that only points at inline answers in the quoted thread, perhaps signed with a
/// name or a sign-off: its first line is such a pointer of at most 80 characters, and every
/// other line a name or a sign-off (so a pointer followed by the caller's own answers stays).
fn is_inline_reply_pointer(paragraph: &str, lower: &str) -> bool {
    let mut lines = paragraph.lines().zip(lower.lines());
    let Some((first, first_lower)) = lines.next() else { return false };
    let first_lower = first_lower.trim();
    first.trim().len() <= 80
        && ["please ", "see ", "find "].iter().any(|p| first_lower.starts_with(p))
        && INLINE_REPLY.is_match(first_lower)
        && lines.all(|(l, _)| l.trim().is_empty() || is_bare_name(l.trim()) || is_sign_off(l))
}

/// Most non-blank lines a signature block may have after its sign-off.
const MAX_SIGNATURE_LINES: usize = 12;

/// Most non-blank lines after a sign-off that may be dropped as signature and footer together
/// (a signature block, then the council's straplines, notices and logos).
const MAX_FOOTER_LINES: usize = 30;

const SIGN_OFFS: [&str; 45] = [
    "ta",
    "diolch",
    "diolch / thanks",
    "diolch yn fawr",
    "cofion",
    "cofion cynnes",
    "cofion gorau",
    "speak soon",
    "speak then",
    "thanks all",
    "thanks everyone",
    "thanks both",
    "thank you all",
    "regards all",
    "many thanks all",
    "kind regards",
    "kindest regards",
    "best regards",
    "warm regards",
    "warmest regards",
    "many regards",
    "regards",
    "with regards",
    "with kind regards",
    "with best regards",
    "thanks",
    "thank you",
    "many thanks",
    "thanks again",
    "thanks in advance",
    "many thanks in advance",
    "thank you in advance",
    "thanks and regards",
    "thanks & regards",
    "best wishes",
    "with best wishes",
    "all the best",
    "best",
    "cheers",
    "yours sincerely",
    "yours faithfully",
    "yours truly",
    "sincerely",
    "with thanks",
    "with many thanks",
];

/// A sign-off line: "Kind regards", "Thanks,", or a sign-off followed by a name of up to three
/// capitalised words ("Many thanks, Jane Smith"); bilingual pairs of two known sign-offs in
/// either order ("Diolch / Thank you", "Cofion / Regards"; a pair with an unknown half, such as
/// "Mit freundlichen Grüßen / Best", stays, as it did).
fn is_sign_off(line: &str) -> bool {
    let t = line.trim();
    if let Some((a, b)) = t.split_once(" / ")
        && t.len() <= 60
        && is_one_sign_off(a)
        && is_one_sign_off(b)
    {
        return true;
    }
    is_one_sign_off(t)
}

fn is_one_sign_off(line: &str) -> bool {
    let t = line.trim().trim_end_matches([',', '.', '!', ':', ';', '-', ' ']);
    // every sign-off starts with one of these letters
    if t.len() > 60 || !t.bytes().next().is_some_and(|b| b"kbwmrtcaysd".contains(&b.to_ascii_lowercase())) {
        return false;
    }
    let lower = t.to_lowercase();
    SIGN_OFFS.iter().any(|s| {
        if lower == *s {
            return true;
        }
        let Some(rest) = lower.strip_prefix(s) else { return false };
        if !rest.starts_with([',', ' ']) {
            return false;
        }
        let name = &t[t.len() - rest.len()..];
        let words: Vec<&str> = name.split([',', ' ']).filter(|w| !w.is_empty()).collect();
        (1..=3).contains(&words.len())
            && words.iter().all(|w| {
                w.chars().next().is_some_and(char::is_uppercase) && w.chars().all(|c| c.is_alphabetic() || matches!(c, '-' | '.' | '\''))
            })
    })
}

/// A line that could belong to a signature block: a name, job title, organisation, address,
/// phone, e-mail or web line, or a separator. Never an error text, a path, a numbered step or
/// a sentence of lower-case words.
fn is_signature_line(line: &str) -> bool {
    let t = line.trim();
    if t.chars().count() > 80 {
        return false;
    }
    if !has_alnum(t) {
        return true; // a separator
    }
    let lower = t.to_lowercase();
    if looks_like_the_problem(t, &lower) {
        return false;
    }
    let contact = t.contains('@')
        || lower.contains("www.")
        || lower.contains("http")
        || t.bytes().filter(u8::is_ascii_digit).count() >= 5
        || ["tel", "phone", "mob", "mobile", "email", "e-mail", "web", "ext", "t:", "m:", "e:", "w:", "fax"]
            .iter()
            .any(|p| lower.starts_with(p));
    if contact {
        return true;
    }
    const SMALL: [&str; 12] = ["of", "and", "the", "for", "&", "|", "-", "in", "at", "to", "on", "/"];
    let words: Vec<&str> = t.split_whitespace().filter(|w| !SMALL.contains(&w.to_lowercase().as_str())).collect();
    let capitalised =
        words.iter().filter(|w| w.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || !c.is_alphanumeric())).count();
    words.len() <= 8 && capitalised * 2 >= words.len()
}

/// A line the caller adds under their signature: a postscript, or "Also ..." about another fault.
fn is_afterthought(line: &str) -> bool {
    let lower = line.trim_start().to_ascii_lowercase();
    ["p.s", "ps ", "ps:", "ps.", "also ", "also,", "one more thing", "nb ", "n.b"].iter().any(|p| lower.starts_with(p))
}

/// A line that reads as part of the caller's problem rather than a signature or a footer: an
/// error text, a path, a stack frame, a question or a numbered step.
fn looks_like_the_problem(t: &str, lower: &str) -> bool {
    let code_like = t.contains('\\')
        || ["err_", "exception", "fail", "0x", "denied", "warning", "::", "()", "traceback"].iter().any(|w| lower.contains(w))
        // "error", but not a disclaimer's "received this e-mail in error"
        || lower.match_indices("error").any(|(at, _)| !lower[..at].ends_with("in "))
        || lower.starts_with("at ")
        || t.ends_with('?');
    let numbered_step = {
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        digits > 0 && t[digits..].starts_with(['.', ')']) && t[digits + 1..].starts_with(' ')
    };
    code_like || numbered_step
}

/// Removes a sign-off and everything after it when every later line looks like part of a
/// signature block (the first such sign-off from the top wins); or, when the sign-off is
/// followed at once by a signature line (a name) and nothing after it reads as the problem
/// (see [`looks_like_the_problem`]), the signature with the footer paragraphs below it
/// (straplines, notices, logos: up to [`MAX_FOOTER_LINES`] lines).
/// `under_title`: the text is a description under a title that states the problem, so a sign-off
/// on its first line is the start of a signature too (the caller wrote everything in the subject).
pub(super) fn drop_signature(text: &str, lines: &[(usize, usize)], keep: &mut [bool], removed: &mut RemovedKinds, under_title: bool) {
    let line = |i: usize| &text[lines[i].0..lines[i].1];
    let kept: Vec<usize> = (0..lines.len()).filter(|&i| keep[i] && (has_alnum(line(i)) || line(i).trim() == "--")).collect();
    for (pos, &i) in kept.iter().enumerate() {
        // a bare `--` (the RFC 3676 delimiter with its space trimmed by the mail client) counts
        // only with a signature below it: the rules below never take a path or an error text
        if !is_sign_off(line(i)) && line(i).trim() != "--" {
            continue;
        }
        let rest = &kept[pos + 1..];
        let block = rest.len() <= MAX_SIGNATURE_LINES && rest.iter().all(|&r| is_signature_line(line(r)) && !is_afterthought(line(r)));
        let with_footer = (pos > 0 || under_title)
            && rest.first().is_some_and(|&r| is_signature_line(line(r)))
            && rest.len() <= MAX_FOOTER_LINES
            && rest.iter().all(|&r| !looks_like_the_problem(line(r).trim(), &line(r).to_lowercase()) && !is_afterthought(line(r)));
        if block || with_footer {
            keep[i..lines.len()].iter_mut().for_each(|k| *k = false);
            removed.insert(RemovedKind::Signature);
            break;
        }
    }
    // what is left, for the name rule below (a name above a trailing sign-off: "Jane\nThanks")
    let kept: Vec<usize> = (0..lines.len()).filter(|&i| keep[i] && has_alnum(line(i))).collect();
    // no sign-off: a name closing the message, alone ("...started again.\n\nJane") or heading a
    // signature block ("Jo Hughes\nPlanning Technician\nTel: ..."), after a blank line and under
    // at least one line of text
    let Some(&last) = kept.last() else { return };
    let Some(start) = (0..=last).rev().find(|&k| line(k).trim().is_empty()).map(|blank| blank + 1) else { return };
    let block: Vec<usize> = kept.iter().copied().filter(|&k| k >= start).collect();
    let has_text_above = kept.iter().any(|&k| k < start);
    if has_text_above
        && block.first().is_some_and(|&k| is_bare_name(line(k)) || is_name_with_contact(line(k)))
        && block.len() <= MAX_SIGNATURE_LINES
        && block.iter().all(|&k| is_signature_line(line(k)))
    {
        block.iter().for_each(|&k| keep[k] = false);
        removed.insert(RemovedKind::Signature);
    }
}

/// One or two capitalised words of letters only, as a name signs a message ("Jane", "Jo
/// Hughes", "Aoife O'Brien", "Sian Lloyd-Jones"): a capital only at the start or after `'` or `-`
/// (not after `Mc`: "McAfee" closing a message is more likely the product than a name).
fn is_bare_name(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    (1..=2).contains(&words.len())
        && words.iter().all(|w| {
            let chars: Vec<char> = w.chars().collect();
            chars.first().is_some_and(|c| c.is_uppercase())
                && chars.len() <= 15
                && chars
                    .iter()
                    .enumerate()
                    .skip(1)
                    .all(|(k, &c)| c.is_lowercase() || matches!(c, '-' | '\'') || (c.is_uppercase() && matches!(chars[k - 1], '-' | '\'')))
        })
}

/// A name and a phone number on one line, as a short signature gives them ("Jo Hughes - 01632
/// 960001").
fn is_name_with_contact(line: &str) -> bool {
    line.split_once(" - ").is_some_and(|(name, contact)| is_bare_name(name) && contact.bytes().filter(u8::is_ascii_digit).count() >= 5)
}
