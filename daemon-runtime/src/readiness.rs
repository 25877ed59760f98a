//! The readiness channel between the daemon and the process that launched it.
//!
//! The launcher exits 0 only once the daemon says "ready". An error message makes it
//! print the message and exit with the code that came with it; end of file without
//! either (the daemon died) or a timeout is a failure, never a success.
//!
//! A Unix stream socket pair rather than a pipe, because the first frame carries a
//! descriptor: the intermediate process, the daemon's parent, pins the daemon with a
//! pidfd right after forking it (nobody can reap the daemon before its parent exits, so
//! the pidfd cannot name another process) and sends it along. Whatever the launcher
//! later does to "the daemon" (kill it when it does not get ready in time, wait for a
//! failed one to be gone) reaches that process and no other.
//!
//! Frames: `P` + pid (u32, the pidfd attached where there is one), from the
//! intermediate process; `R`, ready; `E` + code (i32) + length (u32) + UTF-8 message,
//! at most [`MAX_MESSAGE`] bytes.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

use crate::error::{Error, exit};
use crate::sys::pidfd::Process;
use crate::sys::time::Deadline;

/// The longest error message a daemon sends; a longer one is cut. A report must fit in
/// what a launcher is willing to buffer from a process it does not trust blindly.
pub(crate) const MAX_MESSAGE: usize = 16 * 1024;

/// The daemon's end.
#[derive(Debug)]
pub(crate) struct Notifier(UnixStream);

/// The launcher's end.
#[derive(Debug)]
pub(crate) struct Waiter(UnixStream);

