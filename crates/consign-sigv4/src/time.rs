//! UTC timestamps in the two formats SigV4 uses, without a clock.
//!
//! `X-Amz-Date` is basic ISO 8601 (`20150830T123600Z`); a POST policy's
//! `expiration` is extended ISO 8601 (`2015-12-30T12:00:00.000Z`). Callers
//! pass the current time in; nothing here reads the system clock.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC instant with one-second resolution, as SigV4 carries it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct AmzDate {
    unix: i64,
    /// `YYYYMMDDTHHMMSSZ`, formatted once.
    text: [u8; 16],
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTimestamp {
    /// What was given.
    pub value: String,
    /// The format that was expected.
    pub expected: &'static str,
}

impl fmt::Display for BadTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a timestamp of the form {}", self.value, self.expected)
    }
}

const BASIC: &str = "YYYYMMDD'T'HHMMSS'Z' (such as 20150830T123600Z)";
const EXTENDED: &str = "YYYY-MM-DD'T'HH:MM:SS[.sss]Z (such as 2015-12-30T12:00:00.000Z)";

impl AmzDate {
    /// The instant `now`, truncated to the second. Times before 1970 or
    /// after 9999 are clamped into that range.
    pub fn from_system_time(now: SystemTime) -> Self {
        Self::from_unix(Self::unix_of(now))
    }

    /// The seconds of [`Self::from_system_time`], without formatting.
    pub(crate) fn unix_of(now: SystemTime) -> i64 {
        let unix = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        unix.min(MAX_UNIX)
    }

    /// The instant `unix` seconds after 1970-01-01T00:00:00Z.
    pub fn from_unix(unix: i64) -> Self {
        let unix = unix.clamp(0, MAX_UNIX);
        let (y, m, d, hh, mm, ss) = civil_from_unix(unix);
        let mut text = [0u8; 16];
        put_digits(&mut text[0..4], y);
        put_digits(&mut text[4..6], m);
        put_digits(&mut text[6..8], d);
        text[8] = b'T';
        put_digits(&mut text[9..11], hh);
        put_digits(&mut text[11..13], mm);
        put_digits(&mut text[13..15], ss);
        text[15] = b'Z';
        Self { unix, text }
    }

    /// Reads `YYYYMMDDTHHMMSSZ`.
    ///
    /// # Errors
    /// [`BadTimestamp`] when `value` is not exactly that form or names a day
    /// that does not exist.
    pub fn parse(value: &str) -> Result<Self, BadTimestamp> {
        /// Where the digits are (`0`) and the two letters.
        const SHAPE: &[u8; 16] = b"00000000T000000Z";
        let bad = || BadTimestamp { value: value.chars().take(64).collect(), expected: BASIC };
        let text: [u8; 16] = value.as_bytes().try_into().map_err(|_| bad())?;
        // The shape in one pass without early exit, which the compiler
        // vectorizes; then each number is read without checking again.
        let shaped = text
            .iter()
            .zip(SHAPE)
            .fold(true, |ok, (&b, &shape)| ok & if shape == b'0' { b.wrapping_sub(b'0') < 10 } else { b == shape });
        if !shaped {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| text[r].iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
        let unix =
            unix_from_civil(num(0..4), num(4..6), num(6..8), num(9..11), num(11..13), num(13..15)).ok_or_else(bad)?;
        // A valid date of four-digit years is its own formatting, so the
        // text is kept as given instead of being written again.
        Ok(Self { unix, text })
    }

    /// Reads extended ISO 8601 as POST policies write it, with or without
    /// fractional seconds (which are dropped).
    ///
    /// # Errors
    /// [`BadTimestamp`] when `value` is not of that form.
    pub fn parse_iso8601(value: &str) -> Result<Self, BadTimestamp> {
        let bad = || BadTimestamp { value: value.chars().take(64).collect(), expected: EXTENDED };
        let b = value.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(bad());
        }
        let rest = &b[19..];
        let valid_rest = match rest {
            [b'Z'] => true,
            [b'.', frac @ .., b'Z'] => !frac.is_empty() && frac.len() <= 9 && frac.iter().all(u8::is_ascii_digit),
            _ => false,
        };
        if !valid_rest {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| digits(&b[r]).ok_or_else(bad);
        let unix = unix_from_civil(num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?)
            .ok_or_else(bad)?;
        Ok(Self::from_unix(unix))
    }

    /// `YYYYMMDDTHHMMSSZ`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap_or_default()
    }

