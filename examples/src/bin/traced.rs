//! A tokio program instrumented with `tracing` instead of `log`. The bridge is one line
//! in `Cargo.toml`:
//!
//! ```toml
//! tracing = { version = "0.1", features = ["log"] }
//! ```
//!
//! With the `log` feature, and no `tracing` subscriber installed, every `tracing` event
//! is also emitted as a `log` record, and the runtime's logger writes it where it writes
//! everything else: the journal under systemd, syslog or the log file when detached,
//! standard error in the foreground. (A program that installs a subscriber, such as
//! `tracing-subscriber`'s `fmt`, takes the events for that subscriber instead.)
//!
//! ```text
//! traced --daemon      # returns once a timer fired in the daemon
//! traced --stop
//! ```

use std::time::Duration;

use daemon_examples::state_path;
use daemon_runtime::daemonize;

#[daemonize(
    ready = "manual",
    pid_file = state_path("traced.pid"),
    stdout = state_path("traced.log"),
    stderr = state_path("traced.log"),
)]
#[tokio::main]
async fn main() {
    let shutdown = daemon_runtime::shutdown();
    let mut interval = tokio::time::interval(Duration::from_millis(200));
    // An interval's first tick completes at once; the first real wait is the second.
    interval.tick().await;
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = interval.tick() => {
                ticks += 1;
                tracing::info!(ticks, "tick");
                if ticks == 1 {
                    daemon_runtime::ready();
                }
            }
            () = shutdown.wait_async() => break,
        }
    }
    tracing::warn!(ticks, "stopping");
}
