//! Times and durations as people read them: `12 s`, `10:31:07 UTC (in 45 s)`.

use std::time::Duration;

/// `12 s`, `1.5 s`.
pub fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if (s - s.round()).abs() < 1e-9 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
    }
}

/// A moment as people read it: `10:31:07 UTC` today, or `2026-12-04 10:31:07 UTC` on
/// another day, with how far away it is (`in 1 h 2 min`).
pub fn human_time(unix_seconds: u64, now_unix: u64) -> String {
    let (date, time) = utc(unix_seconds);
    let (today, _) = utc(now_unix);
    let when = if date == today {
        format!("{time} UTC")
    } else {
        format!("{date} {time} UTC")
    };
    let away = unix_seconds.saturating_sub(now_unix);
    let distance = if unix_seconds <= now_unix {
        "now".to_owned()
    } else if away < 60 {
        format!("in {away} s")
    } else if away < 3600 {
        format!("in {} min {} s", away / 60, away % 60)
    } else if away < 86_400 {
        format!("in {} h {} min", away / 3600, (away % 3600) / 60)
    } else {
        format!("in {} days", away / 86_400)
    };
    format!("{when} ({distance})")
}

/// (`YYYY-MM-DD`, `HH:MM:SS`) of a Unix time, UTC (the civil-from-days algorithm).
fn utc(unix_seconds: u64) -> (String, String) {
    let days = i64::try_from(unix_seconds / 86_400).unwrap_or(i64::MAX / 2);
    let rest = unix_seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}-{month:02}-{day:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            rest / 3600,
            (rest % 3600) / 60,
            rest % 60
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_time_reads_as_a_clock_and_a_distance() {
        // 2026-12-03 09:00:00 UTC.
        let now = 1_796_288_400;
        assert_eq!(human_time(now + 12, now), "09:00:12 UTC (in 12 s)");
        assert_eq!(human_time(now + 3600, now), "10:00:00 UTC (in 1 h 0 min)");
        assert_eq!(human_time(now + 125, now), "09:02:05 UTC (in 2 min 5 s)");
        assert_eq!(
            human_time(now + 16 * 3600, now),
            "2026-12-04 01:00:00 UTC (in 16 h 0 min)"
        );
        assert_eq!(human_time(0, now), "1970-01-01 00:00:00 UTC (now)");
        assert_eq!(utc(951_782_400).0, "2000-02-29");
        assert!(utc(u64::MAX).0.len() > 4);
    }
}
