//! Process handles that cannot be fooled by pid reuse: daemon-runtime's own pidfd handle
//! (the one `--stop` uses), plus what only the tests need (reaping an orphan handed to
//! a subreaper).

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::Duration;

use daemon_runtime::__private::Process;
use nix::sys::signal::Signal;

/// A pidfd: refers to one process for as long as it is open, even after that process
/// exits and its pid is reused.
#[derive(Debug)]
pub struct Pidfd(Process);

impl Pidfd {
    /// Opens a pidfd on `pid`; fails where the kernel has no pidfds.
    pub fn open(pid: u32) -> io::Result<Pidfd> {
        let process = Process::open(pid)?;
        if !process.is_pinned() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this kernel has no pidfds",
            ));
        }
        Ok(Pidfd(process))
    }

    /// The pid it was opened on.
    pub fn pid(&self) -> u32 {
        self.0.pid()
    }

    /// Sends `signal` to the process; fails with `ESRCH` once it has exited.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        self.0.signal(signal)
    }

    /// Waits up to `timeout` for the process to exit; returns whether it has.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        self.0.wait_exit_for(timeout)
    }

    /// Whether the process has exited, without waiting.
    pub fn exited(&self) -> bool {
        self.0.wait_exit_for(Duration::ZERO)
    }

    /// Reaps the process if it is a child of this one (directly, or as an orphan
    /// handed to this subreaper) and has exited; does nothing otherwise.
    pub fn reap(&self) {
        // SAFETY: `siginfo_t` is plain data; all-zero bytes are a valid value.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid(2) with P_PIDFD writes at most one `siginfo_t` into `info`,
        // which is valid and writable; the descriptor is open.
        unsafe {
            libc::waitid(
                libc::P_PIDFD,
                self.0.as_fd().as_raw_fd() as libc::id_t,
                &raw mut info,
                libc::WEXITED | libc::WNOHANG,
            )
        };
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
