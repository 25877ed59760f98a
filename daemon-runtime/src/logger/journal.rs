//! The journal target: systemd's native protocol, one datagram per record on
//! `/run/systemd/journal/socket` (see `systemd.journal-fields(7)` and
//! <https://systemd.io/JOURNAL_NATIVE_PROTOCOL/>).

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};

use super::{Entry, truncated};

/// Where journald listens for native-protocol datagrams.
pub(super) const DEFAULT_SOCKET: &str = "/run/systemd/journal/socket";

/// The largest datagram sent. journald takes bigger ones only through a memfd passed
/// with `SCM_RIGHTS`, which is more code and more system calls per record than a log
/// message deserves; a longer message is cut with a marker saying how much was cut.
pub(super) const MAX_DATAGRAM: usize = 64 * 1024;

/// Appends the native-protocol datagram for `entry` to `buf`.
///
/// `TARGET` carries the record's target: the field name that `tracing-journald` and
/// `systemd-journal-logger` use, so `journalctl TARGET=hyper::client` selects the same
/// records whichever of them a Rust program logs through. It is not one of journald's
/// own fields, which have fixed meanings (`CODE_FUNC` is a function, `SYSLOG_FACILITY`
/// a number).
pub(super) fn encode(buf: &mut Vec<u8>, entry: &Entry<'_>, ident: &str, pid: u32) {
    let start = buf.len();
    field(buf, "PRIORITY", &[b'0' + entry.severity.syslog()]);
    field(buf, "SYSLOG_IDENTIFIER", ident.as_bytes());
    field(buf, "SYSLOG_PID", pid.to_string().as_bytes());
    field(buf, "TARGET", entry.target.as_bytes());
    if let Some(file) = entry.file {
        field(buf, "CODE_FILE", file.as_bytes());
    }
    if let Some(line) = entry.line {
        field(buf, "CODE_LINE", line.to_string().as_bytes());
    }
    if let Some(module) = entry.module {
        field(buf, "CODE_MODULE", module.as_bytes());
    }
    // MESSAGE goes last so that the fields above decide how much of it fits. The 10
    // bytes are the key's terminator, the length and the final newline.
    let used = buf.len() - start + "MESSAGE".len() + 10;
    let message = truncated(entry.message, MAX_DATAGRAM.saturating_sub(used));
    field(buf, "MESSAGE", message.as_bytes());
}

/// One field: `KEY=value\n`, or for a value with a newline the binary-safe form
/// `KEY\n`, its length as a little-endian `u64`, the value and `\n`.
fn field(buf: &mut Vec<u8>, key: &str, value: &[u8]) {
    buf.extend_from_slice(key.as_bytes());
    if value.contains(&b'\n') {
        buf.push(b'\n');
        buf.extend_from_slice(&(value.len() as u64).to_le_bytes());
    } else {
        buf.push(b'=');
    }
    buf.extend_from_slice(value);
    buf.push(b'\n');
}

/// Whether standard error is the journal's stream for this service: systemd sets
/// `JOURNAL_STREAM` to `<device>:<inode>` of the stream it connects to a service's
/// stdout and stderr, and recommends that a program seeing its stderr match switch to
/// the native protocol (`systemd.exec(5)`, "Environment Variables Set or Propagated by
/// the Service Manager"). A program whose stderr was redirected since (a log file, a
/// pipe to another program) no longer matches, so the variable alone proves nothing.
///
/// `journal_stream` is the variable's value (`std::env::var_os("JOURNAL_STREAM")`).
pub fn journal_matches_stderr(journal_stream: Option<&OsStr>) -> bool {
    stream_matches(journal_stream, std::io::stderr().as_fd())
}

fn stream_matches(journal_stream: Option<&OsStr>, fd: BorrowedFd<'_>) -> bool {
    let Some((dev, ino)) = journal_stream
        .and_then(OsStr::to_str)
        .and_then(|value| value.split_once(':'))
    else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<libc::dev_t>(), ino.parse::<libc::ino_t>()) else {
        return false;
    };
    nix::sys::stat::fstat(fd).is_ok_and(|stat| stat.st_dev == dev && stat.st_ino == ino)
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::super::Severity;
    use super::*;

    fn entry<'a>(message: &'a str) -> Entry<'a> {
        Entry {
            severity: Severity::Warn,
            target: "app::db",
            message,
            module: Some("app::db"),
            file: Some("src/db.rs"),
            line: Some(42),
        }
    }

    #[test]
    fn a_single_line_record_is_key_equals_value_lines() {
        let mut buf = Vec::new();
        encode(&mut buf, &entry("pool exhausted"), "hello", 4242);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "PRIORITY=4\nSYSLOG_IDENTIFIER=hello\nSYSLOG_PID=4242\nTARGET=app::db\n\
             CODE_FILE=src/db.rs\nCODE_LINE=42\nCODE_MODULE=app::db\nMESSAGE=pool exhausted\n"
        );
    }

    #[test]
    fn a_multi_line_message_uses_the_binary_safe_form() {
        let mut buf = Vec::new();
        let e = Entry {
            module: None,
            file: None,
            line: None,
            ..entry("line one\nline two")
        };
        encode(&mut buf, &e, "hello", 7);
        let mut expected = b"PRIORITY=4\nSYSLOG_IDENTIFIER=hello\nSYSLOG_PID=7\nTARGET=app::db\n\
                             MESSAGE\n"
            .to_vec();
        expected.extend_from_slice(&17u64.to_le_bytes());
        expected.extend_from_slice(b"line one\nline two\n");
        assert_eq!(buf, expected);
    }

    #[test]
    fn an_oversized_message_is_cut_to_fit_one_datagram() {
        let mut buf = Vec::new();
        let long = "x".repeat(MAX_DATAGRAM * 2);
        encode(&mut buf, &entry(&long), "hello", 7);
        assert!(buf.len() <= MAX_DATAGRAM, "{} bytes", buf.len());
        assert!(buf.len() > MAX_DATAGRAM - 200, "{} bytes", buf.len());
        let text = String::from_utf8(buf).unwrap();
        let message = text.split_once("MESSAGE=").unwrap().1;
        assert!(message.starts_with("xxxx"));
        assert!(
            message.ends_with(" bytes]\n"),
            "{}",
            &message[message.len() - 40..]
        );
        assert!(message.contains(" [truncated "));
    }

    #[test]
    fn journal_stream_matches_the_descriptor_it_names() {
        let file = tempfile::tempfile().unwrap();
        let stat = nix::sys::stat::fstat(&file).unwrap();
        let value = OsString::from(format!("{}:{}", stat.st_dev, stat.st_ino));
        assert!(stream_matches(Some(&value), file.as_fd()));

        let other = OsString::from(format!("{}:{}", stat.st_dev, stat.st_ino + 1));
        assert!(!stream_matches(Some(&other), file.as_fd()));
        for junk in ["", ":", "1:", "x:y", "12345"] {
            assert!(
                !stream_matches(Some(OsStr::new(junk)), file.as_fd()),
                "{junk:?}"
            );
        }
        assert!(!stream_matches(None, file.as_fd()));
    }

    #[test]
    fn journal_matches_stderr_reads_descriptor_two() {
        let stat = nix::sys::stat::fstat(std::io::stderr().as_fd()).unwrap();
        let value = OsString::from(format!("{}:{}", stat.st_dev, stat.st_ino));
        assert!(journal_matches_stderr(Some(&value)));
        let other = OsString::from(format!("{}:{}", stat.st_dev, stat.st_ino.wrapping_add(1)));
        assert!(!journal_matches_stderr(Some(&other)));
    }
}
