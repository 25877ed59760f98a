//! The stderr target: human-readable lines on descriptor 2, for the foreground.

use std::ffi::OsStr;
use std::io::Write;

use super::fd::push_lines;
use super::{Entry, Severity};

/// Appends `LEVEL target: message\n` to `buf`, the level in colour if `colour`.
pub(super) fn format(buf: &mut Vec<u8>, entry: &Entry<'_>, colour: bool) {
    let label = entry.severity.label();
    if colour {
        let _ = write!(buf, "\x1b[{}m{label}\x1b[0m", sgr(entry.severity));
    } else {
        buf.extend_from_slice(label.as_bytes());
    }
    let _ = write!(buf, " {}: ", entry.target);
    push_lines(buf, entry.message);
    buf.push(b'\n');
}

/// The ANSI "select graphic rendition" parameters for a level.
fn sgr(severity: Severity) -> &'static str {
    match severity {
        Severity::Crit => "1;31",
        Severity::Error => "31",
        Severity::Warn => "33",
        Severity::Info => "32",
        Severity::Debug => "34",
        Severity::Trace => "2",
    }
}

/// Whether to colour: only on a terminal, and not when `NO_COLOR` is set to anything
/// but the empty string (<https://no-color.org>).
pub(super) fn colour_wanted(stderr_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(severity: Severity, colour: bool) -> String {
        let mut buf = Vec::new();
        let entry = Entry {
            severity,
            target: "app",
            message: "disk almost full",
            module: None,
            file: None,
            line: None,
        };
        format(&mut buf, &entry, colour);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn plain_and_coloured_lines() {
        assert_eq!(
            formatted(Severity::Warn, false),
            "WARN app: disk almost full\n"
        );
        assert_eq!(
            formatted(Severity::Warn, true),
            "\x1b[33mWARN\x1b[0m app: disk almost full\n"
        );
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_wanted(true, None));
        assert!(colour_wanted(true, Some(OsStr::new(""))));
        assert!(!colour_wanted(true, Some(OsStr::new("1"))));
        assert!(!colour_wanted(false, None));
    }
}
