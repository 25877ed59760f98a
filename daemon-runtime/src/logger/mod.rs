//! A [`log`] backend that writes where an administrator looks for a daemon's messages
//! (design, section 11).
//!
//! # Targets
//!
//! | target | where records go | form |
//! |---|---|---|
//! | `journal` | systemd-journald's native socket, `/run/systemd/journal/socket` | one datagram of fields per record: `MESSAGE`, `PRIORITY`, `SYSLOG_IDENTIFIER`, `SYSLOG_PID`, `TARGET`, `CODE_FILE`, `CODE_LINE`, `CODE_MODULE` |
//! | `syslog` | the local syslog socket, `/dev/log` (`/var/run/syslog` on macOS, `/var/run/log` on FreeBSD; setting `syslog_socket`) | `<PRI>name[pid]: message`, facility `daemon` |
//! | `file` | descriptor 2, which the runtime points at the `stderr` log file and reopens on SIGHUP | `2026-12-02T17:00:00.123Z INFO target: message` (UTC) |
//! | `stderr` | descriptor 2, for the foreground | `INFO target: message`, the level in colour on a terminal unless `NO_COLOR` is set |
//! | `none` | nowhere: nothing is installed, for programs that bring their own logger | |
//! | `auto` | one of the above, see below | |
//!
//! Levels map to syslog severities as error 3, warn 4, info 6, debug and trace 7; the
//! runtime's own fatal records (an error returned by the program, a panic) are crit 2,
//! shown as `CRIT` by the text targets. Lines after the first of a multi-line message
//! are indented by two spaces in the text targets and escaped as `#012` for syslog.
//!
//! # How `auto` chooses
//!
//! [`resolve_auto`], in this order:
//! 1. `journal` if standard error is the journal's stream (`JOURNAL_STREAM` names the
//!    descriptor, see [`journal_matches_stderr`]): the program runs under systemd, and
//!    the native protocol keeps levels and fields that the stream would flatten.
//! 2. `syslog` for a detached daemon without a `stderr` log file, if the syslog socket
//!    accepts a connection; if it does not, a warning, and the next rule.
//! 3. `file` if a `stderr` log file is set.
//! 4. `stderr` otherwise (the foreground, or a supervisor's log pipe).
//!
//! # Never blocking, never silently losing
//!
//! Sockets are non-blocking and close-on-exec; descriptor 2 is polled with a zero
//! timeout before each write (it stays blocking for the rest of the program). A record
//! the destination cannot take now (a full socket queue or pipe, a full disk, journald
//! or rsyslog restarting) is dropped and counted, and the next record that gets through
//! is preceded by a warning `N log records dropped`. A socket whose peer went away is
//! reconnected by path at most once a second, on a later record. The logger takes a
//! lock per record (sends never wait, so it is held briefly), starts no thread, and
//! never panics; it formats the message before taking the lock, so a `Display` impl
//! that logs cannot deadlock it.
//!
//! # Why no logging crate
//!
//! One backend serves every target so that all of them keep the same promises: never
//! block, count and report what was dropped, reconnect, survive the fork and the
//! `chroot`, and retarget without a second `log::set_logger` (which `log` allows once).
//! Crates exist per destination (`systemd-journal-logger`, `syslog`, `env_logger` for
//! stderr); combining three loggers behind a dispatcher would still need this module's
//! filter, drop counting and retargeting, and adds their dependencies to every daemon.
//! The protocols are small: the journal's is one datagram of `KEY=VALUE` lines, syslog's
//! one RFC 3164 line.
//!
//! # `tracing`
//!
//! Programs instrumented with `tracing` reach the same destinations with one line in
//! their `Cargo.toml`:
//!
//! ```toml
//! tracing = { version = "0.1", features = ["log"] }
//! ```
//!
//! With the `log` feature, each `tracing` event also becomes a `log` record when no
//! `tracing` subscriber is installed; with `log-always` it does even when one is (then
//! do not also convert `log` records into `tracing` events, or each is logged twice).
//! Spans log their creation under the target `tracing::span` and, at trace level,
//! their entries and exits under `tracing::span::active`; `tracing::span=off` in the
//! filter silences both.
//!
//! # In the start-up sequence
//!
//! The launcher installs the logger with its own target ([`install`]), so start-up
//! messages reach the terminal. The daemon, after the fork and the closing of inherited
//! descriptors (keeping the logger's socket), and before any `chroot`, switches it to
//! the daemon's target ([`retarget`]). Every record carries the pid of the process that
//! logs it. A socket target reconnects by path, which a daemon inside a `chroot`
//! cannot reach: there, records are dropped and counted once the syslog daemon or
//! journald restarts.

mod fd;
mod file;
mod filter;
mod journal;
pub(crate) mod setup;
mod socket;
mod stderr;
mod syslog;

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt::{self, Write as _};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, RawFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Instant, SystemTime};

use log::{Level, LevelFilter, Log, Metadata, Record};

pub use filter::{FilterError, LogFilter};
pub use journal::journal_matches_stderr;

use socket::Socket;

/// The platform's local syslog socket: `/dev/log`, `/var/run/syslog` on macOS,
/// `/var/run/log` on FreeBSD.
pub(crate) fn default_syslog_socket() -> &'static Path {
    Path::new(syslog::DEFAULT_SOCKET)
}

/// Where the logger writes. See the [module documentation](self) for each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LogTarget {
    /// Chosen from the environment by [`resolve_auto`].
    #[default]
    Auto,
    /// systemd-journald's native protocol.
    Journal,
    /// The local syslog socket, facility `daemon`.
    Syslog,
    /// Timestamped lines on descriptor 2 (the `stderr` log file).
    File,
    /// Human-readable lines on descriptor 2.
    Stderr,
    /// No logger: the program brings its own.
    None,
}

