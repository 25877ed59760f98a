//! `--status`: whether the daemon runs, with the LSB init-script exit codes.

use std::fmt;
use std::path::Path;

use crate::error::Holder;
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

/// Tells whether the daemon whose PID file is `path` runs: "running" only for the live
/// process the PID file names that holds its lock.
pub fn status(path: &Path) -> Status {
    let unknown = |reason: String| Status::Unknown { reason };
    match pidfile::observe(path) {
        Err(e) => unknown(e.to_string()),
        Ok(Observed::Missing) => Status::NotRunning,
        // An empty file is what a daemon leaves when it may not unlink it.
        Ok(Observed::Free { pid: None, .. }) => Status::NotRunning,
        Ok(Observed::Free { pid, .. }) => Status::Stale { pid },
        Ok(Observed::Locked { lock, pid }) => match (pidfile::holder_of(pid, lock.id), pid) {
            (Holder::Daemon(holder), Some(named)) if holder == named => {
                Status::Running { pid: holder }
            }
            (Holder::Daemon(holder), _) => unknown(format!(
                "PID file {} is locked by pid {holder}, which is starting and has not \
                 written its pid yet",
                path.display()
            )),
            (holder @ Holder::Other { .. }, _) => unknown(format!(
                "the lock of PID file {} is held by {holder}, which is not the pid the file \
                 names{}",
                path.display(),
                named(pid)
            )),
            (Holder::Unknown, Some(pid)) => unknown(format!(
                "PID file {} is locked, but pid {pid}, which it names, is not running",
                path.display()
            )),
            (_, None) => unknown(format!(
                "PID file {} is locked but names no pid yet (starting up?)",
                path.display()
            )),
        },
    }
}

/// ` (N)`, or nothing.
fn named(pid: Option<u32>) -> String {
    pid.map(|pid| format!(" ({pid})")).unwrap_or_default()
}
