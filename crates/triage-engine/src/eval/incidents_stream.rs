//! The timestamped ticket stream `triage eval incidents` replays through the incident detector:
//! generated from real tickets and real paraphrases (seedable), or read from a prepared file.
//!
//! # The generated stream
//!
//! - **Clock.** Day 0 is Monday 2026-01-05 (UTC; the desk is taken to be on UTC). The first
//!   `warmup_days` days are warm-up: the detector sees their tickets (so it has a baseline), but
//!   no surge is placed there and nothing opened there is scored.
//! - **Background.** Tickets drawn without replacement (the pool is reshuffled when it runs out)
//!   from real desk exports (by default the Endava topics `text`, and the ATA
//!   `short_description` with its `description`). Each of `tenants` tenants gets `per_tenant_day` tickets on an average
//!   weekday and `weekend_share` of that on Saturdays and Sundays. Arrivals are an
//!   inhomogeneous Poisson process, the rate constant within each hour and shaped by
//!   [`HOURLY_SHARE`]: 85% of a day's tickets between 08:00 and 18:00, the peak 09:00-11:00
//!   (26%), nights small. Weekends have the same shape at the lower volume. A ticket whose first
//!   line fits a title (at most 500 characters) is sent as title + description, else as a
//!   description only (the title is then its first line, as the service does).
//! - **Surges.** `surges` incidents per run, each from its own StackFAQ article (distinct
//!   articles, chosen at random), placed on a random weekday of the scored period (any scored
//!   day if it has no weekday) so that they run within 08:00-18:00. A surge has `surge_min` to
//!   `surge_max` tickets (uniform) over `surge_minutes_min` to `surge_minutes_max` minutes
//!   (uniform): the first ticket at its start, the last at its end, the others uniform in
//!   between. Its tickets come from 1 to `surge_tenants_max` tenants (uniform; each chosen tenant
//!   sends at least one). The first tickets are the article's distinct paraphrases (real users'
//!   wordings; StackFAQ has 5 per article) in a random order. **Beyond those the paraphrases
//!   repeat**, each with one small perturbation: a courtesy prefix ([`SURGE_PREFIXES`]), a
//!   suffix ([`SURGE_SUFFIXES`]), or one word dropped (for four words or more). Real callers
//!   in one incident do write alike, but not this alike: a repeated paraphrase sits closer to
//!   the incident's centroid than a new caller's wording would, so member linking after the
//!   first five tickets is easier here than on a real desk. Detection is not helped: at the
//!   default `min_tickets` (4) an incident opens, if at all, on distinct wordings.
//!   StackFAQ is about web applications (Gmail, GitHub, Facebook) while the background is
//!   internal IT, so a surge's vocabulary is rarer in the background than a real outage's
//!   ("outlook", "vpn") would be: the surge test's baseline share is close to the prior.
//!
//! Every choice comes from one SplitMix64 generator seeded with `seed`, so a seed gives the same
//! stream on every machine.
//!
//! # The replay file
//!
//! See [`read_replay`]: JSON Lines `{"at","tenant","title","description","incident"}`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use triage_core::ticket::{NewTicket, TicketText};
use triage_model::dataset::{ColumnMapping, load_test_files};

use super::noise::SplitMix;
use super::retrieval::FaqQuery;
use crate::{EngineError, Result};

/// Day 0 of a generated stream: Monday 2026-01-05T00:00:00Z.
pub const SIM_START: i64 = 1_767_571_200;
const DAY: i64 = 86_400;
/// Office hours, in hours of the day: surges run within them.
pub const OFFICE_HOURS: (i64, i64) = (8, 18);

/// Share of a day's tickets arriving in each hour (sums to 1): 0.85 in 08:00-18:00, 0.26 in
/// 09:00-11:00, 0.15 over the fourteen other hours.
pub const HOURLY_SHARE: [f64; 24] = [
    0.005, 0.005, 0.005, 0.005, 0.005, 0.005, 0.010, 0.030, // 00-07
    0.080, 0.130, 0.130, 0.090, 0.055, 0.080, 0.085, 0.080, 0.065, 0.055, // 08-17
    0.035, 0.020, 0.012, 0.008, 0.004, 0.001, // 18-23
];

/// Courtesy prefixes of a repeated paraphrase.
pub const SURGE_PREFIXES: [&str; 5] = ["Hi,", "Hello,", "urgent:", "Hi team,", "Help:"];
/// Courtesy suffixes of a repeated paraphrase.
pub const SURGE_SUFFIXES: [&str; 5] = ["please help", "thanks", "any ideas?", "asap", "thank you"];

