//! The README's daemon: `#[daemonize]` on a plain `fn main()`. The runtime builds the
//! whole command line: `--daemon`, `--stop`, `--status`, `--restart`, `--reload`,
//! `--config FILE`, the setting overrides, `--help` and `--version`.
//!
//! ```text
//! hello               # in the foreground; Ctrl-C stops it
//! hello --daemon      # detaches; returns once the daemon is ready
//! hello --status      # "hello is running (pid 4242)", exit 0
//! hello --reload      # SIGHUP: reopens the log file, runs the reload hook
//! hello --stop
//! ```
//!
//! It logs with the `log` macros, which the runtime's logger sends where an
//! administrator looks: the journal under systemd, the log file when detached, standard
//! error in the foreground (`println!` would panic on a full disk). Under systemd it also
//! feeds the watchdog (`WatchdogSec=`) from its loop and shows its progress in
//! `systemctl status`; elsewhere those calls do nothing.
//!
//! The PID file and log live in a per-user directory (`daemon_examples::state_dir`),
//! so it runs without root; a system daemon writes literals such as
//! `pid_file = "/run/hello.pid"` instead. `hello.toml` there, if present, can override
//! the settings in its `[daemon]` table.

use std::time::{Duration, Instant};

use daemon_examples::state_path;
use daemon_runtime::{daemonize, notify};

#[daemonize(
    pid_file = state_path("hello.pid"),
    stdout = state_path("hello.log"),
    stderr = state_path("hello.log"),
    config = state_path("hello.toml"),
    umask = 0o027,
)]
fn main() {
    // Only the daemon (or the foreground process) gets here.
    daemon_runtime::on_reload(|| log::info!("reloaded: log file reopened"));
    let shutdown = daemon_runtime::shutdown();
    log::info!("hello started (pid {})", std::process::id());
    // A tick a second, and at least two per watchdog interval, so no feed comes late.
    let second = Duration::from_secs(1);
    let period = notify::watchdog_interval().map_or(second, |limit| (limit / 2).min(second));
    let started = Instant::now();
    let mut ticks = 0u64;
    while !shutdown.wait_timeout(period) {
        ticks += 1;
        notify::watchdog();
        notify::status(format!("serving, tick {ticks}"));
        log::info!("tick {ticks} ({:.1}s)", started.elapsed().as_secs_f64());
    }
    log::info!(
        "hello stopping after {ticks} ticks ({:?})",
        shutdown.signal()
    );
    // Returning removes the PID file.
}
