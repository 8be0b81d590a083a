//! E-mail noise for evaluation (issue 16): templates of what follows the caller's words in an
//! e-mail-born ticket (signature blocks, disclaimers, quoted replies, the desk's own auto-reply),
//! filled from small fixed lists and appended to test tickets and queries, so one run reports
//! how much the tail costs. Training data is never touched: the noise models e-mails arriving
//! at triage time.
//!
//! The template file: every template starts with a line `%%` (the rest of that line names it);
//! text before the first such line is a header and is ignored. Placeholders are `{name}`,
//! `{first_name}`, `{job_title}`, `{council}`, `{department}`, `{phone}`, `{mobile}`,
//! `{email}`, `{address}`, `{postcode}`, `{date}`, `{ticket_ref}`, `{desk}`; `{{` is a literal
//! brace. Which template a ticket gets, and how it is filled, depends only on the ticket's key
//! (its id, or its index) and the seed, so reruns agree.

use std::path::Path;

use thiserror::Error;

use crate::{EngineError, Result};

/// A template file that cannot be used, with the line to fix.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NoiseError {
    /// A `{...}` names no known placeholder.
    #[error(
        "line {line} (template starting at line {template_line}): unknown placeholder `{{{name}}}`; known: {known}",
        known = Placeholder::known()
    )]
    UnknownPlaceholder {
        /// The placeholder's name, without braces.
        name: String,
        /// 1-based line of the placeholder.
        line: usize,
        /// 1-based line of the template's `%%` line.
        template_line: usize,
    },
    /// A `{` that starts no placeholder and is not written `{{`.
    #[error("line {line} (template starting at line {template_line}): `{{` opens no placeholder; write `{{{{` for a literal brace")]
    StrayBrace {
        /// 1-based line of the brace.
        line: usize,
        /// 1-based line of the template's `%%` line.
        template_line: usize,
    },
    /// A template with nothing but white space.
    #[error("line {template_line}: template is empty")]
    EmptyTemplate {
        /// 1-based line of the template's `%%` line.
        template_line: usize,
    },
    /// No `%%` line at all.
    #[error("no templates: every template starts with a line `%%`")]
    NoTemplates,
}

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placeholder {
    Name,
    FirstName,
    JobTitle,
    Council,
    Department,
    Phone,
    Mobile,
    Email,
    Address,
    Postcode,
    Date,
    TicketRef,
    Desk,
}

impl Placeholder {
    const ALL: [(&'static str, Placeholder); 13] = [
        ("name", Self::Name),
        ("first_name", Self::FirstName),
        ("job_title", Self::JobTitle),
        ("council", Self::Council),
        ("department", Self::Department),
        ("phone", Self::Phone),
        ("mobile", Self::Mobile),
        ("email", Self::Email),
        ("address", Self::Address),
        ("postcode", Self::Postcode),
        ("date", Self::Date),
        ("ticket_ref", Self::TicketRef),
        ("desk", Self::Desk),
    ];

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    fn known() -> String {
        Self::ALL.iter().map(|(n, _)| format!("{{{n}}}")).collect::<Vec<_>>().join(" ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Slot(Placeholder),
}

#[derive(Debug, Clone)]
struct Template {
    pieces: Vec<Piece>,
}

/// Parsed e-mail tail templates.
#[derive(Debug, Clone)]
pub struct NoiseTemplates {
    templates: Vec<Template>,
}

impl NoiseTemplates {
    /// Parses a template file (format in the module docs).
    pub fn parse(text: &str) -> std::result::Result<Self, NoiseError> {
        let mut templates = Vec::new();
        // (line of the `%%` line, lines of the body with their 1-based numbers)
        let mut current: Option<(usize, Vec<(usize, &str)>)> = None;
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("%%") {
                if let Some((start, body)) = current.take() {
                    templates.push(parse_template(start, &body)?);
                }
                current = Some((i + 1, Vec::new()));
            } else if let Some((_, body)) = current.as_mut() {
                body.push((i + 1, line));
            }
        }
        if let Some((start, body)) = current {
            templates.push(parse_template(start, &body)?);
        }
        if templates.is_empty() {
            return Err(NoiseError::NoTemplates);
        }
        Ok(Self { templates })
    }

    /// Reads and parses a template file; errors name the file and the line.
    pub fn load(path: &Path) -> Result<Self> {
        let err = |message: String| EngineError::EvalData { path: path.display().to_string(), message };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        Self::parse(&text).map_err(|e| err(e.to_string()))
    }

    /// How many templates the file holds.
    pub fn len(&self) -> usize {
        self.templates.len()
    }

    /// Never true for a parsed file (parsing refuses a file without templates).
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }
}

fn parse_template(template_line: usize, body: &[(usize, &str)]) -> std::result::Result<Template, NoiseError> {
    // Leading and trailing blank lines are not part of the tail.
    let first = body.iter().position(|(_, l)| !l.trim().is_empty());
    let last = body.iter().rposition(|(_, l)| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else { return Err(NoiseError::EmptyTemplate { template_line }) };
    let mut pieces = Vec::new();
    let mut text = String::new();
    for (n, &(line, content)) in body[first..=last].iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        let mut rest = content.trim_end();
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            if let Some(stripped) = after.strip_prefix('{') {
                text.push('{');
                rest = stripped;
                continue;
            }
            let name_len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if name_len == 0 || !after[name_len..].starts_with('}') {
                return Err(NoiseError::StrayBrace { line, template_line });
            }
            let name = &after[..name_len];
            let slot = Placeholder::from_name(name).ok_or_else(|| NoiseError::UnknownPlaceholder {
                name: name.to_owned(),
                line,
                template_line,
            })?;
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(Piece::Slot(slot));
            rest = &after[name_len + 1..];
        }
        text.push_str(rest);
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(Template { pieces })
}

/// Templates plus a seed: appends one filled tail to a text, the same one for the same key.
#[derive(Debug, Clone)]
pub struct Noise {
    templates: NoiseTemplates,
    seed: u64,
}

/// The seed `triage eval ... --noise` uses unless told otherwise.
pub const DEFAULT_NOISE_SEED: u64 = 16;

impl Noise {
    /// Noise from parsed templates and a seed.
    pub fn new(templates: NoiseTemplates, seed: u64) -> Self {
        Self { templates, seed }
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many templates there are to choose from.
    pub fn template_count(&self) -> usize {
        self.templates.len()
    }

    /// The filled tail for `key` (a ticket id, or a query's index).
    pub fn tail(&self, key: &str) -> String {
        let (index, mut rng) = self.choose(key);
        let person = Person::draw(&mut rng);
        let mut out = String::new();
        for piece in &self.templates.templates[index].pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot(p) => person.fill(*p, &mut out),
            }
        }
        out
    }

