use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;

const VALID: &str = "2026-11-25T09:30:00Z";

#[test]
fn valid_times_are_parsed_to_their_utc_stored_form() {
    let cases = [
        ("2026-11-25T09:30:00Z", "2026-11-25T09:30:00Z", "plain UTC"),
        ("2026-11-25t09:30:00z", "2026-11-25T09:30:00Z", "lower-case t and z are RFC 3339"),
        ("2026-11-25 09:30:00Z", "2026-11-25T09:30:00Z", "a space for T is RFC 3339"),
        ("2026-07-01T00:30:00+01:00", "2026-06-30T23:30:00Z", "an offset moves the time to UTC, across a day"),
        ("2026-12-31T20:00:00-05:00", "2027-01-01T01:00:00Z", "a negative offset across a year"),
        ("2026-11-25T09:30:00+05:30", "2026-11-25T04:00:00Z", "a half-hour offset"),
        ("2026-11-25T09:30:00.123Z", "2026-11-25T09:30:00Z", "a fraction is cut to whole seconds"),
        ("2026-11-25T09:30:00.999999999+00:00", "2026-11-25T09:30:00Z", "nine fraction digits"),
        ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z", "a leap day"),
        ("2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z", "a leap second counts as :59"),
        ("0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "the first representable second"),
        ("9999-12-30T21:59:59Z", "9999-12-30T21:59:59Z", "near the last representable instant"),
    ];
    for (input, stored, why) in cases {
        assert_eq!(Timestamp::parse(input).map(|t| t.to_stored()), Ok(stored.to_owned()), "{why}: {input}");
    }
}

#[test]
fn impossible_or_malformed_times_are_refused_with_a_reason() {
    let cases = [
        ("2026-99-99T99:99:99Z", "month 99", "month 99"),
        ("2026-02-30T09:00:00Z", "2026-02 has no day 30", "february 30"),
        ("2025-02-29T09:00:00Z", "has no day 29", "not a leap year"),
        ("2026-04-31T09:00:00Z", "has no day 31", "april has 30 days"),
        ("2026-11-00T09:00:00Z", "has no day 00", "day zero"),
        ("2026-11-25T24:00:00Z", "hour 24", "hour 24 is not RFC 3339"),
        ("2026-11-25T25:00:00Z", "hour 25", "hour 25"),
        ("2026-11-25T09:60:00Z", "minute 60", "minute 60"),
        ("2026-11-25T09:30:61Z", "second 61", "second 61"),
        ("2026-11-25T09:30:00+24:00", "offset 24:00", "offset over a day"),
        ("2026-11-25T09:30:00", "too short", "no zone"),
        ("2026-11-25T09:30:00+0100", "offset", "offset without a colon"),
        ("2026-11-25T09:30:00.Z", "fraction", "a dot with no digits"),
        ("2026-11-25T09:30:00.1234567890Z", "fraction", "ten fraction digits"),
        ("2026-11-25", "too short", "a day is not a time"),
        ("2026-11-25X09:30:00Z", "separated", "wrong separator"),
        ("+02026-11-25T09:30:00Z", "YYYY-MM-DD", "an extended year"),
        ("0000-01-01T00:30:00+01:00", "out of range", "before year 0000 in UTC"),
        ("9999-12-31T23:59:59Z", "out of range", "past the last representable instant"),
        ("2026-11-25T09:30:00Z ", "end with", "a trailing space"),
        ("", "empty", "empty"),
        ("2026-11-25T09:00:0\u{e9}Z", "not ASCII", "a multi-byte character at byte 19"),
    ];
    for (input, reason, why) in cases {
        match Timestamp::parse(input) {
            Ok(t) => panic!("{why}: {input} was accepted as {t}"),
            Err(e) => assert!(e.to_string().contains(reason), "{why}: {input} gave `{e}`"),
        }
    }
}

#[test]
fn a_non_ascii_character_at_any_position_is_refused() {
    for at in 0..VALID.len() {
        for c in ['\u{e9}', '\u{2028}', '\u{1f600}', '\u{0}'] {
            let time = with_one_char_replaced(at, c);
            assert!(Timestamp::parse(&time).is_err(), "{time:?}");
            assert!(WindowBound::parse(&time).is_err(), "{time:?}");
            let day: String = time.chars().take(10).collect();
            assert_eq!(WindowBound::parse(&day).is_err(), at < 10, "{day:?}");
        }
    }
}

#[test]
fn stored_forms_compare_as_text_in_time_order() {
    let times = ["2026-11-25T09:30:00.5Z", "2026-11-25T09:30:00Z", "2026-11-25T10:29:00+01:00", "2026-11-25T09:31:00Z"];
    let mut parsed: Vec<Timestamp> = times.iter().map(|t| Timestamp::parse(t).unwrap()).collect();
    parsed.sort();
    let stored: Vec<String> = parsed.iter().map(Timestamp::to_stored).collect();
    let mut by_text = stored.clone();
    by_text.sort();
    assert_eq!(stored, by_text);
    assert!(stored.iter().all(|s| s.len() == 20));
}

#[test]
fn formats_known_instants() {
    assert_eq!(rfc3339_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339_utc(UNIX_EPOCH + Duration::from_secs(1_795_606_496)), "2026-11-25T11:34:56Z");
    assert_eq!(rfc3339_utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
}

#[test]
fn window_bounds_are_days_in_the_desk_zone_or_full_times() {
    let london = DeskTimeZone::parse("Europe/London").unwrap();
    let kolkata = DeskTimeZone::parse("Asia/Kolkata").unwrap();
    let cases = [
        ("2026-07-01", &london, "2026-06-30T23:00:00Z", "a BST day starts at 23:00 UTC the day before"),
        ("2026-01-15", &london, "2026-01-15T00:00:00Z", "a GMT day starts at midnight UTC"),
        ("2026-07-01", &kolkata, "2026-06-30T18:30:00Z", "a half-hour zone"),
        ("2026-07-01T09:00:00+02:00", &london, "2026-07-01T07:00:00Z", "a full time ignores the desk zone"),
    ];
    for (bound, zone, start, why) in cases {
        assert_eq!(WindowBound::parse(bound).unwrap().start_in(zone).to_stored(), start, "{why}");
    }
    for (bad, why) in [("2026-02-30", "no such day"), ("2026-11-0", "too short"), ("yesterday!", "words"), ("2026-11-01garbage", "junk")] {
        assert!(WindowBound::parse(bad).is_err(), "{why}: {bad}");
    }
}

#[test]
fn days_are_counted_in_the_desk_zone_across_summer_time() {
    let london = DeskTimeZone::default();
    assert_eq!(london.name(), "Europe/London");
    let day = |t: &str| Timestamp::parse(t).unwrap().day_in(&london);
    assert_eq!(day("2026-07-01T00:30:00+01:00"), "2026-07-01", "00:30 BST is on its UK day");
    assert_eq!(day("2026-06-30T23:30:00Z"), "2026-07-01", "the same instant given in UTC");
    assert_eq!(day("2026-01-15T00:30:00Z"), "2026-01-15", "GMT is UTC in winter");
    assert_eq!(day("2026-10-25T00:30:00Z"), "2026-10-25", "the night the clocks go back: 01:30 BST");
    assert_eq!(day("2026-03-28T23:30:00Z"), "2026-03-28", "the night before the clocks go forward: still GMT");
    assert_eq!(Timestamp::parse("2026-06-30T18:29:59Z").unwrap().day_in(&DeskTimeZone::parse("Asia/Kolkata").unwrap()), "2026-06-30");
}

#[test]
fn unknown_time_zones_are_refused_with_what_to_do() {
    for bad in ["Europe/Londn", "", "Mars/Olympus", "+01:00", "Europe/\u{e9}"] {
        let e = DeskTimeZone::parse(bad).unwrap_err().to_string();
        assert!(e.contains("IANA name"), "{bad}: {e}");
    }
    assert_eq!(DeskTimeZone::parse("UTC").unwrap().name(), "UTC");
}

/// A valid time with the character at `at` replaced by `c`.
fn with_one_char_replaced(at: usize, c: char) -> String {
    VALID.chars().enumerate().map(|(i, v)| if i == at { c } else { v }).collect()
}

proptest! {
    #[test]
    fn parsing_any_string_never_panics(s in "\\PC{0,40}") {
        let _ = Timestamp::parse(&s);
        let _ = WindowBound::parse(&s);
        let _ = DeskTimeZone::parse(&s);
    }

    #[test]
    fn a_valid_time_with_one_char_replaced_never_panics_and_stays_in_range(at in 0..VALID.len(), c in any::<char>()) {
        let s = with_one_char_replaced(at, c);
        if let Ok(t) = Timestamp::parse(&s) {
            let stored = t.to_stored();
            prop_assert_eq!(stored.len(), 20);
            prop_assert_eq!(Timestamp::parse(&stored), Ok(t));
        }
        let _ = WindowBound::parse(&s);
        let _ = WindowBound::parse(&s.chars().take(10).collect::<String>());
    }

    #[test]
    fn any_valid_time_round_trips_through_its_stored_form(secs in -62_167_219_200i64..253_402_207_200, offset_min in -1439i32..1440) {
        let t = Timestamp(jiff::Timestamp::from_second(secs).unwrap());
        let local = Offset::from_seconds(offset_min * 60).unwrap();
        let dt = local.to_datetime(t.0);
        let sign = if offset_min < 0 { '-' } else { '+' };
        let text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
            dt.year(), dt.month(), dt.day(), dt.hour(), dt.minute(), dt.second(), offset_min.abs() / 60, offset_min.abs() % 60
        );
        // local times outside 0000-9999 cannot be written in four digits
        prop_assume!((0..=9999).contains(&dt.year()));
        prop_assert_eq!(Timestamp::parse(&text), Ok(t), "{}", text);
    }
}
