//! A ticking logger written with the builder API: the daemon the README runs.
//!
//! ```text
//! ticker --daemon     # detach; returns once the daemon is ready
//! ticker --status     # "ticker is running (pid 4242)", exit 0
//! ticker --reload     # SIGHUP: reopens the log file, logs "reloaded"
//! ticker --stop
//! ```
//!
//! The same daemon as `hello`, without the attribute: what `#[daemonize]` expands to,
//! written by hand. The PID file and log live in a per-user directory
//! (`daemon_examples::state_dir`), so it runs without root.

use std::time::{Duration, Instant};

use daemon_examples::state_path;
use daemon_runtime::{Daemon, DaemonArgs};

fn main() {
    let args = DaemonArgs::parse_bare(
        "ticker",
        env!("CARGO_PKG_VERSION"),
        Some("Writes a line every second until stopped"),
    );
    let daemon = Daemon::builder()
        .name("ticker")
        .pid_file(state_path("ticker.pid"))
        .stdout(state_path("ticker.log"))
        .stderr(state_path("ticker.log"))
        .args(args)
        .launch();

    daemon_runtime::on_reload(|| log::info!("reloaded: log file reopened"));
    let shutdown = daemon.shutdown();
    let started = Instant::now();
    log::info!("ticker started (pid {})", daemon.pid());
    let mut ticks = 0u64;
    while !shutdown.wait_timeout(Duration::from_secs(1)) {
        ticks += 1;
        log::info!("tick {ticks} ({:.1}s)", started.elapsed().as_secs_f64());
    }
    log::info!(
        "ticker stopping after {ticks} ticks ({:?})",
        shutdown.signal()
    );
    // Returning drops `daemon`, which removes the PID file.
}
