//! Control of a running daemon, found through its PID file: stop ([`stop()`]), status
//! ([`status()`]) and reload ([`reload()`]); restart is a stop, then a start. Also
//! `--print-service`, which prints a service file made from the settings
//! ([`crate::unit`]).
//!
//! The daemon is the process holding the PID file's lock, never merely the pid written
//! in it: a file whose lock is free is stale, whatever process now has that pid. On
//! Linux the target is pinned with a pidfd before it is checked, so the signal cannot
//! reach a process that took over the pid in between, and its exit is awaited by
//! polling the pidfd instead of sleeping. Elsewhere, the check and `kill` are done
//! back to back and the exit is awaited on the PID file's lock.

pub(crate) mod restart;
mod status;
mod stop;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::signal::Signal;

pub use status::{Status, status};
pub use stop::{Stopped, stop};

use crate::cli::Action;
use crate::error::{Error, Holder, exit, one_line};
use crate::pidfile::{self, Lock, LockState, Observed};
use crate::plan::absolute;
use crate::settings::Settings;
use crate::sys::fs::Parent;
use crate::sys::pidfd::Process;
use crate::sys::procfs::FileId;
use crate::sys::time::Deadline;
use crate::unit::{self, GivenFlag, ServiceKind, UnitError};

/// The effective settings, the config file they were read from, if any, and the daemon
/// flags as the command line gave them: what `--print-service` writes a file from.
pub(crate) struct Loaded {
    pub(crate) settings: Settings,
    pub(crate) config: Option<PathBuf>,
    pub(crate) given: Vec<GivenFlag>,
}

/// What a control action works on: the daemon's name, its PID file, its stop timeout.
pub(crate) struct Target {
    pub(crate) name: String,
    /// Absolute: every action names the same file whatever directory it runs from.
    pub(crate) pid_file: PathBuf,
    pub(crate) stop_timeout: Duration,
}

impl Target {
    /// The target of `action` ("stop", "check", ...) from the effective settings.
    pub(crate) fn new(settings: Settings, action: &'static str) -> Result<Target, Error> {
        let name = settings.name.value;
        let Some(path) = settings.pid_file.value.path() else {
            let origin = settings.pid_file.origin;
            return Err(Error::NoPidFile {
                name,
                action,
                origin,
            });
        };
        Ok(Target {
            pid_file: absolute(path),
            name,
            stop_timeout: settings.stop_timeout.value,
        })
    }
}

/// Performs `--stop`, `--status`, `--reload` or `--print-service`, prints the outcome
/// and exits with its status.
pub(crate) fn perform(loaded: Result<Loaded, Error>, action: Action, name: &str) -> ! {
    if let Action::PrintService(kind) = &action {
        print_service(loaded, kind, name)
    }
    let settings = loaded.map(|loaded| loaded.settings);
    let verb = match action {
        Action::Stop => "stop",
        Action::Status => "check",
        _ => "reload",
    };
    let target = settings
        .and_then(|settings| Target::new(settings, verb))
        .unwrap_or_else(|e| {
            e.report(name);
            // LSB: status answers 4, "unknown", for any error.
            let code = match action {
                Action::Status => 4,
                _ => e.exit_code(),
            };
            std::process::exit(code)
        });
    let (name, path) = (&target.name, &target.pid_file);
    match action {
        Action::Stop => {
            let outcome = stop(name, path, target.stop_timeout).unwrap_or_else(|e| e.exit(name));
            println!("{}", one_line(&outcome.describe(name, path).to_string()));
            std::process::exit(exit::OK)
        }
        Action::Status => {
            let status = status(path);
            println!("{}", one_line(&status.describe(name, path).to_string()));
            std::process::exit(status.exit_code())
        }
        _ => {
            let pid = reload(name, path).unwrap_or_else(|e| e.exit(name));
            println!(
                "{}",
                one_line(&format!("sent SIGHUP to {name} (pid {pid})"))
            );
            std::process::exit(exit::OK)
        }
    }
}

/// Prints the service file `kind` on standard output and exits 0; on an error, says why
/// and exits 78 (a settings error: with its own status).
fn print_service(loaded: Result<Loaded, Error>, kind: &ServiceKind, name: &str) -> ! {
    let loaded = loaded.unwrap_or_else(|e| e.exit(name));
    let text = std::env::current_exe()
        .map_err(|source| UnitError::Exe { source })
        .and_then(|exe| {
            let config = loaded.config.as_deref();
            unit::render_with(kind, &loaded.settings, &exe, config, &loaded.given)
        })
        .unwrap_or_else(|e| {
            eprintln!("{}", one_line(&format!("{name}: {e}")));
            std::process::exit(exit::CONFIG)
        });
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        eprintln!("{name}: cannot write the service file: {e}");
        std::process::exit(exit::CANTCREAT)
    }
    std::process::exit(exit::OK)
}

/// Sends SIGHUP to the daemon whose PID file is `path`; returns its pid.
pub fn reload(name: &str, path: &Path) -> Result<u32, Error> {
    signal(name, path, Signal::SIGHUP)
}

/// Sends `signal` to the daemon whose PID file is `path`; returns its pid.
pub fn signal(name: &str, path: &Path, signal: Signal) -> Result<u32, Error> {
    match find(name, "signal", path)? {
        Found::NotRunning { .. } => Err(Error::NotRunning {
            name: name.to_owned(),
        }),
        Found::Running(daemon) => {
            daemon.process.signal(signal).map_err(|e| {
                control_error(
                    "signal",
                    name,
                    format!("cannot send {signal} to pid {}: {e}", daemon.pid),
                    Some(e),
                )
            })?;
            log::debug!("sent {signal} to pid {}", daemon.pid);
            Ok(daemon.pid)
        }
    }
}

