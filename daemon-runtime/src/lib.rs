//! Turn a command-line program into a well-behaved Unix daemon.
//!
//! [`Daemon::builder`] configures and starts one: the full daemon(7) sequence (double
//! fork, new session, closed descriptors, reset signals, `/dev/null` stdio), a locked
//! PID file that names the daemon itself, privilege drop in the safe order, and a
//! launching process that exits 0 only once the daemon is ready, or prints why it
//! failed and exits non-zero. The same builder stops, checks and reloads the running
//! daemon.
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
//! section of the config file, command-line flags, and values forced in code. See
//! [`settings`].
#![cfg(unix)]

pub mod cli;
pub mod config;
pub mod control;
mod daemon;
pub mod error;
mod pidfile;
mod privileges;
mod process;
mod readiness;
pub mod settings;
mod signals;

pub use cli::{Action, DaemonArgs};
pub use config::Config;
pub use control::{Status, Stopped};
pub use daemon::{Builder, Daemon, Readiness, config, ready};
pub use daemon_macros::daemonize;
pub use error::{Error, exit};
pub use settings::{Options, Origin, Settings, Sourced};
pub use signals::{Shutdown, ShutdownFuture, on_reload, shutdown};

#[doc(hidden)]
pub mod __private;

/// The TOML crate the config file is parsed with, for [`Config::table`].
pub use toml;
