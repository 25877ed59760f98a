//! Talking to the service manager: systemd's `sd_notify` protocol, its watchdog, and the
//! readiness descriptor of s6 and other supervisors.
//!
//! # sd_notify
//!
//! A manager that wants to hear from the service (systemd's `Type=notify`, and others that
//! speak the protocol) sets `NOTIFY_SOCKET` to an `AF_UNIX` datagram socket: an absolute
//! path, or `@name` for a Linux abstract socket. The runtime connects to it once, while it
//! starts, and removes the variable from the environment so that programs the daemon runs
//! do not talk to the manager in its name (as `sd_notify(unset_environment=1)` does). The
//! connection is made before any `chroot`: a connected datagram socket keeps working in
//! the new root, where the path no longer resolves.
//!
//! The runtime reports readiness (`READY=1`, with `MAINPID=` when the daemon's pid is not
//! the one the manager started), reloads and stopping itself. The program can add:
//!
//! - [`status`]: a one-line status that `systemctl status` shows (`STATUS=`);
//! - [`extend_timeout`]: more time for a slow start or stop (`EXTEND_TIMEOUT_USEC=`);
//! - [`watchdog`]: "still alive" (`WATCHDOG=1`), see below.
//!
//! Written here rather than taken from a crate: `sd-notify` addresses the socket by path
//! on every message, which cannot reach the manager from inside a `chroot`, and sends
//! with a blocking socket; the protocol itself is one datagram of `KEY=VALUE` lines.
//!
//! All of them do nothing when no manager listens, so a program calls them
//! unconditionally. Messages are sent without blocking; a failure is logged once as a
//! warning (later ones at debug level), because a daemon should not stop serving because
//! its manager's socket is full.
//!
//! ```no_run
//! use std::time::Duration;
//! use daemon_runtime::notify;
//!
//! notify::status("loading 3 zones");
//! notify::extend_timeout(Duration::from_secs(30));
//! loop {
//!     // ... one round of work ...
//!     notify::watchdog();
//! #   break;
//! }
//! ```
//!
//! # Watchdog
//!
//! With `WatchdogSec=` systemd sets `WATCHDOG_USEC` (and `WATCHDOG_PID`, which must name
//! this process for the watchdog to apply to it) and restarts the service when no
//! `WATCHDOG=1` arrives within that interval. [`watchdog_interval`] says how often the
//! program should feed it; feeding at half the interval is the usual rule.
//!
//! [`Watchdog::Auto`], the default, starts a keep-alive thread that sends `WATCHDOG=1` at
//! half the interval until the program calls [`watchdog`] for the first time; from then on
//! the program owns the watchdog and the thread ends. So a program that never heard of the
//! watchdog is not killed every interval for a setting in its unit file, and a program that
//! feeds it from its main loop is restarted when that loop hangs, which is what the
//! watchdog is for. The price: before its first feed, a hung program is still reported
//! alive. [`Watchdog::Manual`] never starts the thread, for programs that want systemd to
//! act on a hang from the first interval (they must feed it from the start).
//!
//! # Readiness descriptors (s6)
//!
//! s6 (`notification-fd` in the service directory) and supervisors built like it give the
//! service a pipe on a descriptor number; the service writes one newline to it when ready
//! and closes it. The `notify_fd` setting names that number; the runtime checks at start
//! that it is open for writing and writes the newline when the daemon is ready.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::sys::process::SingleThreaded;

const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";
const WATCHDOG_USEC: &str = "WATCHDOG_USEC";
const WATCHDOG_PID: &str = "WATCHDOG_PID";

/// Bytes in `sockaddr_un.sun_path` (108 on Linux, 104 on the BSDs and macOS).
const SUN_PATH_LEN: usize =
    size_of::<libc::sockaddr_un>() - std::mem::offset_of!(libc::sockaddr_un, sun_path);

/// The longest `STATUS=` text sent, in bytes. systemd reads a notification into a
/// 4096-byte buffer and drops longer ones; a status is one line for `systemctl status`.
const STATUS_MAX: usize = 512;

/// Watchdog intervals outside these bounds are refused: below, the keep-alive thread would
/// spin; above, the watchdog would watch nothing useful (and `u64::MAX` is systemd's
/// "infinity", which it never sends).
const WATCHDOG_MIN: Duration = Duration::from_millis(1);
const WATCHDOG_MAX: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// How long writing the readiness newline may wait for room in the supervisor's pipe.
const NOTIFY_FD_TIMEOUT: Duration = Duration::from_secs(1);

/// Why talking to the service manager failed, or its settings cannot be used.
///
/// The `Display` text names the variable or setting and its value; the underlying
/// [`io::Error`] or [`Errno`], where there is one, is the [`source`](std::error::Error::source).
#[derive(Debug)]
#[non_exhaustive]
pub enum NotifyError {
    /// `NOTIFY_SOCKET` is not an address a notification can be sent to.
    InvalidSocket {
        /// The variable's value.
        value: OsString,
        /// Why it cannot be used.
        reason: String,
    },
    /// Connecting to the socket `NOTIFY_SOCKET` names failed.
    Connect {
        /// The variable's value.
        value: OsString,
        /// The error from `socket` or `connect`.
        source: io::Error,
    },
    /// Sending a notification failed (the manager went away, or its queue is full).
    Send {
        /// `NOTIFY_SOCKET` as it was when the runtime connected.
        value: OsString,
        /// The error from `send`.
        source: io::Error,
    },
    /// `WATCHDOG_USEC` or `WATCHDOG_PID` has an unusable value.
    InvalidWatchdog {
        /// `WATCHDOG_USEC` or `WATCHDOG_PID`.
        variable: &'static str,
        /// The variable's value.
        value: OsString,
        /// Why it cannot be used.
        reason: String,
    },
    /// The watchdog's keep-alive thread could not be started.
    Thread {
        /// The error from spawning the thread.
        source: io::Error,
    },
    /// The `notify_fd` setting names a descriptor that cannot be used.
    InvalidNotifyFd {
        /// The descriptor number.
        fd: RawFd,
        /// What is wrong with it, as the end of a sentence ("is not an open descriptor").
        reason: String,
        /// The error from `fcntl`, where one says more than the reason.
        source: Option<Errno>,
    },
    /// Writing the readiness newline to `notify_fd` failed.
    NotifyFdWrite {
        /// The descriptor number.
        fd: RawFd,
        /// The error from `poll` or `write`, or a timeout.
        source: io::Error,
    },
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotifyError::InvalidSocket { value, reason } => {
                write!(f, "invalid {NOTIFY_SOCKET} `{}`: {reason}", shown(value))
            }
            NotifyError::Connect { value, source } => write!(
                f,
                "cannot connect to the service manager's socket {NOTIFY_SOCKET}=`{}`: {source}",
                shown(value)
            ),
            NotifyError::Send { value, source } => write!(
                f,
                "cannot notify the service manager at {NOTIFY_SOCKET}=`{}`: {source}",
                shown(value)
            ),
            NotifyError::InvalidWatchdog {
                variable,
                value,
                reason,
            } => write!(f, "invalid {variable} `{}`: {reason}", shown(value)),
            NotifyError::Thread { source } => {
                write!(f, "cannot start the watchdog keep-alive thread: {source}")
            }
            NotifyError::InvalidNotifyFd { fd, reason, source } => match source {
                Some(errno) => write!(f, "notify_fd {fd} {reason}: {errno}"),
                None => write!(f, "notify_fd {fd} {reason}"),
            },
            NotifyError::NotifyFdWrite { fd, source } => write!(
                f,
                "cannot write the readiness newline to notify_fd {fd}: {source}"
            ),
        }
    }
}

