//! The file target: timestamped lines on descriptor 2.
//!
//! The runtime points descriptor 2 at the `stderr` log file and, on SIGHUP, opens the
//! file again by name and `dup2`s it over descriptor 2. Writing to the descriptor, not
//! to a file of its own, is what lets this target follow logrotate without knowing.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use super::Entry;
use super::fd::push_lines;

/// Appends `2026-12-02T17:00:00.123Z INFO target: message\n` to `buf`.
pub(super) fn format(buf: &mut Vec<u8>, entry: &Entry<'_>, now: SystemTime) {
    push_timestamp(buf, now);
    let _ = write!(buf, " {} {}: ", entry.severity.label(), entry.target);
    push_lines(buf, entry.message);
    buf.push(b'\n');
}

/// Appends `now` in UTC as RFC 3339 with milliseconds.
fn push_timestamp(buf: &mut Vec<u8>, now: SystemTime) {
    // A clock before 1970 is broken; its records say 1970 rather than nothing.
    let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let _ = write!(
        buf,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_millis()
    );
}

/// The proleptic Gregorian date `days` after 1970-01-01, by Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>): counting
/// in 400-year eras from 0000-03-01 puts the leap day at the end of each year.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Severity;
    use super::*;

    fn at(secs: u64, millis: u64) -> String {
        let mut buf = Vec::new();
        push_timestamp(
            &mut buf,
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis),
        );
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn timestamps_match_known_dates() {
        // Seconds computed independently (Python's datetime).
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(946_684_799, 999), "1999-12-31T23:59:59.999Z");
        assert_eq!(at(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(1_709_210_096, 7), "2024-02-29T12:34:56.007Z");
        assert_eq!(at(1_796_230_800, 123), "2026-12-02T17:00:00.123Z");
        // 2100 is not a leap year.
        assert_eq!(at(4_107_542_399, 0), "2100-02-28T23:59:59.000Z");
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000Z");
    }

    #[test]
    fn a_clock_before_1970_reads_as_the_epoch() {
        let mut buf = Vec::new();
        push_timestamp(&mut buf, UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(buf, b"1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn a_record_is_one_timestamped_line() {
        let mut buf = Vec::new();
        let entry = Entry {
            severity: Severity::Info,
            target: "app::http",
            message: "listening\non :8080",
            module: None,
            file: None,
            line: None,
        };
        let now = UNIX_EPOCH + Duration::from_millis(1_796_230_800_123);
        format(&mut buf, &entry, now);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "2026-12-02T17:00:00.123Z INFO app::http: listening\n  on :8080\n"
        );
    }
}
