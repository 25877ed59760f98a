//! Stop, status and reload of a running daemon, found through its PID file.
//!
//! The daemon is the process holding the PID file's lock, never merely the pid written
//! in it: a file whose lock is free is stale, whatever process now has that pid. On
//! Linux the target is pinned with a pidfd before it is checked, so the signal cannot
//! reach a process that took over the pid in between, and its exit is awaited by
//! polling the pidfd instead of sleeping. Elsewhere, the check and `kill` are done
//! back to back and the exit is awaited on the PID file's lock.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::error::Error;
use crate::pidfile::{self, Observed};

/// What `status` found, with the LSB init-script exit codes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// The daemon runs (exit code 0).
    Running {
        /// Its pid.
        pid: u32,
    },
    /// No daemon holds the PID file, but the file is there (exit code 1).
    Stale {
        /// The pid the stale file names, if any.
        pid: Option<u32>,
    },
    /// The daemon is not running (exit code 3).
    NotRunning,
    /// It cannot be told (exit code 4), for example without permission to read the PID file.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Status {
    /// The LSB exit code: 0 running, 1 dead but PID file exists, 3 not running, 4 unknown.
    pub fn exit_code(&self) -> i32 {
        match self {
            Status::Running { .. } => 0,
            Status::Stale { .. } => 1,
            Status::NotRunning => 3,
            Status::Unknown { .. } => 4,
        }
    }

    /// Pairs the status with the daemon's name and PID file path for printing.
    pub fn describe<'a>(&'a self, name: &'a str, pid_file: &'a Path) -> impl fmt::Display + 'a {
        Described {
            status: self,
            name,
            pid_file,
        }
    }
}

struct Described<'a> {
    status: &'a Status,
    name: &'a str,
    pid_file: &'a Path,
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, path) = (self.name, self.pid_file.display());
        match self.status {
            Status::Running { pid } => write!(f, "{name} is running (pid {pid})"),
            Status::Stale { pid: Some(pid) } => write!(
                f,
                "{name} is not running, but its PID file {path} is still there; it names pid \
                 {pid}, which is not the daemon (the file's lock is free)"
            ),
            Status::Stale { pid: None } => write!(
                f,
                "{name} is not running, but its PID file {path} is still there"
            ),
            Status::NotRunning => write!(f, "{name} is not running"),
            Status::Unknown { reason } => write!(f, "cannot tell whether {name} runs: {reason}"),
        }
    }
}

/// What `stop` did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stopped {
    /// The daemon was running and has exited.
    Stopped {
        /// Its pid.
        pid: u32,
        /// Whether it had to be killed with SIGKILL after the stop timeout.
        killed: bool,
    },
    /// Nothing was running.
    NotRunning {
        /// The pid named by a stale PID file that was removed.
        removed_stale: Option<Option<u32>>,
    },
}

impl Stopped {
    /// Pairs the outcome with the daemon's name and PID file path for printing.
    pub fn describe<'a>(&'a self, name: &'a str, pid_file: &'a Path) -> impl fmt::Display + 'a {
        struct D<'a>(&'a Stopped, &'a str, &'a Path);
        impl fmt::Display for D<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let (name, path) = (self.1, self.2.display());
                match self.0 {
                    Stopped::Stopped { pid, killed: false } => {
                        write!(f, "{name} stopped (pid {pid})")
                    }
                    Stopped::Stopped { pid, killed: true } => write!(
                        f,
                        "{name} did not exit after SIGTERM; killed it with SIGKILL (pid {pid})"
                    ),
                    Stopped::NotRunning {
                        removed_stale: None,
                    } => write!(f, "{name} is not running"),
                    Stopped::NotRunning {
                        removed_stale: Some(Some(pid)),
                    } => write!(
                        f,
                        "{name} is not running; removed its stale PID file {path} (it named pid \
                         {pid}, which was not signalled)"
                    ),
                    Stopped::NotRunning {
                        removed_stale: Some(None),
                    } => write!(
                        f,
                        "{name} is not running; removed its stale PID file {path}"
                    ),
                }
            }
        }
        D(self, name, pid_file)
    }
}

/// Tells whether the daemon whose PID file is `path` runs.
pub fn status(path: &Path) -> Status {
    match pidfile::observe(path) {
        Err(e) => Status::Unknown {
            reason: format!("cannot read PID file {}: {e}", path.display()),
        },
        Ok(Observed::Missing) => Status::NotRunning,
        Ok(Observed::Free { pid: None, .. }) => {
            // An empty file is what a daemon leaves when it may not unlink it.
            Status::NotRunning
        }
        Ok(Observed::Free { pid, .. }) => Status::Stale { pid },
        Ok(Observed::Locked { pid: None, .. }) => Status::Unknown {
            reason: format!(
                "PID file {} is locked but names no pid yet (starting up?)",
                path.display()
            ),
        },
        Ok(Observed::Locked {
            pid: Some(pid),
            file,
        }) => match pidfile::holds_open(pid, &file) {
            Some(false) => Status::Unknown {
                reason: format!(
                    "PID file {} is locked, but pid {pid} which it names does not hold it",
                    path.display()
                ),
            },
            _ => Status::Running { pid },
        },
    }
}