impl std::error::Error for NotifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NotifyError::Connect { source, .. }
            | NotifyError::Send { source, .. }
            | NotifyError::Thread { source }
            | NotifyError::NotifyFdWrite { source, .. } => Some(source),
            NotifyError::InvalidNotifyFd { source, .. } => source.as_ref().map(|e| e as _),
            NotifyError::InvalidSocket { .. } | NotifyError::InvalidWatchdog { .. } => None,
        }
    }
}

/// A value from the environment, on one line whatever it holds.
fn shown(value: &OsStr) -> String {
    value.to_string_lossy().escape_debug().to_string()
}

/// Where `NOTIFY_SOCKET` points.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Address {
    Path(PathBuf),
    /// A Linux abstract socket name, without the leading `@` (or NUL).
    Abstract(Vec<u8>),
}

fn parse_address(value: &OsStr) -> Result<Address, NotifyError> {
    let invalid = |reason: String| NotifyError::InvalidSocket {
        value: value.to_owned(),
        reason,
    };
    let bytes = value.as_bytes();
    if bytes.contains(&0) {
        return Err(invalid("it contains a NUL byte".into()));
    }
    match bytes {
        [] => Err(invalid("it is empty".into())),
        // `sun_path` also holds the terminating NUL.
        [b'/', ..] if bytes.len() >= SUN_PATH_LEN => Err(invalid(format!(
            "the path is {} bytes long, and a Unix socket path has at most {}",
            bytes.len(),
            SUN_PATH_LEN - 1
        ))),
        [b'/', ..] => Ok(Address::Path(PathBuf::from(value))),
        [b'@'] => Err(invalid(
            "the abstract socket name after `@` is empty".into(),
        )),
        // The name takes the place of the path after a leading NUL.
        [b'@', name @ ..] if name.len() >= SUN_PATH_LEN => Err(invalid(format!(
            "the abstract socket name is {} bytes long, and at most {} fit",
            name.len(),
            SUN_PATH_LEN - 1
        ))),
        [b'@', name @ ..] if cfg!(any(target_os = "linux", target_os = "android")) => {
            Ok(Address::Abstract(name.to_vec()))
        }
        [b'@', ..] => Err(invalid("abstract socket names exist only on Linux".into())),
        _ if bytes.starts_with(b"vsock:") => Err(invalid(
            "AF_VSOCK addresses (a service manager outside a virtual machine) are not supported"
                .into(),
        )),
        _ => Err(invalid(
            "it is neither an absolute path nor an abstract socket name starting with `@`".into(),
        )),
    }
}

impl Address {
    /// A datagram socket connected to the address: close-on-exec (std creates every
    /// socket so) and non-blocking, so that no send ever waits for the manager.
    fn connect(&self) -> io::Result<UnixDatagram> {
        let socket = UnixDatagram::unbound()?;
        match self {
            Address::Path(path) => socket.connect(path)?,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            Address::Abstract(name) => {
                #[cfg(target_os = "android")]
                use std::os::android::net::SocketAddrExt;
                #[cfg(target_os = "linux")]
                use std::os::linux::net::SocketAddrExt;
                let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                socket.connect_addr(&address)?;
            }
            #[cfg(not(any(target_os = "linux", target_os = "android")))]
            Address::Abstract(_) => return Err(io::ErrorKind::Unsupported.into()),
        }
        // The same as MSG_DONTWAIT on every send, and the only user of this socket is us.
        socket.set_nonblocking(true)?;
        Ok(socket)
    }
}

/// One field of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    /// `READY=1`: start-up (or a reload) is complete.
    Ready,
    /// `STATUS=`: sent as one line of at most [`STATUS_MAX`] bytes, control characters
    /// (newlines above all) replaced by spaces.
    Status(String),
    /// `STOPPING=1`.
    Stopping,
    /// `RELOADING=1` with `MONOTONIC_USEC=`, which systemd's `Type=notify-reload` needs to
    /// tell this reload from an earlier one. `None` when the clock could not be read.
    Reloading { monotonic_usec: Option<u64> },
    /// `EXTEND_TIMEOUT_USEC=`.
    ExtendTimeout(Duration),
    /// `ERRNO=`: why the service failed.
    Errno(i32),
    /// `MAINPID=`: the service's main process, when it is not the one the manager started.
    MainPid(u32),
    /// `WATCHDOG=1`.
    Watchdog,
}

impl Field {
    /// `RELOADING=1` stamped with the current `CLOCK_MONOTONIC` time.
    pub(crate) fn reloading_now() -> Field {
        Field::Reloading {
            monotonic_usec: monotonic_usec(),
        }
    }

