//! `#[daemonize]` written below `#[tokio::main]`. tokio expands first, into a plain
//! `fn main` whose body builds the runtime; `#[daemonize]` moves that body into the
//! daemon, so the runtime is still built after the fork.
//!
//! Readiness is manual: `tokio_inner --daemon` returns once a timer fired in the daemon.
//! (With `fn main(cli: Cli)`, write `#[daemonize]` above: tokio refuses a `main` with
//! parameters.)

use std::time::Duration;

use daemon_examples::state_path;
use daemon_runtime::daemonize;

#[tokio::main]
#[daemonize(
    pid_file = state_path("tokio_inner.pid"),
    stdout = state_path("tokio_inner.log"),
    stderr = state_path("tokio_inner.log"),
    ready = "manual",
)]
async fn main() {
    daemon_examples::tokio_ticks("tokio_inner", Duration::from_millis(200)).await;
}
