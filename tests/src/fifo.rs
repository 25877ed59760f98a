//! A FIFO a daemon writes notes to, read by the test line by line with a deadline.
//!
//! The test opens its end read-write: it then counts as a writer too, so that between
//! two notes `poll` blocks instead of reporting a hang-up, and a daemon's blocking
//! open for writing never waits for a reader.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// The test's end of a FIFO.
#[derive(Debug)]
pub struct Fifo {
    path: PathBuf,
    file: File,
    /// Bytes read but not yet returned as a line.
    pending: Vec<u8>,
}

impl Fifo {
    /// Makes a FIFO at `path` (mode 0600), handed to `owner` (uid, gid) if given, so that a
    /// daemon running as that user can write to it, and opens the test's end.
    pub fn create(path: &Path, owner: Option<(u32, u32)>) -> Fifo {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o600))
            .unwrap_or_else(|e| panic!("mkfifo {}: {e}", path.display()));
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        Fifo {
            path: path.to_owned(),
            file,
            pending: Vec::new(),
        }
    }

    /// The FIFO's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next line written to the FIFO (without its newline), or `None` if none
    /// arrives within `timeout`.
    pub fn line(&mut self, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=at).collect();
                return Some(String::from_utf8_lossy(&line[..at]).into_owned());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            let wait = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
            match poll(&mut fds, wait) {
                Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
                Ok(_) => self.fill(),
                Err(e) => panic!("poll {}: {e}", self.path.display()),
            }
        }
    }

    fn fill(&mut self) {
        let mut buf = [0u8; 512];
        match self.file.read(&mut buf) {
            Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read {}: {e}", self.path.display()),
        }
    }
}