/// How a stream is generated.
///
/// | name | default | purpose | range |
/// |---|---|---|---|
/// | `tenants` | 4 | tenants sharing the desk | 1..=100 |
/// | `per_tenant_day` | 150 | background tickets per tenant on an average weekday | > 0 |
/// | `weekend_share` | 0.1 | weekend volume as a share of a weekday's | 0..=1 |
/// | `days` | 14 | simulated days, warm-up included | > `warmup_days` |
/// | `warmup_days` | 7 | days of history only (no surges, nothing scored) | 0.. |
/// | `surges` | 10 | surges in the scored period | 0.. |
/// | `surge_min`, `surge_max` | 8, 30 | tickets per surge | 1..=`surge_max` |
/// | `surge_minutes_min`, `surge_minutes_max` | 10, 60 | duration of a surge | 0..=600 |
/// | `surge_tenants_max` | 4 | most tenants one surge comes from | 1.. |
/// | `seed` | 1 | every random choice | any |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamParams {
    /// Tenants sharing the desk.
    pub tenants: usize,
    /// Background tickets per tenant on an average weekday.
    pub per_tenant_day: f64,
    /// Weekend volume as a share of a weekday's.
    pub weekend_share: f64,
    /// Simulated days, warm-up included.
    pub days: u32,
    /// Days of history only.
    pub warmup_days: u32,
    /// Surges in the scored period.
    pub surges: usize,
    /// Fewest tickets in a surge.
    pub surge_min: usize,
    /// Most tickets in a surge.
    pub surge_max: usize,
    /// Shortest surge, in minutes.
    pub surge_minutes_min: u32,
    /// Longest surge, in minutes.
    pub surge_minutes_max: u32,
    /// Most tenants one surge comes from.
    pub surge_tenants_max: usize,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for StreamParams {
    fn default() -> Self {
        Self {
            tenants: 4,
            per_tenant_day: 150.0,
            weekend_share: 0.1,
            days: 14,
            warmup_days: 7,
            surges: 10,
            surge_min: 8,
            surge_max: 30,
            surge_minutes_min: 10,
            surge_minutes_max: 60,
            surge_tenants_max: 4,
            seed: 1,
        }
    }
}

impl StreamParams {
    /// Checks every range; the message names the flag.
    pub fn validate(&self) -> Result<()> {
        let fail = |what: &str| Err(EngineError::Invalid(what.to_owned()));
        let office_minutes = ((OFFICE_HOURS.1 - OFFICE_HOURS.0) * 60) as u32;
        if !(1..=100).contains(&self.tenants) {
            return fail("--tenants must be 1..=100");
        }
        if !(self.per_tenant_day > 0.0 && self.per_tenant_day <= 1e6) {
            return fail("--per-tenant-day must be more than 0 (and at most a million)");
        }
        if !(0.0..=1.0).contains(&self.weekend_share) {
            return fail("--weekend-share must be in 0..=1");
        }
        if self.days <= self.warmup_days || self.days > 3660 {
            return fail("--days must be more than --warmup-days (and at most 3660)");
        }
        if self.surge_min == 0 || self.surge_min > self.surge_max || self.surge_max > 100_000 {
            return fail("--surge-min must be at least 1 and at most --surge-max (at most 100000)");
        }
        if self.surge_minutes_min > self.surge_minutes_max || self.surge_minutes_max > office_minutes {
            return fail("--surge-minutes-min must be at most --surge-minutes-max, which must be at most 600 (office hours)");
        }
        if self.surge_tenants_max == 0 {
            return fail("--surge-tenants-max must be at least 1");
        }
        Ok(())
    }
}

/// A background ticket's text, as a desk export gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundTicket {
    /// Title, when the export's first line fits one.
    pub title: Option<String>,
    /// The rest (or the whole text when it has no title).
    pub description: Option<String>,
}

/// One ticket of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamTicket {
    /// Arrival, seconds since the Unix epoch (RFC 3339 in the replay file).
    #[serde(with = "replay::rfc3339")]
    pub at: i64,
    /// The ticket's tenant.
    #[serde(default)]
    pub tenant: Option<String>,
    /// Title as sent.
    #[serde(default)]
    pub title: Option<String>,
    /// Description as sent.
    #[serde(default)]
    pub description: Option<String>,
    /// The surge it belongs to; `None` for background.
    #[serde(default)]
    pub incident: Option<String>,
}