/// Creates the channel. Both ends are close-on-exec, so a program the daemon runs does
/// not hold the launcher open.
pub(crate) fn channel() -> Result<(Waiter, Notifier), Error> {
    let (read, write) = UnixStream::pair().map_err(|e| Error::Sys {
        call: "socketpair".to_owned(),
        source: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    Ok((Waiter(read), Notifier(write)))
}

impl Notifier {
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    fn send(&self, frame: &[u8], fd: Option<BorrowedFd<'_>>) -> nix::Result<()> {
        let fds;
        let cmsgs: &[ControlMessage<'_>] = match &fd {
            Some(fd) => {
                fds = [fd.as_raw_fd()];
                &[ControlMessage::ScmRights(&fds)]
            }
            None => &[],
        };
        let mut rest = frame;
        let mut first = true;
        while !rest.is_empty() {
            let iov = [IoSlice::new(rest)];
            // The descriptor goes with the first bytes only.
            let with = if first { cmsgs } else { &[] };
            match sendmsg::<()>(self.0.as_raw_fd(), &iov, with, MsgFlags::MSG_NOSIGNAL, None) {
                Ok(n) => {
                    rest = &rest[n..];
                    first = false;
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Tells the launcher the daemon's pid, and hands it `pidfd` on it (the
    /// intermediate process does, which alone can open one without a race).
    pub(crate) fn daemon(&self, pid: u32, pidfd: Option<BorrowedFd<'_>>) {
        let mut frame = [0u8; 5];
        frame[0] = b'P';
        frame[1..].copy_from_slice(&pid.to_le_bytes());
        // If the launcher is gone there is nobody to tell; the daemon goes on.
        let _ = self.send(&frame, pidfd);
    }

    /// Tells the launcher the daemon is ready; it exits 0.
    pub(crate) fn ready(self) {
        // Logged first: once the launcher has heard, it exits, and whoever started it may
        // read the log at once.
        log::debug!("reported ready to the launching process");
        let _ = self.send(b"R", None);
    }

    /// Tells the launcher the daemon failed; it prints `message` and exits with `code`.
    pub(crate) fn fail(self, code: i32, message: &str) {
        let message = cut(message, MAX_MESSAGE);
        let mut frame = vec![b'E'];
        frame.extend_from_slice(&code.to_le_bytes());
        frame.extend_from_slice(&(message.len() as u32).to_le_bytes());
        frame.extend_from_slice(message.as_bytes());
        let _ = self.send(&frame, None);
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What the launcher heard.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) outcome: Outcome,
    /// The daemon's pid, once the intermediate process said it.
    pub(crate) pid: Option<u32>,
    /// The daemon, pinned, where there are pidfds.
    pub(crate) process: Option<Process>,
}

/// How the start went, as far as the launcher can tell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ready,
    Failed {
        code: i32,
        message: String,
    },
    /// End of file without "ready" or an error: the daemon died.
    Silent,
    TimedOut,
}

impl Waiter {
    /// Reads frames until "ready", an error, end of file, or `timeout`. Whatever has
    /// arrived is read before the deadline is checked, so a report sent in time is
    /// never taken for a timeout.
    pub(crate) fn wait(self, timeout: Duration) -> Result<Report, Error> {
        let deadline = Deadline::after(timeout);
        let mut heard = Heard::default();
        // Set once the outcome is known without the pid: see `PID_GRACE`.
        let mut grace: Option<Deadline> = None;
        loop {
            heard.parse();
            if heard.pid.is_some() && heard.outcome.is_some() {
                return Ok(heard.finish(None));
            }
            if heard.outcome.is_some() && grace.is_none() {
                grace = Some(Deadline::after(PID_GRACE));
            }
            let until = grace.unwrap_or(deadline);
            let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
            let ready = match poll(&mut fds, until.poll_timeout()) {
                Ok(n) => n > 0,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("poll on the readiness channel", e)),
            };
            if !ready {
                if until.passed() {
                    return Ok(heard.finish(Some(Outcome::TimedOut)));
                }
                continue;
            }
            if !self.receive(&mut heard)? {
                heard.parse();
                let end = heard.at_end();
                return Ok(heard.finish(Some(end)));
            }
        }
    }

    /// Reads what is there into `heard`; `false` at end of file.
    fn receive(&self, heard: &mut Heard) -> Result<bool, Error> {
        let mut chunk = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut chunk)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = match recvmsg::<()>(
            self.0.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => msg,
            Err(nix::errno::Errno::EINTR) => return Ok(true),
            Err(e) => return Err(Error::sys("read from the readiness channel", e)),
        };
        let received = msg.bytes;
        for cmsg in msg.cmsgs().map_err(|e| Error::sys("recvmsg", e))? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                for fd in fds {
                    // SAFETY: the kernel installed this descriptor in our table for this
                    // message; nothing else owns it.
                    heard.pidfds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        heard.buf.extend_from_slice(&chunk[..received]);
        Ok(received > 0)
    }
}

/// How long the launcher waits for the intermediate process's frame (the daemon's pid
/// and pidfd) once the daemon has reported: the daemon can report first, while its
/// parent, descheduled between the fork and its own report, has not sent the frame
/// yet. Without it, a service manager would not be told the daemon's pid (`MAINPID=`),
/// and a failed daemon could not be waited for.
const PID_GRACE: Duration = Duration::from_secs(2);

/// What the launcher has read so far.
#[derive(Debug, Default)]
struct Heard {
    buf: Vec<u8>,
    pid: Option<u32>,
    pidfds: Vec<OwnedFd>,
    /// The daemon's report, once it came (the first one counts).
    outcome: Option<Outcome>,
}

impl Heard {
    /// Consumes every complete frame, in whatever order the daemon's report and its
    /// parent's pid frame arrived.
    fn parse(&mut self) {
        loop {
            let (outcome, used) = match parse(&self.buf) {
                Parsed::Incomplete => return,
                Parsed::Pid(pid, used) => {
                    self.pid = Some(pid);
                    self.buf.drain(..used);
                    continue;
                }
                Parsed::Ready(used) => (Outcome::Ready, used),
                Parsed::Failed(code, message, used) => (Outcome::Failed { code, message }, used),
                Parsed::Garbage => {
                    let message = "the daemon sent an unreadable start-up report".into();
                    let code = exit::SOFTWARE;
                    (Outcome::Failed { code, message }, self.buf.len())
                }
            };
            self.outcome.get_or_insert(outcome);
            self.buf.drain(..used);
        }
    }

    /// The outcome of end of file: the report if one came, else what `buf` has left.
    fn at_end(&self) -> Outcome {
        match self.buf.first() {
            Some(b'E') => Outcome::Failed {
                code: exit::SOFTWARE,
                message: "the daemon failed with a truncated message".into(),
            },
            _ => Outcome::Silent,
        }
    }

    /// The report: the daemon's own outcome if it came, else `otherwise`.
    fn finish(mut self, otherwise: Option<Outcome>) -> Report {
        let outcome = match (self.outcome.take(), otherwise) {
            (Some(outcome), _) => outcome,
            (None, Some(otherwise)) => otherwise,
            (None, None) => Outcome::Silent,
        };
        let process = match (self.pid, self.pidfds.pop()) {
            (Some(pid), Some(fd)) => Some(Process::from_pidfd(pid, fd)),
            _ => None,
        };
        Report {
            outcome,
            pid: self.pid,
            process,
        }
    }
}

/// One frame, with the bytes it takes.
enum Parsed {
    Incomplete,
    Pid(u32, usize),
    Ready(usize),
    Failed(i32, String, usize),
    Garbage,
}

fn parse(buf: &[u8]) -> Parsed {
    let word = |at: usize| -> Option<[u8; 4]> { buf.get(at..at + 4)?.try_into().ok() };
    match buf.first() {
        None => Parsed::Incomplete,
        Some(b'P') => match word(1) {
            Some(w) => Parsed::Pid(u32::from_le_bytes(w), 5),
            None => Parsed::Incomplete,
        },
        Some(b'R') => Parsed::Ready(1),
        Some(b'E') => {
            let (Some(code), Some(len)) = (word(1), word(5)) else {
                return Parsed::Incomplete;
            };
            let len = u32::from_le_bytes(len) as usize;
            if len > MAX_MESSAGE {
                return Parsed::Garbage;
            }
            match buf.get(9..9 + len) {
                Some(msg) => Parsed::Failed(
                    i32::from_le_bytes(code),
                    String::from_utf8_lossy(msg).into_owned(),
                    9 + len,
                ),
                None => Parsed::Incomplete,
            }
        }
        Some(_) => Parsed::Garbage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(waiter: Waiter, timeout: Duration) -> (Outcome, Option<u32>) {
        let report = waiter.wait(timeout).unwrap();
        (report.outcome, report.pid)
    }

    #[test]
    fn ready_after_pid() {
        let (waiter, notifier) = channel().unwrap();
        notifier.daemon(42, None);
        notifier.ready();
        assert_eq!(
            wait(waiter, Duration::from_secs(5)),
            (Outcome::Ready, Some(42))
        );
    }

    #[test]
    fn the_pidfd_arrives_with_the_pid() {
        let (waiter, notifier) = channel().unwrap();
        let me = Process::open(std::process::id()).unwrap();
        notifier.daemon(std::process::id(), Some(me.as_fd()));
        notifier.ready();
        let report = waiter.wait(Duration::from_secs(5)).unwrap();
        let process = report.process.expect("a pinned process");
        assert_eq!(process.pid(), std::process::id());
        assert!(!process.wait_exit_for(Duration::ZERO), "we are alive");
    }

    #[test]
    fn failure_carries_code_and_message() {
        let (waiter, notifier) = channel().unwrap();
        notifier.daemon(7, None);
        notifier.fail(69, "bind: address in use\nsecond line");
        assert_eq!(
            wait(waiter, Duration::from_secs(5)),
            (
                Outcome::Failed {
                    code: 69,
                    message: "bind: address in use\nsecond line".into()
                },
                Some(7)
            )
        );
    }

    #[test]
    fn huge_messages_are_cut() {
        let (waiter, notifier) = channel().unwrap();
        let sender = std::thread::spawn(move || notifier.fail(69, &"é".repeat(MAX_MESSAGE)));
        let (outcome, _) = wait(waiter, Duration::from_secs(5));
        sender.join().unwrap();
        let Outcome::Failed { message, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(message.len() <= MAX_MESSAGE && message.len() > MAX_MESSAGE - 2);
    }

    #[test]
    fn a_claimed_length_beyond_the_limit_is_garbage() {
        let mut frame = vec![b'E'];
        frame.extend_from_slice(&1i32.to_le_bytes());
        frame.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse(&frame), Parsed::Garbage));
    }

    #[test]
    fn the_pid_frame_is_read_when_it_comes_after_the_report() {
        let (waiter, notifier) = channel().unwrap();
        let parent = Notifier(notifier.0.try_clone().unwrap());
        // The daemon reports before its parent has sent the pid frame.
        notifier.ready();
        parent.daemon(42, None);
        drop(parent);
        assert_eq!(
            wait(waiter, Duration::from_secs(5)),
            (Outcome::Ready, Some(42))
        );
    }

    #[test]
    fn a_report_without_a_pid_frame_is_taken_at_end_of_file() {
        let (waiter, notifier) = channel().unwrap();
        notifier.fail(69, "no");
        let (outcome, pid) = wait(waiter, Duration::from_secs(5));
        assert_eq!(pid, None);
        assert!(
            matches!(outcome, Outcome::Failed { code: 69, .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn eof_is_silent_failure() {
        let (waiter, notifier) = channel().unwrap();
        notifier.daemon(9, None);
        drop(notifier);
        assert_eq!(
            wait(waiter, Duration::from_secs(5)),
            (Outcome::Silent, Some(9))
        );
    }

    #[test]
    fn timeout_when_nothing_comes() {
        let (waiter, notifier) = channel().unwrap();
        assert_eq!(
            wait(waiter, Duration::from_millis(20)),
            (Outcome::TimedOut, None)
        );
        drop(notifier);
    }

    #[test]
    fn a_report_sent_before_a_tiny_timeout_is_read() {
        let (waiter, notifier) = channel().unwrap();
        notifier.daemon(5, None);
        notifier.ready();
        assert_eq!(
            wait(waiter, Duration::from_nanos(1)),
            (Outcome::Ready, Some(5))
        );
    }
}
