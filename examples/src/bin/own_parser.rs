//! `#[daemonize]` on `fn main(cli: Cli)`: the program keeps its own clap parser (name,
//! about, version, its own flags) and the daemon flags join it.
//!
//! ```text
//! own_parser --greeting hi --interval-ms 500 --daemon
//! own_parser --status
//! own_parser --stop
//! ```

use std::time::Duration;

use clap::Parser;
use daemon_examples::{state_path, tick_until_shutdown};
use daemon_runtime::daemonize;

/// Prints a greeting on every tick until stopped
#[derive(Parser)]
#[command(name = "own_parser", version)]
struct Cli {
    /// What to print on every tick
    #[arg(long, default_value = "hello")]
    greeting: String,

    /// Milliseconds between ticks
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

#[daemonize(
    pid_file = state_path("own_parser.pid"),
    stdout = state_path("own_parser.log"),
    stderr = state_path("own_parser.log"),
)]
fn main(cli: Cli) {
    let shutdown = daemon_runtime::shutdown();
    log::info!("own_parser started (pid {})", std::process::id());
    tick_until_shutdown(&shutdown, Duration::from_millis(cli.interval_ms), |n| {
        log::info!("{} #{n}", cli.greeting);
    });
}