pub(crate) fn control_error(
    action: &'static str,
    name: &str,
    message: String,
    source: Option<io::Error>,
) -> Error {
    Error::Control {
        action,
        name: name.to_owned(),
        message,
        source,
    }
}

/// The daemon, pinned so that signals reach it and nothing else.
struct Pinned {
    pid: u32,
    process: Process,
    /// The lock file: without pidfds, its lock tells when the daemon is gone.
    lock: Lock,
    /// The PID file's directory, walked to once: after the exit `--stop` looks there
    /// for a file left behind without walking the path again.
    /// Boxed: it is large, and `Found` and `Look` are passed by value.
    dir: Box<Parent>,
}

impl Pinned {
    /// Waits for the daemon's exit until `deadline`; returns whether it exited.
    fn wait_exit(&self, deadline: Deadline) -> bool {
        if self.process.is_pinned() {
            return self.process.wait_exit(deadline);
        }
        self.lock
            .file
            .as_ref()
            .is_some_and(|lock| pidfile::wait_unlocked(lock, deadline))
    }
}

/// A PID file that no daemon holds.
struct Stale {
    id: FileId,
    pid: Option<u32>,
}

enum Found {
    Running(Pinned),
    NotRunning { stale: Option<Stale> },
}

/// What one look at the PID file showed.
enum Look {
    Settled(Found),
    /// The lock was released while we looked (the daemon exited): look again.
    Again,
    /// A daemon between its lock and its pid write.
    NoPidYet,
}

/// Why the daemon cannot be pinned.
enum Refusal {
    Unreadable(Error),
    NoPid,
    Gone(u32),
    Unreachable(u32, io::Error),
    NotHolder(u32, Holder),
}

impl Refusal {
    fn into_error(self, name: &str, action: &'static str, path: &Path) -> Error {
        let path = path.display();
        let (message, source) = match self {
            Refusal::Unreadable(e) => return e,
            Refusal::NoPid => (format!("PID file {path} is locked but names no pid"), None),
            Refusal::Gone(pid) => (
                format!(
                    "PID file {path} names pid {pid}, which is gone, but something else still \
                     holds its lock (a child process of the daemon?); signalling nothing"
                ),
                None,
            ),
            Refusal::Unreachable(pid, e) => (format!("cannot reach pid {pid}: {e}"), Some(e)),
            Refusal::NotHolder(pid, holder) => (
                format!(
                    "PID file {path} names pid {pid}, but that process does not hold its lock \
                     ({holder} does); refusing to signal it"
                ),
                None,
            ),
        };
        control_error(action, name, message, source)
    }
}

/// Finds the daemon holding the PID file at `path`.
fn find(name: &str, action: &'static str, path: &Path) -> Result<Found, Error> {
    // A daemon between its lock and its pid write is given a moment; the window is
    // the length of two forks.
    let deadline = Deadline::after(Duration::from_secs(2));
    loop {
        match look(path).map_err(|why| why.into_error(name, action, path))? {
            Look::Settled(found) => return Ok(found),
            Look::Again => {}
            Look::NoPidYet if !deadline.passed() => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Look::NoPidYet => return Err(Refusal::NoPid.into_error(name, action, path)),
        }
    }
}

/// One look at the PID file.
fn look(path: &Path) -> Result<Look, Refusal> {
    let dir = pidfile::walk(path).map_err(Refusal::Unreadable)?;
    let (lock, pid) = match pidfile::observe_at(&dir).map_err(Refusal::Unreadable)? {
        Observed::Missing => return Ok(Look::Settled(Found::NotRunning { stale: None })),
        Observed::Free { stale, pid } => {
            let stale = Some(Stale { id: stale, pid });
            return Ok(Look::Settled(Found::NotRunning { stale }));
        }
        Observed::Locked { pid: None, .. } => return Ok(Look::NoPidYet),
        Observed::Locked {
            lock,
            pid: Some(pid),
        } => (lock, pid),
    };
    // Pin the process first, then check it is the lock holder: whatever the checks see
    // is then true of the process the handle refers to.
    let process = match Process::open(pid) {
        Ok(process) => process,
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
            return released_or(&lock, Refusal::Gone(pid));
        }
        Err(e) => return Err(Refusal::Unreachable(pid, e)),
    };
    match pidfile::holder_of(Some(pid), lock.id) {
        Holder::Daemon(holder) if holder == pid => {}
        holder => return released_or(&lock, Refusal::NotHolder(pid, holder)),
    }
    if !held(&lock) {
        return Ok(Look::Again);
    }
    Ok(Look::Settled(Found::Running(Pinned {
        pid,
        process,
        lock,
        dir: Box::new(dir),
    })))
}

/// Whether the lock is still held; `/proc/locks` says where the file cannot be opened.
fn held(lock: &Lock) -> bool {
    match &lock.file {
        Some(file) => pidfile::lock_state(file).is_ok_and(|s| s == LockState::Held),
        None => !crate::sys::procfs::lock_takers(lock.id).is_empty(),
    }
}

/// "Look again" if the daemon released the lock meanwhile (it exited), else `refusal`.
fn released_or(lock: &Lock, refusal: Refusal) -> Result<Look, Refusal> {
    match held(lock) {
        false => Ok(Look::Again),
        true => Err(refusal),
    }
}
