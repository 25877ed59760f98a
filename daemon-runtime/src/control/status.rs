//! `--status`: whether the daemon runs, with the LSB init-script exit codes.

use std::fmt;
use std::path::Path;

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
