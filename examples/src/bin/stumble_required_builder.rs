//! Issue 12, stumble 1, with the builder: `Builder::launch_with::<Cli>()` parses the
//! program's own `Cli` plus the daemon flags, and performs `--stop`, `--status`,
//! `--reload` and `--print-service` without the arguments `Cli` requires to start.

use std::path::PathBuf;

use clap::Parser;
use daemon_runtime::{Daemon, Readiness};

/// Writes its pid to a file, then waits to be stopped
#[derive(Parser)]
struct Cli {
    /// File to write the daemon's pid to (required to start)
    #[arg(long)]
    out: PathBuf,
}

fn main() -> std::io::Result<()> {
    // A control action prints its outcome and exits in here.
    let (cli, daemon) = Daemon::builder()
        .readiness(Readiness::Manual)
        .launch_with::<Cli>();
    let shutdown = daemon.shutdown();
    std::fs::write(&cli.out, format!("{}\n", daemon.pid()))?;
    // The launcher returns once `--out` is written.
    daemon.ready();
    shutdown.wait();
    Ok(())
}
