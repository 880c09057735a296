//! [`UtcTimestamp`]: the two UTC text forms issued-key signing covers.

use std::fmt;

/// Microseconds from the Unix epoch to 9999-12-31T23:59:59.999999Z, the last instant both text
/// forms can hold with a four-digit year.
const MAX_MICROS: u64 = 253_402_300_799_999_999;
const MICROS_PER_DAY: u64 = 86_400_000_000;

/// Why a timestamp was refused. Messages name the expected form, never anything secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The instant is after 9999-12-31T23:59:59.999999Z (a four-digit year cannot hold it).
    #[error("the timestamp is after 9999-12-31T23:59:59.999999Z")]
    OutOfRange,
    /// The text is not an `ApiTimestamp` of the form `2019-02-13T05:17:32.000000Z`.
    #[error("not a UTC timestamp of the form 2019-02-13T05:17:32.000000Z")]
    NotApiTimestamp,
    /// The text is not a FIX `SendingTime` of the form `20220915-18:29:58.756`.
    #[error("not a FIX UTC timestamp of the form 20220915-18:29:58.756")]
    NotSendingTime,
}

/// An instant in UTC, to the microsecond, from 1970 to the end of year 9999.
///
/// The core reads no clock: the caller passes the time in (e.g. from
/// `SystemTime::now().duration_since(UNIX_EPOCH)`), and the two text forms the Prime
/// WebSocket and FIX signatures cover are pure functions of it. Parsing accepts exactly those
/// forms (no offsets, no leap second), so a parsed timestamp formats back to the same text.
///
/// ```
/// use prime_core::issued::UtcTimestamp;
///
/// // 2019-02-13T05:17:32Z, Kraken's WebSocket example.
/// let t = UtcTimestamp::from_unix_micros(1_550_035_052_000_000)?;
/// assert_eq!(t.api_timestamp(), "2019-02-13T05:17:32.000000Z");
/// assert_eq!(t.sending_time(), "20190213-05:17:32.000");
/// assert_eq!(UtcTimestamp::parse_api_timestamp("2019-02-13T05:17:32.000000Z")?, t);
/// # Ok::<(), prime_core::issued::TimestampError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTimestamp {
    unix_micros: u64,
}

impl UtcTimestamp {
    /// The instant `unix_micros` microseconds after 1970-01-01T00:00:00Z.
    ///
    /// # Errors
    /// [`TimestampError::OutOfRange`] after the end of year 9999.
    pub fn from_unix_micros(unix_micros: u64) -> Result<Self, TimestampError> {
        if unix_micros > MAX_MICROS {
            return Err(TimestampError::OutOfRange);
        }
        Ok(Self { unix_micros })
    }

    /// The instant `unix_nanos` nanoseconds after the epoch, truncated to the microsecond.
    /// Infallible: `u64` nanoseconds end in 2554.
    pub fn from_unix_nanos(unix_nanos: u64) -> Self {
        Self {
            unix_micros: unix_nanos / 1_000,
        }
    }

    /// The instant `unix_millis` milliseconds after the epoch.
    ///
    /// # Errors
    /// [`TimestampError::OutOfRange`] after the end of year 9999.
    pub fn from_unix_millis(unix_millis: u64) -> Result<Self, TimestampError> {
        Self::from_unix_micros(
            unix_millis
                .checked_mul(1_000)
                .ok_or(TimestampError::OutOfRange)?,
        )
    }

    /// Microseconds since the Unix epoch.
    pub fn unix_micros(self) -> u64 {
        self.unix_micros
    }