    fn write_to(&self, out: &mut String) {
        use fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            Field::Ready => write!(out, "READY=1"),
            Field::Status(text) => write!(out, "STATUS={}", one_line(text)),
            Field::Stopping => write!(out, "STOPPING=1"),
            Field::Reloading {
                monotonic_usec: Some(usec),
            } => write!(out, "RELOADING=1\nMONOTONIC_USEC={usec}"),
            Field::Reloading {
                monotonic_usec: None,
            } => write!(out, "RELOADING=1"),
            Field::ExtendTimeout(by) => write!(out, "EXTEND_TIMEOUT_USEC={}", usec(*by)),
            Field::Errno(errno) => write!(out, "ERRNO={errno}"),
            Field::MainPid(pid) => write!(out, "MAINPID={pid}"),
            Field::Watchdog => write!(out, "WATCHDOG=1"),
        };
    }
}

/// The datagram for `fields`: one `KEY=VALUE` per line, as `sd_notify` sends them.
fn encode(fields: &[Field]) -> Vec<u8> {
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        field.write_to(&mut out);
    }
    out.into_bytes()
}

/// `text` as a status line: control characters become spaces (a newline would start a
/// new field, which the program did not mean), and the line is cut at a character
/// boundary to at most [`STATUS_MAX`] bytes.
fn one_line(text: &str) -> String {
    let mut line = String::with_capacity(text.len().min(STATUS_MAX));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if line.len() + c.len_utf8() > STATUS_MAX {
            break;
        }
        line.push(c);
    }
    line.truncate(line.trim_end().len());
    line
}

/// Microseconds, saturating below `u64::MAX`, which systemd reads as "infinity".
fn usec(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).map_or(u64::MAX - 1, |us| us.min(u64::MAX - 1))
}

fn monotonic_usec() -> Option<u64> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    let secs = u64::try_from(now.tv_sec()).ok()?;
    let micros = u64::try_from(now.tv_nsec()).ok()? / 1_000;
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// A datagram socket connected to the service manager.
#[derive(Debug)]
pub(crate) struct NotifySocket {
    socket: UnixDatagram,
    /// `NOTIFY_SOCKET` as it was, for messages.
    value: OsString,
}

impl NotifySocket {
    /// Validates `value` (a `NOTIFY_SOCKET`) and connects to it.
    pub(crate) fn connect(value: &OsStr) -> Result<NotifySocket, NotifyError> {
        let address = parse_address(value)?;
        let socket = address.connect().map_err(|source| NotifyError::Connect {
            value: value.to_owned(),
            source,
        })?;
        Ok(NotifySocket {
            socket,
            value: value.to_owned(),
        })
    }

    /// Sends `fields` in one datagram, without blocking.
    pub(crate) fn send(&self, fields: &[Field]) -> Result<(), NotifyError> {
        let message = encode(fields);
        let failed = |source| NotifyError::Send {
            value: self.value.clone(),
            source,
        };
        loop {
            match self.socket.send(&message) {
                Ok(n) if n == message.len() => return Ok(()),
                Ok(n) => {
                    return Err(failed(io::Error::other(format!(
                        "only {n} of {} bytes were sent",
                        message.len()
                    ))));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(failed(e)),
            }
        }
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

/// Parses `WATCHDOG_USEC` and `WATCHDOG_PID`. `Ok(None)`: no watchdog for this process
/// (`WATCHDOG_USEC` unset, or `WATCHDOG_PID` names another process).
fn parse_watchdog(
    usec: Option<&OsStr>,
    pid: Option<&OsStr>,
    our_pid: u32,
) -> Result<Option<Duration>, NotifyError> {
    let Some(usec) = usec else {
        return Ok(None);
    };
    let invalid = |variable, value: &OsStr, reason: String| NotifyError::InvalidWatchdog {
        variable,
        value: value.to_owned(),
        reason,
    };
    let interval = match usec.to_str().map(str::parse::<u64>) {
        Some(Ok(us)) => Duration::from_micros(us),
        Some(Err(e)) if *e.kind() == std::num::IntErrorKind::PosOverflow => Duration::MAX,
        _ => {
            let reason = "it is not a whole number of microseconds".into();
            return Err(invalid(WATCHDOG_USEC, usec, reason));
        }
    };
    if interval.is_zero() {
        let reason = "the watchdog interval must be more than 0".into();
        return Err(invalid(WATCHDOG_USEC, usec, reason));
    }
    if !(WATCHDOG_MIN..=WATCHDOG_MAX).contains(&interval) {
        let reason = format!(
            "the watchdog interval must be between {WATCHDOG_MIN:?} and {} days",
            WATCHDOG_MAX.as_secs() / 86_400
        );
        return Err(invalid(WATCHDOG_USEC, usec, reason));
    }
    let Some(pid) = pid else {
        return Ok(Some(interval));
    };
    match pid.to_str().map(str::parse::<u32>) {
        Some(Ok(pid)) if pid > 0 => Ok((pid == our_pid).then_some(interval)),
        _ => Err(invalid(WATCHDOG_PID, pid, "it is not a process id".into())),
    }
}

/// Who owns the watchdog, once `WATCHDOG_USEC` has turned it on.
///
/// Parsed from and shown as `auto` or `manual`. See the [module docs](self) for why
/// [`Auto`](Watchdog::Auto) is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Watchdog {
    /// A keep-alive thread feeds the watchdog at half its interval until the program
    /// calls [`watchdog`] for the first time; then the program alone feeds it.
    #[default]
    Auto,
    /// Only the program feeds the watchdog, from the start.
    Manual,
}

impl fmt::Display for Watchdog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Watchdog::Auto => "auto",
            Watchdog::Manual => "manual",
        })
    }
}

impl FromStr for Watchdog {
    type Err = ParseWatchdogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Watchdog::Auto),
            "manual" => Ok(Watchdog::Manual),
            _ => Err(ParseWatchdogError {
                value: s.to_owned(),
            }),
        }
    }
}

/// A watchdog mode other than `auto` or `manual`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseWatchdogError {
    value: String,
}