impl LogTarget {
    const ALL: [LogTarget; 6] = [
        LogTarget::Auto,
        LogTarget::Journal,
        LogTarget::Syslog,
        LogTarget::File,
        LogTarget::Stderr,
        LogTarget::None,
    ];

    /// The name a setting gives this target.
    pub const fn name(self) -> &'static str {
        match self {
            LogTarget::Auto => "auto",
            LogTarget::Journal => "journal",
            LogTarget::Syslog => "syslog",
            LogTarget::File => "file",
            LogTarget::Stderr => "stderr",
            LogTarget::None => "none",
        }
    }
}

impl fmt::Display for LogTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogTarget {
    type Err = ParseTargetError;

    fn from_str(s: &str) -> Result<Self, ParseTargetError> {
        LogTarget::ALL
            .into_iter()
            .find(|target| target.name() == s)
            .ok_or_else(|| ParseTargetError {
                value: s.to_owned(),
            })
    }
}

/// A log target name that is not one of the targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseTargetError {
    value: String,
}

impl fmt::Display for ParseTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown log target `{}`; expected one of ", self.value)?;
        for (i, target) in LogTarget::ALL.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}`{target}`")?;
        }
        Ok(())
    }
}

impl StdError for ParseTargetError {}

/// What the logger is set up with: [`install`] and [`retarget`] take one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoggerConfig {
    /// Where records go. `Auto` here resolves as for the foreground: the journal if
    /// standard error is its stream, stderr otherwise; the start sequence resolves it
    /// with [`resolve_auto`] instead, which knows more.
    pub target: LogTarget,
    /// Which records pass.
    pub filter: LogFilter,
    /// The program's name: `SYSLOG_IDENTIFIER` in the journal, the tag in syslog.
    pub ident: String,
    /// The syslog daemon's socket.
    pub syslog_socket: PathBuf,
    /// journald's native-protocol socket.
    pub journal_socket: PathBuf,
}

impl LoggerConfig {
    /// The configuration for `target`, with the `info` filter and the usual sockets.
    pub fn new(ident: impl Into<String>, target: LogTarget) -> Self {
        LoggerConfig {
            target,
            filter: LogFilter::default(),
            ident: ident.into(),
            syslog_socket: PathBuf::from(syslog::DEFAULT_SOCKET),
            journal_socket: PathBuf::from(journal::DEFAULT_SOCKET),
        }
    }
}

/// Why the logger could not be installed or cannot reach its destination.
#[derive(Debug)]
#[non_exhaustive]
pub enum LogError {
    /// The program installed its own `log` logger before the runtime's. Nothing was
    /// changed: the program's logger stays. The `none` target keeps it without asking.
    OtherLogger,
    /// The target's socket does not accept a connection now. The logger writes to the
    /// target all the same and reconnects at most once a second (a syslog daemon that
    /// starts later is picked up); until then records are dropped and counted.
    Unreachable {
        /// `journal` or `syslog`.
        target: LogTarget,
        /// The socket's path.
        path: PathBuf,
        /// The error from `connect`.
        source: io::Error,
    },
    /// `auto` chose syslog for a detached daemon, but the syslog socket does not accept
    /// a connection: [`resolve_auto`] fell back to stderr.
    NoSyslog {
        /// The syslog socket's path.
        path: PathBuf,
        /// The error from `connect`.
        source: io::Error,
    },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::OtherLogger => f.write_str(
                "the program installed its own `log` logger; set the log target to `none` to \
                 keep it without this message",
            ),
            LogError::Unreachable {
                target,
                path,
                source,
            } => write!(
                f,
                "cannot reach {target} at {}: {source}; its records are dropped until it can \
                 be reached",
                path.display()
            ),
            LogError::NoSyslog { path, source } => write!(
                f,
                "cannot reach syslog at {}: {source}; logging to standard error instead, which \
                 a detached daemon without a stderr log file sends to /dev/null",
                path.display()
            ),
        }
    }
}

impl StdError for LogError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            LogError::Unreachable { source, .. } | LogError::NoSyslog { source, .. } => {
                Some(source)
            }
            LogError::OtherLogger => None,
        }
    }
}

/// What [`resolve_auto`] decides from.
#[derive(Debug, Clone, Copy)]
pub struct AutoInputs<'a> {
    /// [`journal_matches_stderr`] of the launching process: a daemon detached from a
    /// systemd service still writes to that service's journal.
    pub journal_stream_matches: bool,
    /// Whether the program detaches.
    pub detached: bool,
    /// Whether descriptor 2 will be the `stderr` log file (a detached daemon with the
    /// `stderr` setting; in the foreground, where the runtime leaves stdio alone, false).
    pub stderr_log_file: bool,
    /// The syslog socket to probe.
    pub syslog_socket: &'a Path,
}

/// The concrete target `auto` stands for, and why it is not syslog when syslog was
/// the choice but its socket did not answer.
#[derive(Debug)]
pub struct Resolved {
    /// `journal`, `syslog`, `file` or `stderr`.
    pub target: LogTarget,
    /// A warning for the terminal ([`LogError::NoSyslog`]): syslog was skipped because
    /// its socket is unreachable.
    pub warning: Option<LogError>,
}

/// Resolves `auto` as the [module documentation](self) describes. Probes the syslog
/// socket by connecting to it when syslog is the candidate.
pub fn resolve_auto(inputs: &AutoInputs<'_>) -> Resolved {
    let mut warning = None;
    if inputs.journal_stream_matches {
        return Resolved {
            target: LogTarget::Journal,
            warning,
        };
    }
    if inputs.detached && !inputs.stderr_log_file {
        match socket::probe(inputs.syslog_socket) {
            Ok(()) => {
                return Resolved {
                    target: LogTarget::Syslog,
                    warning,
                };
            }
            Err(source) => {
                warning = Some(LogError::NoSyslog {
                    path: inputs.syslog_socket.to_owned(),
                    source,
                });
            }
        }
    }
    let target = if inputs.stderr_log_file {
        LogTarget::File
    } else {
        LogTarget::Stderr
    };
    Resolved { target, warning }
}

