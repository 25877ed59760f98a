//! Example daemons, one per form of `#[daemonize]` (see `src/bin`), and the helpers
//! they share.
//!
//! | binary        | form                                                              |
//! |---------------|-------------------------------------------------------------------|
//! | `hello`       | `#[daemonize] fn main()`: the README's daemon                     |
//! | `own_parser`  | `#[daemonize] fn main(cli: Cli)`: the program's own clap parser   |
//! | `app`         | `#[daemonize] fn serve(args: ServeArgs)`: one subcommand detaches |
//! | `tokio_outer` | `#[daemonize]` above `#[tokio::main]`                             |
//! | `tokio_inner` | `#[daemonize]` below `#[tokio::main]`                             |
//! | `forced`      | `#[daemonize(daemon = true)]`: always detaches                    |
//! | `privileged`  | binds its socket as root, serves as `nobody`                      |
//! | `ticker`      | the builder API, without the attribute                            |
//! | `echod`       | socket activation: serves on the socket systemd passes, or binds  |
//! | `hang`        | feeds systemd's watchdog, and can stop to show what it is for     |
//! | `traced`      | `tracing` events through the runtime's logger (tracing's `log`)   |
//!
//! They log with the `log` macros (or `tracing`), which the runtime's logger writes where
//! an administrator looks: the journal under systemd, the log file when detached, standard
//! error in the foreground.
//!
//! Their PID files and logs go to a per-user directory ([`state_dir`]), so they run
//! without root.

use std::fs::DirBuilder;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::PathBuf;
use std::time::Duration;

use nix::unistd::geteuid;

/// Where the examples keep their PID files and logs: `$XDG_RUNTIME_DIR/daemon-examples`,
/// or `/tmp/daemon-examples-<uid>`. Created (mode 0700) if missing.
///
/// The directory must be the user's own: in `/tmp` someone else could have made it
/// first. On failure this prints why and exits with status 73 (cannot create), which is
/// fine in the launching process, where it is called (the attribute's values are
/// evaluated before the start).
pub fn state_dir() -> PathBuf {
    let dir = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(runtime) if runtime.is_absolute() && runtime.is_dir() => {
            runtime.join("daemon-examples")
        }
        _ => PathBuf::from(format!("/tmp/daemon-examples-{}", geteuid())),
    };
    let checked = DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .and_then(|()| std::fs::symlink_metadata(&dir))
        .and_then(|meta| {
            if meta.is_dir() && meta.uid() == geteuid().as_raw() {
                Ok(())
            } else {
                Err(std::io::Error::other(
                    "it is not a directory of this user's",
                ))
            }
        });
    if let Err(e) = checked {
        eprintln!(
            "cannot use {} for the PID file and logs: {e}",
            dir.display()
        );
        std::process::exit(daemon_runtime::exit::CANTCREAT);
    }
    dir
}

/// `file` in [`state_dir`]: `pid_file = daemon_examples::state_path("hello.pid")`.
pub fn state_path(file: &str) -> PathBuf {
    state_dir().join(file)
}

/// The user a daemon serves as: `nobody` when started as root; otherwise the invoking
/// user (by uid), which leaves nothing to switch, so the example also runs without root.
pub fn service_user() -> String {
    if geteuid().is_root() {
        "nobody".to_owned()
    } else {
        geteuid().to_string()
    }
}

/// The blocking examples' work: calls `tick` every `period` until SIGTERM or SIGINT
/// asks for shutdown; returns how many ticks there were. The caller takes the shutdown
/// handle first thing, so that a SIGTERM right after start-up is already graceful.
pub fn tick_until_shutdown(
    shutdown: &daemon_runtime::Shutdown,
    period: Duration,
    mut tick: impl FnMut(u64),
) -> u64 {
    let mut ticks = 0;
    while !shutdown.wait_timeout(period) {
        ticks += 1;
        tick(ticks);
    }
    log::info!("stopping after {ticks} ticks ({:?})", shutdown.signal());
    ticks
}

/// The tokio examples' work: an interval timer, until shutdown. Readiness is manual:
/// the launcher returns once the first timer tick fired in the daemon, so its exit
/// status says that the daemon's runtime works. Each tick is also the status a service
/// manager shows (`systemctl status`); the first is sent before readiness, so a manager
/// that reports the service started already shows it.
pub async fn tokio_ticks(name: &str, period: Duration) {
    let shutdown = daemon_runtime::shutdown();
    let mut interval = tokio::time::interval(period);
    // An interval's first tick completes at once; the first real wait is the second.
    interval.tick().await;
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = interval.tick() => {
                ticks += 1;
                daemon_runtime::notify::status(format!("{name}: tick {ticks}"));
                log::info!("{name}: tick {ticks}");
                if ticks == 1 {
                    daemon_runtime::ready();
                }
            }
            () = shutdown.wait_async() => break,
        }
    }
    log::info!("{name}: stopping after {ticks} ticks");
}
