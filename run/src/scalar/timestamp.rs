//! `!!timestamp` (YAML 1.1 type repository): the argdata timestamp holds
//! nanoseconds since 1970-01-01T00:00:00Z.
//!
//! Accepted: `2001-12-14`, `2001-12-14t21:59:43.10-05:00`,
//! `2001-12-14 21:59:43.10 -5` and `2001-12-15T02:59:43.1Z`. A time without
//! a zone is UTC; fraction digits beyond nanoseconds are dropped.

const NS_PER_SEC: i128 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Nanoseconds since the epoch of a YAML timestamp.
pub fn parse(text: &str) -> Result<i128, String> {
    let mut c = Cursor { s: text.as_bytes(), i: 0 };
    let days = date(&mut c).ok_or("expected YYYY-MM-DD")?;
    let mut secs = i128::from(days) * i128::from(SECS_PER_DAY);
    let mut nanos = 0;
    if !c.at_end() {
        let (time, ns) = time(&mut c).ok_or("expected HH:MM:SS after the date")?;
        let offset = zone(&mut c).ok_or("expected Z or a zone like +01:00 after the time")?;
        secs += i128::from(time) - i128::from(offset);
        nanos = ns;
    }
    if !c.at_end() {
        return Err("unexpected text after the timestamp".into());
    }
    Ok(secs * NS_PER_SEC + i128::from(nanos))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or `None` outside years 0 to 9999.
pub fn format(ns: i128) -> Option<String> {
    let secs = i64::try_from(ns.div_euclid(NS_PER_SEC)).ok()?;
    let nanos = ns.rem_euclid(NS_PER_SEC);
    let (days, day_secs) = (secs.div_euclid(SECS_PER_DAY), secs.rem_euclid(SECS_PER_DAY));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    let (hh, mm, ss) = (day_secs / 3600, day_secs / 60 % 60, day_secs % 60);
    let mut out = format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}");
    if nanos != 0 {
        out.push_str(format!(".{nanos:09}").trim_end_matches('0'));
    }
    out.push('Z');
    Some(out)
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.i == self.s.len()
    }

    fn eat(&mut self, set: &[u8]) -> bool {
        let hit = self.s.get(self.i).is_some_and(|b| set.contains(b));
        self.i += usize::from(hit);
        hit
    }

    fn skip_blanks(&mut self) -> usize {
        let start = self.i;
        while self.eat(b" \t") {}
        self.i - start
    }

    /// Between `min` and `max` decimal digits, with their value and count.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let run = self.s[self.i..].iter().take(max).take_while(|b| b.is_ascii_digit()).count();
        if run < min {
            return None;
        }
        let text = std::str::from_utf8(&self.s[self.i..self.i + run]).ok()?;
        self.i += run;
        Some((text.parse().ok()?, run))
    }

    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        self.digits(min, max).map(|(n, _)| n)
    }
}

/// Days since the epoch of `YYYY-M[M]-D[D]`.
fn date(c: &mut Cursor) -> Option<i64> {
    let year = c.number(4, 4)?;
    c.eat(b"-").then_some(())?;
    let month = c.number(1, 2)?;
    c.eat(b"-").then_some(())?;
    let day = c.number(1, 2)?;
    let valid = (1..=12).contains(&month) && (1..=days_in_month(year, month)).contains(&day);
    valid.then(|| days_from_civil(i64::from(year), month, day))
}

/// `[Tt]` or blanks, then `H[H]:MM:SS[.fraction]`: seconds into the day
/// and nanoseconds.
fn time(c: &mut Cursor) -> Option<(u32, u32)> {
    if !c.eat(b"Tt") && c.skip_blanks() == 0 {
        return None;
    }
    let hour = c.number(1, 2)?;
    c.eat(b":").then_some(())?;
    let minute = c.number(2, 2)?;
    c.eat(b":").then_some(())?;
    let second = c.number(2, 2)?;
    let nanos = if c.eat(b".") { fraction(c) } else { 0 };
    (hour < 24 && minute < 60 && second < 60).then_some((hour * 3600 + minute * 60 + second, nanos))
}

fn fraction(c: &mut Cursor) -> u32 {
    let start = c.i;
    while c.eat(b"0123456789") {}
    let digits = &c.s[start..c.i];
    digits.iter().chain(std::iter::repeat(&b'0')).take(9).fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

/// Optional blanks, then nothing (UTC), `Z` or `±H[H][:MM]`: the zone's
/// offset from UTC in seconds.
fn zone(c: &mut Cursor) -> Option<i32> {
    c.skip_blanks();
    if c.at_end() || c.eat(b"Z") {
        return Some(0);
    }
    let sign = if c.eat(b"-") { -1 } else { c.eat(b"+").then_some(1)? };
    let hours = c.number(1, 2)?;
    let minutes = if c.eat(b":") { c.number(2, 2)? } else { 0 };
    let valid = hours < 24 && minutes < 60;
    valid.then(|| sign * i32::try_from(hours * 3600 + minutes * 60).unwrap_or(0))
}

// `is_multiple_of` needs Rust 1.87; the workspace declares 1.85.
#[allow(clippy::manual_is_multiple_of)]
fn days_in_month(year: u32, month: u32) -> u32 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is in 1..=31 and month in 1..=12 by construction.
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC_EXAMPLE_NS: i128 = 1_008_385_183_100_000_000;

    #[test]
    fn the_yaml_type_repository_examples_agree() {
        for text in [
            "2001-12-15T02:59:43.1Z",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10 -5",
            "2001-12-15 2:59:43.10",
        ] {
            assert_eq!(parse(text), Ok(SPEC_EXAMPLE_NS), "{text}");
        }
        assert_eq!(parse("2002-12-14"), Ok(1_039_824_000 * NS_PER_SEC));
        assert_eq!(parse("1970-01-01"), Ok(0));
        assert_eq!(parse("0000-01-01"), Ok(-62_167_219_200 * NS_PER_SEC));
    }

    #[test]
    fn fractions_beyond_nanoseconds_are_dropped() {
        assert_eq!(parse("1970-01-01T00:00:00.1234567891Z"), Ok(123_456_789));
    }

    #[test]
    fn invalid_dates_and_times_are_rejected() {
        for text in
            ["2001-13-01", "2001-02-29", "1900-02-29", "2001-1-1T25:00:00", "2001-01-01T00:00:60", "01-01-01"]
        {
            assert!(parse(text).is_err(), "{text}");
        }
        assert_eq!(parse("2000-02-29"), Ok(951_782_400 * NS_PER_SEC));
        assert_eq!(parse("2001-01-01T00:00:00Zjunk"), Err("unexpected text after the timestamp".into()));
        assert_eq!(parse("2001-01-01x"), Err("expected HH:MM:SS after the date".into()));
    }

    #[test]
    fn formats_in_utc() {
        assert_eq!(format(SPEC_EXAMPLE_NS).unwrap(), "2001-12-15T02:59:43.1Z");
        assert_eq!(format(-1).unwrap(), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(format(253_402_300_800 * NS_PER_SEC), None);
        assert_eq!(format(i128::MIN), None);
    }

    proptest! {
        #[test]
        fn format_and_parse_are_inverse(
            ns in -62_167_219_200 * NS_PER_SEC..253_402_300_800 * NS_PER_SEC
        ) {
            let text = format(ns).unwrap();
            prop_assert_eq!(parse(&text), Ok(ns), "{}", text);
        }
    }
}
