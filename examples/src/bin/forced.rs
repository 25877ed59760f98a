//! `#[daemonize(daemon = true)]`: always detaches, `--daemon` or not.
//!
//! ```text
//! forced            # detaches; returns once the daemon is ready
//! forced --status
//! forced --stop
//! ```

use std::time::Duration;

use daemon_examples::{state_path, tick_until_shutdown};
use daemon_runtime::daemonize;

#[daemonize(
    daemon = true,
    pid_file = state_path("forced.pid"),
    stdout = state_path("forced.log"),
    stderr = state_path("forced.log"),
)]
fn main() {
    let shutdown = daemon_runtime::shutdown();
    log::info!("forced started (pid {})", std::process::id());
    tick_until_shutdown(&shutdown, Duration::from_secs(1), |n| {
        log::info!("tick {n}")
    });
}