    /// The Prime WebSocket `ApiTimestamp` form, `2019-02-13T05:17:32.000000Z` (microseconds).
    pub fn api_timestamp(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros
        )
    }

    /// The FIX `SendingTime` (52) form, `20220915-18:29:58.756` (milliseconds, truncated).
    pub fn sending_time(self) -> String {
        let c = self.civil();
        format!(
            "{:04}{:02}{:02}-{:02}:{:02}:{:02}.{:03}",
            c.year,
            c.month,
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.micros / 1_000
        )
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form Kraken documents for
    /// `ApiTimestamp`.
    ///
    /// # Errors
    /// [`TimestampError::NotApiTimestamp`] for any other text or an impossible date or time.
    pub fn parse_api_timestamp(text: &str) -> Result<Self, TimestampError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 27
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b'T'
            && b[13] == b':'
            && b[16] == b':'
            && b[19] == b'.'
            && b[26] == b'Z';
        if !shape_ok {
            return Err(TimestampError::NotApiTimestamp);
        }
        let civil = (|| {
            Some(Civil {
                year: digits(b, 0, 4)?,
                month: digits(b, 5, 2)?,
                day: digits(b, 8, 2)?,
                hour: digits(b, 11, 2)?,
                minute: digits(b, 14, 2)?,
                second: digits(b, 17, 2)?,
                micros: digits(b, 20, 6)?,
            })
        })();
        civil
            .and_then(Civil::into_timestamp)
            .ok_or(TimestampError::NotApiTimestamp)
    }

    /// Parses a FIX UTCTimestamp: `YYYYMMDD-HH:MM:SS` with no fraction, or with 3 or 6
    /// fractional digits (`20220915-18:29:58.756`).
    ///
    /// # Errors
    /// [`TimestampError::NotSendingTime`] for any other text or an impossible date or time.
    pub fn parse_sending_time(text: &str) -> Result<Self, TimestampError> {
        let b = text.as_bytes();
        let shape_ok = matches!(b.len(), 17 | 21 | 24)
            && b[8] == b'-'
            && b[11] == b':'
            && b[14] == b':'
            && (b.len() == 17 || b[17] == b'.');
        if !shape_ok {
            return Err(TimestampError::NotSendingTime);
        }
        let civil = (|| {
            let micros = match b.len() {
                17 => 0,
                21 => digits(b, 18, 3)? * 1_000,
                _ => digits(b, 18, 6)?,
            };
            Some(Civil {
                year: digits(b, 0, 4)?,
                month: digits(b, 4, 2)?,
                day: digits(b, 6, 2)?,
                hour: digits(b, 9, 2)?,
                minute: digits(b, 12, 2)?,
                second: digits(b, 15, 2)?,
                micros,
            })
        })();
        civil
            .and_then(Civil::into_timestamp)
            .ok_or(TimestampError::NotSendingTime)
    }

    fn civil(self) -> Civil {
        let days = self.unix_micros / MICROS_PER_DAY;
        let of_day = self.unix_micros % MICROS_PER_DAY;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: of_day / 3_600_000_000,
            minute: of_day / 60_000_000 % 60,
            second: of_day / 1_000_000 % 60,
            micros: of_day % 1_000_000,
        }
    }
}

impl fmt::Display for UtcTimestamp {
    /// The `ApiTimestamp` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.api_timestamp())
    }
}

struct Civil {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    micros: u64,
}

impl Civil {
    /// `None` for a date or time that does not exist (month 13, February 30, second 60, a
    /// year before 1970).
    fn into_timestamp(self) -> Option<UtcTimestamp> {
        let valid = self.year >= 1970
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && self.hour < 24
            && self.minute < 60
            && self.second < 60;
        if !valid {
            return None;
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let seconds = days * 86_400 + self.hour * 3_600 + self.minute * 60 + self.second;
        UtcTimestamp::from_unix_micros(seconds * 1_000_000 + self.micros).ok()
    }
}

/// The ASCII digits `b[start..start + len]` as a number; `None` if any is not a digit.
fn digits(b: &[u8], start: usize, len: usize) -> Option<u64> {
    b.get(start..start + len)?.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's `days_from_civil` / `civil_from_days` (public domain), restricted to
// dates from 1970 on, so everything stays unsigned.
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_and_the_last_instant() {
        let epoch = UtcTimestamp::from_unix_micros(0).unwrap();
        assert_eq!(epoch.api_timestamp(), "1970-01-01T00:00:00.000000Z");
        let last = UtcTimestamp::from_unix_micros(MAX_MICROS).unwrap();
        assert_eq!(last.api_timestamp(), "9999-12-31T23:59:59.999999Z");
        assert_eq!(last.sending_time(), "99991231-23:59:59.999");
        assert_eq!(
            UtcTimestamp::from_unix_micros(MAX_MICROS + 1),
            Err(TimestampError::OutOfRange)
        );
        assert_eq!(
            UtcTimestamp::from_unix_millis(u64::MAX),
            Err(TimestampError::OutOfRange)
        );
    }

    #[test]
    fn days_round_trip_through_the_civil_calendar() {
        // Every day from 1970 to 2600 (bounded: 230k iterations of integer arithmetic).
        for days in 0..230_000 {
            let (y, m, d) = civil_from_days(days);
            assert!(d >= 1 && d <= days_in_month(y, m), "{y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
