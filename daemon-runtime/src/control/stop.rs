//! `--stop`: SIGTERM, a wait for the exit, SIGKILL after the stop timeout, and the PID
//! file gone afterwards.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Found, Pinned, control_error, find};
use crate::error::Error;
use crate::pidfile::{self, Observed};
use crate::sys::time::Deadline;

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
    /// Nothing was running, and there was no PID file.
    NotRunning,
    /// Nothing was running; the stale PID file it left was removed.
    RemovedStale {
        /// The pid the stale file named, if any (it was not signalled).
        pid: Option<u32>,
    },
}

impl Stopped {
    /// Pairs the outcome with the daemon's name and PID file path for printing.
    pub fn describe<'a>(&'a self, name: &'a str, pid_file: &'a Path) -> impl fmt::Display + 'a {
        Described {
            stopped: self,
            name,
            pid_file,
        }
    }
}

struct Described<'a> {
    stopped: &'a Stopped,
    name: &'a str,
    pid_file: &'a Path,
}

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, path) = (self.name, self.pid_file.display());
        match self.stopped {
            Stopped::Stopped { pid, killed: false } => write!(f, "{name} stopped (pid {pid})"),
            Stopped::Stopped { pid, killed: true } => write!(
                f,
                "{name} did not exit after SIGTERM; killed it with SIGKILL (pid {pid})"
            ),
            Stopped::NotRunning => write!(f, "{name} is not running"),
            Stopped::RemovedStale { pid: Some(pid) } => write!(
                f,
                "{name} is not running; removed its stale PID file {path} (it named pid \
                 {pid}, which was not signalled)"
            ),
            Stopped::RemovedStale { pid: None } => write!(
                f,
                "{name} is not running; removed its stale PID file {path}"
            ),
        }
    }
}

/// Stops the daemon whose PID file is `path`: SIGTERM, wait up to `timeout`, then
/// SIGKILL; afterwards the PID file is gone. Stopping a daemon that is not running
/// succeeds (and removes a stale PID file).
pub fn stop(name: &str, path: &Path, timeout: Duration) -> Result<Stopped, Error> {
    let daemon = match find(name, "stop", path)? {
        Found::Running(daemon) => daemon,
        Found::NotRunning { stale: None } => return Ok(Stopped::NotRunning),
        Found::NotRunning { stale: Some(stale) } => {
            let removed = pidfile::remove_stale(path, stale.id)?;
            return Ok(match removed {
                true => Stopped::RemovedStale { pid: stale.pid },
                false => Stopped::NotRunning,
            });
        }
    };
    let killed = terminate(name, &daemon, timeout)?;
    remove_leftover(name, &daemon)?;
    Ok(Stopped::Stopped {
        pid: daemon.pid,
        killed,
    })
}

/// SIGTERM, then SIGKILL after `timeout`; returns whether SIGKILL was needed.
fn terminate(name: &str, daemon: &Pinned, timeout: Duration) -> Result<bool, Error> {
    let pid = daemon.pid;
    let signal = |sig: Signal| {
        daemon.process.signal(sig).map_err(|e| {
            control_error(
                "stop",
                name,
                format!("cannot send {sig} to pid {pid}: {e}"),
                Some(e),
            )
        })
    };
    signal(Signal::SIGTERM)?;
    log::debug!("sent SIGTERM to pid {pid}");
    if daemon.wait_exit(Deadline::after(timeout)) {
        return Ok(false);
    }
    signal(Signal::SIGKILL)?;
    log::debug!("pid {pid} still alive after {timeout:?}; sent SIGKILL");
    if !daemon.wait_exit(Deadline::after(Duration::from_secs(5))) {
        return Err(control_error(
            "stop",
            name,
            format!("pid {pid} did not exit even after SIGKILL"),
            None,
        ));
    }
    Ok(true)
}

/// A daemon that exits cleanly removes its own file; one killed leaves it behind.
fn remove_leftover(name: &str, daemon: &Pinned) -> Result<(), Error> {
    let (pid, dir) = (daemon.pid, &daemon.dir);
    let path = dir.path();
    // The common case, a clean exit, costs one `fstatat`.
    if dir
        .stat()
        .map_err(|r| Error::refused("PID file", r))?
        .is_none()
    {
        return Ok(());
    }
    match pidfile::observe_at(dir)? {
        Observed::Missing => Ok(()),
        Observed::Free { stale, .. } => pidfile::remove_stale_at(dir, stale).map(drop),
        // A new daemon started since ours exited (a concurrent start): its file, not ours.
        Observed::Locked { pid: other, .. } if other != Some(pid) => {
            log::debug!(
                "pid {pid} exited; a new daemon holds {} now",
                path.display()
            );
            Ok(())
        }
        Observed::Locked { .. } => Err(control_error(
            "stop",
            name,
            format!(
                "pid {pid} exited, but PID file {} is still locked by another process \
                 (a child of the daemon?)",
                path.display()
            ),
            None,
        )),
    }
}
