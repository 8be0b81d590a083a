//! Times: RFC 3339 parsing with calendar checks, the stored UTC form, window bounds and the
//! desk's time zone. Built on `jiff` with the time-zone database compiled in, so no zoneinfo
//! files are needed at run time.
//!
//! The stored form is UTC with whole seconds, `YYYY-MM-DDTHH:MM:SSZ` (always 20 ASCII
//! characters), so comparing stored times as text orders them in time.

use std::fmt;
use std::time::SystemTime;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};

/// What a time field should look like, for messages.
pub const EXPECTED_TIME: &str = "use an RFC 3339 time such as 2026-11-25T09:30:00Z or 2026-11-25T10:30:00+01:00";

/// Why a time, day or time zone was refused: a lower-case reason for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError(String);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TimeError {}

fn fail<T>(reason: impl Into<String>) -> Result<T, TimeError> {
    Err(TimeError(reason.into()))
}

/// An instant, parsed from RFC 3339 (with `Z` or an offset) and kept in UTC. Years 0000-9999 in
/// UTC (up to 9999-12-30T22:00:00Z, the last instant jiff represents), so the stored form has a
/// fixed width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)` (`t`, `z` and a space for `T`
    /// are accepted, as RFC 3339 allows). Impossible dates and clock times are refused; a leap
    /// second (`:60`) counts as `:59`. Never panics, whatever the input.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let b = s.as_bytes();
        if b.is_empty() {
            return fail("the time is empty");
        }
        if !s.is_ascii() {
            return fail("it contains a character that is not ASCII");
        }
        if b.len() < 20 {
            return fail("it is too short for a date, a time and a zone");
        }
        let date = parse_date(&b[..10])?;
        if !matches!(b[10], b'T' | b't' | b' ') {
            return fail("the date and the time must be separated by `T`");
        }
        let num = |i: usize| two_digits(b, i);
        let (Some(hour), Some(minute), Some(second)) = (num(11), num(14), num(17)) else {
            return fail("the clock time must have the form HH:MM:SS");
        };
        if b[13] != b':' || b[16] != b':' {
            return fail("the clock time must have the form HH:MM:SS");
        }
        let mut rest = &b[19..];
        let mut nanos = 0i32;
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 9 {
                return fail("a fraction of a second must have 1 to 9 digits");
            }
            nanos = frac[..n].iter().chain(std::iter::repeat(&b'0')).take(9).fold(0, |acc, d| acc * 10 + i32::from(d - b'0'));
            rest = &frac[n..];
        }
        if hour > 23 {
            return fail(format!("hour {hour:02} does not exist; use 00 to 23"));
        }
        if minute > 59 {
            return fail(format!("minute {minute:02} does not exist; use 00 to 59"));
        }
        if second > 60 {
            return fail(format!("second {second:02} does not exist; use 00 to 59"));
        }
        let offset_seconds = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), ..] if rest.len() == 6 && rest[3] == b':' => {
                let (Some(oh), Some(om)) = (two_digits(rest, 1), two_digits(rest, 4)) else {
                    return fail("the offset must have the form +HH:MM or -HH:MM");
                };
                if oh > 23 || om > 59 {
                    return fail(format!("offset {oh:02}:{om:02} does not exist; use at most 23:59"));
                }
                let magnitude = i32::from(oh) * 3600 + i32::from(om) * 60;
                if *sign == b'-' { -magnitude } else { magnitude }
            }
            _ => return fail("the time must end with `Z` or an offset such as +01:00"),
        };
        // the checks above keep every value in range, so these conversions cannot fail
        let time = Time::new(hour as i8, minute as i8, second.min(59) as i8, nanos).map_err(|e| TimeError(e.to_string()))?;
        let offset = Offset::from_seconds(offset_seconds).map_err(|e| TimeError(e.to_string()))?;
        let out_of_range = || TimeError("the time is out of range; use a time from 0000-01-01 to 9999-12-30 in UTC".into());
        let instant = offset.to_timestamp(DateTime::from_parts(date, time)).map_err(|_| out_of_range())?;
        Self::in_range(instant).ok_or_else(out_of_range)
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from_system_time(SystemTime::now())
    }

    /// `t`, clamped to the years 0000-9999.
    pub fn from_system_time(t: SystemTime) -> Self {
        let instant = jiff::Timestamp::try_from(t).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        Self::in_range(instant).unwrap_or_else(|| if instant < Self::MIN.0 { Self::MIN } else { Self::MAX })
    }

    const MIN: Self = Self(jiff::Timestamp::constant(-62_167_219_200, 0)); // 0000-01-01T00:00:00Z
    const MAX: Self = Self(jiff::Timestamp::MAX); // 9999-12-30T22:00:00Z, jiff's last instant

    fn in_range(t: jiff::Timestamp) -> Option<Self> {
        (Self::MIN.0 <= t && t <= Self::MAX.0).then_some(Self(t))
    }

    /// Whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> i64 {
        self.0.as_second()
    }

    /// The instant `seconds` after the Unix epoch (clamped to the years 0000-9999).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        jiff::Timestamp::from_second(seconds).ok().and_then(Self::in_range).unwrap_or(if seconds < 0 { Self::MIN } else { Self::MAX })
    }

    /// Whole seconds from `earlier` to this instant (negative when `earlier` is later).
    pub fn seconds_since(&self, earlier: &Timestamp) -> i64 {
        self.0.as_second() - earlier.0.as_second()
    }

    /// The stored form: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn to_stored(&self) -> String {
        let dt = Offset::UTC.to_datetime(self.0);
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", dt.year(), dt.month(), dt.day(), dt.hour(), dt.minute(), dt.second())
    }

    /// The day (`YYYY-MM-DD`) this instant falls on in `zone`.
    pub fn day_in(&self, zone: &DeskTimeZone) -> String {
        format_date(zone.tz.to_offset(self.0).to_datetime(self.0).date())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stored())
    }
}

fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// Two ASCII digits at `b[i..i + 2]`, if there are.
fn two_digits(b: &[u8], i: usize) -> Option<u8> {
    match b.get(i..i + 2)? {
        [h @ b'0'..=b'9', l @ b'0'..=b'9'] => Some((h - b'0') * 10 + (l - b'0')),
        _ => None,
    }
}

/// `YYYY-MM-DD` with calendar checks.
fn parse_date(b: &[u8]) -> Result<Date, TimeError> {
    let (Some(century), Some(yy), Some(month), Some(day)) = (two_digits(b, 0), two_digits(b, 2), two_digits(b, 5), two_digits(b, 8)) else {
        return fail("the date must have the form YYYY-MM-DD");
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return fail("the date must have the form YYYY-MM-DD");
    }
    let year = i16::from(century) * 100 + i16::from(yy);
    if !(1..=12).contains(&month) {
        return fail(format!("month {month:02} does not exist; use 01 to 12"));
    }
    Date::new(year, month as i8, day as i8).or_else(|_| fail(format!("{year:04}-{month:02} has no day {day:02}")))
}

/// A bound of a time window: a day (`2026-11-01`, meaning the start of that day in the desk's
/// time zone) or a full RFC 3339 time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowBound {
    /// A calendar day: the bound is the start of that day in the desk's time zone.
    Day(Date),
    /// An exact instant.
    Time(Timestamp),
}

impl WindowBound {
    /// What a bound should look like, for messages.
    pub const EXPECTED: &'static str = "use a day such as 2026-11-01 or an RFC 3339 time such as 2026-11-01T09:30:00Z";

    /// Parses a day or a time. Never panics, whatever the input.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        if s.len() == 10 && s.is_ascii() { parse_date(s.as_bytes()).map(Self::Day) } else { Timestamp::parse(s).map(Self::Time) }
    }

    /// The instant the bound stands for: a day starts at its first moment in `zone`.
    pub fn start_in(&self, zone: &DeskTimeZone) -> Timestamp {
        match self {
            Self::Time(t) => *t,
            Self::Day(d) => match d.to_zoned_datetime(zone.tz.clone()) {
                Ok(z) => Timestamp::in_range(z.timestamp())
                    .unwrap_or_else(|| if z.timestamp() < Timestamp::MIN.0 { Timestamp::MIN } else { Timestamp::MAX }),
                // only the extremes of the calendar cannot be placed in a zone
                Err(_) if d.year() < 1 => Timestamp::MIN,
                Err(_) => Timestamp::MAX,
            },
        }
    }
}

/// The time zone the desk works in (an IANA name such as `Europe/London`): per-day statistics
/// count each record on its day there.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct DeskTimeZone {
    tz: TimeZone,
}

impl DeskTimeZone {
    /// Looks a zone up by its IANA name in the compiled-in database.
    pub fn parse(name: &str) -> Result<Self, TimeError> {
        let name = name.trim();
        if name.is_empty() {
            return fail("the time zone is empty; use an IANA name such as Europe/London or UTC");
        }
        match jiff::tz::db().get(name) {
            Ok(tz) => Ok(Self { tz }),
            Err(_) => fail(format!(
                "time zone `{}` is not known; use an IANA name such as Europe/London or UTC",
                name.chars().take(60).collect::<String>()
            )),
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        self.tz.iana_name().unwrap_or("UTC")
    }
}

impl Default for DeskTimeZone {
    /// `Europe/London`.
    fn default() -> Self {
        Self::parse("Europe/London").expect("the compiled-in database has Europe/London")
    }
}

impl TryFrom<String> for DeskTimeZone {
    type Error = TimeError;
    fn try_from(name: String) -> Result<Self, TimeError> {
        Self::parse(&name)
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for `t` (UTC), the stored form.
pub fn rfc3339_utc(t: SystemTime) -> String {
    Timestamp::from_system_time(t).to_stored()
}

#[cfg(test)]
mod tests;