    /// Which template `key` gets (0-based, in file order).
    pub fn template_index(&self, key: &str) -> usize {
        self.choose(key).0
    }

    /// `text` with the tail for `key` appended after a blank line, as an e-mail body arrives.
    pub fn apply(&self, key: &str, text: &str) -> String {
        let tail = self.tail(key);
        let mut out = String::with_capacity(text.len() + tail.len() + 2);
        out.push_str(text.trim_end());
        out.push_str("\n\n");
        out.push_str(&tail);
        out
    }

    fn choose(&self, key: &str) -> (usize, SplitMix) {
        // FNV-1a over the key, mixed with the seed: stable across runs, platforms and versions.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut rng = SplitMix(h ^ self.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let index = (rng.next() % self.templates.len() as u64) as usize;
        (index, rng)
    }
}

/// SplitMix64: small, fast, and the same everywhere (also the incident stream's generator).
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[(self.next() % list.len() as u64) as usize]
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, 1)`, from the top 53 bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

const FIRST_NAMES: [&str; 14] =
    ["Sarah", "David", "Priya", "Gareth", "Claire", "Mohammed", "Joanne", "Stuart", "Aisha", "Rhys", "Helen", "Tomasz", "Bethan", "Kevin"];
const SURNAMES: [&str; 14] = [
    "Thompson", "Patel", "Hughes", "Okafor", "Williams", "Campbell", "Nowak", "Evans", "Khan", "Robinson", "Fletcher", "Davies", "O'Brien",
    "McKenzie",
];
const JOB_TITLES: [&str; 12] = [
    "Benefits Officer",
    "Senior Revenues Officer",
    "Democratic Services Officer",
    "Business Support Officer",
    "Team Leader",
    "Customer Services Advisor",
    "Environmental Health Officer",
    "Senior Planning Officer",
    "Social Worker",
    "Housing Options Officer",
    "Finance Assistant",
    "Project Manager",
];
const DEPARTMENTS: [&str; 12] = [
    "Revenues and Benefits",
    "Democratic Services",
    "Adult Social Care",
    "Environmental Health",
    "Highways and Transport",
    "Planning and Building Control",
    "Housing Options",
    "Waste and Recycling",
    "Children's Services",
    "Finance and Procurement",
    "Customer Services",
    "Legal and Governance",
];
/// (council, e-mail domain, address, postcode). Fictional places; phone numbers below are in
/// Ofcom's ranges reserved for drama.
const COUNCILS: [(&str, &str, &str, &str); 8] = [
    ("Northmoor District Council", "northmoor.gov.uk", "Civic Centre, Market Place, Northmoor", "NM1 2AB"),
    ("Eastwick Borough Council", "eastwick.gov.uk", "Town Hall, High Street, Eastwick", "EW4 7QT"),
    ("Greyhaven City Council", "greyhaven.gov.uk", "Guildhall, Castle Street, Greyhaven", "GH1 1JD"),
    ("Hollins County Council", "hollins.gov.uk", "County Hall, Station Road, Hollinsford", "HL9 3XP"),
    ("Ashdown Valley District Council", "ashdownvalley.gov.uk", "Council Offices, Mill Lane, Ashdown", "AV2 5LN"),
    ("Carrow Metropolitan Borough Council", "carrow.gov.uk", "Carrow House, 12 Church Street, Carrow", "CW3 8HF"),
    ("Cyngor Sir Penrhos / Penrhos County Council", "penrhos.gov.wales", "Neuadd y Sir, Stryd y Bont, Penrhos", "PN5 6RR"),
    ("West Fenby Council", "westfenby.gov.uk", "The Forum, Bridge Road, Fenby", "FB7 0DW"),
];
const DESKS: [&str; 5] = ["ICT Service Desk", "IT Service Desk", "Digital Services Desk", "ICT Helpdesk", "Shared ICT Service Desk"];
const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [(&str, u64); 12] = [
    ("January", 31),
    ("February", 28),
    ("March", 31),
    ("April", 30),
    ("May", 31),
    ("June", 30),
    ("July", 31),
    ("August", 31),
    ("September", 30),
    ("October", 31),
    ("November", 30),
    ("December", 31),
];

/// One sender, drawn once per tail so that name, first name and e-mail address agree.
struct Person {
    first: &'static str,
    surname: &'static str,
    job_title: &'static str,
    department: &'static str,
    council: (&'static str, &'static str, &'static str, &'static str),
    desk: &'static str,
    phone: String,
    mobile: String,
    date: String,
    ticket_ref: String,
}

impl Person {
    fn draw(rng: &mut SplitMix) -> Self {
        let council = COUNCILS[rng.below(COUNCILS.len() as u64) as usize];
        // A weekday of 2025 (1 January 2025 was a Wednesday).
        let mut day_of_year = rng.below(365);
        while (day_of_year + 2) % 7 >= 5 {
            day_of_year = (day_of_year + 1) % 365;
        }
        let weekday = WEEKDAYS[((day_of_year + 2) % 7) as usize];
        let mut day = day_of_year;
        let mut month = 0;
        while day >= MONTHS[month].1 {
            day -= MONTHS[month].1;
            month += 1;
        }
        let date = format!("{weekday}, {} {} 2025 {:02}:{:02}", day + 1, MONTHS[month].0, 8 + rng.below(10), rng.below(60));
        Self {
            first: rng.pick(&FIRST_NAMES),
            surname: rng.pick(&SURNAMES),
            job_title: rng.pick(&JOB_TITLES),
            department: rng.pick(&DEPARTMENTS),
            council,
            desk: rng.pick(&DESKS),
            phone: format!("01632 960{:03}", rng.below(1000)),
            mobile: format!("07700 900{:03}", rng.below(1000)),
            date,
            ticket_ref: format!("INC{:07}", 100_000 + rng.below(900_000)),
        }
    }

    fn fill(&self, p: Placeholder, out: &mut String) {
        match p {
            Placeholder::Name => {
                out.push_str(self.first);
                out.push(' ');
                out.push_str(self.surname);
            }
            Placeholder::FirstName => out.push_str(self.first),
            Placeholder::JobTitle => out.push_str(self.job_title),
            Placeholder::Council => out.push_str(self.council.0),
            Placeholder::Department => out.push_str(self.department),
            Placeholder::Phone => out.push_str(&self.phone),
            Placeholder::Mobile => out.push_str(&self.mobile),
            Placeholder::Email => {
                let local: String =
                    format!("{}.{}", self.first, self.surname).chars().filter(|c| c.is_ascii_alphanumeric() || *c == '.').collect();
                out.push_str(&local.to_ascii_lowercase());
                out.push('@');
                out.push_str(self.council.1);
            }
            Placeholder::Address => out.push_str(self.council.2),
            Placeholder::Postcode => out.push_str(self.council.3),
            Placeholder::Date => out.push_str(&self.date),
            Placeholder::TicketRef => out.push_str(&self.ticket_ref),
            Placeholder::Desk => out.push_str(self.desk),
        }
    }
}

#[cfg(test)]
mod tests;