/// Installs the logger as the `log` facade's, writing to `config.target`, and sets
/// `log`'s maximum level from the filter. Calling it again retargets. The `none`
/// target installs nothing.
///
/// # Errors
///
/// [`LogError::OtherLogger`] if the program installed a logger of its own (nothing
/// changed); [`LogError::Unreachable`] if the target's socket does not answer (the
/// logger is installed and retries).
pub fn install(config: LoggerConfig) -> Result<(), LogError> {
    if config.target == LogTarget::None && !INSTALLED.load(Ordering::Acquire) {
        return Ok(());
    }
    // Configured before it is installed, so no record meets an unconfigured logger.
    let configured = LOGGER.configure(config);
    if !INSTALLED.swap(true, Ordering::AcqRel) && log::set_logger(&LOGGER).is_err() {
        INSTALLED.store(false, Ordering::Release);
        // Drop the socket just opened: this logger will never write to it.
        let _ = LOGGER.configure(LoggerConfig::new("", LogTarget::None));
        return Err(LogError::OtherLogger);
    }
    log::set_max_level(LOGGER.max_level());
    configured
}

/// Switches the installed logger to `config`: in the daemon after the fork (its
/// destination usually differs from the launcher's), or when the settings change.
/// Does nothing when the logger is not installed (the `none` target, or the program's
/// own logger).
///
/// # Errors
///
/// [`LogError::Unreachable`] if the target's socket does not answer; the logger writes
/// to it all the same and retries.
pub fn retarget(config: LoggerConfig) -> Result<(), LogError> {
    if !INSTALLED.load(Ordering::Acquire) {
        return Ok(());
    }
    let configured = LOGGER.configure(config);
    log::set_max_level(LOGGER.max_level());
    configured
}

/// Whether the runtime's logger is installed (not the program's own, not `none`).
pub(crate) fn installed() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// How many records were dropped and not yet reported by a `N log records dropped`
/// record.
pub fn dropped() -> u64 {
    LOGGER.dropped.load(Ordering::Relaxed)
}

/// The logger's descriptor, if it holds one: the daemon's closing of inherited
/// descriptors must keep it, or a later record would write to whatever file reuses
/// the number.
#[allow(dead_code)] // Until the start sequence calls it.
pub(crate) fn fds() -> Vec<RawFd> {
    LOGGER.lock_state().sink.raw_fd().into_iter().collect()
}

/// Logs `message` at crit, whatever the filter says: for what the runtime must never
/// lose, such as the error the program's body returned. If the target's socket does
/// not take it, it goes to descriptor 2 as a `file` line as well. Without the runtime's
/// logger it goes through the program's, at error.
#[allow(dead_code)] // Until the start sequence calls it.
pub(crate) fn fatal(message: &str) {
    fatal_entry(&Entry {
        severity: Severity::Crit,
        target: "daemon_runtime",
        message,
        module: None,
        file: None,
        line: None,
    });
}

/// Logs a panic as [`fatal`] does, with its location: for the runtime's panic hook.
#[allow(dead_code)] // Until the start sequence calls it.
pub(crate) fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    // `PanicHookInfo::payload_as_str` would do, from Rust 1.91 (the MSRV is 1.89).
    let payload = info
        .payload()
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let location = info.location();
    let message = match location {
        Some(at) => format!("panicked at {at}: {payload}"),
        None => format!("panicked: {payload}"),
    };
    fatal_entry(&Entry {
        severity: Severity::Crit,
        target: "panic",
        message: &message,
        module: None,
        file: location.map(|at| at.file()),
        line: location.map(|at| at.line()),
    });
}

fn fatal_entry(entry: &Entry<'_>) {
    if INSTALLED.load(Ordering::Acquire) && LOGGER.fatal(entry, Instant::now()) {
        return;
    }
    log::logger().log(
        &Record::builder()
            .level(Level::Error)
            .target(entry.target)
            .file(entry.file)
            .line(entry.line)
            .args(format_args!("{}", entry.message))
            .build(),
    );
}

static LOGGER: Logger = Logger::new();

/// Whether [`LOGGER`] is the `log` facade's logger.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The logger: a filter read on every record, and a sink written under a lock.
struct Logger {
    /// Apart from the sink, so that a disabled record never waits for a write.
    filter: RwLock<LogFilter>,
    state: Mutex<State>,
    /// Records dropped since the last `N log records dropped` record.
    dropped: AtomicU64,
}

struct State {
    ident: String,
    sink: Sink,
    /// The record being encoded, kept to save an allocation per record.
    buf: Vec<u8>,
}

/// Where records go, with what writing there needs.
enum Sink {
    Off,
    Journal(Socket),
    Syslog(Socket),
    File(Out),
    Stderr { out: Out, colour: bool },
}

/// The descriptor the text targets write to.
enum Out {
    /// Descriptor 2, whatever it points at when the record is written.
    Stderr(io::Stderr),
    /// Another descriptor, so tests can stand in a pipe.
    #[cfg(test)]
    Fd(std::os::fd::OwnedFd),
}

impl Out {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Out::Stderr(stderr) => stderr.as_fd(),
            #[cfg(test)]
            Out::Fd(fd) => fd.as_fd(),
        }
    }
}

/// A record as the sinks see it.
struct Entry<'a> {
    severity: Severity,
    target: &'a str,
    message: &'a str,
    module: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
}

