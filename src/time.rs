//! Civil date arithmetic shared by the crate: the SigV4 `X-Amz-Date` form
//! (`20130524T000000Z`), the ISO 8601 form S3 uses in XML bodies
//! (`2019-10-12T17:50:30.000Z`) and the wall clock, all in Unix seconds (UTC).
//!
//! Specs: the "ISO 8601 basic format" of SigV4
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html>)
//! and the `timestamp` shape of the S3 API
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html>).
//!
//! The day counting is the proleptic Gregorian "days from civil" algorithm
//! (Howard Hinnant, `chrono`-compatible); nothing here allocates or reads the
//! time zone database.
//!
//! # Invariants
//! - [`parse_amz_date`] accepts exactly `YYYYMMDD'T'HHMMSS'Z'` with a real
//!   calendar date and `HH < 24`, `MM < 60`, `SS < 60` (no leap second), so a
//!   value that parses round-trips through [`format_amz_date`] byte for byte.
//! - The formatters clamp to the four-digit years `0000..=9999`: times before
//!   [`MIN_FORMAT_UNIX`] print as `0000-01-01T00:00:00`, times after
//!   [`MAX_FORMAT_UNIX`] as `9999-12-31T23:59:59`. They never panic.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds in one day.
pub const SECS_PER_DAY: i64 = 86_400;

/// Days from 0000-03-01 to 1970-01-01 in the shifted (March-based) calendar
/// the civil algorithms count in.
const UNIX_EPOCH_SHIFT_DAYS: i64 = 719_468;

/// Days in one 400-year Gregorian era.
const DAYS_PER_ERA: i64 = 146_097;

/// Smallest time the formatters print faithfully: 0000-01-01T00:00:00Z.
pub const MIN_FORMAT_UNIX: i64 = -62_167_219_200;

/// Largest time the formatters print faithfully: 9999-12-31T23:59:59Z.
pub const MAX_FORMAT_UNIX: i64 = 253_402_300_799;

/// Days since 1970-01-01 of the proleptic Gregorian date `year-month-day`
/// (`month` 1..=12, `day` 1..=31; not validated here).
pub const fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400; // [0, 399]
    let mp = ((month + 9) % 12) as i64; // March = 0
    let doy = (153 * mp + 2) / 5 + day as i64 - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * DAYS_PER_ERA + doe - UNIX_EPOCH_SHIFT_DAYS
}

/// The proleptic Gregorian `(year, month, day)` of `days` since 1970-01-01.
pub const fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + UNIX_EPOCH_SHIFT_DAYS;
    let era = if z >= 0 { z } else { z - (DAYS_PER_ERA - 1) } / DAYS_PER_ERA;
    let doe = z - era * DAYS_PER_ERA; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / (DAYS_PER_ERA - 1)) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Whether `year` is a Gregorian leap year.
pub const fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Number of days of `month` (1..=12) in `year`; 0 for an invalid month.
pub const fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses the SigV4 basic form `YYYYMMDD'T'HHMMSS'Z'` into Unix seconds.
/// Anything else (other lengths, a bad calendar date, a leap second) is `None`.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[4..6])?;
    let day = digits(&b[6..8])?;
    let hour = digits(&b[9..11])?;
    let minute = digits(&b[11..13])?;
    let second = digits(&b[13..15])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * SECS_PER_DAY + i64::from(hour * 3600 + minute * 60 + second))
}

/// `unix` as `YYYYMMDD'T'HHMMSS'Z'` (16 ASCII bytes), clamped to years 0000..=9999.
pub fn format_amz_date(unix: i64) -> [u8; 16] {
    let t = Civil::from_unix(unix);
    let mut out = *b"00000000T000000Z";
    put_digits(&mut out[0..4], t.year);
    put_digits(&mut out[4..6], t.month);
    put_digits(&mut out[6..8], t.day);
    put_digits(&mut out[9..11], t.hour);
    put_digits(&mut out[11..13], t.minute);
    put_digits(&mut out[13..15], t.second);
    out
}

/// `unix` as `YYYY-MM-DDTHH:MM:SS.000Z` (24 ASCII bytes, the S3 XML timestamp),
/// clamped to years 0000..=9999.
pub fn format_iso8601(unix: i64) -> [u8; 24] {
    let t = Civil::from_unix(unix);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    put_digits(&mut out[0..4], t.year);
    put_digits(&mut out[5..7], t.month);
    put_digits(&mut out[8..10], t.day);
    put_digits(&mut out[11..13], t.hour);
    put_digits(&mut out[14..16], t.minute);
    put_digits(&mut out[17..19], t.second);
    out
}

