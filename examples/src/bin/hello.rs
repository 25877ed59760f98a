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
//! The PID file and log live in a per-user directory (`daemon_examples::state_dir`),
//! so it runs without root; a system daemon writes literals such as
//! `pid_file = "/run/hello.pid"` instead. `hello.toml` there, if present, can override
//! the settings in its `[daemon]` table.

use std::time::{Duration, Instant};

use daemon_examples::state_path;
use daemon_runtime::daemonize;

#[daemonize(
    pid_file = state_path("hello.pid"),
    stdout = state_path("hello.log"),
    stderr = state_path("hello.log"),
    config = state_path("hello.toml"),
    umask = 0o027,
)]
fn main() {
    // Only the daemon (or the foreground process) gets here.
    daemon_runtime::on_reload(|| println!("reloaded: log file reopened"));
    let shutdown = daemon_runtime::shutdown();
    println!("hello started (pid {})", std::process::id());
    let started = Instant::now();
    let mut ticks = 0u64;
    while !shutdown.wait_timeout(Duration::from_secs(1)) {
        ticks += 1;
        println!("tick {ticks} ({:.1}s)", started.elapsed().as_secs_f64());
    }
    println!(
        "hello stopping after {ticks} ticks ({:?})",
        shutdown.signal()
    );
    // Returning removes the PID file.
}