/// A record's severity: `log`'s levels, and crit for the runtime's fatal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    Crit,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl Severity {
    /// The syslog severity (RFC 5424, 6.2.1), also the journal's `PRIORITY`. Trace has
    /// none of its own and shares debug's.
    const fn syslog(self) -> u8 {
        match self {
            Severity::Crit => 2,
            Severity::Error => 3,
            Severity::Warn => 4,
            Severity::Info => 6,
            Severity::Debug | Severity::Trace => 7,
        }
    }

    const fn label(self) -> &'static str {
        match self {
            Severity::Crit => "CRIT",
            Severity::Error => "ERROR",
            Severity::Warn => "WARN",
            Severity::Info => "INFO",
            Severity::Debug => "DEBUG",
            Severity::Trace => "TRACE",
        }
    }
}

impl From<Level> for Severity {
    fn from(level: Level) -> Self {
        match level {
            Level::Error => Severity::Error,
            Level::Warn => Severity::Warn,
            Level::Info => Severity::Info,
            Level::Debug => Severity::Debug,
            Level::Trace => Severity::Trace,
        }
    }
}

/// `message`, or as much of it as fits in `max` bytes with a marker saying how many
/// bytes were cut, cut on a character boundary.
fn truncated(message: &str, max: usize) -> Cow<'_, str> {
    if message.len() <= max {
        return Cow::Borrowed(message);
    }
    // The longest marker: " [truncated 18446744073709551615 bytes]".
    const MARKER_MAX: usize = 39;
    let mut keep = max.saturating_sub(MARKER_MAX);
    while !message.is_char_boundary(keep) {
        keep -= 1;
    }
    let cut = message.len() - keep;
    Cow::Owned(format!("{} [truncated {cut} bytes]", &message[..keep]))
}

impl Logger {
    const fn new() -> Self {
        Logger {
            filter: RwLock::new(LogFilter::new(LevelFilter::Off)),
            state: Mutex::new(State {
                ident: String::new(),
                sink: Sink::Off,
                buf: Vec::new(),
            }),
            dropped: AtomicU64::new(0),
        }
    }

    /// Switches to `config`; the old sink's socket, if any, is closed.
    fn configure(&self, config: LoggerConfig) -> Result<(), LogError> {
        let (sink, result) = Sink::open(&config, Instant::now());
        let filter = match config.target {
            LogTarget::None => LogFilter::new(LevelFilter::Off),
            _ => config.filter,
        };
        let mut state = self.lock_state();
        state.ident = syslog::sanitize_ident(&config.ident);
        state.sink = sink;
        *self.filter.write().unwrap_or_else(PoisonError::into_inner) = filter;
        result
    }

    fn max_level(&self) -> LevelFilter {
        self.read_filter().max_level()
    }

    fn read_filter(&self) -> std::sync::RwLockReadGuard<'_, LogFilter> {
        // Nothing panics while holding either lock; should a caller's panic ever poison
        // one, the data is still whole and logging goes on.
        self.filter.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes `entry`, after the report of earlier drops if one is owed; false if the
    /// entry was dropped (and counted).
    fn submit(&self, entry: &Entry<'_>, now: Instant) -> bool {
        let mut state = self.lock_state();
        self.submit_locked(&mut state, entry, now)
    }

    fn submit_locked(&self, state: &mut State, entry: &Entry<'_>, now: Instant) -> bool {
        let owed = self.dropped.load(Ordering::Relaxed);
        if owed > 0 {
            let plural = if owed == 1 { "" } else { "s" };
            let report = format!("{owed} log record{plural} dropped");
            let notice = Entry {
                severity: Severity::Warn,
                target: "daemon_runtime::logger",
                message: &report,
                module: None,
                file: None,
                line: None,
            };
            if !state.write(&notice, now) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            self.dropped.fetch_sub(owed, Ordering::Relaxed);
        }
        let written = state.write(entry, now);
        if !written {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        written
    }

    /// Writes a fatal entry, falling back to descriptor 2 when a socket does not take
    /// it; false if there is no sink (the `none` target).
    fn fatal(&self, entry: &Entry<'_>, now: Instant) -> bool {
        let mut state = self.lock_state();
        if matches!(state.sink, Sink::Off) {
            return false;
        }
        if !self.submit_locked(&mut state, entry, now)
            && matches!(state.sink, Sink::Journal(_) | Sink::Syslog(_))
        {
            state.buf.clear();
            file::format(&mut state.buf, entry, SystemTime::now());
            fd::write_record(io::stderr().as_fd(), &state.buf);
        }
        true
    }
}

impl Sink {
    fn open(config: &LoggerConfig, now: Instant) -> (Sink, Result<(), LogError>) {
        let target = match config.target {
            LogTarget::Auto => foreground_target(),
            target => target,
        };
        let connect = |path: &Path| {
            let (socket, result) = Socket::connect(path.to_owned(), now);
            let result = result.map_err(|source| LogError::Unreachable {
                target,
                path: path.to_owned(),
                source,
            });
            (socket, result)
        };
        match target {
            LogTarget::Journal => {
                let (socket, result) = connect(&config.journal_socket);
                (Sink::Journal(socket), result)
            }
            LogTarget::Syslog => {
                let (socket, result) = connect(&config.syslog_socket);
                (Sink::Syslog(socket), result)
            }
            LogTarget::File => (Sink::File(Out::Stderr(io::stderr())), Ok(())),
            LogTarget::Stderr | LogTarget::Auto => {
                let terminal = io::IsTerminal::is_terminal(&io::stderr());
                let colour =
                    stderr::colour_wanted(terminal, std::env::var_os("NO_COLOR").as_deref());
                (
                    Sink::Stderr {
                        out: Out::Stderr(io::stderr()),
                        colour,
                    },
                    Ok(()),
                )
            }
            LogTarget::None => (Sink::Off, Ok(())),
        }
    }

