//! The syslog target: RFC 3164 datagrams on the local syslog socket, facility `daemon`.

use std::io::Write;

use super::{Entry, truncated};

/// Where the local syslog daemon (rsyslog, syslog-ng, or journald's syslog socket)
/// listens.
#[cfg(not(any(
    target_os = "macos",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)))]
pub(super) const DEFAULT_SOCKET: &str = "/dev/log";
/// Where syslogd listens on macOS (`_PATH_LOG` in its `<syslog.h>`).
#[cfg(target_os = "macos")]
pub(super) const DEFAULT_SOCKET: &str = "/var/run/syslog";
/// Where syslogd listens on FreeBSD, NetBSD and DragonFly (`_PATH_LOG`).
#[cfg(any(target_os = "freebsd", target_os = "netbsd", target_os = "dragonfly"))]
pub(super) const DEFAULT_SOCKET: &str = "/var/run/log";

/// The largest datagram sent: rsyslog's default `maxMessageSize`, beyond which its
/// `imuxsock` cuts the datagram itself, marker and all. The documentation says "8k";
/// the value is 8096 bytes (`iMaxLine` in rsyslog's `runtime/glbl.c`), header included.
/// A longer message is cut here with a marker saying how much was cut, so the reader
/// knows.
#[cfg(not(target_os = "macos"))]
pub(super) const MAX_DATAGRAM: usize = 8096;
/// macOS refuses local datagrams above `net.local.dgram.maxdgram`, 2 KiB by default.
#[cfg(target_os = "macos")]
pub(super) const MAX_DATAGRAM: usize = 2 * 1024;

/// `LOG_DAEMON`: "system daemons without separate facility value" (RFC 5424, 6.2.1).
const FACILITY_DAEMON: u8 = 3;

/// Appends `<PRI>IDENT[PID]: MESSAGE` for `entry` to `buf`.
///
/// No timestamp or hostname: on the local socket both rsyslog (imuxsock) and journald
/// take the header without them and stamp the record when they receive it, with
/// their own clock and time format. An RFC 3164 timestamp would carry less than theirs
/// (no year, no zone, whole seconds), and imuxsock ignores a sent one by default
/// (`IgnoreTimestamp="on"`).
///
/// A multi-line message stays one record, with each control character written as `#`
/// and three octal digits (a newline is `#012`). That is rsyslog's own escaping, so the
/// text reads the same whichever side escaped it; the record is delivered or dropped as
/// a whole (and counted as one); and a message cannot forge a line of its own in a
/// line-oriented log file behind a syslog daemon that does not escape.
pub(super) fn encode(buf: &mut Vec<u8>, entry: &Entry<'_>, ident: &str, pid: u32) {
    let pri = FACILITY_DAEMON * 8 + entry.severity.syslog();
    let _ = write!(buf, "<{pri}>{ident}[{pid}]: ");
    let message = escape_controls(entry.message);
    let room = MAX_DATAGRAM.saturating_sub(buf.len());
    buf.extend_from_slice(truncated(&message, room).as_bytes());
}

fn escape_controls(message: &str) -> String {
    let mut escaped = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_ascii_control() && c != '\t' {
            escaped.push_str(&format!("#{:03o}", u32::from(c)));
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// The program's name as a syslog tag: the header ends at the first `[`, `:` or blank,
/// so those become `_`.
pub(super) fn sanitize_ident(name: &str) -> String {
    let ident: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' => '_',
            c if c.is_whitespace() || c.is_control() => '_',
            c => c,
        })
        .collect();
    if ident.is_empty() {
        "daemon".to_owned()
    } else {
        ident
    }
}

#[cfg(test)]
mod tests {
    use super::super::Severity;
    use super::*;

    fn encoded(severity: Severity, message: &str) -> String {
        let mut buf = Vec::new();
        let entry = Entry {
            severity,
            target: "app",
            message,
            module: None,
            file: None,
            line: None,
        };
        encode(&mut buf, &entry, "hello", 4242);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn pri_is_the_daemon_facility_times_eight_plus_the_severity() {
        assert_eq!(encoded(Severity::Crit, "m"), "<26>hello[4242]: m");
        assert_eq!(encoded(Severity::Error, "m"), "<27>hello[4242]: m");
        assert_eq!(encoded(Severity::Warn, "m"), "<28>hello[4242]: m");
        assert_eq!(encoded(Severity::Info, "m"), "<30>hello[4242]: m");
        assert_eq!(encoded(Severity::Debug, "m"), "<31>hello[4242]: m");
        assert_eq!(encoded(Severity::Trace, "m"), "<31>hello[4242]: m");
    }

    #[test]
    fn newlines_and_other_controls_are_escaped_in_octal() {
        assert_eq!(
            encoded(Severity::Error, "one\ntwo\r\x1b[31m\tend"),
            "<27>hello[4242]: one#012two#015#033[31m\tend"
        );
    }

    #[test]
    fn an_oversized_message_is_cut_to_fit_one_datagram() {
        let text = encoded(Severity::Info, &"é".repeat(MAX_DATAGRAM));
        assert!(text.len() <= MAX_DATAGRAM, "{} bytes", text.len());
        assert!(text.starts_with("<30>hello[4242]: éé"));
        assert!(text.ends_with(" bytes]"), "{}", &text[text.len() - 40..]);
    }

    #[test]
    fn the_ident_cannot_break_the_header() {
        assert_eq!(sanitize_ident("my app[1]: x"), "my_app_1___x");
        assert_eq!(sanitize_ident("hello"), "hello");
        assert_eq!(sanitize_ident(""), "daemon");
    }
}
