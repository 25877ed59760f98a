//! A ticking logger written with the builder API: the daemon the README runs.
//!
//! ```text
//! ticker --daemon     # detach; returns once the daemon is ready
//! ticker --status     # "ticker is running (pid 4242)", exit 0
//! ticker --reload     # SIGHUP: reopens the log file, logs "reloaded"
//! ticker --stop
//! ```
//!
//! The PID file and log live in `$XDG_RUNTIME_DIR`, or `/tmp/ticker-<uid>`, so it
//! runs without root.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use daemon_runtime::{Daemon, DaemonArgs};

fn main() {
    let args = DaemonArgs::parse_bare(
        "ticker",
        env!("CARGO_PKG_VERSION"),
        Some("Writes a line every second until stopped"),
    );
    let dir = state_dir();
    let daemon = Daemon::builder()
        .name("ticker")
        .pid_file(dir.join("ticker.pid"))
        .stdout(dir.join("ticker.log"))
        .stderr(dir.join("ticker.log"))
        .args(args)
        .launch();

    daemon_runtime::on_reload(|| println!("reloaded: log file reopened"));
    let shutdown = daemon.shutdown();
    let started = Instant::now();
    println!("ticker started (pid {})", daemon.pid());
    let mut ticks = 0u64;
    while !shutdown.wait_timeout(Duration::from_secs(1)) {
        ticks += 1;
        println!("tick {ticks} ({:.1}s)", started.elapsed().as_secs_f64());
    }
    println!(
        "ticker stopping after {ticks} ticks ({:?})",
        shutdown.signal()
    );
    // Returning drops `daemon`, which removes the PID file.
}

/// A per-user directory that exists without root.
fn state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from)
        && dir.is_dir()
    {
        return dir;
    }
    let dir = PathBuf::from(format!("/tmp/ticker-{}", nix::unistd::getuid()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("ticker: cannot create {}: {e}", dir.display());
        std::process::exit(daemon_runtime::exit::CANTCREAT);
    }
    dir
}