/// The daemon, pinned so that signals reach it and nothing else.
struct Target {
    pid: u32,
    process: Process,
    file: File,
}

enum Found {
    Running(Target),
    NotRunning { stale: Option<(File, Option<u32>)> },
}

/// Finds the daemon holding the PID file at `path`.
fn find(name: &str, action: &'static str, path: &Path) -> Result<Found, Error> {
    let control = |message: String, source: Option<io::Error>| Error::Control {
        action,
        name: name.to_owned(),
        message,
        source,
    };
    // A daemon between its lock and its pid write is given a moment; the window is
    // the length of two forks.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let observed = pidfile::observe(path).map_err(|e| {
            control(
                format!("cannot read PID file {}: {e}", path.display()),
                Some(e),
            )
        })?;
        let (file, pid) = match observed {
            Observed::Missing => return Ok(Found::NotRunning { stale: None }),
            Observed::Free { file, pid } => {
                return Ok(Found::NotRunning {
                    stale: Some((file, pid)),
                });
            }
            Observed::Locked { pid: None, .. } if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            Observed::Locked { pid: None, .. } => {
                return Err(control(
                    format!("PID file {} is locked but names no pid", path.display()),
                    None,
                ));
            }
            Observed::Locked {
                file,
                pid: Some(pid),
            } => (file, pid),
        };
        // Pin the process first, then check it is the lock holder: whatever the
        // checks see is then true of the process the handle refers to.
        let process = match Process::open(pid) {
            Ok(p) => p,
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
                // The daemon exited between our look at the lock and now?
                if !still_locked(&file) {
                    continue;
                }
                return Err(control(
                    format!(
                        "PID file {} names pid {pid}, which is gone, but something else still \
                         holds its lock (a child process of the daemon?); signalling nothing",
                        path.display()
                    ),
                    None,
                ));
            }
            Err(e) => {
                return Err(control(format!("cannot reach pid {pid}: {e}"), Some(e)));
            }
        };
        if pidfile::holds_open(pid, &file) == Some(false) {
            if !still_locked(&file) {
                continue;
            }
            return Err(control(
                format!(
                    "PID file {} names pid {pid}, but that process does not hold the file; \
                     refusing to signal it",
                    path.display()
                ),
                None,
            ));
        }
        if !still_locked(&file) {
            continue;
        }
        return Ok(Found::Running(Target { pid, process, file }));
    }
}