impl fmt::Display for ParseWatchdogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown watchdog mode `{}`; expected `auto` or `manual`",
            self.value.escape_debug()
        )
    }
}

impl std::error::Error for ParseWatchdogError {}

/// The service manager as this process sees it.
#[derive(Debug, Default)]
struct Manager {
    socket: Option<NotifySocket>,
    /// The watchdog interval, when the watchdog applies to this process.
    watchdog: Option<Duration>,
    /// Whether the program has fed the watchdog itself (and so owns it).
    fed: Mutex<bool>,
    fed_changed: Condvar,
    /// Whether a failed send has been logged as a warning already.
    warned: AtomicBool,
}

/// The variables this module reads, as they were.
#[derive(Debug, Default, Clone)]
struct NotifyEnv {
    notify_socket: Option<OsString>,
    watchdog_usec: Option<OsString>,
    watchdog_pid: Option<OsString>,
}

impl NotifyEnv {
    /// Reads the variables, and removes them from the environment where the process
    /// is known to have one thread (`std::env::remove_var` is unsound otherwise).
    fn take(single: Option<&SingleThreaded>) -> NotifyEnv {
        let env = NotifyEnv {
            notify_socket: std::env::var_os(NOTIFY_SOCKET),
            watchdog_usec: std::env::var_os(WATCHDOG_USEC),
            watchdog_pid: std::env::var_os(WATCHDOG_PID),
        };
        if let Some(single) = single {
            for variable in [NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID] {
                single.remove_var(variable);
            }
        }
        env
    }
}

impl Manager {
    /// Connects to the socket `env` names and reads the watchdog settings meant for
    /// `our_pid`. The watchdog variables mean nothing without a socket to feed it through.
    #[cfg(test)]
    fn new(env: &NotifyEnv, our_pid: u32) -> Result<Manager, NotifyError> {
        let Some(value) = &env.notify_socket else {
            return Ok(Manager::default());
        };
        let socket = NotifySocket::connect(value)?;
        let watchdog = parse_watchdog(
            env.watchdog_usec.as_deref(),
            env.watchdog_pid.as_deref(),
            our_pid,
        )?;
        Ok(Manager {
            socket: Some(socket),
            watchdog,
            ..Manager::default()
        })
    }

    fn send(&self, fields: &[Field]) -> Result<(), NotifyError> {
        let Some(socket) = &self.socket else {
            return Ok(());
        };
        socket.send(fields)?;
        if fields != [Field::Watchdog] {
            log::debug!(
                "notified the service manager: {}",
                String::from_utf8_lossy(&encode(fields)).replace('\n', ", ")
            );
        }
        Ok(())
    }

    /// Sends, and logs a failure: the first as a warning, the rest at debug level, so a
    /// manager that went away does not fill the log from a loop that feeds the watchdog.
    fn send_logged(&self, fields: &[Field]) {
        if let Err(e) = self.send(fields) {
            if self.warned.swap(true, Ordering::Relaxed) {
                log::debug!("{e}");
            } else {
                log::warn!("{e} (further failures are logged at debug level)");
            }
        }
    }

    /// The program feeds the watchdog: it owns it from now on.
    fn feed(&self) {
        if self.watchdog.is_none() {
            return;
        }
        let mut fed = lock(&self.fed);
        if !*fed {
            *fed = true;
            self.fed_changed.notify_all();
        }
        drop(fed);
        self.send_logged(&[Field::Watchdog]);
    }

    /// Starts the keep-alive thread if the watchdog applies and `mode` asks for it.
    fn start_keep_alive(
        self: &Arc<Self>,
        mode: Watchdog,
    ) -> Result<Option<JoinHandle<()>>, NotifyError> {
        let (Some(interval), Watchdog::Auto) = (self.watchdog, mode) else {
            return Ok(None);
        };
        let manager = Arc::clone(self);
        let period = interval / 2;
        std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(move || manager.keep_alive(period))
            .map(Some)
            .map_err(|source| NotifyError::Thread { source })
    }

    /// Feeds the watchdog every `period` until the program feeds it itself. The first
    /// ping goes out at once: the interval has been running since the manager started us.
    fn keep_alive(&self, period: Duration) {
        log::debug!("watchdog keep-alive thread feeds the watchdog every {period:?}");
        let mut fed = lock(&self.fed);
        while !*fed {
            drop(fed);
            self.send_logged(&[Field::Watchdog]);
            fed = lock(&self.fed);
            fed = self
                .fed_changed
                .wait_timeout_while(fed, period, |fed| !*fed)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        log::debug!("the program feeds the watchdog itself; the keep-alive thread ends");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process-wide service manager, set once at start-up.
static MANAGER: OnceLock<Arc<Manager>> = OnceLock::new();

/// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`, removes them from the
/// environment (where `single` proves the process has one thread), connects to the
/// socket and keeps it for the calls of this module. `our_pid` is the pid the manager
/// started (the launcher's, when the daemon forks later): the watchdog applies only if
/// `WATCHDOG_PID` is unset or names it.
///
/// The variables are removed even when their values are refused. A second call finds
/// them gone and changes nothing. What is refused is returned, for the caller to report:
/// a socket that cannot be used leaves the program without a manager; a bad watchdog
/// setting leaves it without the watchdog.
pub(crate) fn init_from_env(our_pid: u32, single: Option<&SingleThreaded>) -> Vec<NotifyError> {
    let env = NotifyEnv::take(single);
    let Some(value) = &env.notify_socket else {
        return Vec::new();
    };
    let socket = match NotifySocket::connect(value) {
        Ok(socket) => socket,
        Err(e) => return vec![e],
    };
    let watchdog = parse_watchdog(
        env.watchdog_usec.as_deref(),
        env.watchdog_pid.as_deref(),
        our_pid,
    );
    let (watchdog, refused) = match watchdog {
        Ok(watchdog) => (watchdog, Vec::new()),
        Err(e) => (None, vec![e]),
    };
    let manager = Manager {
        socket: Some(socket),
        watchdog,
        ..Manager::default()
    };
    // A second call would have found no NOTIFY_SOCKET; keeping the first is right.
    let _ = MANAGER.set(Arc::new(manager));
    refused
}

/// Whether a service manager listens (`NOTIFY_SOCKET` was set and connected).
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn is_managed() -> bool {
    MANAGER.get().is_some_and(|m| m.socket.is_some())
}

/// The descriptors this module holds open (the socket), for the daemon's close-all.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn raw_fds() -> Vec<RawFd> {
    MANAGER
        .get()
        .and_then(|m| m.socket.as_ref())
        .map(NotifySocket::raw_fd)
        .into_iter()
        .collect()
}

/// Starts the watchdog keep-alive thread when `WATCHDOG_USEC` applies to this process and
/// `mode` is [`Watchdog::Auto`]. Call it in the process that runs the program (the daemon,
/// after the fork), once nothing forks that must stay single-threaded.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn start_watchdog(mode: Watchdog) -> Result<(), NotifyError> {
    match MANAGER.get() {
        Some(manager) => manager.start_keep_alive(mode).map(drop),
        None => Ok(()),
    }
}

/// Sends `fields` in one datagram. `Ok` without sending when no manager listens.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn send(fields: &[Field]) -> Result<(), NotifyError> {
    MANAGER.get().map_or(Ok(()), |m| m.send(fields))
}