/// A stream and its periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Start of day 0 (seconds since the epoch).
    pub start: i64,
    /// End of the warm-up: nothing before it is scored.
    pub warmup_end: i64,
    /// End of the stream.
    pub end: i64,
    /// The tickets, in time order.
    pub tickets: Vec<StreamTicket>,
}

impl Stream {
    /// Days from the end of the warm-up to the end (fractional for replays cut mid-day).
    pub fn scored_days(&self) -> f64 {
        (self.end - self.warmup_end).max(0) as f64 / DAY as f64
    }
}

/// One background source: a CSV or JSON Lines file and the columns joined into a ticket's text
/// (the first line is the title).
#[derive(Debug, Clone, PartialEq)]
pub struct BackgroundSource {
    /// The file.
    pub path: PathBuf,
    /// Its text columns.
    pub columns: Vec<String>,
}

impl BackgroundSource {
    /// Parses `FILE=COLUMN[,COLUMN...]` (split at the last `=`).
    pub fn parse(spec: &str) -> Result<Self> {
        let invalid = || EngineError::Invalid(format!("background `{spec}` must be FILE=COLUMN[,COLUMN...], e.g. tickets.csv=title,body"));
        let (path, columns) = spec.rsplit_once('=').ok_or_else(invalid)?;
        let columns: Vec<String> = columns.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
        if path.trim().is_empty() || columns.is_empty() {
            return Err(invalid());
        }
        Ok(Self { path: PathBuf::from(path), columns })
    }
}

/// Reads every background source (all rows, duplicates included: real desks repeat themselves).
pub fn load_background(sources: &[BackgroundSource]) -> Result<Vec<BackgroundTicket>> {
    let mut out = Vec::new();
    for source in sources {
        let mapping = ColumnMapping { text: source.columns.clone(), labels: Vec::new(), id: None };
        let report = load_test_files(std::slice::from_ref(&source.path), &mapping)?;
        out.extend(report.rows.into_iter().map(|row| background_ticket(&row.text)));
    }
    Ok(out)
}

/// Splits an export's joined text into the title and description the service would be sent;
/// text beyond [`TicketText::MAX_CHARS`] is cut, as a ticketing system's field limit would.
pub fn background_ticket(text: &str) -> BackgroundTicket {
    let text: String = text.trim().chars().take(TicketText::MAX_CHARS).collect();
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    if first.chars().count() <= NewTicket::MAX_TITLE_CHARS {
        BackgroundTicket { title: some(first), description: some(rest) }
    } else {
        BackgroundTicket { title: None, description: some(&text) }
    }
}

/// Generates a stream (see the module docs).
pub fn generate(params: &StreamParams, background: &[BackgroundTicket], surge_queries: &[FaqQuery]) -> Result<Stream> {
    params.validate()?;
    if background.is_empty() {
        return Err(EngineError::Invalid("no background tickets were read; check the --background files and columns".into()));
    }
    let mut articles: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for q in surge_queries.iter().filter(|q| !q.query.trim().is_empty()) {
        let list = articles.entry(q.article_id.as_str()).or_default();
        if !list.contains(&q.query.trim()) {
            list.push(q.query.trim());
        }
    }
    if params.surges > articles.len() {
        return Err(EngineError::Invalid(format!(
            "--surges {} needs as many articles in the surge queries, which have {}",
            params.surges,
            articles.len()
        )));
    }
    let mut rng = SplitMix(params.seed ^ 0x1dc1_de47_5e7e_a11d);
    let mut tickets = background_arrivals(params, background, &mut rng);
    let mut articles: Vec<(&str, Vec<&str>)> = articles.into_iter().collect();
    rng.shuffle(&mut articles);
    let days = surge_days(params);
    for (k, (article, paraphrases)) in articles.into_iter().take(params.surges).enumerate() {
        let day = days[rng.below(days.len() as u64) as usize];
        tickets.extend(surge(params, &mut rng, &format!("s{}-{article}", k + 1), &paraphrases, day));
    }
    tickets.sort_by_key(|t| t.at);
    let start = SIM_START;
    Ok(Stream { start, warmup_end: start + i64::from(params.warmup_days) * DAY, end: start + i64::from(params.days) * DAY, tickets })
}

fn weekday(day: u32) -> bool {
    day % 7 < 5
}

fn tenant_name(i: usize) -> String {
    format!("tenant-{}", i + 1)
}

