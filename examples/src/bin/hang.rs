//! A daemon whose main loop stops making progress: what systemd's watchdog is for. It
//! feeds the watchdog (`WatchdogSec=` in its unit) once a round, at twice the rate the
//! interval asks for; with `--hang-after N` it stops after N rounds, logs an error, and
//! lives on without feeding it, as a deadlocked server would. systemd then kills it
//! (SIGABRT), records `Result=watchdog`, and with `Restart=on-failure` starts it again.
//!
//! ```text
//! # hang.service
//! [Service]
//! Type=notify
//! WatchdogSec=2
//! Restart=on-failure
//! ExecStart=/usr/local/bin/hang --hang-after 5
//! ```
//!
//! `watchdog = "manual"`: the runtime's keep-alive thread never starts, so the watchdog
//! sees this program's own feeds from the first interval on.

use std::time::Duration;

use clap::Parser;
use daemon_examples::state_path;
use daemon_runtime::{daemonize, notify};

/// Feeds systemd's watchdog, until it hangs on purpose
#[derive(Parser)]
#[command(name = "hang", version)]
struct Cli {
    /// Stop feeding the watchdog after this many rounds (never, without it)
    #[arg(long, value_name = "ROUNDS")]
    hang_after: Option<u64>,
}

#[daemonize(
    watchdog = "manual",
    pid_file = state_path("hang.pid"),
    stdout = state_path("hang.log"),
    stderr = state_path("hang.log"),
)]
fn main(cli: Cli) {
    let shutdown = daemon_runtime::shutdown();
    let period = notify::watchdog_interval().map_or(Duration::from_secs(1), |limit| limit / 2);
    let mut rounds = 0u64;
    while !shutdown.wait_timeout(period) {
        rounds += 1;
        if cli.hang_after == Some(rounds) {
            log::error!("stuck after {rounds} rounds; the watchdog is no longer fed");
            // Still stoppable, so that an administrator's `systemctl stop` works.
            shutdown.wait();
            break;
        }
        notify::watchdog();
        log::info!("round {rounds}");
    }
    log::info!("stopping");
}
