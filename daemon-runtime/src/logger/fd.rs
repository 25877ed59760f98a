//! Writing records to a descriptor shared with the rest of the process (descriptor 2)
//! without ever waiting for its reader.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// Writes up to this many bytes at once: POSIX makes a pipe write of at most `PIPE_BUF`
/// bytes atomic, so records from several threads and processes sharing the pipe do not
/// interleave.
const CHUNK: usize = libc::PIPE_BUF;

/// Writes `record` to `fd` if it can go without waiting; false if it was dropped (whole
/// or, for a record longer than [`CHUNK`] whose reader stalled half way, in part).
///
/// The descriptor stays blocking: `O_NONBLOCK` belongs to the open file description,
/// which children and the supervisor's other clients share, and a program that does
/// not expect it would see `EAGAIN` from its own writes. Instead a zero-timeout `poll`
/// asks first. Once a pipe reports `POLLOUT` it has room for at least `PIPE_BUF` bytes,
/// so a write of one chunk then completes at once (unless another writer fills the
/// room in between, which can only delay this record behind theirs). A regular file
/// always polls writable; `ENOSPC` or `EIO` there drop the record like a full pipe.
pub(super) fn write_record(fd: BorrowedFd<'_>, record: &[u8]) -> bool {
    let mut rest = record;
    while !rest.is_empty() {
        if !writable(fd) {
            return false;
        }
        let chunk = &rest[..rest.len().min(CHUNK)];
        match retry_eintr(|| nix::unistd::write(fd, chunk)) {
            Ok(0) | Err(_) => return false,
            Ok(n) => rest = &rest[n..],
        }
    }
    true
}

fn writable(fd: BorrowedFd<'_>) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
    match retry_eintr(|| poll(&mut fds, PollTimeout::ZERO)) {
        Ok(n) if n > 0 => fds[0]
            .revents()
            .is_some_and(|events| events.contains(PollFlags::POLLOUT)),
        _ => false,
    }
}

/// Runs `call` again when a signal interrupted it, a few times at most: a signal storm
/// must not keep a logging thread busy.
fn retry_eintr<T>(mut call: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    let mut result = call();
    for _ in 0..3 {
        if !matches!(result, Err(Errno::EINTR)) {
            break;
        }
        result = call();
    }
    result
}

/// Appends `message` with every line after the first indented by two spaces, so that
/// in a line-oriented file only a record's first line starts with its timestamp or
/// level: a multi-line message stays readable and cannot forge a record of its own.
pub(super) fn push_lines(buf: &mut Vec<u8>, message: &str) {
    let mut lines = message.split('\n');
    if let Some(first) = lines.next() {
        buf.extend_from_slice(first.as_bytes());
    }
    for line in lines {
        buf.extend_from_slice(b"\n  ");
        buf.extend_from_slice(line.as_bytes());
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::fs::File;
    use std::io::Read;
    use std::os::fd::AsFd;

    use nix::fcntl::{FcntlArg, OFlag, fcntl};

    use super::*;

    /// A pipe whose buffer is full, with the write end blocking again as a supervisor's
    /// log pipe would be.
    pub(in super::super) fn full_pipe() -> (File, File) {
        let (read, write) = nix::unistd::pipe().unwrap();
        fcntl(&write, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
        let block = [b'x'; 4096];
        while nix::unistd::write(&write, &block).is_ok() {}
        // The last partial page: writes of fewer bytes may still fit.
        while nix::unistd::write(&write, b"x").is_ok() {}
        fcntl(&write, FcntlArg::F_SETFL(OFlag::empty())).unwrap();
        (File::from(read), File::from(write))
    }

    /// Reads everything the pipe holds now, without waiting for more.
    pub(in super::super) fn drain(read: &File) -> Vec<u8> {
        fcntl(read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).unwrap();
        let mut all = Vec::new();
        let mut buf = [0; 65536];
        loop {
            match (&*read).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("reading the pipe: {e}"),
            }
        }
        all
    }

    #[test]
    fn a_record_goes_out_in_one_write_when_there_is_room() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let read = File::from(read);
        assert!(write_record(write.as_fd(), b"INFO app: hello\n"));
        assert_eq!(drain(&read), b"INFO app: hello\n");
    }

    #[test]
    fn a_full_pipe_drops_the_record_instead_of_blocking() {
        let (read, write) = full_pipe();
        assert!(!write_record(write.as_fd(), b"INFO app: lost\n"));
        let drained = drain(&read);
        assert!(
            drained.iter().all(|&b| b == b'x'),
            "nothing of the record got in"
        );
        assert!(write_record(write.as_fd(), b"INFO app: kept\n"));
        assert_eq!(drain(&read), b"INFO app: kept\n");
    }

    #[test]
    fn the_shared_descriptor_stays_blocking() {
        let (_read, write) = full_pipe();
        assert!(!write_record(write.as_fd(), b"INFO app: lost\n"));
        let flags = OFlag::from_bits_truncate(fcntl(&write, FcntlArg::F_GETFL).unwrap());
        assert!(!flags.contains(OFlag::O_NONBLOCK));
    }

    #[test]
    fn a_record_longer_than_pipe_buf_goes_out_whole_when_there_is_room() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let read = File::from(read);
        let record: Vec<u8> = (0..3 * CHUNK + 17).map(|i| b'a' + (i % 26) as u8).collect();
        assert!(write_record(write.as_fd(), &record));
        assert_eq!(drain(&read), record);
    }

    #[test]
    fn a_closed_reader_drops_the_record() {
        // Rust ignores SIGPIPE, so the write fails with EPIPE instead of killing us.
        let (read, write) = nix::unistd::pipe().unwrap();
        drop(read);
        assert!(!write_record(write.as_fd(), b"INFO app: nobody\n"));
    }

    #[test]
    fn a_full_disk_drops_the_record() {
        // /dev/full fails every write with ENOSPC, as a log file on a full disk does.
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            // Past the harness's capture, so the skip shows.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: a_full_disk_drops_the_record: no /dev/full"
            );
            return;
        };
        assert!(!write_record(full.as_fd(), b"INFO app: no space\n"));
    }

    #[test]
    fn continuation_lines_are_indented() {
        let mut buf = Vec::new();
        push_lines(&mut buf, "one\ntwo\n\nfour");
        assert_eq!(buf, b"one\n  two\n  \n  four");
    }
}
