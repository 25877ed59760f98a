//! Turn a command-line program into a well-behaved Unix daemon.
//!
//! One attribute, [`daemonize`], on `fn main` or on a subcommand handler:
//!
//! ```no_run
//! use daemon_runtime::daemonize;
//!
//! #[daemonize(pid_file = "/run/hello.pid", user = "nobody", umask = 0o027)]
//! fn main() {
//!     // In the daemon (or the foreground process), as nobody, holding the PID file.
//!     daemon_runtime::shutdown().wait();
//! }
//! ```
//!
//! `hello --daemon` runs the full daemon(7) sequence (double fork, new session, closed
//! descriptors, reset signals, `/dev/null` stdio), writes the daemon's own pid into a
//! locked PID file, drops privileges in the safe order, and returns 0 only once the
//! daemon is ready, or prints why it failed and exits non-zero. `--stop`, `--status`,
//! `--restart` and `--reload` act on the running daemon from the same binary, and
//! `--print-service systemd` or `sysv` prints its service file ([`unit`](mod@unit)).
//!
//! Everything the attribute does is a call into [`Daemon::builder`], which programs can
//! use directly:
//!
//! ```no_run
//! use daemon_runtime::{Daemon, DaemonArgs};
//!
//! let args = DaemonArgs::parse_bare("hello", "1.0.0", None);
//! let daemon = Daemon::builder()
//!     .pid_file("/run/hello.pid")
//!     .user("nobody")
//!     .args(args)
//!     .launch(); // start, or --stop/--status/--restart/--reload and exit
//! let shutdown = daemon.shutdown();
//! while !shutdown.wait_timeout(std::time::Duration::from_secs(1)) {
//!     println!("tick");
//! }
//! ```
//!
//! Settings come from, lowest to highest: built-in defaults, code, the `[daemon]`
//! section of the config file (`Config`, with the default `config` feature),
//! command-line flags ([`DaemonArgs`]), and values forced in code. See [`settings`].
//!
//! # Where each step lives
//!
//! The start-up sequence of the README, and each control action, by file and function
//! (`src/`):
//!
//! | step | file | function |
//! |---|---|---|
//! | settings merged from every source and checked | `builder.rs`, `settings/` | `Builder::load`, `settings::resolve` (driven by `settings/table.rs`) |
//! | the config file read, when there is one | `config.rs` | `Config::load`, `Config::daemon_options` |
//! | the flags parsed | `cli.rs` | `DaemonArgs` (its flags from `settings/table.rs`) |
//! | 1. user and group resolved, directories checked | `plan.rs`, `sys/user.rs` | `Plan::prepare`, `user::resolve` |
//! | 2. refuse to fork with more than one thread (first, before any file is created) | `builder.rs`, `sys/process.rs` | `Builder::start`, `ensure_single_threaded` |
//! | 3. PID file opened and locked | `pidfile.rs` | `PidFile::acquire` |
//! | 4. log files, `/dev/null`, readiness pipe | `logfile.rs`, `sys/stdio.rs`, `readiness.rs` | `LogFile::open`, `open_dev_null`, `readiness::channel` |
//! | fork; the launcher waits for the report and exits | `launcher.rs` | `detach`, `await_daemon` |
//! | `setsid`, second fork, `_exit` of the intermediate | `detached.rs` | `run` |
//! | 5. inherited descriptors closed | `detached.rs`, `sys/fd.rs` | `Child::close_inherited_fds`, `close_fds_except` |
//! | 6. signal dispositions and mask reset | `sys/signal.rs` | `reset_signals` |
//! | 7. `chroot`, working directory, umask | `plan.rs` | `Plan::enter_directories` |
//! | 8. stdio redirected | `sys/stdio.rs` | `redirect_stdio` |
//! | 9. pid written | `pidfile.rs` | `PidFile::write_and_activate` |
//! | 10. privileged action | `job.rs` | `Job::run_privileged` |
//! | 11. privileges dropped | `sys/user.rs` | `drop_to` |
//! | 12. readiness reported | `detached.rs`, `daemon.rs`, `readiness.rs` | `Child::report_ready`, [`ready`], `Notifier::ready` |
//! | the foreground path (no fork) | `foreground.rs` | `run` |
//! | the running daemon's handle | `daemon.rs` | [`Daemon`] |
//! | SIGTERM/SIGINT shutdown, SIGHUP reload and log reopen | `signals.rs`, `logfile.rs` | [`shutdown`], [`on_reload`], `logfile::open_in` |
//! | PID file removed on the way out | `pidfile.rs` | `remove_active` |
//! | `--stop` | `control/stop.rs` | [`control::stop`] |
//! | `--status` | `control/status.rs` | [`control::status`] |
//! | `--reload` | `control/mod.rs` | [`control::reload`] |
//! | `--restart` | `builder.rs` | [`Builder::restart`] |
//! | the control action the command line asks for | `control/mod.rs` | `control::perform` |
//! | `--print-service`: systemd units and an init script made from the settings | `unit.rs` | [`unit::render`] |
//! | finding and pinning the running daemon | `control/mod.rs`, `sys/pidfd.rs` | `control::find`, `Process` |
//! | deadlines of every wait | `sys/time.rs` | `Deadline` |
#![cfg(unix)]

mod builder;
pub mod cli;
#[cfg(feature = "config")]
pub mod config;
pub mod control;
mod daemon;
mod detached;
pub mod error;
mod foreground;
mod job;
mod launcher;
pub mod listen;
mod logfile;
pub mod logger;
mod manager;
pub mod notify;
mod origin;
mod pidfile;
mod plan;
mod readiness;
pub mod settings;
mod signals;
mod sys;
pub mod unit;

pub use builder::Builder;
pub use cli::{Action, DaemonArgs};
#[cfg(feature = "config")]
pub use config::Config;
pub use control::{Status, Stopped};
#[cfg(feature = "config")]
pub use daemon::config;
pub use daemon::{Daemon, ready};
pub use daemon_macros::daemonize;
pub use error::{Error, exit};
pub use job::Readiness;
pub use listen::{ListenError, Listeners, listeners};
pub use logger::{FilterError, LogError, LogFilter, LogTarget, LoggerConfig, ParseTargetError};
pub use notify::{NotifyError, Watchdog};
pub use origin::Origin;
pub use settings::{Options, PidFileSetting, Settings, Sourced};
pub use signals::{Shutdown, ShutdownFuture, on_reload, shutdown};

#[doc(hidden)]
pub mod __private;

/// The TOML crate the config file is parsed with, for [`Config::table`].
#[cfg(feature = "config")]
pub use toml;

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
