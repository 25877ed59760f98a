//! Errors, and the exit status each one gives the launching process.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;

use nix::errno::Errno;

use crate::origin::Origin;

/// Exit statuses of the launching process, from BSD's `sysexits.h`.
///
/// Init scripts and supervisors can tell failures apart by these numbers; the
/// README lists which failure gives which.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Input data was missing: the working directory, chroot or config file does not exist.
    pub const NOINPUT: i32 = 66;
    /// The user or group does not exist.
    pub const NOUSER: i32 = 67;
    /// The program itself failed to start: its privileged action or its start-up code reported an error.
    pub const UNAVAILABLE: i32 = 69;
    /// An internal error: the daemon died without a word, or the process had more than one thread.
    pub const SOFTWARE: i32 = 70;
    /// A system call failed (fork, setsid, chroot, ...).
    pub const OSERR: i32 = 71;
    /// A file could not be created: the PID file or a log file.
    pub const CANTCREAT: i32 = 73;
    /// Another instance holds the PID file: try again once it has stopped.
    pub const TEMPFAIL: i32 = 75;
    /// Not permitted: switching user or chroot without root.
    pub const NOPERM: i32 = 77;
    /// A setting is invalid.
    pub const CONFIG: i32 = 78;
}

/// Why a daemon could not be configured, started or controlled.
///
/// The `Display` text is one sentence for a system administrator: what failed,
/// the value at fault and where that value came from. The underlying
/// [`io::Error`] or [`Errno`], where there is one, is the [`source`](StdError::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A setting has an invalid value.
    InvalidSetting {
        /// The setting's name, as in the `[daemon]` section (`umask`, `user`, ...).
        key: &'static str,
        /// The offending value, as written.
        value: String,
        /// Why it is invalid.
        reason: String,
        /// Where the value came from.
        origin: Origin,
    },
    /// The config file could not be read.
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The config file is not valid TOML, or its `[daemon]` section (or the section the
    /// program asked for) has an unknown key, a wrong type or a bad value.
    ConfigParse {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// The user does not exist.
    NoSuchUser {
        /// The name or id given.
        user: String,
        /// Where it came from.
        origin: Origin,
    },
    /// The group does not exist.
    NoSuchGroup {
        /// The name or id given.
        group: String,
        /// Where it came from.
        origin: Origin,
    },
    /// Looking up a user or group in the system databases failed.
    Lookup {
        /// What was looked up.
        what: String,
        /// The error from `getpwnam`/`getgrnam`/`getgrouplist`.
        source: Errno,
    },
    /// The process may not do what the settings ask (switch user, chroot) without more privilege.
    NotPermitted {
        /// What was asked, as a phrase ("switch to user nobody (uid 65534)").
        action: String,
        /// Why not.
        reason: String,
    },
    /// A directory named by a setting cannot be used.
    Directory {
        /// `dir` or `chroot`.
        key: &'static str,
        /// The path.
        path: PathBuf,
        /// Where it came from.
        origin: Origin,
        /// The I/O error.
        source: io::Error,
    },
    /// The PID file could not be opened, locked, written or removed.
    PidFile {
        /// What was being done ("open", "lock", "write the pid to").
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file the runtime opens while privileged is not what it must be (a symlink
    /// planted by another user, a hard link, a FIFO, a stranger's file), or cannot be
    /// reached; nothing was written to it.
    Refused {
        /// What the file is for: `PID file`, `stdout log file`, `config file`, ...
        what: &'static str,
        /// The path as the settings give it.
        path: PathBuf,
        /// `refusing` (a policy refusal) or `cannot open`.
        verb: &'static str,
        /// What is wrong with it.
        why: String,
        /// The exit status it gives.
        code: i32,
        /// The system call's error, where one failed.
        source: Option<Errno>,
    },
    /// What a service manager passed is unusable: descriptors `LISTEN_FDS` names that
    /// are not sockets, a `notify_fd` that is not open for writing.
    ServiceManager {
        /// What is wrong, naming the variable or setting and its value.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// A process that is not the daemon holds the PID file's lock.
    LockHeld {
        /// The daemon's name.
        name: String,
        /// The PID file.
        path: PathBuf,
        /// Who holds the lock.
        holder: Holder,
    },
    /// Another process holds the PID file's lock.
    AlreadyRunning {
        /// The daemon's name.
        name: String,
        /// The pid the file names, if it names one yet.
        pid: Option<u32>,
        /// The PID file.
        path: PathBuf,
    },
    /// A log file could not be opened.
    LogFile {
        /// `stdout` or `stderr`.
        key: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The process has more than one thread, so it must not fork.
    MultiThreaded {
        /// How many threads it has.
        threads: usize,
    },
    /// A system call failed.
    Sys {
        /// The call, with its argument where that helps ("chroot /srv/jail").
        call: String,
        /// The error.
        source: Errno,
    },
    /// The program's privileged action failed.
    PrivilegedAction {
        /// The action's error.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// Stop, status, restart or reload was asked for without a PID file to find the daemon by.
    NoPidFile {
        /// The daemon's name.
        name: String,
        /// The control action.
        action: &'static str,
        /// Where "no PID file" came from: the default (no suitable directory), or a
        /// source that turned it off.
        origin: Origin,
    },
    /// The daemon is not running (reload of a stopped daemon).
    NotRunning {
        /// The daemon's name.
        name: String,
    },
    /// Signalling or stopping the daemon failed.
    Control {
        /// The control action (`stop`, `reload`, ...).
        action: &'static str,
        /// The daemon's name.
        name: String,
        /// What went wrong.
        message: String,
        /// The underlying error, if any.
        source: Option<io::Error>,
    },
}

/// Prints `text` and a newline on standard error in one `write`. Standard error is
/// unbuffered, so `eprintln!` with arguments writes each piece on its own: the syslog
/// warning of every detached start took eleven `write`s to the terminal or log file.
pub(crate) fn print_line(text: fmt::Arguments<'_>) {
    let mut line = text.to_string();
    line.push('\n');
    eprint!("{line}");
}

/// `text` with its control characters escaped (`\n` for a line break), so that a
/// message stays one line whatever it quotes: paths and config values may hold line
/// breaks, and a log line or an init script reading the launcher's stderr takes each
/// line for a message of its own.
pub(crate) fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let escaped = text
        .chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect();
    std::borrow::Cow::Owned(escaped)
}

/// The `errno` a service manager is told (`ERRNO=`) for a failure that exits with
/// `code`: the nearest meaning.
pub(crate) fn errno_for(code: i32) -> i32 {
    match code {
        exit::NOINPUT | exit::NOUSER => libc::ENOENT,
        exit::CANTCREAT => libc::EACCES,
        exit::TEMPFAIL => libc::EBUSY,
        exit::NOPERM => libc::EPERM,
        exit::CONFIG => libc::EINVAL,
        _ => libc::EIO,
    }
}

/// Who holds a lock: what `--status` and a refused start report.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holder {
    /// The daemon: the live process the PID file names, holding the lock (or a launcher
    /// of the same program that has not written its pid yet).
    Daemon(u32),
    /// Some other process.
    Other {
        /// Its pid.
        pid: u32,
        /// Its command name, if it can be read.
        command: Option<String>,
        /// Its user, if it can be read.
        uid: Option<u32>,
    },
    /// A process that cannot be found out (no `/proc`, or no permission to look).
    Unknown,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Daemon(pid) => write!(f, "pid {pid}"),
            Holder::Other { pid, command, uid } => {
                write!(f, "pid {pid}")?;
                match (command, uid) {
                    (Some(command), Some(uid)) => write!(f, " (`{command}`, {})", user(*uid)),
                    (Some(command), None) => write!(f, " (`{command}`)"),
                    (None, Some(uid)) => write!(f, " ({})", user(*uid)),
                    (None, None) => Ok(()),
                }
            }
            Holder::Unknown => f.write_str("a process that cannot be found out"),
        }
    }
}

/// `user nobody (uid 65534)`, or `uid 65534` without a user database entry.
fn user(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => format!("user {} (uid {uid})", user.name),
        _ => format!("uid {uid}"),
    }
}

impl Error {
    /// A refusal of [`sys::fs`](crate::sys::fs), for the file that is `what`: exit
    /// status 73 (cannot create) unless `code` says otherwise for a missing file.
    pub(crate) fn refused(what: &'static str, refused: crate::sys::fs::Refused) -> Error {
        Error::refused_with(what, refused, exit::CANTCREAT)
    }

    /// Like [`refused`](Self::refused), with `code` for a policy refusal.
    pub(crate) fn refused_with(
        what: &'static str,
        refused: crate::sys::fs::Refused,
        code: i32,
    ) -> Error {
        let why = refused.why().to_string();
        Error::Refused {
            what,
            verb: refused.verb(),
            why,
            source: refused.errno(),
            code,
            path: refused.path,
        }
    }

    /// The exit status the launching process ends with for this error (see [`exit`]).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidSetting { .. } | Error::ConfigParse { .. } | Error::NoPidFile { .. } => {
                exit::CONFIG
            }
            Error::ConfigRead { .. } | Error::Directory { .. } => exit::NOINPUT,
            Error::NoSuchUser { .. } | Error::NoSuchGroup { .. } => exit::NOUSER,
            Error::Lookup { .. } | Error::Sys { .. } => exit::OSERR,
            Error::NotPermitted { .. } => exit::NOPERM,
            Error::PidFile { .. } | Error::LogFile { .. } => exit::CANTCREAT,
            Error::Refused { code, .. } => *code,
            Error::ServiceManager { .. } => exit::CONFIG,
            Error::AlreadyRunning { .. } | Error::LockHeld { .. } => exit::TEMPFAIL,
            Error::MultiThreaded { .. } => exit::SOFTWARE,
            Error::PrivilegedAction { .. } => exit::UNAVAILABLE,
            // LSB: "program is not running" for reload and friends.
            Error::NotRunning { .. } => 7,
            Error::Control { .. } => 1,
        }
    }

    /// Prints the error on standard error, prefixed with `name: ` unless the message
    /// names the daemon already ("hello is already running (pid 4242)"), and exits with
    /// [`exit_code`](Self::exit_code).
    ///
    /// This is what the `#[daemonize]` attribute does with an error in the launching process.
    pub fn exit(&self, name: &str) -> ! {
        self.report(name);
        std::process::exit(self.exit_code())
    }

    /// Prints the error on standard error as [`exit`](Self::exit) does, without exiting.
    pub fn report(&self, name: &str) {
        let names_daemon = matches!(
            self,
            Error::AlreadyRunning { .. }
                | Error::LockHeld { .. }
                | Error::NotRunning { .. }
                | Error::NoPidFile { .. }
                | Error::Control { .. }
        );
        if names_daemon {
            eprintln!("{}", one_line(&self.to_string()));
        } else {
            eprintln!("{}", one_line(&format!("{name}: {self}")));
        }
    }

    pub(crate) fn sys(call: impl Into<String>, source: Errno) -> Self {
        Error::Sys {
            call: call.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidSetting {
                key,
                value,
                reason,
                origin,
            } => write!(f, "invalid {key} `{value}` ({origin}): {reason}"),
            Error::ConfigRead { path, source } => {
                write!(f, "cannot read config file {}: {source}", path.display())
            }
            Error::ConfigParse {
                path,
                line,
                column,
                message,
            } => {
                match path {
                    Some(path) => write!(f, "config file {}", path.display())?,
                    None => f.write_str("config")?,
                }
                if let Some(line) = line {
                    write!(f, ", line {line}")?;
                }
                if let Some(column) = column {
                    write!(f, ", column {column}")?;
                }
                write!(f, ": {message}")
            }
            Error::NoSuchUser { user, origin } => write!(f, "no such user `{user}` ({origin})"),
            Error::NoSuchGroup { group, origin } => {
                write!(f, "no such group `{group}` ({origin})")
            }
            Error::Lookup { what, source } => write!(f, "cannot look up {what}: {source}"),
            Error::NotPermitted { action, reason } => write!(f, "cannot {action}: {reason}"),
            Error::Directory {
                key,
                path,
                origin,
                source,
            } => write!(
                f,
                "cannot use {key} {} ({origin}): {source}",
                path.display()
            ),
            Error::PidFile {
                action,
                path,
                source,
            } => write!(f, "cannot {action} PID file {}: {source}", path.display()),
            Error::Refused {
                what,
                path,
                verb,
                why,
                ..
            } => write!(f, "{verb} {what} {}: {why}", path.display()),
            Error::ServiceManager { source } => write!(f, "{source}"),
            Error::LockHeld { name, path, holder } => write!(
                f,
                "cannot start {name}: the lock of PID file {} is held by {holder}, which is \
                 not {name}; refusing to start",
                path.display()
            ),
            Error::AlreadyRunning { name, pid, path } => match pid {
                Some(pid) => write!(
                    f,
                    "{name} is already running (pid {pid}); PID file {} left untouched",
                    path.display()
                ),
                None => write!(
                    f,
                    "{name} is already running or starting (PID file {} is locked)",
                    path.display()
                ),
            },
            Error::LogFile { key, path, source } => {
                write!(f, "cannot open {key} log file {}: {source}", path.display())
            }
            Error::MultiThreaded { threads } => write!(
                f,
                "refusing to fork: the process has {threads} threads, and a forked copy keeps only \
                 one of them (daemonize before starting an async runtime, a logger thread or any \
                 other thread)"
            ),
            Error::Sys { call, source } => write!(f, "{call} failed: {source}"),
            Error::PrivilegedAction { source } => write!(f, "privileged action failed: {source}"),
            Error::NoPidFile {
                name,
                action,
                origin: Origin::Default,
            } => write!(
                f,
                "cannot {action} {name}: no PID file is configured, and there is no default \
                 place for one (/run as root, a private $XDG_RUNTIME_DIR otherwise); set \
                 pid_file or pass --pid-file"
            ),
            Error::NoPidFile {
                name,
                action,
                origin,
            } => write!(
                f,
                "cannot {action} {name}: the PID file is turned off ({origin}); set pid_file \
                 or pass --pid-file"
            ),
            Error::NotRunning { name } => write!(f, "{name} is not running"),
            Error::Control {
                action,
                name,
                message,
                ..
            } => write!(f, "cannot {action} {name}: {message}"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::ConfigRead { source, .. }
            | Error::Directory { source, .. }
            | Error::PidFile { source, .. }
            | Error::LogFile { source, .. } => Some(source),
            Error::Lookup { source, .. } | Error::Sys { source, .. } => Some(source),
            Error::Refused {
                source: Some(source),
                ..
            } => Some(source),
            Error::PrivilegedAction { source } | Error::ServiceManager { source } => {
                Some(source.as_ref())
            }
            Error::Control { source, .. } => source.as_ref().map(|e| e as _),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_on_one_line() {
        assert!(matches!(
            one_line("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
        assert_eq!(
            one_line("cannot use dir /srv/a\nb: Not a directory"),
            "cannot use dir /srv/a\\nb: Not a directory"
        );
        assert_eq!(one_line("tab\there\u{1b}[0m"), "tab\\there\\u{1b}[0m");
    }
}
