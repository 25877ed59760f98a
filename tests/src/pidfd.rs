//! Process handles that cannot be fooled by pid reuse: `pidfd_open(2)`,
//! `pidfd_send_signal(2)`, and `poll(2)`, which reports a pidfd readable once its
//! process has exited. The same mechanism daemon-runtime's `--stop` uses; the tests
//! and the benchmark harness use this copy.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

/// A pidfd: refers to one process for as long as it is open, even after that process
/// exits and its pid is reused.
#[derive(Debug)]
pub struct Pidfd {
    pid: u32,
    fd: OwnedFd,
}

impl Pidfd {
    /// Opens a pidfd on `pid`.
    pub fn open(pid: u32) -> io::Result<Pidfd> {
        let raw =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1;
        // it touches no memory of ours.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd = libc::c_int::try_from(r).map_err(io::Error::other)?;
        // SAFETY: the kernel just returned `fd` as a new open descriptor that nothing
        // else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Pidfd { pid, fd })
    }

    /// The pid it was opened on.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` to the process; fails with `ESRCH` once it has exited.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        // SAFETY: pidfd_send_signal(2) with a null siginfo behaves like kill(2); the
        // descriptor stays open for the duration of the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal as libc::c_int,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit; returns whether it has.
    pub fn wait_exit(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
            match poll(
                &mut fds,
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX),
            ) {
                Ok(n) if n > 0 => return true,
                Ok(_) if left.is_zero() => return false,
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return false,
            }
        }
    }

    /// Whether the process has exited, without waiting.
    pub fn exited(&self) -> bool {
        let mut fds = [PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
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
                self.fd.as_raw_fd() as libc::id_t,
                &raw mut info,
                libc::WEXITED | libc::WNOHANG,
            )
        };
    }
}

impl AsFd for Pidfd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}
