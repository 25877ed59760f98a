//! Processes that a reused pid cannot stand in for: `pidfd_open(2)`,
//! `pidfd_send_signal(2)`, and `poll(2)`, which reports a pidfd readable once its
//! process has exited.
//!
//! Where the kernel has no pidfds (before Linux 5.3, other systems) a [`Process`] is a
//! bare pid, checked to exist when it is opened; callers that must wait for its exit
//! then wait on something else it holds (the PID file's lock).

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::poll::{PollFd, PollFlags, poll};
use nix::sys::signal::Signal;

use super::time::Deadline;

/// A process to signal and wait for.
#[derive(Debug)]
pub struct Process {
    pid: u32,
    pidfd: Option<OwnedFd>,
}

impl Process {
    /// Pins process `pid`: from here on, signals reach that process or fail, even if
    /// it exits and its pid is reused.
    pub fn open(pid: u32) -> io::Result<Process> {
        match pidfd_open(pid) {
            Ok(fd) => Ok(Process {
                pid,
                pidfd: Some(fd),
            }),
            Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                // Without pidfds, at least make sure the pid exists right now.
                match nix::sys::signal::kill(nix_pid(pid)?, None) {
                    Ok(()) | Err(nix::errno::Errno::EPERM) => Ok(Process { pid, pidfd: None }),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// The process a pidfd received from elsewhere refers to (the readiness channel's
    /// first frame), `pid` being its pid.
    pub(crate) fn from_pidfd(pid: u32, pidfd: OwnedFd) -> Process {
        Process {
            pid,
            pidfd: Some(pidfd),
        }
    }

    /// The pid.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process is pinned by a pidfd (and waits can be trusted).
    pub fn is_pinned(&self) -> bool {
        self.pidfd.is_some()
    }

    /// Sends `signal`; fails with `ESRCH` once the process has exited.
    pub fn signal(&self, signal: Signal) -> io::Result<()> {
        match &self.pidfd {
            Some(fd) => pidfd_send_signal(fd, signal),
            None => nix::sys::signal::kill(nix_pid(self.pid)?, signal).map_err(io::Error::from),
        }
    }

    /// Waits until the process has exited or `deadline` passes; returns whether it
    /// exited. Without a pidfd it cannot tell and returns `false` at once.
    pub(crate) fn wait_exit(&self, deadline: Deadline) -> bool {
        let Some(fd) = &self.pidfd else {
            return false;
        };
        loop {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, deadline.poll_timeout()) {
                Ok(n) if n > 0 => return true,
                Ok(_) if deadline.passed() => return false,
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return false,
            }
        }
    }

    /// Waits up to `timeout` for the process to exit; returns whether it has.
    pub fn wait_exit_for(&self, timeout: std::time::Duration) -> bool {
        self.wait_exit(Deadline::after(timeout))
    }
}

impl AsFd for Process {
    /// The pidfd. Panics on a process opened without one (`is_pinned` is false).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd
            .as_ref()
            .expect("a process pinned by a pidfd")
            .as_fd()
    }
}

fn nix_pid(pid: u32) -> io::Result<nix::unistd::Pid> {
    libc::pid_t::try_from(pid)
        .map(nix::unistd::Pid::from_raw)
        .map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    let pid = nix_pid(pid)?;
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1; it
    // touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = libc::c_int::try_from(fd).map_err(io::Error::other)?;
    // SAFETY: the kernel just created this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pidfd_open(_pid: u32) -> io::Result<OwnedFd> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn pidfd_send_signal(fd: &OwnedFd, signal: Signal) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal(2) with a null siginfo behaves like kill(2); the
    // descriptor is open for the duration of the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
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

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn pidfd_send_signal(_fd: &OwnedFd, _signal: Signal) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}
