//! A datagram socket connected to journald or the syslog daemon, reconnected when the
//! daemon behind it restarts.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// At most one reconnection attempt per this interval, so that a dead socket costs one
/// clock read per record and not a failing `connect` each time.
pub(super) const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// A connected `AF_UNIX` datagram socket and the path it reconnects to.
#[derive(Debug)]
pub(super) struct Socket {
    path: PathBuf,
    socket: Option<UnixDatagram>,
    /// No reconnection attempt before this instant.
    retry_at: Option<Instant>,
}

impl Socket {
    /// Connects to `path`; on failure the socket starts disconnected, retrying on a
    /// record after [`RETRY_INTERVAL`] (the syslog daemon may come up after us).
    pub(super) fn connect(path: PathBuf, now: Instant) -> (Socket, io::Result<()>) {
        let (socket, result) = match open(&path) {
            Ok(socket) => (Some(socket), Ok(())),
            Err(e) => (None, Err(e)),
        };
        let retry_at = socket.is_none().then(|| now + RETRY_INTERVAL);
        let socket = Socket {
            path,
            socket,
            retry_at,
        };
        (socket, result)
    }

    /// The descriptor, while connected.
    pub(super) fn raw_fd(&self) -> Option<RawFd> {
        self.socket.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Sends one datagram without waiting; false if it was dropped.
    ///
    /// `EAGAIN` and `ENOBUFS` (the reader is slow and the queue full) drop this record
    /// only. A refused or vanished peer (journald or rsyslog restarting, which binds a
    /// new socket at the same path) also disconnects, and a later record reconnects.
    pub(super) fn send(&mut self, datagram: &[u8], now: Instant) -> bool {
        if self.socket.is_none() && !self.reconnect(now) {
            return false;
        }
        let Some(socket) = &self.socket else {
            return false;
        };
        match socket.send(datagram) {
            Ok(_) => true,
            Err(e) if is_disconnected(&e) => {
                self.socket = None;
                self.retry_at = Some(now + RETRY_INTERVAL);
                false
            }
            Err(_) => false,
        }
    }

    fn reconnect(&mut self, now: Instant) -> bool {
        if self.retry_at.is_some_and(|at| now < at) {
            return false;
        }
        match open(&self.path) {
            Ok(socket) => {
                self.socket = Some(socket);
                self.retry_at = None;
                true
            }
            Err(_) => {
                self.retry_at = Some(now + RETRY_INTERVAL);
                false
            }
        }
    }
}

/// A socket connected to `path`. std creates it with `SOCK_CLOEXEC`, so a program's
/// `exec` does not leak it. It is made non-blocking, which for sends is what
/// `MSG_DONTWAIT` would do on each call: the descriptor is the logger's alone, so no
/// one else sees the flag. Its number is raised out of the way of the program's files
/// (a reconnect in the daemon must not take a number a stale `File` will close).
fn open(path: &Path) -> io::Result<UnixDatagram> {
    let fd = crate::sys::fd::raise(std::os::fd::OwnedFd::from(UnixDatagram::unbound()?));
    let socket = UnixDatagram::from(fd);
    socket.connect(path)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Whether sending failed because nobody is listening at the path any more.
fn is_disconnected(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED | libc::ENOENT | libc::ENOTCONN | libc::ECONNRESET)
    )
}

/// Whether a datagram socket at `path` accepts connections now.
pub(super) fn probe(path: &Path) -> io::Result<()> {
    open(path).map(drop)
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixDatagram;

    use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};

    use super::*;

    #[test]
    fn sockets_are_close_on_exec_and_non_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let _peer = UnixDatagram::bind(&path).unwrap();
        let (socket, result) = Socket::connect(path, Instant::now());
        result.unwrap();
        let fd = socket.socket.as_ref().unwrap();
        let fd_flags = FdFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFD).unwrap());
        assert!(fd_flags.contains(FdFlag::FD_CLOEXEC));
        let fl_flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).unwrap());
        assert!(fl_flags.contains(OFlag::O_NONBLOCK));
        assert_eq!(socket.raw_fd(), Some(fd.as_raw_fd()));
    }
}