/// `READY=1`, with `MAINPID=` when the manager must be told which process is the main one.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn ready(main_pid: Option<u32>) -> Result<(), NotifyError> {
    let mut fields = vec![Field::Ready];
    fields.extend(main_pid.map(Field::MainPid));
    send(&fields)
}

/// `STOPPING=1`.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn stopping() -> Result<(), NotifyError> {
    send(&[Field::Stopping])
}

/// `RELOADING=1` with `MONOTONIC_USEC=`; send [`ready`] when the reload is done.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn reloading() -> Result<(), NotifyError> {
    send(&[Field::reloading_now()])
}

/// `STATUS=<status>` and `ERRNO=<errno>`: why the service failed.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn failed(errno: i32, status: &str) -> Result<(), NotifyError> {
    send(&[Field::Status(status.to_owned()), Field::Errno(errno)])
}

/// `MAINPID=<pid>`.
#[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
pub(crate) fn main_pid(pid: u32) -> Result<(), NotifyError> {
    send(&[Field::MainPid(pid)])
}

/// Tells the service manager the program's status, one line that `systemctl status`
/// shows. Newlines and other control characters become spaces, and the text is cut to
/// 512 bytes. Does nothing when no manager listens.
pub fn status(text: impl AsRef<str>) {
    if let Some(manager) = MANAGER.get() {
        manager.send_logged(&[Field::Status(text.as_ref().to_owned())]);
    }
}

/// Asks the service manager for `by` more time to finish starting, reloading or stopping
/// (`EXTEND_TIMEOUT_USEC=`). Does nothing when no manager listens.
pub fn extend_timeout(by: Duration) {
    if let Some(manager) = MANAGER.get() {
        manager.send_logged(&[Field::ExtendTimeout(by)]);
    }
}

/// Feeds the watchdog (`WATCHDOG=1`). From the first call on, the program owns the
/// watchdog: the keep-alive thread of [`Watchdog::Auto`] ends, and the manager restarts
/// the service when calls stop coming within [`watchdog_interval`]. Does nothing when the
/// watchdog is off.
pub fn watchdog() {
    if let Some(manager) = MANAGER.get() {
        manager.feed();
    }
}

/// The watchdog interval the manager set for this process (`WATCHDOG_USEC`), if any.
/// Feed it with [`watchdog`] at least twice as often.
pub fn watchdog_interval() -> Option<Duration> {
    MANAGER.get().and_then(|m| m.watchdog)
}

/// The descriptor named by the `notify_fd` setting: s6's `notification-fd`, and any
/// supervisor that waits for a newline on a pipe.
#[derive(Debug)]
pub(crate) struct NotifyFd {
    fd: OwnedFd,
}

impl NotifyFd {
    /// Checks that `fd` is open for writing, makes it close-on-exec (so that programs the
    /// daemon runs do not keep the supervisor's pipe open) and takes it over. A descriptor
    /// that fails the checks is left as it was.
    ///
    /// Descriptors 0 to 2 are refused: the runtime points standard input, output and
    /// error elsewhere, and closing one would let the next `open` take its place.
    ///
    /// # Safety
    ///
    /// If `fd` is open, nothing else in the process may own it: the returned value closes it.
    #[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
    pub(crate) unsafe fn claim(fd: RawFd) -> Result<NotifyFd, NotifyError> {
        let invalid = |reason: &str, source| NotifyError::InvalidNotifyFd {
            fd,
            reason: reason.to_owned(),
            source,
        };
        if fd < 0 {
            return Err(invalid("is not a descriptor number", None));
        }
        if fd <= 2 {
            let reason = "is standard input, output or error, which the runtime redirects; \
                          use a descriptor of 3 or above";
            return Err(invalid(reason, None));
        }
        // SAFETY: F_GETFL takes no pointer and only reads the descriptor's flags; a number
        // that is not open fails with EBADF.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags == -1 {
            return Err(match Errno::last() {
                Errno::EBADF => invalid("is not an open descriptor", None),
                errno => invalid("cannot be inspected", Some(errno)),
            });
        }
        if flags & libc::O_ACCMODE == libc::O_RDONLY {
            return Err(invalid("is open for reading only", None));
        }
        // SAFETY: `fd` is open (F_GETFL succeeded) and the caller guarantees that nothing
        // else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        fcntl(&fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
            .map_err(|errno| invalid("cannot be made close-on-exec", Some(errno)))?;
        Ok(NotifyFd { fd })
    }

    #[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Writes the newline that says "ready", and closes the descriptor. Waits at most a
    /// second for room in the pipe: a supervisor that does not read must not hang the
    /// daemon.
    #[allow(dead_code, reason = "wired into the start-up sequence by the lead")]
    pub(crate) fn send_ready(self) -> Result<(), NotifyError> {
        self.send_ready_within(NOTIFY_FD_TIMEOUT)
    }

    fn send_ready_within(self, timeout: Duration) -> Result<(), NotifyError> {
        let failed = |source| NotifyError::NotifyFdWrite {
            fd: self.fd.as_raw_fd(),
            source,
        };
        wait_writable(&self.fd, timeout).map_err(failed)?;
        loop {
            match nix::unistd::write(&self.fd, b"\n") {
                Ok(_) => break,
                Err(Errno::EINTR) => {}
                Err(errno) => return Err(failed(errno.into())),
            }
        }
        log::debug!("wrote the readiness newline to notify_fd {}", self.raw_fd());
        Ok(())
    }
}

