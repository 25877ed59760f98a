//! `#[daemonize]` written above `#[tokio::main]`. The attribute expands first and moves
//! `#[tokio::main]` onto the inner function that holds the body: tokio's
//! multi-threaded runtime is built in the daemon, after the fork.
//!
//! Readiness is manual: `tokio_outer --daemon` returns once a timer fired in the daemon.

use std::time::Duration;

use daemon_examples::state_path;
use daemon_runtime::daemonize;

#[daemonize(
    pid_file = state_path("tokio_outer.pid"),
    stdout = state_path("tokio_outer.log"),
    stderr = state_path("tokio_outer.log"),
    ready = "manual",
)]
#[tokio::main]
async fn main() {
    daemon_examples::tokio_ticks("tokio_outer", Duration::from_millis(200)).await;
}
