//! The benchmark daemon through daemon-runtime's builder, written as a user would:
//! `DaemonArgs` for the command line, `launch()`, then wait for the shutdown signal.
//!
//! ```text
//! tick_builder --daemon --pid-file /tmp/t.pid   # returns once the daemon is ready
//! tick_builder --stop --pid-file /tmp/t.pid
//! ```

use daemon_runtime::{Daemon, DaemonArgs};

fn main() {
    let args = DaemonArgs::parse_bare(
        "tick_builder",
        env!("CARGO_PKG_VERSION"),
        Some("Benchmark daemon: waits for SIGTERM"),
    );
    let daemon = Daemon::builder()
        .pid_file("/tmp/tick_builder.pid")
        .args(args)
        .launch();
    daemon.shutdown().wait();
    // Returning drops `daemon`, which removes the PID file.
}