    /// [`Self::as_str`] as bytes, without checking them again.
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.text
    }

    /// `YYYYMMDD`, the date element of the credential scope.
    pub fn date_stamp(&self) -> &str {
        &self.as_str()[..8]
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix(&self) -> i64 {
        self.unix
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.unix.unsigned_abs())
    }

    /// This instant plus `seconds`.
    pub fn plus_seconds(&self, seconds: i64) -> Self {
        let unix = self.unix_plus_seconds(seconds);
        if unix.div_euclid(86_400) != self.unix.div_euclid(86_400) {
            return Self::from_unix(unix);
        }
        // The same day: keep the date digits, write only the time of day
        // (the calendar arithmetic of `from_unix` is its costly part).
        let mut text = self.text;
        let secs = u32::try_from(unix.rem_euclid(86_400)).unwrap_or(0);
        put_digits(&mut text[9..11], secs / 3600);
        put_digits(&mut text[11..13], secs % 3600 / 60);
        put_digits(&mut text[13..15], secs % 60);
        Self { unix, text }
    }

    /// `self.plus_seconds(seconds).unix()`, without formatting the text.
    pub(crate) fn unix_plus_seconds(&self, seconds: i64) -> i64 {
        self.unix.saturating_add(seconds).clamp(0, MAX_UNIX)
    }

    /// Extended ISO 8601 with milliseconds: `2015-12-30T12:00:00.000Z`.
    pub fn to_iso8601(&self) -> String {
        let mut out = String::with_capacity(24);
        self.write_iso8601(&mut out);
        out
    }

    /// Appends [`Self::to_iso8601`] to `out`.
    pub(crate) fn write_iso8601(&self, out: &mut String) {
        let t = &self.text;
        #[rustfmt::skip]
        let iso = [
            t[0], t[1], t[2], t[3], b'-', t[4], t[5], b'-', t[6], t[7], b'T',
            t[9], t[10], b':', t[11], t[12], b':', t[13], t[14], b'.', b'0', b'0', b'0', b'Z',
        ];
        out.push_str(std::str::from_utf8(&iso).unwrap_or_default());
    }
}

impl fmt::Debug for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AmzDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// 9999-12-31T23:59:59Z: the last instant that fits four year digits.
const MAX_UNIX: i64 = 253_402_300_799;

fn put_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn unix_from_civil(y: u32, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> Option<i64> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let valid = (1..=12).contains(&m)
        && d >= 1
        && d <= month_days[(m.max(1) - 1) as usize]
        && hh < 24
        && mm < 60
        && ss < 60
        && y >= 1970;
    valid.then(|| {
        days_from_civil(i64::from(y), i64::from(m), i64::from(d)) * 86_400
            + i64::from(hh) * 3600
            + i64::from(mm) * 60
            + i64::from(ss)
    })
}

fn civil_from_unix(unix: i64) -> (u32, u32, u32, u32, u32, u32) {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // All values are within u32 for years 1970..=9999.
    let as_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    (as_u32(y), as_u32(m), as_u32(d), as_u32(secs / 3600), as_u32(secs % 3600 / 60), as_u32(secs % 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_the_suite_timestamp() {
        let t = AmzDate::parse("20150830T123600Z").unwrap();
        assert_eq!(t.unix(), 1_440_938_160);
        assert_eq!(t.as_str(), "20150830T123600Z");
        assert_eq!(t.date_stamp(), "20150830");
        assert_eq!(t.to_iso8601(), "2015-08-30T12:36:00.000Z");
        assert_eq!(AmzDate::parse_iso8601("2015-08-30T12:36:00.000Z").unwrap(), t);
        assert_eq!(AmzDate::parse_iso8601("2015-08-30T12:36:00Z").unwrap(), t);
    }

    #[test]
    fn round_trips_every_day_boundary_across_four_centuries() {
        for day in (0..146_097i64 * 2).step_by(7) {
            let unix = day * 86_400 + 86_399;
            let t = AmzDate::from_unix(unix);
            assert_eq!(AmzDate::parse(t.as_str()).unwrap(), t, "{t}");
        }
    }

    #[test]
    fn plus_seconds_matches_from_unix_within_and_across_days() {
        let start = AmzDate::parse("20240229T235000Z").unwrap();
        for seconds in [0, 1, 599, 600, 601, 86_400, 604_800, -1, -86_400, i64::MAX, i64::MIN] {
            let moved = start.plus_seconds(seconds);
            assert_eq!(moved, AmzDate::from_unix(start.unix().saturating_add(seconds)), "{seconds}");
        }
    }

    #[test]
    fn rejects_malformed_timestamps() {
        for bad in [
            "",
            "20150830",
            "20150830T123600",
            "2015083OT123600Z",
            "20150230T000000Z",
            "20151301T000000Z",
            "20150830T246000Z",
            "20150830T123660Z",
            "20150830t123600z",
            "+0150830T123600Z",
            "/0150830T123600Z",
            "2015083:T123600Z",
            "20150830X123600Z",
            "20150830T1236:0Z",
            "20150830T123600ZZ",
            "19691231T235959Z",
        ] {
            assert!(AmzDate::parse(bad).is_err(), "{bad:?} was accepted");
        }
        for bad in [
            "2015-08-30",
            "2015-08-30T12:36:00",
            "2015-08-30T12:36:00.Z",
            "2015-08-30 12:36:00Z",
            "2015-08-30T12:36:00+00:00",
        ] {
            assert!(AmzDate::parse_iso8601(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn leap_days_are_accepted_only_in_leap_years() {
        assert!(AmzDate::parse("20240229T000000Z").is_ok());
        assert!(AmzDate::parse("20000229T000000Z").is_ok());
        assert!(AmzDate::parse("21000229T000000Z").is_err());
        assert!(AmzDate::parse("20230229T000000Z").is_err());
    }
}