/// Parses an S3 XML timestamp `YYYY-MM-DDTHH:MM:SS[.fff]Z` into Unix seconds
/// (fractions are dropped).
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let tail = &b[19..];
    let ok_tail = tail == b"Z"
        || (tail.len() >= 3
            && tail[0] == b'.'
            && tail.ends_with(b"Z")
            && tail[1..tail.len() - 1].iter().all(u8::is_ascii_digit));
    if !ok_tail {
        return None;
    }
    let mut basic = [0u8; 16];
    basic[0..4].copy_from_slice(&b[0..4]);
    basic[4..6].copy_from_slice(&b[5..7]);
    basic[6..8].copy_from_slice(&b[8..10]);
    basic[8] = b'T';
    basic[9..11].copy_from_slice(&b[11..13]);
    basic[11..13].copy_from_slice(&b[14..16]);
    basic[13..15].copy_from_slice(&b[17..19]);
    basic[15] = b'Z';
    parse_amz_date(std::str::from_utf8(&basic).ok()?)
}

/// The wall clock in Unix seconds (negative before 1970, which only a broken
/// clock reports).
pub fn now_unix() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A broken-down UTC time, already clamped to the printable range.
struct Civil {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    fn from_unix(unix: i64) -> Civil {
        let unix = unix.clamp(MIN_FORMAT_UNIX, MAX_FORMAT_UNIX);
        let days = unix.div_euclid(SECS_PER_DAY);
        let secs = unix.rem_euclid(SECS_PER_DAY) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year: year as u32, // 0..=9999 after the clamp
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }
}

/// The decimal value of an all-digit slice (at most 4 digits here).
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// Writes `value` zero-padded into all of `out` (decimal).
fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_points() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("20000229T235959Z"), Some(951_868_799));
        assert_eq!(parse_amz_date("19691231T235959Z"), Some(-1));
        assert_eq!(&format_amz_date(1_369_353_600), b"20130524T000000Z");
        assert_eq!(&format_iso8601(1_570_902_630), b"2019-10-12T17:50:30.000Z");
        assert_eq!(&format_iso8601(-1), b"1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn bounds_are_exact_and_clamped() {
        assert_eq!(parse_amz_date("00000101T000000Z"), Some(MIN_FORMAT_UNIX));
        assert_eq!(parse_amz_date("99991231T235959Z"), Some(MAX_FORMAT_UNIX));
        assert_eq!(&format_amz_date(i64::MIN), b"00000101T000000Z");
        assert_eq!(&format_amz_date(i64::MAX), b"99991231T235959Z");
        assert_eq!(&format_iso8601(MAX_FORMAT_UNIX + 1), b"9999-12-31T23:59:59.000Z");
    }

    #[test]
    fn invalid_dates_are_refused() {
        for bad in [
            "",
            "20130524T000000",
            "20130524T000000Z ",
            "20130524t000000Z",
            "20130524T000000z",
            "2013-05-24T00:00:00Z",
            "20131324T000000Z",
            "20130001T000000Z",
            "20130500T000000Z",
            "20130532T000000Z",
            "20130229T000000Z",
            "19000229T000000Z",
            "20130524T240000Z",
            "20130524T006000Z",
            "20130524T000060Z",
            "2013O524T000000Z",
            "+0130524T000000Z",
            "20130524T0000\u{e9}Z",
        ] {
            assert_eq!(parse_amz_date(bad), None, "{bad:?}");
        }
        assert!(parse_amz_date("20000229T000000Z").is_some());
        assert!(parse_amz_date("20240229T000000Z").is_some());
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // 1900-03-01 .. 2300-03-01 covers every leap-year rule.
        let start = days_from_civil(1900, 3, 1);
        let end = days_from_civil(2300, 3, 1);
        let mut prev = civil_from_days(start - 1);
        for days in start..end {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
            // consecutive days advance by exactly one calendar day
            if d == 1 {
                assert_eq!(prev.2, days_in_month(prev.0, prev.1));
            } else {
                assert_eq!((prev.0, prev.1, prev.2 + 1), (y, m, d));
            }
            prev = (y, m, d);
            let unix = days * SECS_PER_DAY + 45_296; // 12:34:56
            let s = format_amz_date(unix);
            let s = std::str::from_utf8(&s).unwrap();
            assert_eq!(parse_amz_date(s), Some(unix), "{s}");
        }
    }

    #[test]
    fn formats_agree() {
        let t = parse_amz_date("20261129T031500Z").unwrap();
        assert_eq!(&format_iso8601(t), b"2026-11-29T03:15:00.000Z");
        assert_eq!(&format_amz_date(t), b"20261129T031500Z");
    }

    #[test]
    fn clock_is_after_2024() {
        assert!(now_unix() > parse_amz_date("20240101T000000Z").unwrap());
    }

    #[test]
    fn iso8601_round_trip() {
        let t = parse_amz_date("20191012T175030Z").unwrap();
        let text = format_iso8601(t);
        assert_eq!(parse_iso8601(std::str::from_utf8(&text).unwrap()), Some(t));
        assert_eq!(parse_iso8601("2019-10-12T17:50:30Z"), Some(t));
        assert_eq!(parse_iso8601("2019-10-12T17:50:30.123456Z"), Some(t));
        assert_eq!(parse_iso8601("2019-10-12 17:50:30Z"), None);
        assert_eq!(parse_iso8601("2019-13-12T17:50:30Z"), None);
        assert_eq!(parse_iso8601("2019-10-12T17:50:30.Z"), None);
    }
}