fn still_locked(file: &File) -> bool {
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// Stops the daemon whose PID file is `path`: SIGTERM, wait up to `timeout`, then
/// SIGKILL; afterwards the PID file is gone. Stopping a daemon that is not running
/// succeeds (and removes a stale PID file).
pub fn stop(name: &str, path: &Path, timeout: Duration) -> Result<Stopped, Error> {
    let control = |message: String, source: Option<io::Error>| Error::Control {
        action: "stop",
        name: name.to_owned(),
        message,
        source,
    };
    let target = match find(name, "stop", path)? {
        Found::NotRunning { stale: None } => {
            return Ok(Stopped::NotRunning {
                removed_stale: None,
            });
        }
        Found::NotRunning {
            stale: Some((file, pid)),
        } => {
            let removed = pidfile::remove_stale(path, &file).map_err(|e| {
                control(
                    format!("cannot remove stale PID file {}: {e}", path.display()),
                    Some(e),
                )
            })?;
            return Ok(Stopped::NotRunning {
                removed_stale: removed.then_some(pid),
            });
        }
        Found::Running(target) => target,
    };
    let pid = target.pid;
    let signal = |sig: Signal| {
        target
            .process
            .signal(sig)
            .map_err(|e| control(format!("cannot send {sig} to pid {pid}: {e}"), Some(e)))
    };
    signal(Signal::SIGTERM)?;
    log::debug!("sent SIGTERM to pid {pid}");
    let mut killed = false;
    if !target.process.wait_exit(&target.file, timeout) {
        signal(Signal::SIGKILL)?;
        log::debug!("pid {pid} still alive after {timeout:?}; sent SIGKILL");
        killed = true;
        if !target
            .process
            .wait_exit(&target.file, Duration::from_secs(5))
        {
            return Err(control(
                format!("pid {pid} did not exit even after SIGKILL"),
                None,
            ));
        }
    }
    // A daemon that exits cleanly removes its own file; one killed leaves it behind.
    match pidfile::observe(path) {
        Ok(Observed::Missing) => {}
        Ok(Observed::Free { file, .. }) => {
            pidfile::remove_stale(path, &file).map_err(|e| {
                control(
                    format!(
                        "stopped pid {pid}, but cannot remove PID file {}: {e}",
                        path.display()
                    ),
                    Some(e),
                )
            })?;
        }
        Ok(Observed::Locked { .. }) => {
            return Err(control(
                format!(
                    "pid {pid} exited, but PID file {} is still locked by another process \
                     (a child of the daemon?)",
                    path.display()
                ),
                None,
            ));
        }
        Err(e) => {
            return Err(control(
                format!(
                    "stopped pid {pid}, but cannot check PID file {}: {e}",
                    path.display()
                ),
                Some(e),
            ));
        }
    }
    Ok(Stopped::Stopped { pid, killed })
}

/// Sends `signal` to the daemon whose PID file is `path`; returns its pid.
pub fn signal(name: &str, path: &Path, signal: Signal) -> Result<u32, Error> {
    match find(name, "signal", path)? {
        Found::NotRunning { .. } => Err(Error::NotRunning {
            name: name.to_owned(),
        }),
        Found::Running(target) => {
            target.process.signal(signal).map_err(|e| Error::Control {
                action: "signal",
                name: name.to_owned(),
                message: format!("cannot send {signal} to pid {}: {e}", target.pid),
                source: Some(e),
            })?;
            log::debug!("sent {signal} to pid {}", target.pid);
            Ok(target.pid)
        }
    }
}

/// Sends `signal` to `pid` through a pidfd where possible (used on a daemon that the
/// launcher gave up waiting for).
pub(crate) fn kill(pid: u32, signal: Signal) -> io::Result<()> {
    Process::open(pid)?.signal(signal)
}

/// Waits up to `timeout` for `pid` to exit, where a pidfd can tell; elsewhere returns
/// at once. The launcher uses it so that a failed daemon is gone before it exits.
pub(crate) fn await_exit(pid: u32, timeout: Duration) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Ok(fd) = sys::pidfd_open(pid) {
        sys::wait_readable(&fd, timeout);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = (pid, timeout);
}

/// A process to signal and wait for: a pidfd where the kernel has them.
struct Process {
    pid: u32,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl Process {
    fn open(pid: u32) -> io::Result<Process> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            match sys::pidfd_open(pid) {
                Ok(fd) => Ok(Process {
                    pid,
                    pidfd: Some(fd),
                }),
                // Kernels before 5.3.
                Err(e) if e.raw_os_error() == Some(libc::ENOSYS) => {
                    Ok(Process { pid, pidfd: None })
                }
                Err(e) => Err(e),
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            // Without pidfds, at least make sure the pid exists right now.
            match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None) {
                Ok(()) | Err(nix::errno::Errno::EPERM) => Ok(Process { pid }),
                Err(e) => Err(e.into()),
            }
        }
    }

    fn signal(&self, signal: Signal) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(fd) = &self.pidfd {
            return sys::pidfd_send_signal(fd, signal);
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid as i32), signal)
            .map_err(io::Error::from)
    }

    /// Waits up to `timeout` for the process to exit; returns whether it did.
    fn wait_exit(&self, lock: &File, timeout: Duration) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Some(fd) = &self.pidfd {
            return sys::wait_readable(fd, timeout);
        }
        wait_unlocked(lock, timeout)
    }
}

/// Waits for the PID file's lock to be released (the daemon's descriptors close as it
/// exits) on a helper thread, because `flock` has no timeout of its own.
fn wait_unlocked(lock: &File, timeout: Duration) -> bool {
    let Ok(file) = lock.try_clone() else {
        return false;
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let got = file.lock_shared().is_ok();
        let _ = file.unlock();
        let _ = tx.send(got);
    });
    rx.recv_timeout(timeout).unwrap_or(false)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod sys {
    use std::io;
    use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
    use std::time::{Duration, Instant};

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use nix::sys::signal::Signal;

    pub(super) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
        let pid =
            libc::pid_t::try_from(pid).map_err(|_| io::Error::from_raw_os_error(libc::ESRCH))?;
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just created this descriptor; nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
    }

    pub(super) fn pidfd_send_signal(fd: &OwnedFd, signal: Signal) -> io::Result<()> {
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

    /// A pidfd becomes readable when its process exits.
    pub(super) fn wait_readable(fd: &OwnedFd, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
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
}