/// Waits until `fd` can be written to (or has an error that `write` will report).
fn wait_writable(fd: &OwnedFd, timeout: Duration) -> io::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the pipe stayed full for {timeout:?}"),
            ));
        }
        let ms = i32::try_from(left.as_millis().max(1)).unwrap_or(i32::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
        match poll(
            &mut fds,
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(()),
            Err(errno) => return Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::SocketAddr;
    use std::path::Path;

    use super::*;

    /// A datagram socket bound in a fresh directory, standing in for the manager.
    fn manager_socket() -> (tempfile::TempDir, UnixDatagram, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        (dir, socket, path)
    }

    fn received(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 8192];
        let n = socket.recv(&mut buf).expect("a notification arrives");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    fn connect(path: &Path) -> NotifySocket {
        NotifySocket::connect(path.as_os_str()).unwrap()
    }

    fn manager(path: &Path, watchdog: Option<Duration>) -> Arc<Manager> {
        Arc::new(Manager {
            socket: Some(connect(path)),
            watchdog,
            ..Manager::default()
        })
    }

    #[test]
    fn each_message_arrives_as_sd_notify_writes_it() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        let cases = [
            (Field::Ready, "READY=1"),
            (Field::Stopping, "STOPPING=1"),
            (Field::Watchdog, "WATCHDOG=1"),
            (Field::Errno(98), "ERRNO=98"),
            (Field::MainPid(4242), "MAINPID=4242"),
            (
                Field::ExtendTimeout(Duration::from_millis(1500)),
                "EXTEND_TIMEOUT_USEC=1500000",
            ),
            (Field::Status("serving".into()), "STATUS=serving"),
        ];
        for (field, text) in cases {
            sender.send(&[field]).unwrap();
            assert_eq!(received(&receiver), text);
        }
    }

    #[test]
    fn fields_sent_together_share_one_datagram() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        let fields = [
            Field::Ready,
            Field::Status("listening on :80".into()),
            Field::MainPid(77),
        ];
        sender.send(&fields).unwrap();
        sender.send(&[Field::Stopping]).unwrap();
        assert_eq!(
            received(&receiver),
            "READY=1\nSTATUS=listening on :80\nMAINPID=77"
        );
        assert_eq!(received(&receiver), "STOPPING=1");
    }

    #[test]
    fn status_is_one_bounded_line() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        let injected = "loading\nREADY=1\r\n\tzones\n";
        sender
            .send(&[Field::Status(injected.into()), Field::Errno(5)])
            .unwrap();
        assert_eq!(
            received(&receiver),
            "STATUS=loading READY=1   zones\nERRNO=5"
        );

        // 300 two-byte characters: the cut falls on a character boundary.
        sender.send(&[Field::Status("é".repeat(300))]).unwrap();
        let status = received(&receiver);
        let text = status.strip_prefix("STATUS=").unwrap();
        assert_eq!(text, "é".repeat(STATUS_MAX / 2));
    }

    #[test]
    fn reloading_carries_the_monotonic_clock() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        let before = monotonic_usec().unwrap();
        sender.send(&[Field::reloading_now()]).unwrap();
        let after = monotonic_usec().unwrap();
        let message = received(&receiver);
        let usec: u64 = message
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .unwrap_or_else(|| panic!("unexpected message {message:?}"))
            .parse()
            .unwrap();
        assert!(
            (before..=after).contains(&usec),
            "{before} <= {usec} <= {after}"
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        use std::sync::atomic::AtomicU32;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "daemon-runtime-notify-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let receiver = UnixDatagram::bind_addr(&address).unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let sender = NotifySocket::connect(OsStr::new(&format!("@{name}"))).unwrap();
        sender.send(&[Field::Ready, Field::MainPid(9)]).unwrap();
        assert_eq!(received(&receiver), "READY=1\nMAINPID=9");
    }

    #[test]
    fn connected_socket_outlives_its_path() {
        // What chroot does to the path: it no longer leads to the manager's socket.
        let (dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        std::fs::remove_file(&path).unwrap();
        sender.send(&[Field::Ready]).unwrap();
        assert_eq!(received(&receiver), "READY=1");
        drop(dir);
    }

    #[test]
    fn socket_is_close_on_exec() {
        let (_dir, _receiver, path) = manager_socket();
        let sender = connect(&path);
        let flags = fcntl(&sender.socket, FcntlArg::F_GETFD).unwrap();
        assert!(FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC));
    }

    #[test]
    fn sends_never_block() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        // Checked first, so that a regression fails here instead of hanging below.
        let flags = fcntl(&sender.socket, FcntlArg::F_GETFL).unwrap();
        assert_ne!(flags & libc::O_NONBLOCK, 0, "the socket is non-blocking");
        // Nobody reads: the manager's queue fills, and a send fails instead of waiting.
        let error = (0..1_000_000)
            .find_map(|_| sender.send(&[Field::Watchdog]).err())
            .expect("a full queue makes a send fail");
        let NotifyError::Send { source, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(source.kind(), io::ErrorKind::WouldBlock, "{error}");
        drop(receiver);
    }

    #[test]
    fn failed_send_names_the_socket() {
        let (_dir, receiver, path) = manager_socket();
        let sender = connect(&path);
        drop(receiver);
        let error = sender.send(&[Field::Ready]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with(&format!(
                "cannot notify the service manager at NOTIFY_SOCKET=`{}`: ",
                path.display()
            )),
            "{text}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn connect_failure_names_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent");
        let error = NotifySocket::connect(path.as_os_str()).unwrap_err();
        let NotifyError::Connect { source, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(source.kind(), io::ErrorKind::NotFound);
        assert!(
            error.to_string().starts_with(&format!(
                "cannot connect to the service manager's socket NOTIFY_SOCKET=`{}`: ",
                path.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn bad_socket_values_are_refused() {
        let long_path = format!("/{}", "a".repeat(SUN_PATH_LEN - 1));
        let cases = [
            ("", "invalid NOTIFY_SOCKET ``: it is empty".to_owned()),
            (
                "run/notify",
                "invalid NOTIFY_SOCKET `run/notify`: it is neither an absolute path nor an \
                 abstract socket name starting with `@`"
                    .to_owned(),
            ),
            (
                "@",
                "invalid NOTIFY_SOCKET `@`: the abstract socket name after `@` is empty".to_owned(),
            ),
            (
                "vsock:2:1234",
                "invalid NOTIFY_SOCKET `vsock:2:1234`: AF_VSOCK addresses (a service manager \
                 outside a virtual machine) are not supported"
                    .to_owned(),
            ),
            (
                long_path.as_str(),
                format!(
                    "invalid NOTIFY_SOCKET `{long_path}`: the path is {} bytes long, and a Unix \
                     socket path has at most {}",
                    SUN_PATH_LEN,
                    SUN_PATH_LEN - 1
                ),
            ),
            (
                "run\nnotify",
                "invalid NOTIFY_SOCKET `run\\nnotify`: it is neither an absolute path nor an \
                 abstract socket name starting with `@`"
                    .to_owned(),
            ),
        ];
        for (value, text) in cases {
            let error = NotifySocket::connect(OsStr::new(value)).unwrap_err();
            assert_eq!(error.to_string(), text);
        }
        #[cfg(target_os = "linux")]
        {
            let long_name = format!("@{}", "a".repeat(SUN_PATH_LEN));
            let error = NotifySocket::connect(OsStr::new(&long_name)).unwrap_err();
            assert!(
                error.to_string().ends_with(&format!(
                    "the abstract socket name is {SUN_PATH_LEN} bytes long, and at most {} fit",
                    SUN_PATH_LEN - 1
                )),
                "{error}"
            );
        }
        let nul = OsStr::from_bytes(b"/run/a\0b");
        assert!(
            NotifySocket::connect(nul)
                .unwrap_err()
                .to_string()
                .ends_with("it contains a NUL byte")
        );
    }

    fn watchdog_of(usec: &str, pid: Option<&str>) -> Result<Option<Duration>, NotifyError> {
        parse_watchdog(Some(OsStr::new(usec)), pid.map(OsStr::new), 100)
    }

    #[test]
    fn watchdog_settings() {
        assert_eq!(parse_watchdog(None, None, 100).unwrap(), None);
        let thirty = Some(Duration::from_secs(30));
        assert_eq!(watchdog_of("30000000", None).unwrap(), thirty);
        assert_eq!(watchdog_of("30000000", Some("100")).unwrap(), thirty);
        assert_eq!(watchdog_of("30000000", Some("101")).unwrap(), None);
        let cases = [
            (
                "0",
                None,
                "invalid WATCHDOG_USEC `0`: the watchdog interval must be more than 0",
            ),
            (
                "abc",
                None,
                "invalid WATCHDOG_USEC `abc`: it is not a whole number of microseconds",
            ),
            (
                "-5",
                None,
                "invalid WATCHDOG_USEC `-5`: it is not a whole number of microseconds",
            ),
            (
                "18446744073709551615",
                None,
                "invalid WATCHDOG_USEC `18446744073709551615`: the watchdog interval must be \
                 between 1ms and 7 days",
            ),
            (
                "99999999999999999999999",
                None,
                "invalid WATCHDOG_USEC `99999999999999999999999`: the watchdog interval must \
                 be between 1ms and 7 days",
            ),
            (
                "999",
                None,
                "invalid WATCHDOG_USEC `999`: the watchdog interval must be between 1ms and 7 \
                 days",
            ),
            (
                "30000000",
                Some("me"),
                "invalid WATCHDOG_PID `me`: it is not a process id",
            ),
            (
                "30000000",
                Some("0"),
                "invalid WATCHDOG_PID `0`: it is not a process id",
            ),
        ];
        for (usec, pid, text) in cases {
            assert_eq!(watchdog_of(usec, pid).unwrap_err().to_string(), text);
        }
    }

    #[test]
    fn manager_from_values() {
        let (_dir, receiver, path) = manager_socket();
        let env = NotifyEnv {
            notify_socket: Some(path.clone().into_os_string()),
            watchdog_usec: Some("2000000".into()),
            watchdog_pid: Some("100".into()),
        };
        let manager = Manager::new(&env, 100).unwrap();
        assert_eq!(manager.watchdog, Some(Duration::from_secs(2)));
        manager.send(&[Field::Ready]).unwrap();
        assert_eq!(received(&receiver), "READY=1");

        // Another process's watchdog, and no socket at all.
        assert_eq!(Manager::new(&env, 200).unwrap().watchdog, None);
        let silent = NotifyEnv {
            notify_socket: None,
            ..env.clone()
        };
        let manager = Manager::new(&silent, 100).unwrap();
        assert!(manager.socket.is_none() && manager.watchdog.is_none());
        manager.send(&[Field::Ready]).unwrap();

        let bad = NotifyEnv {
            watchdog_usec: Some("soon".into()),
            ..env
        };
        assert!(matches!(
            Manager::new(&bad, 100),
            Err(NotifyError::InvalidWatchdog {
                variable: "WATCHDOG_USEC",
                ..
            })
        ));
    }

    /// Joins `thread`, failing the test if it has not ended within ten seconds.
    fn joined_soon(thread: JoinHandle<()>) {
        let (done, ended) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            thread.join().unwrap();
            let _ = done.send(());
        });
        ended
            .recv_timeout(Duration::from_secs(10))
            .expect("the keep-alive thread ends once the program feeds the watchdog");
    }

    #[test]
    fn auto_watchdog_keeps_alive_until_the_program_feeds_it() {
        let (_dir, receiver, path) = manager_socket();
        let manager = manager(&path, Some(Duration::from_millis(100)));
        let thread = manager.start_keep_alive(Watchdog::Auto).unwrap().unwrap();
        // The first ping at once, the next after half the interval.
        assert_eq!(received(&receiver), "WATCHDOG=1");
        assert_eq!(received(&receiver), "WATCHDOG=1");
        manager.feed();
        joined_soon(thread);
        assert!(*lock(&manager.fed));
        // The program's own ping arrived (after or among the thread's).
        receiver.set_nonblocking(true).unwrap();
        let mut pings = 0;
        let mut buf = [0u8; 64];
        while let Ok(n) = receiver.recv(&mut buf) {
            assert_eq!(&buf[..n], b"WATCHDOG=1");
            pings += 1;
        }
        assert!(pings >= 1);
    }

    #[test]
    fn keep_alive_thread_only_when_it_applies() {
        let (_dir, _receiver, path) = manager_socket();
        let watched = manager(&path, Some(Duration::from_secs(60)));
        assert!(
            watched
                .start_keep_alive(Watchdog::Manual)
                .unwrap()
                .is_none()
        );
        let unwatched = manager(&path, None);
        assert!(
            unwatched
                .start_keep_alive(Watchdog::Auto)
                .unwrap()
                .is_none()
        );
        // A program that already feeds the watchdog: the thread ends without a ping.
        watched.feed();
        joined_soon(watched.start_keep_alive(Watchdog::Auto).unwrap().unwrap());
    }

    #[test]
    fn feeding_an_unset_watchdog_sends_nothing() {
        let (_dir, receiver, path) = manager_socket();
        let manager = manager(&path, None);
        manager.feed();
        manager.send(&[Field::Stopping]).unwrap();
        assert_eq!(received(&receiver), "STOPPING=1");
    }

    #[test]
    fn watchdog_mode_names() {
        assert_eq!(Watchdog::default(), Watchdog::Auto);
        for mode in [Watchdog::Auto, Watchdog::Manual] {
            assert_eq!(mode.to_string().parse::<Watchdog>().unwrap(), mode);
        }
        assert_eq!("manual".parse::<Watchdog>().unwrap(), Watchdog::Manual);
        assert_eq!(
            "Auto".parse::<Watchdog>().unwrap_err().to_string(),
            "unknown watchdog mode `Auto`; expected `auto` or `manual`"
        );
    }

    fn cloexec(fd: &impl AsFd) -> bool {
        let flags = fcntl(fd, FcntlArg::F_GETFD).unwrap();
        FdFlag::from_bits_truncate(flags).contains(FdFlag::FD_CLOEXEC)
    }

    fn read_all(fd: OwnedFd) -> Vec<u8> {
        let mut all = Vec::new();
        let mut file = std::fs::File::from(fd);
        io::Read::read_to_end(&mut file, &mut all).unwrap();
        all
    }

    #[test]
    fn notify_fd_writes_one_newline_and_closes() {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        // SAFETY: `write` is open, and `into_raw_fd` gives up its ownership.
        let notify = unsafe { NotifyFd::claim(std::os::fd::IntoRawFd::into_raw_fd(write)) };
        notify.unwrap().send_ready().unwrap();
        // End of file right after the newline: the write end is closed.
        assert_eq!(read_all(read), b"\n");
    }

    #[test]
    fn notify_fd_becomes_close_on_exec() {
        let (_read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        fcntl(&write, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
        // SAFETY: `write` is open, and `into_raw_fd` gives up its ownership.
        let notify = unsafe { NotifyFd::claim(std::os::fd::IntoRawFd::into_raw_fd(write)) };
        assert!(cloexec(&notify.unwrap().fd));
    }

    #[test]
    fn notify_fd_must_be_open_for_writing() {
        let (read, _write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let fd = read.as_raw_fd();
        // SAFETY: the claim fails before taking the descriptor over.
        let error = unsafe { NotifyFd::claim(fd) }.unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("notify_fd {fd} is open for reading only")
        );
        // Still ours, still open.
        assert!(cloexec(&read));

        // No descriptor can have a number this high (RLIMIT_NOFILE is far lower).
        // SAFETY: the number is not open, so there is nothing to take over.
        let error = unsafe { NotifyFd::claim(i32::MAX) }.unwrap_err();
        assert_eq!(
            error.to_string(),
            "notify_fd 2147483647 is not an open descriptor"
        );
        // SAFETY: refused before any system call.
        let error = unsafe { NotifyFd::claim(1) }.unwrap_err();
        assert_eq!(
            error.to_string(),
            "notify_fd 1 is standard input, output or error, which the runtime redirects; use \
             a descriptor of 3 or above"
        );
        // SAFETY: refused before any system call.
        let error = unsafe { NotifyFd::claim(-1) }.unwrap_err();
        assert_eq!(error.to_string(), "notify_fd -1 is not a descriptor number");
    }

    #[test]
    fn notify_fd_full_pipe_times_out() {
        use nix::fcntl::OFlag;
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC | OFlag::O_NONBLOCK).unwrap();
        let chunk = [b'x'; 4096];
        while nix::unistd::write(&write, &chunk).is_ok() {}
        let fd = write.as_raw_fd();
        // SAFETY: `write` is open, and `into_raw_fd` gives up its ownership.
        let notify = unsafe { NotifyFd::claim(std::os::fd::IntoRawFd::into_raw_fd(write)) };
        let error = notify
            .unwrap()
            .send_ready_within(Duration::from_millis(50))
            .unwrap_err();
        let NotifyError::NotifyFdWrite { source, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(source.kind(), io::ErrorKind::TimedOut);
        assert_eq!(
            error.to_string(),
            format!(
                "cannot write the readiness newline to notify_fd {fd}: the pipe stayed full for 50ms"
            )
        );
        drop(read);
    }

    #[test]
    fn notify_fd_reader_gone() {
        let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        drop(read);
        // SAFETY: `write` is open, and `into_raw_fd` gives up its ownership.
        let notify = unsafe { NotifyFd::claim(std::os::fd::IntoRawFd::into_raw_fd(write)) };
        let error = notify.unwrap().send_ready().unwrap_err();
        let NotifyError::NotifyFdWrite { source, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(source.kind(), io::ErrorKind::BrokenPipe);
    }
}
