//! The readiness pipe between the daemon and the process that launched it.
//!
//! The launcher exits 0 only once the daemon says "ready". An error message makes it
//! print the message and exit with the code that came with it; end of file without
//! either (the daemon died) or a timeout is a failure, never a success.
//!
//! Frames, daemon to launcher: `P` + pid (u32), sent right after the PID file holds
//! the daemon's pid; `R`, ready; `E` + code (i32) + length (u32) + UTF-8 message.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, poll};

use crate::error::Error;
use crate::sys::time::Deadline;

/// The daemon's end.
#[derive(Debug)]
pub(crate) struct Notifier(OwnedFd);

/// The launcher's end.
#[derive(Debug)]
pub(crate) struct Waiter(OwnedFd);

/// Creates the pipe. Both ends are close-on-exec, so a program the daemon runs does not
/// hold the launcher open.
pub(crate) fn channel() -> Result<(Waiter, Notifier), Error> {
    let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| Error::sys("pipe", e))?;
    Ok((Waiter(read), Notifier(write)))
}

impl Notifier {
    pub(crate) fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        self.0.as_raw_fd()
    }

    fn send(&self, mut frame: &[u8]) -> nix::Result<()> {
        // A frame up to PIPE_BUF bytes arrives in one piece; longer ones are reassembled.
        while !frame.is_empty() {
            match nix::unistd::write(&self.0, frame) {
                Ok(n) => frame = &frame[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Tells the launcher the daemon's pid.
    pub(crate) fn pid(&self, pid: u32) {
        let mut frame = vec![b'P'];
        frame.extend_from_slice(&pid.to_le_bytes());
        // If the launcher is gone there is nobody to tell; the daemon goes on.
        let _ = self.send(&frame);
    }

    /// Tells the launcher the daemon is ready; it exits 0.
    pub(crate) fn ready(self) {
        let _ = self.send(b"R");
        log::debug!("reported ready to the launching process");
    }

    /// Tells the launcher the daemon failed; it prints `message` and exits with `code`.
    pub(crate) fn fail(self, code: i32, message: &str) {
        let mut frame = vec![b'E'];
        frame.extend_from_slice(&code.to_le_bytes());
        frame.extend_from_slice(&(message.len() as u32).to_le_bytes());
        frame.extend_from_slice(message.as_bytes());
        let _ = self.send(&frame);
    }
}

/// What the launcher heard.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Report {
    Ready {
        pid: Option<u32>,
    },
    Failed {
        pid: Option<u32>,
        code: i32,
        message: String,
    },
    /// End of file without "ready" or an error: the daemon died.
    Silent {
        pid: Option<u32>,
    },
    TimedOut {
        pid: Option<u32>,
    },
}

impl Waiter {
    /// Reads frames until "ready", an error, end of file, or `timeout`.
    pub(crate) fn wait(self, timeout: Duration) -> Result<Report, Error> {
        let deadline = Deadline::after(timeout);
        let mut buf = Vec::new();
        let mut pid = None;
        loop {
            // Parse every complete frame in the buffer.
            loop {
                match parse(&buf) {
                    Parsed::Incomplete => break,
                    Parsed::Pid(p, used) => {
                        pid = Some(p);
                        buf.drain(..used);
                    }
                    Parsed::Ready => return Ok(Report::Ready { pid }),
                    Parsed::Failed(code, message) => {
                        return Ok(Report::Failed { pid, code, message });
                    }
                    Parsed::Garbage => {
                        return Ok(Report::Failed {
                            pid,
                            code: crate::error::exit::SOFTWARE,
                            message: "the daemon sent an unreadable start-up report".into(),
                        });
                    }
                }
            }
            if deadline.passed() {
                return Ok(Report::TimedOut { pid });
            }
            let mut fds = [PollFd::new(self.0.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, deadline.poll_timeout()) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(Error::sys("poll on the readiness pipe", e)),
            }
            let mut chunk = [0u8; 4096];
            match nix::unistd::read(&self.0, &mut chunk) {
                Ok(0) => {
                    return Ok(match parse(&buf) {
                        Parsed::Incomplete if buf.first() == Some(&b'E') => Report::Failed {
                            pid,
                            code: crate::error::exit::SOFTWARE,
                            message: "the daemon failed with a truncated message".into(),
                        },
                        _ => Report::Silent { pid },
                    });
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(Error::sys("read from the readiness pipe", e)),
            }
        }
    }
}

/// Tells a service manager that speaks the `sd_notify` protocol (systemd's
/// `Type=notify`, and others that set `NOTIFY_SOCKET`) that the service is ready, and
/// which process is its main one. Does nothing when `NOTIFY_SOCKET` is unset.
pub(crate) fn notify_service_manager(pid: u32) {
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let message = format!("READY=1\nMAINPID={pid}\n");
    match send_notification(&socket, message.as_bytes()) {
        Ok(()) => log::debug!("notified the service manager: ready, main pid {pid}"),
        Err(e) => log::warn!("cannot notify the service manager at {socket:?}: {e}"),
    }
}

fn send_notification(socket: &std::ffi::OsStr, message: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixDatagram;
    let sender = UnixDatagram::unbound()?;
    match socket.as_bytes() {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        [b'@', name @ ..] => {
            #[cfg(target_os = "android")]
            use std::os::android::net::SocketAddrExt;
            #[cfg(target_os = "linux")]
            use std::os::linux::net::SocketAddrExt;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sender.send_to_addr(message, &address)?;
        }
        _ => {
            sender.send_to(message, socket)?;
        }
    }
    Ok(())
}

enum Parsed {
    Incomplete,
    Pid(u32, usize),
    Ready,
    Failed(i32, String),
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
        Some(b'R') => Parsed::Ready,
        Some(b'E') => {
            let (Some(code), Some(len)) = (word(1), word(5)) else {
                return Parsed::Incomplete;
            };
            let len = u32::from_le_bytes(len) as usize;
            match buf.get(9..9 + len) {
                Some(msg) => Parsed::Failed(
                    i32::from_le_bytes(code),
                    String::from_utf8_lossy(msg).into_owned(),
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

    #[test]
    fn ready_after_pid() {
        let (waiter, notifier) = channel().unwrap();
        notifier.pid(42);
        notifier.ready();
        assert_eq!(
            waiter.wait(Duration::from_secs(5)).unwrap(),
            Report::Ready { pid: Some(42) }
        );
    }

    #[test]
    fn failure_carries_code_and_message() {
        let (waiter, notifier) = channel().unwrap();
        notifier.pid(7);
        notifier.fail(69, "bind: address in use\nsecond line");
        assert_eq!(
            waiter.wait(Duration::from_secs(5)).unwrap(),
            Report::Failed {
                pid: Some(7),
                code: 69,
                message: "bind: address in use\nsecond line".into()
            }
        );
    }

    #[test]
    fn eof_is_silent_failure() {
        let (waiter, notifier) = channel().unwrap();
        notifier.pid(9);
        drop(notifier);
        assert_eq!(
            waiter.wait(Duration::from_secs(5)).unwrap(),
            Report::Silent { pid: Some(9) }
        );
    }

    #[test]
    fn timeout_when_nothing_comes() {
        let (waiter, notifier) = channel().unwrap();
        assert_eq!(
            waiter.wait(Duration::from_millis(20)).unwrap(),
            Report::TimedOut { pid: None }
        );
        drop(notifier);
    }
}