    fn raw_fd(&self) -> Option<RawFd> {
        match self {
            Sink::Journal(socket) | Sink::Syslog(socket) => socket.raw_fd(),
            _ => None,
        }
    }
}

/// `auto` without knowing more: the journal under systemd, stderr otherwise.
fn foreground_target() -> LogTarget {
    let stream = std::env::var_os("JOURNAL_STREAM");
    if journal_matches_stderr(stream.as_deref()) {
        LogTarget::Journal
    } else {
        LogTarget::Stderr
    }
}

impl State {
    /// Encodes `entry` for the sink and writes it; false if it was dropped.
    fn write(&mut self, entry: &Entry<'_>, now: Instant) -> bool {
        self.buf.clear();
        match &mut self.sink {
            Sink::Off => true,
            Sink::Journal(socket) => {
                journal::encode(&mut self.buf, entry, &self.ident, std::process::id());
                socket.send(&self.buf, now)
            }
            Sink::Syslog(socket) => {
                syslog::encode(&mut self.buf, entry, &self.ident, std::process::id());
                socket.send(&self.buf, now)
            }
            Sink::File(out) => {
                file::format(&mut self.buf, entry, SystemTime::now());
                fd::write_record(out.as_fd(), &self.buf)
            }
            Sink::Stderr { out, colour } => {
                stderr::format(&mut self.buf, entry, *colour);
                fd::write_record(out.as_fd(), &self.buf)
            }
        }
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.read_filter()
            .enabled(metadata.level(), metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // Formatted before the lock: a `Display` impl that logs would otherwise deadlock.
        let owned;
        let message = match record.args().as_str() {
            Some(literal) => literal,
            None => {
                let mut text = String::new();
                // Unlike `to_string`, does not panic when a `Display` impl fails.
                let _ = text.write_fmt(*record.args());
                owned = text;
                &owned
            }
        };
        let entry = Entry {
            severity: record.level().into(),
            target: record.target(),
            message,
            module: record.module_path(),
            file: record.file(),
            line: record.line(),
        };
        self.submit(&entry, Instant::now());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::net::UnixDatagram;
    use std::sync::{Arc, mpsc};
    use std::time::Duration;

    use super::*;

    /// A datagram socket in a fresh directory, playing journald or the syslog daemon.
    struct Peer {
        _dir: tempfile::TempDir,
        path: PathBuf,
        socket: UnixDatagram,
    }

    fn peer() -> Peer {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        let socket = bind(&path);
        Peer {
            _dir: dir,
            path,
            socket,
        }
    }

    fn bind(path: &Path) -> UnixDatagram {
        let socket = UnixDatagram::bind(path).unwrap();
        socket.set_nonblocking(true).unwrap();
        socket
    }

    impl Peer {
        /// The next datagram, which must have arrived already: the logger's sends are
        /// complete when its call returns.
        fn next(&self) -> Vec<u8> {
            let mut buf = vec![0; 128 * 1024];
            let n = self.socket.recv(&mut buf).expect("a datagram is waiting");
            buf.truncate(n);
            buf
        }

        fn next_text(&self) -> String {
            String::from_utf8(self.next()).unwrap()
        }

        /// Every datagram waiting.
        fn drain(&self) -> Vec<Vec<u8>> {
            let mut all = Vec::new();
            let mut buf = vec![0; 128 * 1024];
            loop {
                match self.socket.recv(&mut buf) {
                    Ok(n) => all.push(buf[..n].to_vec()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return all,
                    Err(e) => panic!("receiving: {e}"),
                }
            }
        }

        /// What a restarting journald or rsyslog does: its socket closes, and a new
        /// one is bound at the same path.
        fn restart(&mut self) {
            std::fs::remove_file(&self.path).unwrap();
            self.socket = bind(&self.path);
        }
    }

    fn configured(target: LogTarget, path: &Path, filter: &str) -> Logger {
        let logger = Logger::new();
        let mut config = LoggerConfig::new("hello", target);
        config.filter = filter.parse().unwrap();
        config.journal_socket = path.to_owned();
        config.syslog_socket = path.to_owned();
        logger.configure(config).unwrap();
        logger
    }

    fn with_sink(sink: Sink) -> Logger {
        let logger = Logger::new();
        logger.lock_state().sink = sink;
        *logger.filter.write().unwrap() = LogFilter::default();
        logger
    }

    fn record<'a>(level: Level, target: &'a str, args: fmt::Arguments<'a>) -> Record<'a> {
        Record::builder()
            .level(level)
            .target(target)
            .args(args)
            .build()
    }

    fn entry(message: &str) -> Entry<'_> {
        Entry {
            severity: Severity::Info,
            target: "app",
            message,
            module: None,
            file: None,
            line: None,
        }
    }

    fn dropped(logger: &Logger) -> u64 {
        logger.dropped.load(Ordering::Relaxed)
    }

    #[test]
    fn journal_datagrams_carry_the_fields_in_native_form() {
        let peer = peer();
        let logger = configured(LogTarget::Journal, &peer.path, "info");
        let pid = std::process::id();
        logger.log(
            &Record::builder()
                .level(Level::Warn)
                .target("app::db")
                .module_path(Some("app::db"))
                .file(Some("src/db.rs"))
                .line(Some(42))
                .args(format_args!("pool exhausted\nretrying in {}s", 5))
                .build(),
        );
        let message = "pool exhausted\nretrying in 5s";
        let mut expected = format!(
            "PRIORITY=4\nSYSLOG_IDENTIFIER=hello\nSYSLOG_PID={pid}\nTARGET=app::db\n\
             CODE_FILE=src/db.rs\nCODE_LINE=42\nCODE_MODULE=app::db\nMESSAGE\n"
        )
        .into_bytes();
        expected.extend_from_slice(&(message.len() as u64).to_le_bytes());
        expected.extend_from_slice(message.as_bytes());
        expected.push(b'\n');
        assert_eq!(peer.next(), expected);
        assert!(peer.drain().is_empty());
    }

    #[test]
    fn syslog_datagrams_carry_pri_ident_and_pid() {
        let peer = peer();
        let logger = configured(LogTarget::Syslog, &peer.path, "info");
        let pid = std::process::id();
        logger.log(&record(Level::Error, "app", format_args!("boom\nagain")));
        logger.log(&record(Level::Info, "app", format_args!("started")));
        assert_eq!(peer.next_text(), format!("<27>hello[{pid}]: boom#012again"));
        assert_eq!(peer.next_text(), format!("<30>hello[{pid}]: started"));
    }

    #[test]
    fn an_oversized_message_arrives_cut_not_dropped() {
        let long = "y".repeat(200 * 1024);
        for (target, max) in [
            (LogTarget::Journal, journal::MAX_DATAGRAM),
            (LogTarget::Syslog, syslog::MAX_DATAGRAM),
        ] {
            let peer = peer();
            let logger = configured(target, &peer.path, "info");
            logger.log(&record(Level::Info, "app", format_args!("{long}")));
            let datagram = peer.next();
            assert!(datagram.len() <= max, "{target}: {} bytes", datagram.len());
            assert!(
                datagram.len() > max - 100,
                "{target}: {} bytes",
                datagram.len()
            );
            let text = String::from_utf8(datagram).unwrap();
            assert!(text.trim_end().ends_with(" bytes]"), "{target}");
            assert_eq!(dropped(&logger), 0);
        }
    }

    #[test]
    fn the_filter_decides_what_is_sent() {
        let peer = peer();
        let logger = configured(LogTarget::Syslog, &peer.path, "warn,app::db=debug");
        let pid = std::process::id();
        logger.log(&record(Level::Info, "app", format_args!("no")));
        logger.log(&record(Level::Debug, "app::dbx", format_args!("no")));
        logger.log(&record(Level::Debug, "app::db::pool", format_args!("yes")));
        logger.log(&record(Level::Trace, "app::db", format_args!("no")));
        logger.log(&record(Level::Warn, "other", format_args!("yes too")));
        let got: Vec<_> = peer.drain().into_iter().map(String::from_utf8).collect();
        assert_eq!(
            got,
            [
                Ok(format!("<31>hello[{pid}]: yes")),
                Ok(format!("<28>hello[{pid}]: yes too"))
            ]
        );
        assert!(
            logger.enabled(
                &Metadata::builder()
                    .level(Level::Debug)
                    .target("app::db")
                    .build()
            )
        );
        assert!(!logger.enabled(&Metadata::builder().level(Level::Info).target("app").build()));
        assert_eq!(logger.max_level(), LevelFilter::Debug);
    }

    #[test]
    fn a_stalled_reader_costs_dropped_records_never_a_wait() {
        const RECORDS: u64 = 2000;
        let peer = peer();
        let logger = Arc::new(configured(LogTarget::Syslog, &peer.path, "info"));
        let pid = std::process::id();
        // Nobody reads until all records are logged: the socket's queue fills after a
        // few. Were a send to block, the thread would never report back.
        let (done, finished) = mpsc::channel();
        let writer = Arc::clone(&logger);
        std::thread::spawn(move || {
            for i in 0..RECORDS {
                writer.log(&record(Level::Info, "app", format_args!("record {i}")));
            }
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("logging to a socket nobody reads must not block");

        let queued = peer.drain();
        let lost = dropped(&logger);
        assert!(lost > 0, "the queue never filled");
        assert_eq!(
            queued.len() as u64 + lost,
            RECORDS,
            "every record sent or counted"
        );
        for (i, datagram) in queued.iter().enumerate() {
            assert_eq!(datagram, format!("<30>hello[{pid}]: record {i}").as_bytes());
        }

        logger.log(&record(Level::Info, "app", format_args!("after")));
        assert_eq!(
            peer.next_text(),
            format!("<28>hello[{pid}]: {lost} log records dropped")
        );
        assert_eq!(peer.next_text(), format!("<30>hello[{pid}]: after"));
        assert_eq!(dropped(&logger), 0);
        assert!(peer.drain().is_empty());
    }

    #[test]
    fn a_restarted_peer_is_reconnected_at_most_once_a_second() {
        let mut peer = peer();
        let logger = configured(LogTarget::Syslog, &peer.path, "info");
        let pid = std::process::id();
        let t0 = Instant::now();
        assert!(logger.submit(&entry("one"), t0));
        assert_eq!(peer.next_text(), format!("<30>hello[{pid}]: one"));

        peer.restart();
        // The old peer is gone: refused, and disconnected.
        assert!(!logger.submit(&entry("two"), t0));
        // The new peer is up, but the last attempt was under a second ago.
        assert!(!logger.submit(&entry("three"), t0 + Duration::from_millis(999)));
        assert!(peer.drain().is_empty());
        assert_eq!(dropped(&logger), 2);

        assert!(logger.submit(&entry("four"), t0 + socket::RETRY_INTERVAL));
        assert_eq!(
            peer.next_text(),
            format!("<28>hello[{pid}]: 2 log records dropped")
        );
        assert_eq!(peer.next_text(), format!("<30>hello[{pid}]: four"));
    }

    #[test]
    fn a_socket_missing_at_start_is_reported_and_connected_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("late.sock");
        let logger = Logger::new();
        let mut config = LoggerConfig::new("hello", LogTarget::Journal);
        config.journal_socket = path.clone();
        let err = logger.configure(config).unwrap_err();
        let t0 = Instant::now();
        assert!(matches!(
            &err,
            LogError::Unreachable { target: LogTarget::Journal, path: p, source }
                if *p == path && source.kind() == io::ErrorKind::NotFound
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "cannot reach journal at {}: No such file or directory (os error 2); its \
                 records are dropped until it can be reached",
                path.display()
            )
        );
        assert!(err.source().is_some());

        assert!(!logger.submit(&entry("early"), t0), "nobody listens yet");
        let late = bind(&path);
        assert!(logger.submit(&entry("later"), t0 + socket::RETRY_INTERVAL));
        let mut buf = vec![0; 4096];
        let n = late.recv(&mut buf).unwrap();
        let notice = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            notice.ends_with("MESSAGE=1 log record dropped\n"),
            "{notice}"
        );
        let n = late.recv(&mut buf).unwrap();
        let record = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(record.ends_with("TARGET=app\nMESSAGE=later\n"), "{record}");
    }

    #[test]
    fn fatal_records_pass_any_filter_at_crit() {
        let peer = peer();
        let logger = configured(LogTarget::Syslog, &peer.path, "off");
        let pid = std::process::id();
        logger.log(&record(Level::Error, "app", format_args!("filtered")));
        let fatal = Entry {
            severity: Severity::Crit,
            ..entry("the program failed: disk full")
        };
        assert!(logger.fatal(&fatal, Instant::now()));
        assert_eq!(
            peer.next_text(),
            format!("<26>hello[{pid}]: the program failed: disk full")
        );
        assert!(peer.drain().is_empty());
        assert!(
            !Logger::new().fatal(&fatal, Instant::now()),
            "no sink: not handled"
        );
    }

    #[test]
    fn a_full_pipe_on_descriptor_2_drops_and_later_reports() {
        let (read, write) = fd::tests::full_pipe();
        let logger = with_sink(Sink::Stderr {
            out: Out::Fd(write.into()),
            colour: false,
        });
        for i in 0..3 {
            logger.log(&record(Level::Info, "app", format_args!("lost {i}")));
        }
        assert_eq!(dropped(&logger), 3);
        assert!(fd::tests::drain(&read).iter().all(|&b| b == b'x'));

        logger.log(&record(Level::Info, "app", format_args!("kept")));
        assert_eq!(
            String::from_utf8(fd::tests::drain(&read)).unwrap(),
            "WARN daemon_runtime::logger: 3 log records dropped\nINFO app: kept\n"
        );
        assert_eq!(dropped(&logger), 0);
    }

    #[test]
    fn the_file_target_writes_timestamped_lines() {
        let (read, write) = nix::unistd::pipe().unwrap();
        let read = std::fs::File::from(read);
        let logger = with_sink(Sink::File(Out::Fd(write)));
        let before = SystemTime::now();
        logger.log(&record(
            Level::Error,
            "app",
            format_args!("failed: {}", "EIO"),
        ));
        let line = String::from_utf8(fd::tests::drain(&read)).unwrap();
        let (stamp, rest) = line.split_once(' ').unwrap();
        assert_eq!(rest, "ERROR app: failed: EIO\n");
        let mut expected = Vec::new();
        file::format(&mut expected, &entry(""), before);
        let expected = String::from_utf8(expected).unwrap();
        // Same shape as a timestamp taken just before; the minute may have turned.
        assert_eq!(stamp.len(), "2026-12-02T17:00:00.123Z".len(), "{stamp}");
        assert_eq!(stamp[..10], expected[..10], "same day, barring midnight");
        assert!(stamp.ends_with('Z'));
    }

    #[test]
    fn auto_prefers_the_journal_then_syslog_then_the_log_file_then_stderr() {
        let peer = peer();
        let missing = peer.path.with_file_name("missing.sock");
        let inputs = |journal, detached, file, socket| AutoInputs {
            journal_stream_matches: journal,
            detached,
            stderr_log_file: file,
            syslog_socket: socket,
        };
        let resolve = |i: AutoInputs<'_>| {
            let r = resolve_auto(&i);
            (r.target, r.warning.is_some())
        };
        let syslog = peer.path.as_path();
        assert_eq!(
            resolve(inputs(true, true, true, syslog)),
            (LogTarget::Journal, false)
        );
        assert_eq!(
            resolve(inputs(false, true, false, syslog)),
            (LogTarget::Syslog, false)
        );
        assert_eq!(
            resolve(inputs(false, true, true, syslog)),
            (LogTarget::File, false)
        );
        assert_eq!(
            resolve(inputs(false, false, false, syslog)),
            (LogTarget::Stderr, false)
        );
        assert_eq!(
            resolve(inputs(false, false, true, syslog)),
            (LogTarget::File, false)
        );

        let r = resolve_auto(&inputs(false, true, false, &missing));
        assert_eq!(r.target, LogTarget::Stderr);
        let warning = r.warning.expect("a warning");
        assert!(matches!(&warning, LogError::NoSyslog { path, .. } if *path == missing));
        assert_eq!(
            warning.to_string(),
            format!(
                "cannot reach syslog at {}: No such file or directory (os error 2); logging to \
                 standard error instead, which a detached daemon without a stderr log file \
                 sends to /dev/null",
                missing.display()
            )
        );
        assert!(peer.drain().is_empty(), "probing sends nothing");
    }

    #[test]
    fn targets_parse_from_their_names_and_display_as_them() {
        for target in LogTarget::ALL {
            assert_eq!(target.to_string().parse::<LogTarget>(), Ok(target));
        }
        let err = "sylog".parse::<LogTarget>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown log target `sylog`; expected one of `auto`, `journal`, `syslog`, `file`, \
             `stderr`, `none`"
        );
        assert!(
            "Syslog".parse::<LogTarget>().is_err(),
            "names are lowercase"
        );
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary_with_a_marker() {
        assert_eq!(truncated("short", 5), "short");
        let long = "é".repeat(100);
        let cut = truncated(&long, 60);
        assert!(cut.len() <= 60, "{cut}");
        assert!(cut.starts_with("éééééééééé"), "{cut}");
        assert!(cut.ends_with(" [truncated 180 bytes]"), "{cut}");
    }

    /// An rsyslogd of the test's own, listening on a socket in a temp dir and writing
    /// what it parsed (facility, severity, tag, pid, message) into a FIFO.
    struct Rsyslog {
        child: std::process::Child,
        socket: PathBuf,
        fifo: std::fs::File,
        _dir: tempfile::TempDir,
    }

    impl Rsyslog {
        /// None where rsyslogd is not installed.
        fn start() -> Option<Rsyslog> {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path().display();
            let conf = format!(
                "global(workDirectory=\"{d}\")\n\
                 module(load=\"imuxsock\" SysSock.Use=\"off\")\n\
                 input(type=\"imuxsock\" Socket=\"{d}/log.sock\")\n\
                 template(name=\"t\" type=\"string\" string=\"%syslogfacility-text%.\
                 %syslogseverity-text% %programname%[%procid%]%msg%\\n\")\n\
                 *.* action(type=\"ompipe\" pipe=\"{d}/out.fifo\" template=\"t\")\n"
            );
            std::fs::write(dir.path().join("rsyslog.conf"), conf).unwrap();
            let fifo_path = dir.path().join("out.fifo");
            nix::unistd::mkfifo(&fifo_path, nix::sys::stat::Mode::from_bits_truncate(0o600))
                .unwrap();
            // Open before rsyslogd does, without waiting for a writer.
            let fifo = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo_path)
                .unwrap();
            let child = std::process::Command::new("rsyslogd")
                .arg("-n")
                .arg("-f")
                .arg(dir.path().join("rsyslog.conf"))
                .arg("-i")
                .arg(dir.path().join("rsyslogd.pid"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .ok()?;
            Some(Rsyslog {
                child,
                socket: dir.path().join("log.sock"),
                fifo,
                _dir: dir,
            })
        }

        /// Waits until the socket accepts a connection. rsyslogd says nothing when it is
        /// ready, so this retries, within a deadline.
        fn wait_listening(&self) {
            let deadline = Instant::now() + Duration::from_secs(20);
            while socket::probe(&self.socket).is_err() {
                assert!(Instant::now() < deadline, "rsyslogd never bound its socket");
                std::thread::sleep(Duration::from_millis(10));
            }
        }

        /// The next `n` lines rsyslogd wrote, waiting on the FIFO with poll.
        fn lines(&self, n: usize) -> Vec<String> {
            use std::io::Read;
            use std::os::fd::AsFd;

            let deadline = Instant::now() + Duration::from_secs(20);
            let mut text = String::new();
            while text.matches('\n').count() < n {
                let left = deadline.saturating_duration_since(Instant::now());
                let timeout = nix::poll::PollTimeout::try_from(left).unwrap();
                let mut fds = [nix::poll::PollFd::new(
                    self.fifo.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                )];
                let ready = nix::poll::poll(&mut fds, timeout).unwrap();
                assert!(ready > 0, "rsyslogd wrote only {text:?}");
                let mut buf = [0; 4096];
                match (&self.fifo).read(&mut buf) {
                    Ok(n) => text.push_str(std::str::from_utf8(&buf[..n]).unwrap()),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("reading rsyslogd's output: {e}"),
                }
            }
            text.lines().map(str::to_owned).collect()
        }
    }

    impl Drop for Rsyslog {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    #[test]
    fn rsyslog_parses_the_records() {
        let Some(rsyslog) = Rsyslog::start() else {
            // Past the harness's capture, so the skip shows.
            use std::io::Write;
            let _ = writeln!(
                io::stderr(),
                "skipped: rsyslog_parses_the_records: no rsyslogd on this system"
            );
            return;
        };
        rsyslog.wait_listening();
        let logger = configured(LogTarget::Syslog, &rsyslog.socket, "info");
        let pid = std::process::id();
        logger.log(&record(
            Level::Warn,
            "app",
            format_args!("disk almost full"),
        ));
        let fatal = Entry {
            severity: Severity::Crit,
            ..entry("panicked at src/main.rs:3:5: boom\nline two")
        };
        assert!(logger.fatal(&fatal, Instant::now()));
        assert_eq!(
            rsyslog.lines(2),
            [
                format!("daemon.warning hello[{pid}] disk almost full"),
                format!("daemon.crit hello[{pid}] panicked at src/main.rs:3:5: boom#012line two"),
            ]
        );
    }

    /// The one test that installs the global logger: others use their own instances.
    #[test]
    fn install_sets_the_facade_logger_and_its_max_level() {
        let peer = peer();
        let pid = std::process::id();
        let mut config = LoggerConfig::new("hello", LogTarget::Syslog);
        config.syslog_socket = peer.path.clone();
        // Only this test's target, so records of tests running alongside stay out.
        config.filter = "off,logger_install_test=info".parse().unwrap();
        install(config.clone()).unwrap();
        assert_eq!(log::max_level(), LevelFilter::Info);
        assert_eq!(fds().len(), 1);

        log::debug!(target: "logger_install_test", "not this");
        log::info!(target: "logger_install_test", "this one");
        fatal("the end");
        assert_eq!(peer.next_text(), format!("<30>hello[{pid}]: this one"));
        assert_eq!(peer.next_text(), format!("<26>hello[{pid}]: the end"));

        // Installing again retargets.
        config.filter = "off,logger_install_test=debug".parse().unwrap();
        install(config).unwrap();
        assert_eq!(log::max_level(), LevelFilter::Debug);
        log::debug!(target: "logger_install_test", "now this");
        assert_eq!(peer.next_text(), format!("<31>hello[{pid}]: now this"));

        retarget(LoggerConfig::new("hello", LogTarget::None)).unwrap();
        assert_eq!(log::max_level(), LevelFilter::Off);
        assert!(fds().is_empty());
        log::error!(target: "logger_install_test", "nowhere");
        assert!(peer.drain().is_empty());
    }
}
