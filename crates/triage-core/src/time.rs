//! RFC 3339 timestamps without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// `YYYY-MM-DDTHH:MM:SSZ` for `t` (UTC).
pub fn rfc3339_utc(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn date_bounds_are_days_or_full_times() {
        assert!(is_date_or_time("2026-11-01") && is_date_or_time("2026-11-01T09:30:00Z"));
        for bad in ["2026-11-0", "2026-11-01garbage", "yesterday", "2026-11-0\u{e9}", "\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"] {
            assert!(!is_date_or_time(bad), "{bad}");
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(UNIX_EPOCH + Duration::from_secs(1_795_606_496)), "2026-11-25T11:34:56Z");
        assert_eq!(rfc3339_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }
}

/// Whether `s` has the shape `YYYY-MM-DDTHH:MM:SS` followed by an optional fraction and a zone
/// (`Z` or `+HH:MM`). A cheap edge check, not a calendar validation.
/// Whether `s` can bound a time window: a day (`2026-11-01`) or a full RFC 3339 time.
pub fn is_date_or_time(s: &str) -> bool {
    (s.len() == 10 && s.is_ascii() && looks_like_rfc3339(&format!("{s}T00:00:00Z"))) || looks_like_rfc3339(s)
}

pub fn looks_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let head = digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10) && matches!(b[10], b'T' | b't' | b' ');
    let clock = digits(11..13) && b[13] == b':' && digits(14..16) && b[16] == b':' && digits(17..19);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    let zone = rest == "Z" || rest == "z" || (rest.len() == 6 && matches!(rest.as_bytes()[0], b'+' | b'-') && rest.as_bytes()[3] == b':');
    head && clock && zone
}

#[cfg(test)]
mod shape_tests {
    use super::looks_like_rfc3339;

    #[test]
    fn rfc3339_shapes() {
        for ok in ["2026-11-25T09:30:00Z", "2026-11-25T09:30:00.123+01:00", "2026-11-25 09:30:00Z"] {
            assert!(looks_like_rfc3339(ok), "{ok}");
        }
        for bad in ["2026-11-25", "25/11/2026 09:30", "2026-11-25T09:30:00", "2026-11-25T09:30:00.Z"] {
            assert!(!looks_like_rfc3339(bad), "{bad}");
        }
    }
}
