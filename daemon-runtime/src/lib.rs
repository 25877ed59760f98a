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
//!     log::info!("tick");
//! }
//! ```
//!
//! Settings come from, lowest to highest: built-in defaults, code, the `[daemon]`
//! section of the config file (`Config`, with the default `config` feature),
//! command-line flags ([`DaemonArgs`]), and values forced in code. See [`settings`].
//!
//! # Dependencies
//!
//! `daemon-runtime` is the one dependency of every form. It re-exports the [`clap`] it
//! builds the flags with and, with the default `config` feature, the [`serde`] it reads
//! the config file with, both with their `derive` feature: `use daemon_runtime::clap;`
//! lets `#[derive(clap::Parser)]` find clap (its derive names `clap::...`, and takes no
//! other path), and `#[serde(crate = "daemon_runtime::serde")]` does the same for serde.
//! A program that depends on `clap` (4) or `serde` (1) itself writes neither. An
//! `async fn main` needs `tokio` with the `macros` and `rt-multi-thread` features.
//!
//! # In the body
//!
//! - [`shutdown()`] returns the [`Shutdown`] handle: [`wait`](Shutdown::wait),
//!   [`wait_timeout`](Shutdown::wait_timeout) (which returns whether shutdown was
//!   requested), [`requested`](Shutdown::requested), the future
//!   [`wait_async`](Shutdown::wait_async) for any executor, and a descriptor to poll.
//! - [`on_reload`] runs a hook after SIGHUP, once the log files are reopened.
//! - `config()` returns `Option<&'static Config>`: `None` when no config file was read
//!   (no `--config`, and no default file set, or the default file is missing).
//!   `Config::section::<T>(name)` returns `Result<Option<T>, Error>`: `Ok(None)` when the
//!   file has no table `[name]`, an error naming the file, line and column when the
//!   table does not deserialize into `T`.
//!
//! `fn main()` has no command line of the program's own: its own values come from the
//! config file's own sections, or the program takes its own parser,
//! `fn main(cli: Cli)` (the daemon flags join it).
//!
//! ```no_run
//! use daemon_runtime::{daemonize, serde};
//!
//! /// The config file's `[hello]` table.
//! #[derive(serde::Deserialize)]
//! #[serde(crate = "daemon_runtime::serde")]
//! struct Hello {
//!     greeting: String,
//! }
//!
//! #[daemonize(config = "/etc/hello.toml")]
//! fn main() -> Result<(), daemon_runtime::Error> {
//!     let hello: Option<Hello> = match daemon_runtime::config() {
//!         Some(config) => config.section("hello")?, // Ok(None): no [hello] table
//!         None => None,                             // no config file was read
//!     };
//!     let greeting = hello.map_or_else(|| "hello".to_owned(), |h| h.greeting);
//!     let shutdown = daemon_runtime::shutdown();
//!     while !shutdown.wait_timeout(std::time::Duration::from_secs(1)) {
//!         println!("{greeting}");
//!     }
//!     Ok(())
//! }
//! ```
//!
//! # Where each step lives
//!
//! The start-up sequence of the README, and each control action, by file and function
//! (`src/`):
//!
//! | step | file | function |
//! |---|---|---|
//! | what a service manager passed (`NOTIFY_SOCKET`, the watchdog, `LISTEN_FDS`), taken first | `manager.rs`, `notify.rs`, `listen.rs` | `manager::take_environment`, `notify::init_from_env`, `listen::take_from_env` |
//! | 1. settings merged from every source and checked | `builder.rs`, `settings/` | `Builder::load`, `settings::resolve` (driven by `settings/table.rs`) |
//! | the config file read, when there is one | `config.rs`, `sys/fs.rs` | `Config::load`, `Config::daemon_options`, `fs::read` |
//! | the flags parsed (control actions without the program's required arguments) | `cli.rs` | `DaemonArgs` (its flags from `settings/table.rs`), `control_only` |
//! | a forced daemon kept attached under a service manager | `builder.rs`, `manager.rs` | `stay_attached_under_a_manager`, `expects_foreground` |
//! | 2. refuse to fork with more than one thread (first, before any file is created) | `builder.rs`, `sys/process.rs` | `Builder::start`, `ensure_single_threaded` |
//! | the logger installed in the launcher | `logger/setup.rs` | `Setup::new`, `Setup::install` |
//! | 3. user and group resolved, directories checked | `plan.rs`, `sys/user.rs` | `Plan::prepare`, `user::resolve`, `check_dir` |
//! | 4. PID file opened, its lock taken | `pidfile.rs`, `sys/fs.rs` | `PidFile::acquire`, `Parent::create_or_open` |
//! | 5. log files, `/dev/null`, readiness channel | `logfile.rs`, `plan.rs`, `readiness.rs` | `LogFile::open`, `open_dev_null`, `readiness::channel` |
//! | fork; the launcher waits for the report, tells a service manager, exits | `launcher.rs` | `detach`, `await_daemon`, `relay_ready` |
//! | `setsid`, second fork, the daemon pinned and handed over, `_exit` of the intermediate | `detached.rs` | `run`, `Child::hand_over` |
//! | 6. inherited descriptors closed | `detached.rs`, `sys/fd.rs` | `Child::close_inherited_fds`, `close_fds_except` |
//! | the daemon's logger switched (before any chroot) | `logger/setup.rs` | `Setup::retarget` |
//! | 7. signal dispositions reset; the runtime's signals blocked until handled | `sys/signal.rs` | `reset_signals`, `block_start_up` |
//! | 8. `chroot` (no outside directory kept), working directory, umask | `plan.rs` | `Plan::enter_directories`, `Plan::enter_jail` |
//! | core dumps prevented | `sys/hardening.rs` | `before_privileged_action` |
//! | 9. stdio redirected | `sys/stdio.rs` | `redirect_stdio` |
//! | 10. pid written | `pidfile.rs` | `PidFile::write_and_activate` |
//! | 11. privileged action | `job.rs` | `Job::run_privileged` |
//! | 12. privileges dropped; `no_new_privs` | `sys/user.rs`, `sys/hardening.rs` | `drop_to`, `after_privilege_drop` |
//! | 13. readiness reported (launcher, `notify_fd`, service manager), watchdog started | `detached.rs`, `daemon.rs` | `Child::report_ready`, `Ready::report`, [`ready`] |
//! | the foreground path (no fork) | `foreground.rs` | `run` |
//! | the running daemon's handle | `daemon.rs` | [`Daemon`] |
//! | SIGTERM/SIGINT shutdown (`STOPPING=1`; 128+signo as PID 1), SIGHUP reload (`RELOADING=1`, log reopen) | `signals.rs`, `sys/fs.rs` | [`shutdown`], [`on_reload`], `fs::reopen_at` |
//! | sd_notify calls of the program: status, watchdog, more time | `notify.rs` | [`notify::status`], [`notify::watchdog`], [`notify::extend_timeout`] |
//! | sockets from socket activation | `listen.rs` | [`listeners`] |
//! | log records, where the admin looks | `logger/` | the `log` facade's backend |
//! | PID file removed on the way out | `pidfile.rs` | `remove_active` |
//! | `--stop` | `control/stop.rs` | [`control::stop`] |
//! | `--status` | `control/status.rs`, `pidfile.rs` | [`control::status`], `pidfile::holder_of` |
//! | `--reload` | `control/mod.rs` | [`control::reload`] |
//! | `--restart` (refused when it would change the daemon) | `builder.rs`, `control/restart.rs` | [`Builder::restart`], `restart::check` |
//! | the control action the command line asks for | `control/mod.rs` | `control::perform` |
//! | `--print-service`: systemd units and an init script made from the settings | `unit.rs` | [`unit::render`] |
//! | finding and pinning the running daemon | `control/mod.rs`, `sys/pidfd.rs`, `sys/procfs.rs` | `control::find`, `Process`, `procfs::holds_open` |
//! | every file opened while privileged | `sys/fs.rs` | `Parent::walk`, `Parent::create_or_open`, `open_dir`, `read` |
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

/// The clap the daemon flags are built with (with its `derive` feature), so that a
/// program's own parser needs no dependency of its own: clap's derive names `clap::...`,
/// which `use daemon_runtime::clap;` brings into scope.
pub use clap;

/// The serde the config file is read with (with its `derive` feature), for
/// [`Config::section`]: `#[derive(daemon_runtime::serde::Deserialize)]` with
/// `#[serde(crate = "daemon_runtime::serde")]` needs no dependency of its own.
#[cfg(feature = "config")]
pub use serde;

/// The README's Rust examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