fn background_arrivals(params: &StreamParams, background: &[BackgroundTicket], rng: &mut SplitMix) -> Vec<StreamTicket> {
    let mut order: Vec<usize> = (0..background.len()).collect();
    rng.shuffle(&mut order);
    let mut next = 0;
    let mut out = Vec::new();
    for day in 0..params.days {
        let volume = params.per_tenant_day * if weekday(day) { 1.0 } else { params.weekend_share };
        for tenant in 0..params.tenants {
            for (hour, share) in HOURLY_SHARE.iter().enumerate() {
                let per_second = volume * share / 3600.0;
                if per_second <= 0.0 {
                    continue;
                }
                let hour_start = SIM_START + i64::from(day) * DAY + hour as i64 * 3600;
                // exponential gaps at a constant rate; the process restarts at each hour (memoryless)
                let mut t = 0.0;
                loop {
                    t += -(1.0 - rng.unit()).ln() / per_second;
                    if t >= 3600.0 {
                        break;
                    }
                    if next == order.len() {
                        rng.shuffle(&mut order);
                        next = 0;
                    }
                    let text = &background[order[next]];
                    next += 1;
                    out.push(StreamTicket {
                        at: hour_start + t as i64,
                        tenant: Some(tenant_name(tenant)),
                        title: text.title.clone(),
                        description: text.description.clone(),
                        incident: None,
                    });
                }
            }
        }
    }
    out
}

/// Scored weekdays (any scored day when there is none).
fn surge_days(params: &StreamParams) -> Vec<u32> {
    let scored: Vec<u32> = (params.warmup_days..params.days).collect();
    let weekdays: Vec<u32> = scored.iter().copied().filter(|&d| weekday(d)).collect();
    if weekdays.is_empty() { scored } else { weekdays }
}

fn uniform(rng: &mut SplitMix, low: u64, high: u64) -> u64 {
    low + rng.below(high - low + 1)
}

fn surge(params: &StreamParams, rng: &mut SplitMix, id: &str, paraphrases: &[&str], day: u32) -> Vec<StreamTicket> {
    let size = uniform(rng, params.surge_min as u64, params.surge_max as u64) as usize;
    let seconds = 60 * uniform(rng, u64::from(params.surge_minutes_min), u64::from(params.surge_minutes_max)) as i64;
    let (open, close) = (OFFICE_HOURS.0 * 3600, OFFICE_HOURS.1 * 3600);
    let start = SIM_START + i64::from(day) * DAY + open + rng.below((close - open - seconds) as u64 + 1) as i64;
    let mut times: Vec<i64> = (0..size).map(|i| if i == 0 { 0 } else { (rng.unit() * seconds as f64) as i64 }).collect();
    if size > 1 {
        times[size - 1] = seconds;
    }
    times.sort_unstable();
    // tenants: 1..=max of them, each sending at least one ticket
    let mut all: Vec<usize> = (0..params.tenants).collect();
    rng.shuffle(&mut all);
    let count = uniform(rng, 1, params.surge_tenants_max.min(params.tenants) as u64).min(size as u64) as usize;
    let chosen = &all[..count];
    let mut senders: Vec<usize> = (0..size).map(|i| if i < count { chosen[i] } else { chosen[rng.below(count as u64) as usize] }).collect();
    rng.shuffle(&mut senders);
    let mut wordings: Vec<&str> = paraphrases.to_vec();
    rng.shuffle(&mut wordings);
    (0..size)
        .map(|i| {
            let text = match wordings.get(i) {
                Some(w) => (*w).to_owned(),
                None => perturb(wordings[rng.below(wordings.len() as u64) as usize], rng),
            };
            StreamTicket {
                at: start + times[i],
                tenant: Some(tenant_name(senders[i])),
                title: Some(text),
                description: None,
                incident: Some(id.to_owned()),
            }
        })
        .collect()
}

/// A repeated paraphrase as another caller might send it: a courtesy prefix, a suffix, or one
/// word dropped (for four words or more).
pub(crate) fn perturb(text: &str, rng: &mut SplitMix) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    match rng.below(3) {
        2 if words.len() >= 4 => {
            let drop = rng.below(words.len() as u64) as usize;
            words.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, w)| *w).collect::<Vec<_>>().join(" ")
        }
        1 => format!("{text} {}", SURGE_SUFFIXES[rng.below(SURGE_SUFFIXES.len() as u64) as usize]),
        _ => format!("{} {text}", SURGE_PREFIXES[rng.below(SURGE_PREFIXES.len() as u64) as usize]),
    }
}

#[path = "incidents_replay.rs"]
mod replay;
pub use replay::{read_replay, write_replay};

#[cfg(test)]
#[path = "incidents_stream_tests.rs"]
mod tests;
