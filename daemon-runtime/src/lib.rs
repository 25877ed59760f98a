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
//! `--restart` and `--reload` act on the running daemon from the same binary.
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
#![cfg(unix)]

pub mod cli;
#[cfg(feature = "config")]
pub mod config;
pub mod control;
mod daemon;
pub mod error;
pub mod logger;
mod pidfile;
mod privileges;
mod process;
mod readiness;
pub mod settings;
mod signals;

pub use cli::{Action, DaemonArgs};
#[cfg(feature = "config")]
pub use config::Config;
pub use control::{Status, Stopped};
#[cfg(feature = "config")]
pub use daemon::config;
pub use daemon::{Builder, Daemon, Readiness, ready};
pub use daemon_macros::daemonize;
pub use error::{Error, exit};
pub use logger::{FilterError, LogError, LogFilter, LogTarget, LoggerConfig, ParseTargetError};
pub use settings::{Options, Origin, Settings, Sourced};
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
